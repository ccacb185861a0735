"""A window smaller than 80x24: one plain sentence instead of cropped screens, and an invite
screen that never shows a cropped QR (the code as text instead, and why)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from potluck.p2p.home import Board
from potluck.tui.dialogs.forms import NewItemDialog
from potluck.tui.screens.board import BoardScreen
from potluck.tui.screens.info import InviteScreen
from potluck.tui.screens.small import TOO_SMALL, TooSmallScreen
from potluck.tui.widgets.item_list import ItemList
from potluck.tui.widgets.qr import qr_text
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.tui.conftest import board_ready, wait_for


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


def whole_in_view(pilot: Pilot[None], selector: str) -> bool:
    screen = pilot.app.screen
    widget = screen.query_one(selector)
    return (
        widget.display and widget.region.height > 0 and screen.region.contains_region(widget.region)
    )


class TestTooSmall:
    async def test_one_sentence_until_the_window_is_big_enough(
        self, home_path: Path, make_app
    ) -> None:  # type: ignore[no-untyped-def]
        app = make_app(home_path)
        async with app.run_test(size=(60, 20)) as pilot:
            await wait_for(pilot, lambda: any(isinstance(s, BoardScreen) for s in app.screen_stack))
            await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, TooSmallScreen)
                    and len(app.screen.query("#size-now")) == 1
                    and "60 by 20" in text_of(pilot, "#size-now")
                ),
            )
            assert text_of(pilot, "#too-small") == TOO_SMALL
            await pilot.resize_terminal(80, 24)
            await wait_for(pilot, lambda: board_ready(app))
            # A form open when the window shrinks is covered, and back with its words after.
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewItemDialog))
            await pilot.press(*"Soup")
            await pilot.resize_terminal(79, 24)
            await wait_for(pilot, lambda: isinstance(app.screen, TooSmallScreen))
            await pilot.resize_terminal(80, 24)
            await wait_for(pilot, lambda: isinstance(app.screen, NewItemDialog))
            assert app.screen.query_one("#title", Input).value == "Soup"


class TestInviteInASmallWindow:
    async def test_code_as_text_never_a_cropped_qr(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, InviteScreen))
            invite = app.screen
            await wait_for(pilot, lambda: invite.query_one("#qr").region.height > 0)
            drawn = qr_text(invite.code.upper()).splitlines()
            assert invite.query_one("#qr").region.size == (len(drawn[0]), len(drawn))
            assert not invite.query_one("#no-picture").display
            await pilot.resize_terminal(60, 20)
            await wait_for(pilot, lambda: not invite.query_one("#qr").display)
            await pilot.pause()
            assert app.screen is invite  # not covered: the code fits where the board does not
            assert invite.query_one("#qr").region.height == 0
            assert "too small for the square" in text_of(pilot, "#no-picture")
            assert whole_in_view(pilot, "#no-picture")
            assert whole_in_view(pilot, "#code")
            assert "".join(text_of(pilot, "#code").split()) == invite.code
            assert invite.query_one("#invite").max_scroll_y == 0
            await pilot.resize_terminal(80, 24)
            await wait_for(pilot, lambda: invite.query_one("#qr").region.height == len(drawn))
            await pilot.resize_terminal(60, 20)
            await wait_for(pilot, lambda: not invite.query_one("#qr").display)
            await pilot.press("escape")  # back to a board that does not fit: the sentence
            await wait_for(pilot, lambda: isinstance(app.screen, TooSmallScreen))


class TestSavedWhileCovered:
    async def test_a_save_that_ends_while_the_window_is_small(
        self, home_path: Path, make_app, monkeypatch: pytest.MonkeyPatch
    ) -> None:  # type: ignore[no-untyped-def]
        release = threading.Event()
        real_post = Board.post

        def slow_post(self: Board, *args: Any, **kwargs: Any) -> str:
            release.wait(15)  # on the store thread: the screen goes on meanwhile
            return real_post(self, *args, **kwargs)

        monkeypatch.setattr(Board, "post", slow_post)
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            await pilot.press("n")
            await wait_for(
                pilot, lambda: isinstance(app.screen, NewItemDialog) and app.screen.ready
            )
            form = app.screen
            await pilot.press(*"Soup", "ctrl+s")
            await wait_for(pilot, lambda: form.saving)
            await pilot.resize_terminal(70, 20)
            await wait_for(pilot, lambda: isinstance(app.screen, TooSmallScreen))
            release.set()
            await wait_for(pilot, lambda: form.closed)
            await pilot.pause(0.1)
            assert isinstance(app.screen, TooSmallScreen)  # the sentence stays while small
            await pilot.resize_terminal(80, 24)
            await wait_for(pilot, lambda: board_ready(app))
            items = app.screen.query_one(ItemList)
            await wait_for(pilot, lambda: items.option_count == 1)
            assert form not in app.screen_stack
