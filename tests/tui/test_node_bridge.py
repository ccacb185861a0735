"""The app with a stand-in node: status line, peers screen, adding a peer by address."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import NOW, wait_for
from tui.app import PotluckApp
from tui.screens.board import BoardScreen
from tui.screens.info import PeersScreen


class FakeNode:
    """The shape the bridge adapts to: start/aclose, peers(), in_sync(), add_peer()."""

    instances: ClassVar[list[FakeNode]] = []

    def __init__(self, home: Any) -> None:
        self.home = home
        self.dialled: list[tuple[str, int]] = []
        self.closed = False
        FakeNode.instances.append(self)

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        self.closed = True

    def peers(self) -> list[dict[str, str]]:
        return [
            {"name": "Bo", "found": "mDNS", "since": "10:02", "last_sync": "10:03", "pending": ""}
        ]

    def in_sync(self) -> bool:
        return True

    async def add_peer(self, host: str, port: int) -> None:
        self.dialled.append((host, port))


@pytest.fixture
def fake_node(monkeypatch: pytest.MonkeyPatch) -> type[FakeNode]:
    module = types.ModuleType("p2p.node")
    module.Node = FakeNode  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "p2p.node", module)
    FakeNode.instances.clear()
    return FakeNode


class TestWithANode:
    async def test_status_and_peers(self, home_path: Path, fake_node: type[FakeNode]) -> None:
        app = PotluckApp(home_path, clock=lambda: NOW, peers=["10.0.0.5:7777"])
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.bridge.running)
            node = fake_node.instances[0]
            assert node.dialled == [("10.0.0.5", 7777)]
            assert isinstance(app.screen, BoardScreen)
            status = app.screen.query_one("#status", Static)
            await wait_for(pilot, lambda: "1 person here · all in sync" in str(status.render()))
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
            table = app.screen.query_one(DataTable)
            assert table.row_count == 1
            assert table.get_row_at(0)[:2] == ["Bo", "mDNS"]
            app.screen.query_one("#address", Input).value = "192.168.1.20:7777"
            app.screen.query_one("#address", Input).focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: ("192.168.1.20", 7777) in node.dialled)
        assert node.closed
