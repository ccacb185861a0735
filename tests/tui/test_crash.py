"""When the app cannot go on: one line and a non-zero status, never a traceback on screen.

Each case runs `potluck --home HOME` in its own process (headless, the node left out, the fault
put in place first), so what is checked is what a person sees: the exit status and stderr."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEADLESS = """
import functools, sys
import potluck.tui.app as app_module
from textual.app import App

app_module.PotluckApp.run = functools.partialmethod(App.run, headless=True, size=(80, 24))


async def no_node(self):
    pass


app_module.NodeBridge.start = no_node
"""


def potluck_app(home: Path, fault: str = "") -> subprocess.CompletedProcess[str]:
    """`potluck --home HOME` with no command (the board on screen), with `fault` applied."""
    script = (
        HEADLESS
        + textwrap.dedent(fault)
        + textwrap.dedent(
            f"""
        from potluck.tui.main import main
        sys.exit(main(["--home", {str(home)!r}]))
        """
        )
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )


class Panic(BaseException):
    """Stands in for automerge's PanicException, which is not an Exception."""


@pytest.mark.parametrize(
    "raised", ["RuntimeError('boom')", "Panic('boom')"], ids=["exception", "panic"]
)
def test_an_unexpected_error_goes_to_the_log_and_the_app_says_where(
    home_path: Path, raised: str
) -> None:
    fault = f"""
    import potluck.tui.screens.board as board_module

    class Panic(BaseException):
        pass

    def broken(*args):
        raise {raised}

    board_module.read_page = broken
    """
    result = potluck_app(home_path, fault)
    log = home_path / "potluck.log"
    assert result.returncode == 1
    assert result.stderr == (
        f"potluck: the board stopped on an unexpected error; what happened is in {log}\n"
    )
    assert "Traceback" not in result.stdout + result.stderr
    written = log.read_text()
    assert "Traceback" in written and "boom" in written


def test_a_damaged_home_is_one_line(home_path: Path) -> None:
    (home_path / "potluck.db").write_bytes(b"this is not a database" * 100)
    for wal in home_path.glob("potluck.db-*"):
        wal.unlink()
    result = potluck_app(home_path)
    assert result.returncode == 1
    assert result.stderr.startswith("potluck: ") and result.stderr.count("\n") == 1
    assert "damaged" in result.stderr and "Traceback" not in result.stdout + result.stderr


def test_a_board_named_with_markup_opens_and_closes_cleanly(home_path: Path) -> None:
    """`Kitchen [/]` once crashed the app on every start; now it opens, and `q` quits it."""
    fault = """
    from potluck.p2p import Home
    from tests.hostile_text import write_corpus

    with Home.open(HOME) as home:
        write_corpus(home, home.board().board_id, ["Kitchen [/]"])

    original = app_module.PotluckApp.on_mount

    def on_mount(self):
        original(self)
        self.set_timer(1.5, self.exit)

    app_module.PotluckApp.on_mount = on_mount
    """.replace("HOME", repr(str(home_path)))
    result = potluck_app(home_path, fault)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
