"""A fresh laptop's first catch-up counts what it expects and what has arrived: two real nodes
on loopback, one home holding 1,500 items and the other none; the newcomer's node reports,
for that peer, every document it lacked as expected, and the arrived count climbing to it
(in memory, in node.json, and through `potluck peers --json`). From three peers at once, it
merges each document about once."""

from __future__ import annotations

import asyncio
import fcntl
import json
import time
from pathlib import Path
from socket import IPPROTO_TCP, SO_RCVBUF, SO_SNDBUF, SOL_SOCKET, TCP_NODELAY
from typing import Any

from potluck.p2p.home import Home
from potluck.p2p.net.noise import RECEIVE_BUFFER, SEND_BUFFER
from potluck.p2p.net.presence import read_node_state
from potluck.p2p.storage.database import BOARD
from potluck.tui.cli.people import People
from potluck.tui.cli.serve import describe_peer

from tests.conftest import CATCH_UP_ITEMS, copied, run_json
from tests.p2p_helpers import db_rows, running_node, wait_until

DEADLINE = 60.0  # generous: two cores shared with other test runs


def documents(home: Path, board_id: str) -> int:
    return int(db_rows(home, f"SELECT count(*) FROM documents WHERE board={BOARD}", board_id)[0][0])


async def test_a_newcomer_counts_the_documents_it_expects_and_those_arrived(
    catch_up_homes: tuple[Path, Path, str], tmp_path: Path
) -> None:
    ana, bo, board_id = copied(catch_up_homes, tmp_path)
    held = documents(ana, board_id)
    assert held > CATCH_UP_ITEMS and documents(bo, board_id) == 0
    async with (
        running_node(ana) as node_a,
        running_node(bo, peers=[("127.0.0.1", node_a.port)]) as node_b,
    ):
        seen: list[tuple[int, int]] = []

        def sample() -> dict[str, Any] | None:
            peers = node_b.peers()
            if peers and peers[0]["expected"]:
                seen.append((peers[0]["arrived"], peers[0]["expected"]))
            return peers[0] if peers else None

        deadline = time.monotonic() + DEADLINE
        while not ((peer := sample()) and peer["in_sync"]):
            assert time.monotonic() < deadline, f"no catch-up within {DEADLINE:g} s: {seen}"
            await asyncio.sleep(0.01)

        # Every document Ana held was expected, once, from the moment inventories met.
        assert seen, "the inventories were never compared"
        assert {expected for _, expected in seen} == {held}
        arrived = [a for a, _ in seen]
        assert arrived == sorted(arrived), "the arrived count went back"
        assert arrived[-1] == held
        # Seen on the way, not only at the ends: it climbs as documents are applied.
        assert any(0 < a < held for a in arrived), arrived[:5]
        assert documents(bo, board_id) >= held

        # Ana expected nothing from Bo: Bo held nothing when they met.
        assert [(p["expected"], p["arrived"]) for p in node_a.peers()] == [(0, 0)]

        # The same numbers reach node.json, for `potluck peers` and an app beside it.
        def published() -> dict[str, Any] | None:
            state = read_node_state(bo)
            return state["peers"][0] if state and state["peers"] else None

        await wait_until(
            lambda: (p := published()) is not None and p["arrived"] == held,
            DEADLINE,
            "the catch-up in node.json",
        )
        report = await asyncio.to_thread(run_json, bo, "peers")
        [peer] = report["peers"]
        assert (peer["expected"], peer["arrived"]) == (held, held)


def test_potluck_peers_says_how_far_a_catch_up_has_got() -> None:
    now = 1_000_000.0
    peer = {
        "device_id": "a0" * 16,
        "name": "Ana",
        "address": "127.0.0.1:7434",
        "found": "manual",
        "since": now - 10,
        "in_sync": False,
        "answering": True,
        "pending": 0,
        "expected": 10_000,
        "arrived": 1_200,
    }
    people = People({"a0" * 16: "Ana"})
    line = describe_peer(peer, people, now)
    assert line.endswith("syncing, 1,200 of its 10,000 items here so far"), line
    done = describe_peer(peer | {"arrived": 10_000}, people, now)
    assert done.endswith(", syncing"), done


