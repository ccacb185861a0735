"""What the app says on opening a home that was readable by others, or cannot be written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from potluck.tui.app import PotluckApp
from potluck.tui.screens.board import BoardScreen

from tests.test_damaged_home import read_only_view
from tests.tui.conftest import board_ready, wait_for


def listening(app: PotluckApp) -> list[tuple[str, str]]:
    """Collect the app's notifications as (words, severity)."""
    said: list[tuple[str, str]] = []
    app.notify = lambda message, **kw: said.append((str(message), kw.get("severity", "")))  # type: ignore[method-assign]
    return said


async def test_a_home_others_could_read_is_made_private_and_the_person_told(
    home_path: Path, make_app: Callable[..., PotluckApp]
) -> None:
    os.chmod(home_path, 0o755)
    os.chmod(home_path / "potluck.db", 0o644)
    app = make_app(home_path)
    said = listening(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await wait_for(pilot, lambda: any("other users" in words for words, _ in said))
    assert (
        home_path.stat().st_mode & 0o777,
        (home_path / "potluck.db").stat().st_mode & 0o777,
    ) == (
        0o700,
        0o600,
    )
    warning = next(words for words, _ in said if "other users" in words)
    assert "now only you can read them" in warning and "0700" not in warning

    again = make_app(home_path)  # told once: the home is private now
    said = listening(again)
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(again.screen, BoardScreen))
        await pilot.pause(0.2)
    assert not any("other users" in words for words, _ in said)


async def test_a_read_only_home_opens_for_reading_and_says_so(
    home_path: Path, tmp_path: Path, make_app: Callable[..., PotluckApp]
) -> None:
    with read_only_view(home_path, tmp_path / "stick") as stick:
        app = make_app(stick)
        said = listening(app)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            await wait_for(pilot, lambda: any("cannot be written" in w for w, _ in said))
            assert app.is_running
        words, severity = next((w, s) for w, s in said if "cannot be written" in w)
        assert "read-only" in words and "you can read the board" in words
        assert severity == "error"
