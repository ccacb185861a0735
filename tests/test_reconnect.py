"""Reconnects that cost almost nothing: two real nodes on loopback holding the same 2,000
documents, connected through a relay that counts every byte of the TCP stream both ways
(handshake, frames, everything), reconnect for a few hundred bytes; k documents changed
apart cost bytes that grow with k, not with the 2,000 (a full inventory was ~100 kB each way).

2,000 rather than 10,000 documents: posting them takes ~3.5 ms each here, and the bytes of a
reconnect do not depend on the count (tests/test_reconcile.py reconciles 10,000 in memory)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.p2p.net.node import Node
from potluck.p2p.storage.database import BOARD, shown_id

from tests.p2p_helpers import Relay, db_rows, running_node, two_homes_holding, wait_until

DOCUMENTS = 2_000


def digests(home: Path, board_id: str) -> dict[str, bytes]:
    rows = db_rows(home, f"SELECT doc_id, digest FROM documents WHERE board={BOARD}", board_id)
    return {shown_id(doc_id): bytes(digest) for doc_id, digest in rows}


def synced_since(node: Node, moment: float) -> bool:
    """The node's one connection began after `moment` and its peer confirmed everything."""
    infos = node.peer_infos()
    return len(infos) == 1 and infos[0].since > moment and infos[0].in_sync


@pytest.fixture(scope="module")
def boards(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Two homes holding the same DOCUMENTS items (one posted them, the other imported an
    export of the board)."""
    return two_homes_holding(tmp_path_factory.mktemp("reconnect"), DOCUMENTS)


@contextlib.asynccontextmanager
async def nodes(boards: tuple[Path, Path, str]) -> AsyncIterator[tuple[Node, Node, Relay]]:
    """Both nodes running, Bo dialling Ana through the relay, in sync with each other."""
    ana, bo, board_id = boards
    async with running_node(ana) as node_a:
        relay = Relay(node_a.port)
        await relay.start()
        try:
            async with running_node(bo, peers=[("127.0.0.1", relay.port)]) as node_b:
                await wait_until(
                    lambda: synced_since(node_a, 0) and synced_since(node_b, 0),
                    timeout=60,
                    what="the first sync",
                )
                await wait_until(
                    lambda: digests(ana, board_id) == digests(bo, board_id),
                    timeout=60,
                    what="the same documents on both",
                )
                yield node_a, node_b, relay
        finally:
            await relay.aclose()


async def reconnect(
    node_a: Node, node_b: Node, relay: Relay, boards: tuple[Path, Path, str]
) -> int:
    """Let the nodes meet again through the relay; the bytes from the first byte of the new
    connection until both hold the same documents and confirmed it to each other."""
    ana, bo, board_id = boards
    cut = time.time()
    relay.bytes = 0
    relay.open = True
    await wait_until(
        lambda: (
            synced_since(node_a, cut)
            and synced_since(node_b, cut)
            and digests(ana, board_id) == digests(bo, board_id)
        ),
        timeout=60,
        what="the nodes in sync again",
    )
    return relay.bytes


async def test_a_reconnect_with_the_same_documents_costs_almost_nothing(
    boards: tuple[Path, Path, str],
) -> None:
    async with nodes(boards) as (node_a, node_b, relay):
        assert len(digests(boards[0], boards[2])) > DOCUMENTS
        relay.cut(refuse=True)
        await wait_until(lambda: not node_a.peer_infos(), what="the cut seen")
        spent = await reconnect(node_a, node_b, relay, boards)
        # Handshake (~420 bytes), two hellos, one 45-byte fingerprint each way, `synced`:
        # about 860 bytes here. Opening with full inventories instead took 417 kB.
        assert spent < 5_000, spent


async def test_bytes_grow_with_the_documents_changed_apart_not_with_all(
    boards: tuple[Path, Path, str],
) -> None:
    ana, bo, board_id = boards
    spent: dict[int, int] = {}
    async with nodes(boards) as (node_a, node_b, relay):
        for k in (1, 20):
            relay.cut(refuse=True)
            await wait_until(lambda: not node_a.peer_infos(), what="the cut seen")
            with Home.open(ana) as home_a, Home.open(bo) as home_b:
                board_a, board_b = home_a.board(board_id), home_b.board(board_id)
                seeds = sorted(i.id for i in board_a.items())
                for n in range(k):
                    board_a.reply(seeds[n * 37], f"reply {n} while apart")  # changed on A
                    board_b.post(Kind.NEED, f"need {n} while apart")  # new on B
            spent[k] = await reconnect(node_a, node_b, relay, boards)
    # Each change itself travels (a reply as sync messages, a new item whole); finding them
    # costs a few kB more per change, whatever the board's size: 8 kB for k = 1 and 72 kB for
    # k = 20 here, where opening with full inventories took 420 and 454 kB.
    assert spent[1] < 10_000, spent
    assert spent[20] < 20 * 2 * 3_500, spent
    assert spent[20] < 100 * DOCUMENTS, spent  # less than the full inventories each way
