"""Relaying stays cheap in a full mesh. When a peer's change reaches two nodes, each is about to
relay it to the other; the one that hears first must not answer, for both already hold the same
document (in a mesh of 20 that answer was half the traffic after a heal)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from p2p.db import Db
from p2p.home import Home
from p2p.messages import PROTOCOL_VERSIONS, Hello, Message, Sync
from p2p.model import Kind
from p2p.session import BoardState, Session
from p2p.transport import Channel, MemoryChannel, memory_pair
from tests.p2p_helpers import make_homes, wait_until


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


def session(path: Path, board_id: str, channel: Channel) -> tuple[Session, Home, Db]:
    """A session as a node runs it: with its own connection to the home and its own thread."""
    home = Home.open(path)
    db = Db(home.store)
    board = home.board(board_id)
    state = BoardState(board_id, board.key, home.store.document_digests(board_id))
    hello = Hello(PROTOCOL_VERSIONS, home.device_id, home.display_name(), 0, ())
    return Session(channel, state, db, hello), home, db


async def test_a_node_does_not_answer_a_relay_of_what_it_already_holds(tmp_path: Path) -> None:
    (ana, bo, cy), board_id = make_homes(tmp_path, ["Ana", "Bo", "Cy"])
    item = ana.board(board_id).post(Kind.NEED, "We need a ladder")
    for home in (bo, cy):
        home.store.apply_saved_document(board_id, item, ana.store.saved_document(board_id, item))
    to_cy, to_bo = (Watched(end) for end in memory_pair(bo.device_id, cy.device_id))
    bo_side, bo_node_home, bo_db = session(bo.path, board_id, to_cy)
    cy_side, cy_node_home, cy_db = session(cy.path, board_id, to_bo)
    tasks = [asyncio.create_task(s.run()) for s in (bo_side, cy_side)]
    try:

        async def change(home: Home, side: Session, doc_id: str) -> None:
            """A change committed here (by this device or from Ana), told to the session."""
            side.board.digests[doc_id] = home.store.document_digests(board_id)[doc_id]
            side.notify({doc_id})

        def quiet() -> bool:
            return bo_side.in_sync and cy_side.in_sync and not bo_side._active

        # Bo and Cy reply once each, so that both hold sync states for the item.
        bo.board(board_id).reply(item, "There's one in the cellar")
        await change(bo, bo_side, item)
        await wait_until(lambda: quiet() and bo_side.board.digests == cy_side.board.digests)
        cy.board(board_id).reply(item, "I'll fetch it")
        await change(cy, cy_side, item)
        await wait_until(lambda: quiet() and bo_side.board.digests == cy_side.board.digests)

        # Ana replies; her change reaches Bo and Cy over their own connections to her.
        ana.store.apply_saved_document(board_id, item, bo.store.saved_document(board_id, item))
        ana.board(board_id).reply(item, "Thanks, both")
        saved = ana.store.saved_document(board_id, item)
        bo.store.apply_saved_document(board_id, item, saved)
        bo_side.board.digests[item] = bo.store.document_digests(board_id)[item]
        cy.store.apply_saved_document(board_id, item, saved)
        to_cy.sent.clear()
        # Cy relays it to Bo first; then Bo gets round to relaying it to Cy.
        await change(cy, cy_side, item)
        await wait_until(lambda: bo_side.peer_digests.get(item) == bo_side.board.digests[item])
        bo_side.notify({item})
        # Whatever Bo sends about the item goes before a later post of his.
        later = bo.board(board_id).post(Kind.OFFER, "Soup on Tuesday")
        await change(bo, bo_side, later)
        await wait_until(lambda: later in cy.store.document_digests(board_id), what="the post")
        assert [m for m in to_cy.sent if isinstance(m, Sync) and m.id == item] == []
        assert len(cy.board(board_id).item(item).replies) == 3
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for db, home in ((bo_db, bo_node_home), (cy_db, cy_node_home)):
            db.close()
            home.close()
