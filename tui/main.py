"""The `potluck` command: the command line, and with no command the board on screen."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from .cli.main import main as run_command


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(argv, open_board=open_board)


def open_board(home: Path, board: str | None, peers: list[tuple[str, int]]) -> None:
    """Open the board in the terminal (Textual is imported only now)."""
    from .app import run_app

    run_app(home, board, peers)


if __name__ == "__main__":
    sys.exit(main())