def test_counts_in_a_damaged_node_json_read_as_none(tmp_path: Path) -> None:
    """node.json from a node before these fields, or edited by hand: the peer is still listed,
    with nothing expected, rather than dropped or shown with a count that is not one."""
    peer = {
        "device_id": "a0" * 16,
        "name": "Ana",
        "board_id": "b",
        "address": "127.0.0.1:7434",
        "found": "manual",
        "since": 1.0,
        "last_sync": None,
        "last_heard": 2.0,
        "pending": 0,
        "in_sync": False,
        "answering": True,
    }
    odd = [peer, peer | {"expected": "lots", "arrived": True}, peer | {"expected": 9, "arrived": 4}]
    (tmp_path / "node.json").write_text(json.dumps({"peers": odd}))
    with open(tmp_path / "node.lock", "w") as lock:  # a node of another process holds it
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = read_node_state(tmp_path)
    assert state is not None
    assert [(p["expected"], p["arrived"]) for p in state["peers"]] == [(0, 0), (0, 0), (9, 4)]


async def test_a_newcomer_catching_up_from_three_peers_merges_each_document_about_once(
    catch_up_homes: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """Three peers hold the same board; a fresh laptop meets all three at once. Each sends it
    what it lacks in its own order and skips what the newcomer says it now holds from another,
    so the newcomer merges most documents once (about 1.3 times on average here, where the
    four nodes share one process; in the same order, each was merged three times). Its
    connections keep small socket buffers, so that no peer writes it the whole board before
    hearing what it holds, and send every message at once."""
    ana, bo, board_id = copied(catch_up_homes, tmp_path)
    held = documents(ana, board_id)
    with Home.open(ana) as home:
        board = home.board(board_id)
        invite = board.invite()
        home.export_board(board, tmp_path / "board.potluck")
    others = []
    for name in ("Cy", "Dee"):
        with Home.open(tmp_path / name.lower()) as home:
            home.set_profile(name=name)
            home.join(invite)
            home.import_board(tmp_path / "board.potluck")
            others.append(home.path)
    assert [documents(p, board_id) for p in others] == [held, held]

    async with (
        running_node(ana) as node_a,
        running_node(others[0], peers=[("127.0.0.1", node_a.port)]) as node_c,
        running_node(others[1], peers=[("127.0.0.1", node_a.port)]) as node_d,
    ):
        await wait_until(lambda: node_a.in_sync() and len(node_a.peers()) == 2, DEADLINE, "mesh")
        peers = [("127.0.0.1", n.port) for n in (node_a, node_c, node_d)]
        async with running_node(bo, peers=peers) as node_b:
            await wait_until(
                lambda: len(node_b.peers()) == 3 and node_b.in_sync(), DEADLINE, "caught up"
            )
            links = list(node_b.connections.links.values()) + list(
                node_a.connections.links.values()
            )
            merged = sum(
                link.session.state.received_docs for link in node_b.connections.links.values()
            )
            sockets = {
                (
                    sock.getsockopt(SOL_SOCKET, SO_SNDBUF),
                    sock.getsockopt(SOL_SOCKET, SO_RCVBUF),
                    sock.getsockopt(IPPROTO_TCP, TCP_NODELAY),
                )
                for link in links
                if (sock := link.session.channel.connection.writer.get_extra_info("socket"))
            }
    assert documents(bo, board_id) == held
    assert held - 1 <= merged <= 1.5 * held, (merged, held)
    # Both ends of a connection, dialled and accepted (Linux doubles the buffers it is given),
    # and no Nagle on either: a post on an accepted connection waited 40 ms one time in two.
    assert sockets == {(2 * SEND_BUFFER, 2 * RECEIVE_BUFFER, 1)}, sockets
