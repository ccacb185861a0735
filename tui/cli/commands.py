"""What each command does: one method per command, each printing what a person or a script
needs to know."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from potluck.p2p import Board, Home, InvalidInput, Kind, ResponseKind, Status, invite_hints

from . import rota, serve
from .dates import deadline_ms, end_ms, start_ms
from .output import json_text, say, say_err, warn
from .parser import default_home
from .printable import printable
from .render import item_json, ls_json, render_item, summary_line
from .structures import people_of
from .words import wall_clock


class Cli:
    """Runs one parsed command against a home; each method prints and returns nothing."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home_path: Path = args.home or default_home()
        self.home = Home.open(self.home_path)
        if self.home.privacy_notice:
            warn(self.home.privacy_notice)

    def close(self) -> None:
        self.home.close()

    def board(self) -> Board:
        board = self.home.board(self.args.board)
        return board

    def out(self, data: Any, text: str) -> None:
        """`data` as JSON with --json, else `text` (member text in it already printable);
        either way nothing a terminal would obey reaches stdout."""
        if getattr(self.args, "json", False):
            say(json_text(data))
        else:
            say(text)

    def cmd_new_board(self) -> None:
        board = self.home.new_board(self.args.name)
        code = board.invite(self.invite_hints())
        self.out(
            {"board": board.board_id, "name": board.name, "invite": code},
            f"Board '{printable(board.name)}' is ready. Give people this invite code to join:"
            f"\n{code}",
        )
        if not self.home.display_name():
            say_err("Tip: set the name others see with 'potluck whoami --name NAME'.")

    def cmd_join(self) -> None:
        board, added = self.home.join(self.args.code)
        name = printable(board.name)
        text = (
            f"Joined '{name}'. Its items arrive when you are on the same network "
            "as another member running potluck."
            if added
            else f"This home already has '{name}'."
        )
        self.out({"board": board.board_id, "name": board.name, "added": added}, text)

    def cmd_invite(self) -> None:
        board = self.board()
        code = board.invite(self.invite_hints())
        self.out({"board": board.board_id, "name": board.name, "invite": code}, code)

    def invite_hints(self) -> list[tuple[str, int]]:
        """Where a newcomer can reach this home: its running node, else this machine."""
        return invite_hints(self.home_path)

    def cmd_boards(self) -> None:
        boards = self.home.boards()
        data = [
            {"board": b.board_id, "name": b.name, "last_used": i == 0} for i, b in enumerate(boards)
        ]
        text = (
            "\n".join(
                f"{'*' if i == 0 else ' '} {printable(b.name)}  ({b.board_id[:8]})"
                for i, b in enumerate(boards)
            )
            or "No boards yet: 'potluck new-board NAME' or 'potluck join CODE'."
        )
        self.out(data, text)

    def cmd_whoami(self) -> None:
        if self.args.name is not None or self.args.about is not None:
            self.home.set_profile(name=self.args.name, about=self.args.about)
        name = self.home.display_name()
        about = self.home.about()
        text = (
            f"You are {printable(name)}"
            if name
            else "You have no name yet: potluck whoami --name NAME"
        )
        text += (f" — {printable(about)}" if about else "") + f"\ndevice {self.home.device_id}"
        self.out({"name": name, "about": about, "device": self.home.device_id}, text)

    def cmd_post(self) -> None:
        a = self.args
        board = self.board()
        kind = Kind(a.kind)
        if kind is not Kind.EVENT and (a.start or a.end or a.place):
            raise InvalidInput("--start, --end and --place are for events")
        if kind is not Kind.PROJECT and (a.task or a.shift):
            raise InvalidInput("--task and --shift are for projects")
        if kind is not Kind.PROPOSAL and a.decide_by:
            raise InvalidInput("--decide-by is for proposals")
        if kind is Kind.EVENT and not (a.start or "").strip():
            raise InvalidInput("an event needs a start: --start 'fri 19:00', for example")
        start = start_ms(a.start, "--start", past_ok=a.past)
        item_id = board.post(
            kind,
            a.title,
            body=a.body,
            tags=a.tag,
            start=start,
            end=end_ms(a.end, start, "--end"),
            place=a.place,
            tasks=a.task,
            shifts=[(s, a.places) for s in a.shift],
            decide_by=deadline_ms(a.decide_by, "--decide-by", past_ok=a.past),
        )
        self.out({"id": item_id}, item_id)

    def cmd_ls(self) -> None:
        a = self.args
        board = self.board()
        items = board.items(
            kind=Kind(a.kind) if a.kind else None,
            status=Status(a.status) if a.status else None,
            tag=a.tag.lstrip("#").lower() if a.tag else None,
            search=a.search,
        )
        now = wall_clock()
        if a.json:
            self.out(ls_json(board, items), "")
            return
        people = people_of(board)
        lines = [summary_line(s, now, people) for s in items]
        self.out([], "\n".join(lines) or ("Nothing found." if a.search else "Nothing here yet."))

    def cmd_show(self) -> None:
        board = self.board()
        item = board.item(self.args.id)
        if self.args.json:
            self.out(item_json(board, item), "")
            return
        self.out({}, render_item(board, item, wall_clock()))

    def cmd_reply(self) -> None:
        self.board().reply(self.args.id, self.args.text)
        say("Your reply is posted.")

    def cmd_respond(self) -> None:
        a = self.args
        kind = ResponseKind(a.response) if a.response else None
        if a.withdraw:
            if a.note or a.which is not None:
                raise InvalidInput("--withdraw takes back what you said: no --note or --which")
            sentence = self.board().withdraw(a.id, kind)
        else:
            sentence = self.board().respond(a.id, kind, a.note, a.which)
        say(printable(sentence[0].upper() + sentence[1:] + "."))

    def cmd_status(self) -> None:
        self.board().set_status(self.args.id, Status(self.args.status))
        say(f"Marked {self.args.status}.")

    def cmd_edit(self) -> None:
        a = self.args
        event = (a.start, a.end, a.place)
        project = rota.has_project_edits(a)
        own = (
            a.title is not None
            or a.body is not None
            or bool(a.tag or a.untag or a.no_end)
            or event != (None, None, None)
            or a.decide_by is not None
        )
        if not own and not project:
            raise InvalidInput(
                "nothing to change: give --title, --body, --tag, --untag; for an event "
                "--start, --end, --no-end, --place; for a project --add-task, --rename-task, "
                "--remove-task, --add-shift, --change-shift, --remove-shift, --places; for a "
                "proposal --decide-by"
            )
        if a.end is not None and a.no_end:
            raise InvalidInput("give --end or --no-end, not both")
        board = self.board()
        if own:
            start = start_ms(a.start, "--start", past_ok=a.past)
            if start is None and a.end is not None:
                start = board.item(a.id).start
            board.edit(
                a.id,
                title=a.title,
                body=a.body,
                add_tags=a.tag,
                remove_tags=a.untag,
                start=start if a.start is not None else None,
                end=end_ms(a.end, start, "--end"),
                place=a.place,
                clear_end=a.no_end,
                decide_by=deadline_ms(a.decide_by, "--decide-by", past_ok=a.past),
            )
        said = (["saved"] if own else []) + (rota.edit_project(board, a) if project else [])
        say("\n".join(s[0].upper() + s[1:] + ("" if s.endswith(".") else ".") for s in said))

    def cmd_export(self) -> None:
        board = self.board()
        count = self.home.export_board(board, self.args.file)
        say(
            f"Wrote '{printable(board.name)}' ({count} documents) to "
            f"{printable(str(self.args.file))}, encrypted with the board's key."
        )

    def cmd_import(self) -> None:
        board, changed = self.home.import_board(self.args.file)
        file, name = printable(str(self.args.file)), printable(board.name)
        say(
            f"Merged {file} into '{name}': {changed} documents brought news."
            if changed
            else f"Nothing new in {file} for '{name}'."
        )


COMMANDS: dict[str, Callable[[Cli], None]] = {
    "new-board": Cli.cmd_new_board,
    "join": Cli.cmd_join,
    "invite": Cli.cmd_invite,
    "boards": Cli.cmd_boards,
    "whoami": Cli.cmd_whoami,
    "post": Cli.cmd_post,
    "ls": Cli.cmd_ls,
    "show": Cli.cmd_show,
    "reply": Cli.cmd_reply,
    "respond": Cli.cmd_respond,
    "status": Cli.cmd_status,
    "edit": Cli.cmd_edit,
    "export": Cli.cmd_export,
    "import": Cli.cmd_import,
    "task": rota.cmd_task,
    "signup": rota.cmd_signup,
    "agenda": rota.cmd_agenda,
    "calendar": rota.cmd_calendar,
    "poster": rota.cmd_poster,
    "serve": serve.cmd_serve,
    "peers": serve.cmd_peers,
}
