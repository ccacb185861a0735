"""Fixtures for the terminal UI: real homes in tmp_path, a fixed clock, condition waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from potluck.p2p.home import Home
from potluck.tui.app import PotluckApp
from textual.pilot import Pilot

NOW = 1_795_000_000_000  # a fixed "now" (ms) so "how long ago" never drifts


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until `condition()` is true, or fail after `timeout` seconds (generous:
    a key's effect takes milliseconds alone, but seconds on two cores busy with a network test)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.02)


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
