"""A fresh laptop's first catch-up, seen in the app: the real app (its own node) joins a board
whose other laptop, a real node on loopback, holds 1,500 items; the status line says how far
the catch-up has got ("getting the board: 212 of 1,501 items") while it runs, and "all in
sync" once done. The words themselves from made-up snapshots."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from potluck.p2p.storage.database import BOARD
from potluck.tui.app import PotluckApp
from potluck.tui.cli.people import People
from potluck.tui.node_bridge import NodeBridge, Presence, peer_view
from potluck.tui.screens.board import BoardScreen
from potluck.tui.screens.info import PeersScreen, sync_cell
from potluck.tui.status_line import network, status_line
from textual.widgets import Static

from tests.conftest import copied
from tests.p2p_helpers import FAST, db_rows, running_node
from tests.tui.conftest import board_ready, wait_for
from tests.tui.test_hostile_text import on_screen, screen_text

SIZE = (80, 24)
DEADLINE = 60.0  # generous: two cores shared with other test runs
NOW = 1_000_000.0
SMALL_STEPS = replace(FAST, merge_batch=1)
"""The app's node merges each arrived document in a transaction of its own: a catch-up of
1,500 then lasts over a second here, several looks of the app at its node (every 0.5 s); with
256 a transaction it can be over between two looks."""
SAID = re.compile(r"getting the board: ([\d,]+) of ([\d,]+) items")


def ana(**fields: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "device_id": "a0" * 16,
        "name": "Ana",
        "board_id": "b",
        "address": "127.0.0.1:7434",
        "found": "invite",
        "since": NOW - 5,
        "last_sync": None,
        "last_heard": NOW - 1,
        "pending": 0,
        "in_sync": False,
        "answering": True,
        "expected": 10_000,
        "arrived": 1_200,
    }
    return raw | fields


def words(*peers: dict[str, object]) -> str:
    views = tuple(peer_view(p, NOW) for p in peers)
    presence = Presence(running=True, peers=views, in_sync=all(v.in_sync for v in views))
    return network(presence).plain


def test_the_words_of_a_catch_up() -> None:
    assert words(ana()) == "getting the board: 1,200 of 10,000 items"
    # Never above the whole, whatever a node.json says.
    assert words(ana(arrived=12_000)) == "1 other person here · syncing…"
    assert words(ana(arrived=-3)) == "getting the board: 0 of 10,000 items"
    # A handful to come is an ordinary sync; a finished catch-up is the usual words.
    assert words(ana(expected=20, arrived=3)) == "1 other person here · syncing…"
    done = ana(expected=10_000, arrived=10_000, in_sync=True, last_sync=NOW)
    assert words(done) == "1 other person here · all in sync"
    # Two peers: the one with the most still to come.
    cy = ana(device_id="c1" * 16, name="Cy", expected=9_000, arrived=100)
    assert words(ana(), cy) == "getting the board: 100 of 9,000 items"
    # A peer that stopped answering is said first: the count would stand still.
    assert words(ana(answering=False)).startswith("Ana not answering since")
    # Per peer, on the peers screen.
    assert sync_cell(peer_view(ana(), NOW)) == "getting 12%"
    assert sync_cell(peer_view(ana(arrived=9_999), NOW)) == "getting 99%"
    assert sync_cell(peer_view(done, NOW)) == "in sync"
    # The line fits 80 columns: the count whole, the week's places cut first.
    presence = Presence(running=True, peers=(peer_view(ana(), NOW),), in_sync=False)
    line = status_line("Kitchen at No. 9", presence, 4, People({}), "x", 80).plain
    assert len(line) <= 80
    assert line.startswith(" Kitchen at No. 9 · getting the board: 1,200 of 10,000 items · ")


async def test_the_peers_screen_shows_the_catch_up_whole_at_80x24(
    home_path: Path, make_app: Callable[..., PotluckApp]
) -> None:
    app = make_app(home_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        board = app.screen
        assert isinstance(board, BoardScreen)
        presence = Presence(running=True, peers=(peer_view(ana(name="Ana Lopez"), NOW),))
        app.push_screen(PeersScreen(board.bridge, board.board.board_id, presence))
        await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
        await wait_for(pilot, lambda: " getting 12% " in screen_text(on_screen(app)))


def status(app: PotluckApp) -> str:
    screens = [s for s in app.screen_stack if isinstance(s, BoardScreen)]
    return str(screens[0].query_one("#status", Static).render()) if screens else ""


async def test_the_status_line_follows_a_first_catch_up(
    catch_up_homes: tuple[Path, Path, str], tmp_path: Path
) -> None:
    ana_path, bo_path, board_id = copied(catch_up_homes, tmp_path)
    held = db_rows(ana_path, f"SELECT count(*) FROM documents WHERE board={BOARD}", board_id)[0][0]
    async with running_node(ana_path) as node:
        peers = [("127.0.0.1", node.port)]
        bridge = NodeBridge(
            bo_path, peers, port=0, host="127.0.0.1", mdns=False, timing=SMALL_STEPS
        )
        app = PotluckApp(bo_path, peers=peers, bridge=bridge)
        seen: list[tuple[int, int]] = []

        def getting() -> bool:
            said = SAID.search(status(app))
            if said:
                seen.append((int(said[1].replace(",", "")), int(said[2].replace(",", ""))))
            return said is not None

        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, getting, DEADLINE)
            await wait_for(
                pilot,
                lambda: not getting() and "1 other person here · all in sync" in status(app),
                DEADLINE,
            )
    # Every look at the line during the catch-up: the whole is every document Ana held, and
    # the count only grows, below it (the end is said in the usual words).
    assert {expected for _, expected in seen} == {held}, seen
    arrived = [a for a, _ in seen]
    assert arrived == sorted(arrived) and arrived[-1] < held, seen
