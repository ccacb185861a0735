"""A board left open all day: dialogs opened and closed leave nothing behind (every object kept
is one more for each full garbage collection to scan, on the screen's loop)."""

from __future__ import annotations

import gc
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.tui.widgets.detail import ItemDetail

from tests.tui.conftest import board_ready, wait_for


class TestMemory:
    async def test_dialogs_opened_and_closed_leave_nothing_behind(
        self, home_path: Path, make_app
    ) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            home.board().post(Kind.NEED, "Soup pots", tags=["kitchen"])
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            board = app.screen
            detail = board.query_one(ItemDetail)
            await wait_for(pilot, lambda: detail.item is not None)  # an item to answer

            async def open_and_close(times: int) -> None:
                for _ in range(times):
                    for key in ("r", "space", "question_mark"):
                        await pilot.press(key)
                        await wait_for(pilot, lambda: app.screen is not board)
                        await pilot.pause(0.02)
                        await pilot.press("escape")
                        await wait_for(pilot, lambda: app.screen is board)

            await open_and_close(15)  # Textual's caches fill up to their bounds
            gc.collect()
            before = len(gc.get_objects())
            await open_and_close(5)
            gc.collect()
            grown = len(gc.get_objects()) - before
        # Before the fixes in tui/textual_fixes.py: about 3,000 objects more per dialog.
        assert grown < 3_000, grown
