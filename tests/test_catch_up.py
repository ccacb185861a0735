"""A fresh laptop's first catch-up counts what it expects and what has arrived: two real nodes
on loopback, one home holding 1,500 items and the other none; the newcomer's node reports,
for that peer, every document it lacked as expected, and the arrived count climbing to it
(in memory, in node.json, and through `potluck peers --json`)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import time
from pathlib import Path
from typing import Any

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
