"""Relaying stays cheap in a full mesh. When a peer's change reaches two nodes, each is about to
relay it to the other; each first tells the other its new digest, and neither sends the change
itself once it hears that the other holds it (in a mesh of 20, relayed changes were most of the
traffic)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.p2p.net import board_sync as board_sync_module
from potluck.p2p.net.board_sync import SPREAD_TURN, BoardSync
from potluck.p2p.net.channel import Channel, MemoryChannel, memory_pair
from potluck.p2p.net.messages import PROTOCOL_VERSIONS, Have, Hello, Message, Sync, WholeDocument
from potluck.p2p.net.node import Node
from potluck.p2p.net.session import CloseReason, Session, Timing
from potluck.p2p.net.sync import Event, spread_score
from potluck.p2p.storage.thread import StoreThread

from tests.p2p_helpers import FAST, make_homes, running_node, titles, wait_until


class Watched:
    """A channel that remembers every message sent through it."""

    def __init__(self, inner: MemoryChannel) -> None:
        self.inner = inner
        self.remote_device = inner.remote_device
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        await self.inner.send(message)

    async def receive(self) -> Message:
        return await self.inner.receive()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def stalled(self) -> bool:
        return self.inner.stalled()


def session(
    path: Path, board_id: str, channel: Channel, timing: Timing | None = None
) -> tuple[Session, Home, StoreThread]:
    """A session as a node runs it: with its own connection to the home and its own thread."""
    home = Home.open(path)
    db = StoreThread(home.store)
    board = home.board(board_id)
    state = BoardSync(
        board_id, board.key, home.store.documents.versions(board_id), device=home.device_id
    )
    hello = Hello(PROTOCOL_VERSIONS, home.device_id, home.display_name(), 0, ())
    return Session(channel, state, db, hello, timing=timing), home, db


def change(home: Home, side: Session, doc_id: str) -> None:
    """A change committed here (by this device, or from a peer not run here), told to the
    session as the node's change feed tells it."""
    board_id = side.board.board_id
    side.board.local_changes({doc_id: home.store.documents.versions(board_id)[doc_id]})


async def stop(tasks: list[asyncio.Task[CloseReason]], *opened: tuple[StoreThread, Home]) -> None:
    """End the sessions' tasks, then close their databases and homes."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for db, home in opened:
        db.close()
        home.close()


async def test_a_node_does_not_answer_a_relay_of_what_it_already_holds(tmp_path: Path) -> None:
    (ana, bo, cy), board_id = make_homes(tmp_path, ["Ana", "Bo", "Cy"])
    item = ana.board(board_id).post(Kind.NEED, "We need a ladder")
    for home in (bo, cy):
        home.store.documents.apply_saved_document(
            board_id, item, ana.store.documents.saved_document(board_id, item)
        )
    to_cy, to_bo = (Watched(end) for end in memory_pair(bo.device_id, cy.device_id))
    bo_side, bo_node_home, bo_db = session(bo.path, board_id, to_cy)
    cy_side, cy_node_home, cy_db = session(cy.path, board_id, to_bo)
    tasks = [asyncio.create_task(s.run()) for s in (bo_side, cy_side)]
    try:

        def quiet() -> bool:
            return bo_side.in_sync and cy_side.in_sync and not bo_side.state.active

        def same() -> bool:
            return {d: v.digest for d, v in bo_side.board.digests.items()} == {
                d: v.digest for d, v in cy_side.board.digests.items()
            }

        # Bo and Cy reply once each, so that both hold sync states for the item.
        bo.board(board_id).reply(item, "There's one in the cellar")
        change(bo, bo_side, item)
        await wait_until(lambda: quiet() and same())
        cy.board(board_id).reply(item, "I'll fetch it")
        change(cy, cy_side, item)
        await wait_until(lambda: quiet() and same())

        # Ana replies; her change reaches Bo and Cy over their own connections to her.
        ana.store.documents.apply_saved_document(
            board_id, item, bo.store.documents.saved_document(board_id, item)
        )
        ana.board(board_id).reply(item, "Thanks, both")
        saved = ana.store.documents.saved_document(board_id, item)
        bo.store.documents.apply_saved_document(board_id, item, saved)
        held = bo.store.documents.versions(board_id)[item]
        cy.store.documents.apply_saved_document(board_id, item, saved)
        to_cy.sent.clear()
        # Bo's connection to Ana (not run here) committed it: Bo's board knows it.
        bo_side.board.committed(Bystander(ana.device_id), {item: held})
        # Cy relays it to Bo first; then Bo gets round to relaying it to Cy.
        change(cy, cy_side, item)
        await wait_until(lambda: bo_side.state.docs[item].theirs == held.digest)
        change(bo, bo_side, item)
        # Whatever Bo sends about the item goes before a later post of his.
        later = bo.board(board_id).post(Kind.OFFER, "Soup on Tuesday")
        change(bo, bo_side, later)
        await wait_until(lambda: later in cy.store.documents.digests(board_id), what="the post")
        assert [m for m in to_cy.sent if isinstance(m, Sync) and m.id == item] == []
        assert len(cy.board(board_id).item(item).replies) == 3
    finally:
        await stop(tasks, (bo_db, bo_node_home), (cy_db, cy_node_home))


async def test_in_a_mesh_a_change_is_not_relayed_to_a_peer_that_has_it_from_its_author(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ana, bo, cy), board_id = make_homes(tmp_path, ["Ana", "Bo", "Cy"])
    sent: list[tuple[str, str, Message]] = []  # (from device, to device, message)
    send = Session._send

    async def spy(self: Session, message: Message) -> None:
        sent.append((self.local_hello.device, self.remote_device, message))
        await send(self, message)

    monkeypatch.setattr(Session, "_send", spy)
    slow_relay = Timing(FAST.ping_every, FAST.silence_limit, relay_delay=1.0)

    def in_sync(*nodes: Node) -> bool:
        return all(len(node.peer_infos()) == 2 and node.in_sync() for node in nodes)

    async with (
        running_node(ana.path, timing=slow_relay) as node_a,
        running_node(bo.path, peers=[("127.0.0.1", node_a.port)], timing=slow_relay) as node_b,
        running_node(
            cy.path,
            peers=[("127.0.0.1", node_a.port), ("127.0.0.1", node_b.port)],
            timing=slow_relay,
        ) as node_c,
    ):
        await wait_until(lambda: in_sync(node_a, node_b, node_c), what="a mesh of three")
        item = ana.board(board_id).post(Kind.NEED, "Someone to fix the boiler")
        await wait_until(
            lambda: titles(bo, board_id) == titles(cy, board_id) == titles(ana, board_id)
        )
        await wait_until(lambda: in_sync(node_a, node_b, node_c), timeout=15, what="quiet")
    between = {(bo.device_id, cy.device_id), (cy.device_id, bo.device_id)}

    def about_item(m: Message) -> bool:
        return item in m.docs if isinstance(m, Have) else getattr(m, "id", None) == item

    relayed = [type(m).__name__ for frm, to, m in sent if (frm, to) in between and about_item(m)]
    # Bo and Cy told each other their new digests (a `have` each way), and sent nothing more …
    assert relayed == ["Have", "Have"], relayed
    # … for each had the item from Ana herself.
    from_ana = [
        to
        for frm, to, m in sent
        if frm == ana.device_id and isinstance(m, WholeDocument) and m.id == item
    ]
    assert sorted(from_ana) == sorted([bo.device_id, cy.device_id])


class Bystander:
    """Another peer's connection on the board, which only takes part in the spread's order."""

    def __init__(self, device: str) -> None:
        self.remote_device = device
        self.timing = FAST
        self.cut_off = False

    def feed(self, event: Event) -> None:
        pass


def bystanders(item: str, pair: tuple[str, str], count: int) -> list[Bystander]:
    """`count` other devices, each placed before both of the pair in the item's spread."""
    last = min(spread_score(item, device) for device in pair)
    found: list[Bystander] = []
    n = 0
    while len(found) < count:
        n += 1
        if spread_score(item, f"other {n}") < last:
            found.append(Bystander(f"other {n}"))
    return found


