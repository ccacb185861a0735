"""The bridge between the app and the node: plain words, bad addresses, a node run elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import potluck.tui.app
import pytest
from potluck.p2p import InvalidInput
from potluck.tui import main as cli
from potluck.tui.app import PotluckApp
from potluck.tui.cli.words import span
from potluck.tui.node_bridge import NodeBridge, peer_view
from potluck.tui.screens.board import BoardScreen
from potluck.tui.screens.info import PeersScreen
from potluck.tui.widgets.item_list import ItemList
from textual.widgets import Input, Static

from tests.p2p_helpers import Serve
from tests.tui.conftest import wait_for


def test_times_and_words() -> None:
    assert [span(s) for s in (0, 5, 61, 600, 7300, 86400 * 3)] == [
        "0 s",
        "5 s",
        "1 min",
        "10 min",
        "2 h",
        "3 days",
    ]
    now = 1_000_000.0
    raw = {
        "device_id": "ab" * 16,
        "name": "Bo",
        "board_id": "b",
        "address": "127.0.0.1:7434",
        "found": "mdns",
        "since": now - 600,
        "last_sync": now - 5,
        "pending": 0,
    }
    view = peer_view(raw, now)
    assert (view.name, view.found, view.since, view.last_sync, view.pending) == (
        "Bo",
        "nearby (mDNS)",
        "10 min",
        "synced 5 s ago",
        "nothing",
    )
    assert view.in_sync
    waiting = peer_view({**raw, "name": "", "last_sync": None, "pending": 3}, now)
    assert (waiting.name, waiting.last_sync, waiting.pending) == (
        "",  # the peers screen names it "someone (abab-abab-abab)"
        "never",
        "3 items",
    )
    assert not waiting.in_sync


async def test_a_bad_address_is_explained(tmp_path: Path) -> None:
    bridge = NodeBridge(tmp_path)
    for bad in ("nonsense", "host:", ":7434", "10.0.0.1:99999"):
        with pytest.raises(InvalidInput, match="host:port"):
            await bridge.add_peer(bad)


def test_peer_on_the_command_line_reaches_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened: list[Any] = []
    monkeypatch.setattr(potluck.tui.app, "run_app", lambda *args: opened.append(args))
    home = tmp_path / "home"
    assert cli.main(["--home", str(home), "--peer", "127.0.0.1:7434", "--peer", "[::1]:9"]) == 0
    assert opened == [(home, None, [("127.0.0.1", 7434), ("::1", 9)])]
    assert cli.main(["--home", str(home), "--peer", "127.0.0.1"]) == 1
    assert "is not HOST:PORT" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        cli.main(["--home", str(home), "--peer", "127.0.0.1:7434", "ls"])
    assert usage.value.code == 2


async def test_beside_a_running_serve_the_app_reads_its_peers(home_path: Path) -> None:
    """Only one node per home: the app then shows what `potluck serve` publishes."""
    serve = Serve(home_path, "--port", "0", "--no-mdns")
    try:
        serve.wait_line("is syncing", timeout=30)
        bridge = NodeBridge(home_path, port=0, host="127.0.0.1", mdns=False)
        app = PotluckApp(home_path, bridge=bridge)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: bridge.elsewhere, 20)
            assert isinstance(app.screen, BoardScreen)
            status = app.screen.query_one("#status", Static)
            await wait_for(pilot, lambda: "nobody else here right now" in str(status.render()))
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
            app.screen.query_one("#address", Input).focus()
            await pilot.press(*"127.0.0.1:7434", "enter")
            error = app.screen.query_one("#error", Static)
            await wait_for(pilot, lambda: "potluck serve --peer" in str(error.render()))
    finally:
        assert serve.stop() == 0


async def test_when_syncing_cannot_start_the_app_says_why_and_works(home_path: Path) -> None:
    # An address this machine does not have: binding fails at once, nothing is sent.
    bridge = NodeBridge(home_path, port=0, host="198.51.100.7", mdns=False)
    app = PotluckApp(home_path, bridge=bridge)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bridge.problem != "", 20)
        assert "cannot listen" in bridge.problem and not bridge.running
        status = app.screen.query_one("#status", Static)
        await wait_for(pilot, lambda: "on this laptop only" in str(status.render()))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
        note = str(app.screen.query_one("#peer-note", Static).render())
        assert "working on its own" in note and "cannot listen" in note
        await pilot.press("escape", "n", *"Kept anyway", "enter")
        await wait_for(
            pilot, lambda: "Kept anyway" in str(app.screen.query_one(ItemList).options[0].prompt)
        )
