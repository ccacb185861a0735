"""Fixtures for the terminal UI: real homes in tmp_path, a fixed clock, condition waits."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from potluck.p2p.home import Home
from potluck.tui.app import PotluckApp
from potluck.tui.screens.board import TABS, BoardScreen
from potluck.tui.store import AppStore
from potluck.tui.widgets.item_list import ItemList
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Tab

from tests.tui.loop_watch import LoopWatch

NOW = 1_795_000_000_000  # a fixed "now" (ms) so "how long ago" never drifts


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until `condition()` is true, or fail after `timeout` seconds (generous:
    a key's effect takes milliseconds alone, but seconds on two cores busy with a network test)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.02)


def board_ready(app: App[Any]) -> bool:
    """The board screen is on top, its list and every tab mounted (a screen is on the stack a
    moment before its widgets are, longer on a slow machine)."""
    screen = app.screen
    return (
        isinstance(screen, BoardScreen)
        and len(screen.query(ItemList)) == 1
        and len(screen.query(Tab)) == len(TABS)
    )


@pytest.fixture
def home_path(tmp_path: Path) -> Iterator[Path]:
    """A home with a name and one board, made as the command line would."""
    path = tmp_path / "home"
    with Home.open(path) as home:
        home.set_profile(name="Ana")
        home.new_board("Kitchen at No. 9")
    yield path


@pytest.fixture
def make_app() -> Callable[..., PotluckApp]:
    def make(path: Path, **kwargs: object) -> PotluckApp:
        return PotluckApp(path, clock=lambda: NOW, run_node=False, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture(autouse=True)
def loop_never_waits(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Fails a test in which the event loop was blocked for more than 50 ms (see loop_watch.py
    for what counts), or in which the app ran SQL anywhere but on its store thread.

    Objects left by earlier tests are frozen out of the garbage collector first: a full
    collection then scans only what this test made, as it would in a run of the app alone
    (without this, collections over the whole session's heap grow past 100 ms)."""
    stores: list[AppStore] = []
    real_init = AppStore.__init__

    def remember(store: AppStore, *args: Any, **kwargs: Any) -> None:
        real_init(store, *args, **kwargs)
        stores.append(store)

    monkeypatch.setattr(AppStore, "__init__", remember)
    watch = LoopWatch(exempt=frozenset({request.function.__name__, "run_auto_pilot"}))
    gc.collect()
    gc.freeze()
    try:
        with watch.watching():
            yield
    finally:
        gc.unfreeze()
    assert not watch.found, "the event loop was blocked:\n" + "\n".join(watch.found)
    strays = [s for store in stores for s in store.strays]
    assert not strays, "SQL ran off the store thread:\n" + "\n".join(strays)
