"""The `potluck` command line: every board action, for people and for scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from p2p.errors import InvalidInput, PotluckError
from p2p.home import Board, Home
from p2p.model import Item, ItemSummary, Kind, ResponseKind, Status
from p2p.presence import invite_hints
from tui import serve

EXIT_MISTAKE = 1


def default_home() -> Path:
    env = os.environ.get("POTLUCK_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("potluck", appauthor=False))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="potluck",
        description=(
            "A mutual-aid board shared peer to peer over the local network. "
            "With no command, opens the board in the terminal."
        ),
        epilog=(
            "Start with 'potluck new-board NAME' (or 'potluck join CODE' with a code someone "
            "gave you), then 'potluck post need \"We need a ladder\"'. "
            "'potluck COMMAND --help' tells more."
        ),
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help=f"where this device keeps its boards (default: $POTLUCK_HOME or {default_home()})",
    )
    parser.add_argument(
        "--board",
        metavar="NAME_OR_ID",
        help="which board, when the home has several (default: the one used last)",
    )
    parser.add_argument(
        "--peer",
        dest="app_peers",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="when opening the board (or with serve): also connect to this laptop's address "
        "(repeatable), for networks that block discovery",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("new-board", help="start a new board and print its invite code")
    p.add_argument("name", help="the board's name, e.g. 'Kitchen at No. 12'")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("join", help="join a board with an invite code someone gave you")
    p.add_argument("code", help="the invite code (starts with 'potluck-')")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("invite", help="print the invite code of the board")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("boards", help="list the boards of this home")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser("whoami", help="show or set the name others see for you")
    p.add_argument("--name", help="your display name on every board")
    p.add_argument("--about", help="a line about yourself")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser(
        "post",
        help="post an item: need, offer, project, event, proposal or note",
        description="Post an item. Events take --start/--end/--place; projects take "
        "--task and --shift.",
    )
    p.add_argument("kind", choices=[k.value for k in Kind], help="what kind of item")
    p.add_argument("title", help="a short title")
    p.add_argument("--body", default="", help="the text of the item")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p.add_argument("--start", help="event start, e.g. '2026-12-01 19:00'")
    p.add_argument("--end", help="event end, e.g. '2026-12-01 22:00'")
    p.add_argument("--place", default="", help="where the event happens")
    p.add_argument("--task", action="append", default=[], help="a project task (repeatable)")
    p.add_argument(
        "--shift",
        action="append",
        default=[],
        help="a recurring project shift, e.g. 'Tuesdays 18:00' (repeatable)",
    )
    p.add_argument("--slots", type=int, default=2, help="people needed per shift (default 2)")
    p.add_argument("--json", action="store_true", help='print {"id": ...}')

    p = sub.add_parser("ls", help="list items, newest activity first")
    p.add_argument("--kind", choices=[k.value for k in Kind])
    p.add_argument("--status", choices=[s.value for s in Status])
    p.add_argument("--tag")
    p.add_argument("--search", metavar="WORDS", help="full-text search in titles and bodies")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser("show", help="show one item in full")
    p.add_argument("id", help="the item's id, or its first few characters")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("reply", help="add a reply to an item's thread")
    p.add_argument("id")
    p.add_argument("text")

    p = sub.add_parser(
        "respond",
        help="respond to an item (I can help, I'd like this, coming, a position…)",
        description="Respond to an item. Without --as, the item's main response: help for "
        "a need, interested for an offer, going for an event, task for a project, agree "
        "for a proposal.",
    )
    p.add_argument("id")
    p.add_argument("--as", dest="response", choices=[r.value for r in ResponseKind])
    p.add_argument("--note", default="", help="a note, e.g. what you bring or your reason")
    p.add_argument(
        "--which",
        type=int,
        help="for task/shift: its number as 'show' lists it (default: the first free one)",
    )

    p = sub.add_parser("status", help="mark an item open, met, closed or withdrawn")
    p.add_argument("id")
    p.add_argument("status", choices=[s.value for s in Status])

    p = sub.add_parser(
        "edit", help="edit the text of an item you posted or of any note (and an event's time)"
    )
    p.add_argument("id")
    p.add_argument("--title")
    p.add_argument("--body")
    p.add_argument("--tag", action="append", default=[], help="add a tag")
    p.add_argument("--untag", action="append", default=[], help="remove a tag")
    p.add_argument("--start", help="event start, e.g. '2026-12-01 19:00'")
    p.add_argument("--end", help="event end, e.g. '2026-12-01 22:00'")
    p.add_argument("--no-end", action="store_true", help="remove the event's end time")
    p.add_argument("--place", help="where the event happens")

    p = sub.add_parser(
        "export", help="write the whole board to an encrypted file (e.g. for a USB stick)"
    )
    p.add_argument("file", type=Path)

    p = sub.add_parser("import", help="merge a board export file into the board it belongs to")
    p.add_argument("file", type=Path)
    serve.add_parsers(sub)
    return parser


def _ago(ms: int, now: int | None = None) -> str:
    seconds = max(0, ((now or int(time.time() * 1000)) - ms) // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%a %d %b %Y %H:%M") if ms else ""


def _parse_when(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    try:
        return int(datetime.fromisoformat(text.strip()).timestamp() * 1000)
    except ValueError:
        raise InvalidInput(
            f"{what} '{text}' is not a date; write e.g. '2026-12-01 19:00'"
        ) from None


def summary_json(s: ItemSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": s.kind.value,
        "title": s.title,
        "status": s.status.value,
        "tags": list(s.tags),
        "author": s.author,
        "author_name": s.author_name,
        "created": s.created,
        "updated": s.updated,
        "replies": s.replies,
        "responses": s.responses,
    }


def item_json(board: Board, item: Item) -> dict[str, Any]:
    names = {d: m.name for d, m in board.members().items()}
    return {
        "id": item.id,
        "kind": item.kind.value,
        "title": item.title,
        "body": item.body,
        "tags": list(item.tags),
        "status": item.status.value,
        "author": item.author,
        "author_name": names.get(item.author, ""),
        "created": item.created,
        "updated": item.updated,
        "start": item.start,
        "end": item.end,
        "place": item.place,
        "replies": [
            {
                "id": r.id,
                "author": r.author,
                "author_name": names.get(r.author, ""),
                "text": r.text,
                "time": r.time,
            }
            for r in item.replies
        ],
        "responses": [
            {
                "member": r.member,
                "member_name": names.get(r.member, ""),
                "kind": r.kind,
                "note": r.note,
                "time": r.time,
            }
            for r in item.responses
        ],
        "tasks": [
            {"id": t.id, "title": t.title, "taken_by": list(t.taken_by), "done": t.done}
            for t in item.tasks
        ],
        "shifts": [
            {"id": s.id, "when": s.when, "slots": s.slots, "signed_up": list(s.signed_up)}
            for s in item.shifts
        ],
        "history": [{"who": h.who, "what": h.what, "time": h.time} for h in item.history],
    }


def render_item(board: Board, item: Item) -> str:
    name = board.member_name
    lines = [
        f"{item.title}",
        f"{item.kind.value} · {item.status.value} · by {name(item.author)} · "
        f"{_ago(item.created)} · id {item.id[:8]}",
    ]
    if item.tags:
        lines.append("tags: " + " ".join("#" + t for t in item.tags))
    if item.kind is Kind.EVENT and (item.start or item.place):
        when = _when(item.start) + (f" – {_when(item.end)}" if item.end else "")
        lines.append(f"when: {when}" + (f" · where: {item.place}" if item.place else ""))
    if item.body:
        lines += ["", item.body]
    if item.tasks:
        lines += ["", "tasks:"]
        for n, t in enumerate(item.tasks, 1):
            who = f"taken by {', '.join(map(name, t.taken_by))}" if t.taken_by else "free"
            lines.append(f"  {n}. {'[done] ' if t.done else ''}{t.title} ({who})")
    if item.shifts:
        lines += ["", "shifts:"]
        for n, s in enumerate(item.shifts, 1):
            people = ", ".join(name(d) for d in s.signed_up) or "nobody yet"
            lines.append(f"  {n}. {s.when} ({len(s.signed_up)}/{s.slots}): {people}")
    if item.responses:
        lines += ["", "responses:"]
        for r in item.responses:
            note = f": {r.note}" if r.note else ""
            lines.append(f"  {name(r.member)} — {r.kind}{note}")
    if item.replies:
        lines += ["", "replies:"]
        for reply in item.replies:
            lines.append(f"  {name(reply.author)} ({_ago(reply.time)}): {reply.text}")
    return "\n".join(lines)


class Cli:
    """Runs one parsed command against a home; each method prints and returns nothing."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home_path: Path = args.home or default_home()
        self.home = Home.open(self.home_path)

    def close(self) -> None:
        self.home.close()

    def board(self) -> Board:
        board = self.home.board(self.args.board)
        return board

    def out(self, data: Any, text: str) -> None:
        if getattr(self.args, "json", False):
            print(json.dumps(data, ensure_ascii=False))
        else:
            print(text)

    def cmd_new_board(self) -> None:
        board = self.home.new_board(self.args.name)
        code = board.invite(self.invite_hints())
        self.out(
            {"board": board.board_id, "name": board.name, "invite": code},
            f"Board '{board.name}' is ready. Give people this invite code to join:\n{code}",
        )
        if not self.home.display_name():
            print(
                "Tip: set the name others see with 'potluck whoami --name NAME'.", file=sys.stderr
            )

    def cmd_join(self) -> None:
        board, added = self.home.join(self.args.code)
        text = (
            f"Joined '{board.name}'. Its items arrive when you are on the same network "
            "as another member running potluck."
            if added
            else f"This home already has '{board.name}'."
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
                f"{'*' if i == 0 else ' '} {b.name}  ({b.board_id[:8]})"
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
        text = f"You are {name}" if name else "You have no name yet: potluck whoami --name NAME"
        text += (f" — {about}" if about else "") + f"\ndevice {self.home.device_id}"
        self.out({"name": name, "about": about, "device": self.home.device_id}, text)

    def cmd_post(self) -> None:
        a = self.args
        board = self.board()
        kind = Kind(a.kind)
        if kind is not Kind.EVENT and (a.start or a.end or a.place):
            raise InvalidInput("--start, --end and --place are for events")
        if kind is not Kind.PROJECT and (a.task or a.shift):
            raise InvalidInput("--task and --shift are for projects")
        if a.slots < 1:
            raise InvalidInput("--slots must be at least 1")
        item_id = board.post(
            kind,
            a.title,
            body=a.body,
            tags=a.tag,
            start=_parse_when(a.start, "--start"),
            end=_parse_when(a.end, "--end"),
            place=a.place,
            tasks=a.task,
            shifts=[(s, a.slots) for s in a.shift],
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
        lines = []
        for s in items:
            tags = " " + " ".join("#" + t for t in s.tags) if s.tags else ""
            who = s.author_name or f"device {s.author[:6]}"
            lines.append(
                f"{s.id[:8]}  {s.kind.value:<8} {s.status.value:<9} {s.title}{tags}  "
                f"— {who}, {_ago(s.updated)}, {s.replies} replies, {s.responses} responses"
            )
        self.out([summary_json(s) for s in items], "\n".join(lines) or "Nothing here yet.")

    def cmd_show(self) -> None:
        board = self.board()
        item = board.item(self.args.id)
        self.out(item_json(board, item), render_item(board, item))

    def cmd_reply(self) -> None:
        self.board().reply(self.args.id, self.args.text)
        print("Your reply is posted.")

    def cmd_respond(self) -> None:
        a = self.args
        sentence = self.board().respond(
            a.id, ResponseKind(a.response) if a.response else None, a.note, a.which
        )
        print(sentence[0].upper() + sentence[1:] + ".")

    def cmd_status(self) -> None:
        self.board().set_status(self.args.id, Status(self.args.status))
        print(f"Marked {self.args.status}.")

    def cmd_edit(self) -> None:
        a = self.args
        event = (a.start, a.end, a.place)
        if (
            a.title is None
            and a.body is None
            and not (a.tag or a.untag or a.no_end)
            and (event == (None, None, None))
        ):
            raise InvalidInput(
                "nothing to change: give --title, --body, --tag, --untag, "
                "or for an event --start, --end, --no-end, --place"
            )
        if a.end is not None and a.no_end:
            raise InvalidInput("give --end or --no-end, not both")
        self.board().edit(
            a.id,
            title=a.title,
            body=a.body,
            add_tags=a.tag,
            remove_tags=a.untag,
            start=_parse_when(a.start, "--start"),
            end=_parse_when(a.end, "--end"),
            place=a.place,
            clear_end=a.no_end,
        )
        print("Saved.")

    def cmd_export(self) -> None:
        board = self.board()
        count = self.home.export_board(board, self.args.file)
        print(
            f"Wrote '{board.name}' ({count} documents) to {self.args.file}, encrypted with "
            "the board's key."
        )

    def cmd_import(self) -> None:
        board, changed = self.home.import_board(self.args.file)
        print(
            f"Merged {self.args.file} into '{board.name}': {changed} documents brought news."
            if changed
            else f"Nothing new in {self.args.file} for '{board.name}'."
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
    "serve": serve.cmd_serve,
    "peers": serve.cmd_peers,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        peers = [serve.parse_address(p) for p in args.app_peers]
        if args.command is None:
            from tui.app import run_app

            run_app(args.home or default_home(), args.board, peers)
            return 0
        if peers and args.command != "serve":
            parser.error("--peer is for opening the board or for serve, not for this command")
        cli = Cli(args)
        try:
            COMMANDS[args.command](cli)
        finally:
            cli.close()
    except PotluckError as exc:
        print(f"potluck: {exc}", file=sys.stderr)
        return EXIT_MISTAKE
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
