"""The real app with its real node, syncing over loopback TCP with another home's real node."""

from __future__ import annotations

from pathlib import Path

from potluck.p2p.model.types import Kind
from potluck.tui.app import PotluckApp
from potluck.tui.cli.people import fingerprint
from potluck.tui.node_bridge import NodeBridge
from potluck.tui.screens.board import BoardScreen
from potluck.tui.screens.info import PeersScreen
from potluck.tui.widgets.item_list import ItemList
from textual.widgets import DataTable, Input, Static

from tests.p2p_helpers import FAST, make_homes, running_node, wait_until
from tests.tui.conftest import wait_for

SIZE = (100, 32)
DEADLINE = 20.0  # generous: two cores shared with other test runs


def app_for(path: Path, peers: list[tuple[str, int]]) -> PotluckApp:
    """The app as `potluck --home PATH --peer HOST:PORT` runs it, kept on loopback."""
    bridge = NodeBridge(path, peers, port=0, host="127.0.0.1", mdns=False, timing=FAST)
    return PotluckApp(path, peers=peers, bridge=bridge)


def board_screen(app: PotluckApp) -> BoardScreen:
    return next(s for s in app.screen_stack if isinstance(s, BoardScreen))


def shown(app: PotluckApp) -> bool:
    return any(isinstance(s, BoardScreen) for s in app.screen_stack)


def titles(app: PotluckApp) -> list[str]:
    if not shown(app):
        return []
    items = board_screen(app).query_one(ItemList)
    return [str(o.prompt).split("\n")[0] for o in items.options]


def status(app: PotluckApp) -> str:
    if not shown(app):
        return ""
    return str(board_screen(app).query_one("#status", Static).render())


def peer_rows(app: PotluckApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


async def test_two_homes_sync_live_through_the_app(tmp_path: Path) -> None:
    homes, board_id = make_homes(tmp_path, ["Ana", "Bo"])
    ana_path, bo_home = homes[0].path, homes[1]
    homes[0].close()
    bo = bo_home.board(board_id)
    for title in ("Soup pots", "Bread for Friday", "Dry beans"):
        bo.post(Kind.NEED, title)
    try:
        async with running_node(bo_home.path) as bo_node:
            app = app_for(ana_path, [("127.0.0.1", bo_node.port)])
            async with app.run_test(size=SIZE) as pilot:
                # The board arrives, and the status line says who is here.
                await wait_for(pilot, lambda: len(titles(app)) == 3, DEADLINE)
                await wait_for(pilot, lambda: "1 other person here" in status(app), DEADLINE)
                await wait_for(pilot, lambda: "all in sync" in status(app), DEADLINE)

                # The peers screen: Bo, found by the address given, with a last sync.
                await pilot.press("p")
                await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
                await wait_for(pilot, lambda: len(peer_rows(app)) == 1, DEADLINE)
                # Each side adds itself to the members once the board document reached it
                # (PROTOCOL.md §9.1), which syncs a moment after the items: wait for that too.
                await wait_for(pilot, lambda: peer_rows(app)[0][3] == "in sync", DEADLINE)
                name, found, heard, sync = peer_rows(app)[0]
                bo_print = fingerprint(bo_home.device_id)
                assert (name, found, sync) == (f"Bo ({bo_print})", "address given", "in sync")
                assert heard.endswith(" ago")
                await pilot.press("escape")

                # The cursor on another item than the first, a reply half typed...
                items = board_screen(app).query_one(ItemList)
                first = items.current_id
                await pilot.press("down")
                chosen = items.current_id
                assert chosen is not None and chosen != first
                await pilot.press("r")
                await wait_for(pilot, lambda: app.screen.query("#text"))
                await pilot.press(*"half a ")
                # ...while Bo posts on the other laptop: it shows up, nothing moves.
                bo.post(Kind.NEED, "Warm socks")
                await wait_for(pilot, lambda: "Warm socks" in titles(app), DEADLINE)
                assert items.current_id == chosen
                await pilot.press(*"sack")
                assert app.screen.query_one("#text", Input).value == "half a sack"
                await pilot.press("enter")

                # What Ana writes in the app reaches Bo's home.
                await wait_until(
                    lambda: [r.text for r in bo.item(chosen).replies] == ["half a sack"],
                    DEADLINE,
                    "Ana's reply on Bo's home",
                )
                await pilot.press("n")
                await wait_for(pilot, lambda: app.screen.query("#title"))
                await pilot.press(*"Candles", "ctrl+s")
                await wait_until(
                    lambda: "Candles" in [s.title for s in bo.items()],
                    DEADLINE,
                    "Ana's post on Bo's home",
                )
    finally:
        bo_home.close()


async def test_adding_a_peer_by_address_connects(tmp_path: Path) -> None:
    homes, _ = make_homes(tmp_path, ["Ana", "Bo"])
    for home in homes:
        home.close()
    async with running_node(homes[1].path) as bo_node:
        app = app_for(homes[0].path, [])
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.bridge.node is not None, DEADLINE)
            await wait_for(pilot, lambda: shown(app))
            await wait_for(pilot, lambda: "nobody else here right now" in status(app))
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
            note = app.screen.query_one("#peer-note", Static)
            assert "No one found yet" in str(note.render())
            await pilot.press(*f"127.0.0.1:{bo_node.port}", "enter")
            bo = f"Bo ({fingerprint(homes[1].device_id)})"  # the fingerprint is always there
            await wait_for(pilot, lambda: [r[0] for r in peer_rows(app)] == [bo], DEADLINE)
            assert peer_rows(app)[0][1] == "address given"
            assert str(note.render()).strip() == ""
