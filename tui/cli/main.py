"""`potluck`: parse the command line and run the command (or open the board)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from potluck.p2p import Home, PotluckError

from .commands import COMMANDS, Cli
from .output import warn
from .parser import build_parser, default_home
from .words import parse_address

EXIT_MISTAKE = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""What a shell reports for a command whose reader went away (128 + SIGPIPE), as `seq` does."""
PRIVATE = 0o077
"""The umask: every file Potluck makes (database, log, node state, exports) is its owner's."""
OpenBoard = Callable[[Path, str | None, list[tuple[str, int]]], None]
"""What opens the board on screen (the app, which this package never imports)."""


def main(argv: Sequence[str] | None = None, open_board: OpenBoard | None = None) -> int:
    os.umask(PRIVATE)
    try:
        code = _run(argv, open_board)
        sys.stdout.flush()
    except BrokenPipeError:
        # `potluck ls | head`: the reader has all it wanted. End quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    return code


def _run(argv: Sequence[str] | None, open_board: OpenBoard | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        peers = [parse_address(p) for p in args.app_peers]
        if args.command is None:
            if open_board is None:
                parser.error("give a command (the board screen is not part of this program)")
            open_board(Home.prepare(args.home or default_home()), args.board, peers)
            return 0
        if peers and args.command != "serve":
            parser.error("--peer is for opening the board or for serve, not for this command")
        cli = Cli(args)
        try:
            COMMANDS[args.command](cli)
        finally:
            cli.close()
    except PotluckError as exc:
        warn(str(exc))
        return EXIT_MISTAKE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return 0