@pytest.mark.parametrize("others", [0, 1])
async def test_a_mesh_meeting_again_spreads_what_differs_on_both_sides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, others: int
) -> None:
    """Ana and Bo meet again with an item changed on Ana's side. With another peer on Ana's
    side of the cut, placed before her in the item's spread, Ana waits a turn before pushing
    it, and Bo has it from that peer meanwhile: no sync message about it crosses. Alone, they
    sync it at once."""
    monkeypatch.setattr(board_sync_module.random, "uniform", lambda low, high: high)
    (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
    item = ana.board(board_id).post(Kind.NEED, "Candles for the power cut")
    bo.store.documents.apply_saved_document(
        board_id, item, ana.store.documents.saved_document(board_id, item)
    )
    ana.board(board_id).reply(item, "Found a box of twelve")  # while they were apart
    to_bo, to_ana = (Watched(end) for end in memory_pair(ana.device_id, bo.device_id))
    ana_side, ana_node_home, ana_db = session(ana.path, board_id, to_bo)
    bo_side, bo_node_home, bo_db = session(bo.path, board_id, to_ana)
    for side in (ana_side, bo_side):
        for other in bystanders(item, (ana.device_id, bo.device_id), others):
            side.board.attach(other)
    tasks = [asyncio.create_task(s.run()) for s in (ana_side, bo_side)]
    started = asyncio.get_running_loop().time()
    try:
        await wait_until(lambda: bo_side.state.heard_have, what="the haves")
        if others:
            # Another peer brings Bo the item as Ana has it.
            bo.store.documents.apply_saved_document(
                board_id, item, ana.store.documents.saved_document(board_id, item)
            )
            change(bo, bo_side, item)
        await wait_until(
            lambda: ana_side.in_sync and bo_side.in_sync and not ana_side.state.active,
            what="in sync",
        )
        took = asyncio.get_running_loop().time() - started
    finally:
        await stop(tasks, (ana_db, ana_node_home), (bo_db, bo_node_home))
    syncs = [m for m in to_bo.sent + to_ana.sent if isinstance(m, Sync) and m.id == item]
    assert len(bo.board(board_id).item(item).replies) == 1
    if others:
        assert syncs == []
        # Rank 1 on her side (Bo, just connected, counts as across): one turn.
        assert took >= SPREAD_TURN  # the spread waited before finding nothing to send
    else:
        assert syncs != []
