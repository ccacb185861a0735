"""The screen keeps answering while another process holds SQLite's write lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.tui.dialogs.forms import NewItemDialog
from potluck.tui.screens.info import HelpScreen
from potluck.tui.widgets.item_list import ItemList
from textual.widgets import Input, Static, Tabs

from tests.tui.conftest import board_ready, wait_for

HOLD = 8.0
"""Seconds the other process holds the write lock (SQLite's busy timeout is 30 s)."""
ANSWER = 3.0
"""How soon each key must show its effect: generous on two busy cores, far below HOLD."""


def hold_write_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes SQLite's write lock (BEGIN IMMEDIATE), says so, holds it for
    `seconds` and lets go."""
    script = textwrap.dedent(
        f"""
        import sqlite3, sys, time
        conn = sqlite3.connect({str(db)!r}, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep({seconds})
        conn.execute("COMMIT")
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


class TestWriteLockHeldElsewhere:
    async def test_keys_answer_and_a_post_waits_saying_so(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            for title in ("Soup pots", "Bread", "Beans"):
                home.board().post(Kind.NEED, title)
            home.board().post(Kind.OFFER, "A drill")
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            board = app.screen
            items = board.query_one(ItemList)
            await wait_for(pilot, lambda: items.option_count == 3)

            holder = hold_write_lock(home_path / "potluck.db", HOLD)
            try:
                locked_at = time.monotonic()
                # Switching tabs, moving in the list, opening help: each answers at once.
                await pilot.press("2")
                await wait_for(pilot, lambda: board.query_one(Tabs).active == "tab-offer", ANSWER)
                await wait_for(pilot, lambda: items.option_count == 1, ANSWER)
                await pilot.press("1")
                await wait_for(pilot, lambda: items.option_count == 3, ANSWER)
                await pilot.press("down")
                await wait_for(pilot, lambda: items.highlighted == 1, ANSWER)
                await pilot.press("question_mark")
                await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), ANSWER)
                await pilot.press("escape")
                await wait_for(pilot, lambda: app.screen is board, ANSWER)

                # A post made meanwhile says it is saving, and waits for the lock.
                await pilot.press("n")
                await wait_for(pilot, lambda: isinstance(app.screen, NewItemDialog), ANSWER)
                form = app.screen
                form.query_one("#title", Input).value = "Warm socks"
                await pilot.press("ctrl+s")
                error = form.query_one("#error", Static)
                await wait_for(pilot, lambda: "Saving" in str(error.render()), ANSWER)
                await pilot.press("escape")  # the form answers, and stays: nothing is lost
                await wait_for(pilot, lambda: "closes once" in str(error.render()), ANSWER)
                assert app.screen is form and form.saving
                assert holder.poll() is None, "the lock was let go before the keys were tried"
                assert time.monotonic() - locked_at < HOLD
            finally:
                holder.wait(timeout=HOLD + 30)

            # Once the other process lets go, the post is written and the form closes.
            await wait_for(pilot, lambda: app.screen is board, 30)
            titles = lambda: [str(o.prompt).split("\n")[0] for o in items.options]  # noqa: E731
            await wait_for(pilot, lambda: "Warm socks" in titles())
        with Home.open(home_path) as home:
            assert "Warm socks" in [s.title for s in home.board().items()]
