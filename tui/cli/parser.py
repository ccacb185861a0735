"""The `potluck` command's arguments: every command, its options and its help."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

import platformdirs
from potluck.p2p import Kind, ResponseKind, Status

from . import rota, serve
from .printable import printable
from .words import number

EXIT_USAGE = 2
MAX_PLACES = 1_000
MAX_WHICH = 1_000


class Parser(argparse.ArgumentParser):
    """argparse, with a mistake said in one line (and where to read more), not the usage."""

    def error(self, message: str) -> NoReturn:
        print(
            f"{self.prog}: {printable(message)} (see '{self.prog} --help')",
            file=sys.stderr,
        )
        sys.exit(EXIT_USAGE)


def default_home() -> Path:
    env = os.environ.get("POTLUCK_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("potluck", appauthor=False))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
        description="Post an item. Events take --start (needed), --end and --place; projects "
        "take --task and --shift with --places; proposals take --decide-by. Times are typed "
        "as people say them: 'fri 19:00' (the coming Friday), 'tomorrow 18:30', '19:00' (the "
        "next 19:00), '5 dec 19:00', '2026-12-05 19:00'.",
    )
    p.add_argument("kind", choices=[k.value for k in Kind], help="what kind of item")
    p.add_argument("title", help="a short title")
    p.add_argument("--body", default="", help="the text of the item")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p.add_argument("--start", help="when the event starts, e.g. 'fri 19:00' or '5 dec 19:00'")
    p.add_argument("--end", help="when it ends, e.g. '22:00' (the 22:00 after the start)")
    p.add_argument(
        "--past", action="store_true", help="allow a start (or decision date) in the past"
    )
    p.add_argument("--place", default="", help="where the event happens")
    p.add_argument("--task", action="append", default=[], help="a project task (repeatable)")
    p.add_argument(
        "--shift",
        action="append",
        default=[],
        metavar="WHEN",
        help="a project shift, e.g. 'every tue 18:00-21:00', 'every 2 weeks sat 10:00-13:00', "
        "'first sat of the month 10:00-13:00', '12 dec 10:00-13:00' (once) (repeatable)",
    )
    p.add_argument(
        "--places",
        "--slots",
        dest="places",
        type=number(1, MAX_PLACES, "--places"),
        default=2,
        help=f"people needed each time, per shift, 1 to {MAX_PLACES} (default 2)",
    )
    p.add_argument(
        "--decide-by",
        metavar="DATE",
        help="a proposal's decision date, e.g. 'fri' (until its end) or '12 dec 19:00'",
    )
    p.add_argument("--json", action="store_true", help='print {"id": ...}')

    p = sub.add_parser(
        "ls",
        help="list items, newest activity first (events by their date)",
        description="List items, newest activity first. Events are listed by when they "
        "happen, with their date: upcoming ones first, then past ones.",
    )
    p.add_argument("--kind", choices=[k.value for k in Kind])
    p.add_argument("--status", choices=[s.value for s in Status])
    p.add_argument("--tag")
    p.add_argument(
        "--search",
        metavar="WORDS",
        help="search the whole board: titles, texts, replies, tags, and the names of who "
        "posted, replied or responded",
    )
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
        type=number(1, MAX_WHICH, "--which"),
        help="for task/shift: its number as 'show' lists it (default: the first free one)",
    )
    p.add_argument(
        "--withdraw",
        action="store_true",
        help="take back what you said (with --as, only that; a position is changed by "
        "responding with another)",
    )

    p = sub.add_parser("status", help="mark an item open, met, closed or withdrawn")
    p.add_argument("id")
    p.add_argument("status", choices=[s.value for s in Status])

    p = sub.add_parser(
        "edit",
        help="edit an item you posted or any note (an event's time, a project's tasks and "
        "shifts, a proposal's date)",
        description="Edit an item you posted (or any note). A project's tasks and shifts are "
        "numbered as 'show' lists them; changing a shift's rule keeps what people signed up "
        "for where the dates still exist, and says what moved.",
    )
    p.add_argument("id")
    p.add_argument("--title")
    p.add_argument("--body")
    p.add_argument("--tag", action="append", default=[], help="add a tag")
    p.add_argument("--untag", action="append", default=[], help="remove a tag")
    p.add_argument("--start", help="event start, e.g. 'fri 19:00' or '5 dec 19:00'")
    p.add_argument("--end", help="event end, e.g. '22:00' (the 22:00 after the start)")
    p.add_argument("--no-end", action="store_true", help="remove the event's end time")
    p.add_argument("--past", action="store_true", help="allow a start in the past")
    p.add_argument("--place", help="where the event happens")
    p.add_argument("--decide-by", metavar="DATE", help="a proposal's decision date")
    rota.add_edit_arguments(p)

    p = sub.add_parser(
        "export", help="write the whole board to an encrypted file (e.g. for a USB stick)"
    )
    p.add_argument("file", type=Path)

    p = sub.add_parser("import", help="merge a board export file into the board it belongs to")
    p.add_argument("file", type=Path)
    rota.add_parsers(sub)
    serve.add_parsers(sub)
    return parser
