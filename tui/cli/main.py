"""`potluck`: parse the command line and run the command (or open the board)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from potluck.p2p import PotluckError

from .commands import COMMANDS, Cli
from .parser import build_parser, default_home
from .words import parse_address

EXIT_MISTAKE = 1
OpenBoard = Callable[[Path, str | None, list[tuple[str, int]]], None]
"""What opens the board on screen (the app, which this package never imports)."""


def main(argv: Sequence[str] | None = None, open_board: OpenBoard | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        peers = [parse_address(p) for p in args.app_peers]
        if args.command is None:
            if open_board is None:
                parser.error("give a command (the board screen is not part of this program)")
            open_board(args.home or default_home(), args.board, peers)
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
