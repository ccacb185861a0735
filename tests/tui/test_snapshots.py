"""Snapshots of the main screens at 80x24 and 120x36, on a board with fixed times."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from pathlib import Path

import potluck.p2p.board
import potluck.p2p.clock
import potluck.p2p.home
import pytest
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind, ResponseKind, Status
from potluck.tui.app import PotluckApp
from potluck.tui.node_bridge import NodeBridge
from potluck.tui.screens.info import HelpScreen, InviteScreen, PeersScreen
from potluck.tui.widgets.detail import ItemDetail
from textual.pilot import Pilot

from tests.tui.conftest import NOW, wait_for

MINUTE = 60_000
SIZES = [(80, 24), (120, 36)]


@pytest.fixture
def fixed_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A board whose every timestamp is fixed, so "how long ago" and order never drift."""
    ticks = itertools.count(NOW - 3 * 24 * 60 * MINUTE, 37 * MINUTE)
    clock: Callable[[], int] = lambda: next(ticks)  # noqa: E731
    monkeypatch.setattr(potluck.p2p.clock, "now_ms", clock)
    monkeypatch.setattr(potluck.p2p.home, "new_board_key", lambda: bytes(range(32)))  # fixed
    numbers = itertools.count(1)
    monkeypatch.setattr(
        potluck.p2p.board, "new_id", lambda: hashlib.sha256(b"%d" % next(numbers)).hexdigest()[:32]
    )
    path = tmp_path / "home"
    path.mkdir()
    (path / "device.key").write_bytes(bytes(range(32, 96)))  # fixed: names show fingerprints
    with Home.open(path) as home:
        home.set_profile(name="Ana")
        board = home.new_board("Kitchen at No. 9")
        done = board.post(Kind.NEED, "Blankets for the night watch", tags=["winter"])
        board.set_status(done, Status.MET)
        board.post(Kind.NEED, "Someone to fix the bike pump", tags=["tools"])
        soup = board.post(
            Kind.NEED,
            "Big pots for Thursday soup",
            body="We are cooking for sixty people. Two or three big pots would do it.",
            tags=["kitchen", "food"],
        )
        board.reply(soup, "There are two in the basement, behind the bikes.")
        board.respond(soup, ResponseKind.HELP, "I'll bring them at five")
        board.post(Kind.OFFER, "Spare bread every Monday", tags=["food"])
        board.post(Kind.PROPOSAL, "Quiet hours after 23:00")
    monkeypatch.undo()
    return path


class PictureNode:
    """Stands in for the node in pictures only (Bo connected 10 min, synced 5 s ago); the real
    node with the app is tested in test_live_node.py."""

    def __init__(self, board_id: str) -> None:
        self.board_id = board_id

    def peers(self) -> list[dict[str, object]]:
        now = NOW / 1000
        return [
            {
                "device_id": "b0" * 16,
                "name": "Bo",
                "board_id": self.board_id,
                "address": "192.168.1.20:7434",
                "found": "mdns",
                "since": now - 600,
                "last_sync": now - 5,
                "last_heard": now - 2,
                "pending": 0,
                "in_sync": True,
                "answering": True,
            }
        ]

    def in_sync(self) -> bool:
        return True

    def unreachable(self) -> list[dict[str, object]]:
        return []

    def addresses(self) -> list[tuple[str, int]]:
        return [("192.168.1.9", 7434)]

    async def aclose(self) -> None:
        pass


def make(path: Path, with_peer: bool = True) -> PotluckApp:
    bridge = NodeBridge(path, clock=lambda: NOW / 1000)
    if with_peer:
        with Home.open(path) as home:
            bridge.node = PictureNode(home.board().board_id)  # type: ignore[assignment]
    return PotluckApp(path, clock=lambda: NOW, run_node=False, bridge=bridge)


def settle(title: str | None) -> Callable[[Pilot], object]:
    async def run_before(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: not pilot.app.screen.query("#opening"))
        if title is not None:
            await wait_for(
                pilot,
                lambda: any(
                    d.item is not None and d.item.title == title
                    for d in pilot.app.screen.query(ItemDetail)
                ),
            )
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
class TestSnapshots:
    def test_board(self, fixed_home: Path, size: tuple[int, int], snap_compare) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(
            make(fixed_home), terminal_size=size, run_before=settle("Big pots for Thursday soup")
        )

    def test_new_need_form(self, fixed_home: Path, size: tuple[int, int], snap_compare) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot: Pilot) -> None:
            await settle("Big pots for Thursday soup")(pilot)
            await pilot.press("n")
            await wait_for(pilot, lambda: pilot.app.screen.query("#title"))
            await settle(None)(pilot)

        assert snap_compare(make(fixed_home), terminal_size=size, run_before=run_before)

    def test_help(self, fixed_home: Path, size: tuple[int, int], snap_compare) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot: Pilot) -> None:
            await settle("Big pots for Thursday soup")(pilot)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
            await pilot.pause()

        assert snap_compare(make(fixed_home), terminal_size=size, run_before=run_before)

    def test_first_run(self, tmp_path: Path, size: tuple[int, int], snap_compare) -> None:  # type: ignore[no-untyped-def]
        app = make(tmp_path / "fresh", with_peer=False)
        assert snap_compare(app, terminal_size=size, run_before=settle(None))

    @pytest.mark.parametrize("key", ["i", "p"], ids=["invite", "peers"])
    def test_invite_and_peers(
        self, fixed_home: Path, size: tuple[int, int], key: str, snap_compare
    ) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot: Pilot) -> None:
            await settle("Big pots for Thursday soup")(pilot)
            await pilot.press(key)
            shown = InviteScreen if key == "i" else PeersScreen
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, shown))
            await pilot.pause(0.2)
            await settle(None)(pilot)

        assert snap_compare(make(fixed_home), terminal_size=size, run_before=run_before)
