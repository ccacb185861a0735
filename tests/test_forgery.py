"""A member's device forges over the real wire (TCP, Noise, real nodes): every forgery is refused.

Mo holds the board key and a valid device key of his own. He connects to Vic's node and tries
each thing a member may not do; each time Vic's node closes that connection with the reason,
logs it, stores nothing of it and passes nothing on; Ana and Vic keep syncing meanwhile. The
same forgery sent to Bo's node (an honest third node connected to Vic) is refused there and
never reaches Vic; the same in an export file is refused when Vic imports it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from potluck.p2p.home import Home
from potluck.p2p.model import item_document as items
from potluck.p2p.model.automerge import ROOT, Document
from potluck.p2p.model.types import Kind, Status
from potluck.p2p.net import messages
from potluck.p2p.net.messages import Bye, Have, Sync, WholeDocument
from potluck.p2p.net.node import Node
from potluck.p2p.net.noise import SecureConnection

from tests.forge import Forged, Forger
from tests.p2p_helpers import connected, make_homes, running_node, titles, wait_until
from tests.test_hostile import hostile
from tests.test_signing import _export_with


@dataclass
class Board:
    ana: Home
    mo: Home
    vic: Home
    bo: Home
    board_id: str
    need: str
    proposal: str
    node_vic: Node
    node_bo: Node


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Board]:
    (ana, mo, vic, bo), board_id = make_homes(tmp_path, ["Ana", "Mo", "Vic", "Bo"])
    need = ana.board(board_id).post(Kind.NEED, "A long ladder")
    proposal = ana.board(board_id).post(Kind.PROPOSAL, "Quiet hours")
    ana.board(board_id).reply(need, "for the gutter")
    async with (
        running_node(ana.path) as node_ana,
        running_node(vic.path, peers=[("127.0.0.1", node_ana.port)]) as node_vic,
        running_node(mo.path, peers=[("127.0.0.1", node_ana.port)]) as node_mo,
        running_node(bo.path, peers=[("127.0.0.1", node_vic.port)]) as node_bo,
    ):
        await wait_until(connected(node_vic, 2), timeout=20, what="Vic synced with Ana and Bo")
        for home in (mo, vic, bo):
            await wait_until(
                lambda home=home: titles(home, board_id) == ["A long ladder", "Quiet hours"],
                timeout=20,
                what="the board everywhere",
            )
        # Mo's own node stops: from now on his device is a forger talking to nodes directly.
        await node_mo.aclose()
        yield Board(ana, mo, vic, bo, board_id, need, proposal, node_vic, node_bo)


async def send(node: Node, board: Board, message: messages.Message) -> str:
    """Mo connects, says hello and what he holds, sends `message`; the reason he is closed."""
    conn = await hostile(node.port, board.vic.board(board.board_id).key, board.mo.identity)
    await conn.send(messages.encode(Have(board.mo.store.documents.digests(board.board_id))))
    await conn.send(messages.encode(message))
    return await bye(conn)


async def bye(conn: SecureConnection) -> str:
    try:
        async with asyncio.timeout(20):
            while True:
                message = messages.decode(await conn.receive())
                if isinstance(message, Bye):
                    return message.reason
    except Exception as exc:  # the node closed without a bye
        return f"closed ({type(exc).__name__})"
    finally:
        await conn.aclose()


def as_doc(doc_id: str, forged: Forged) -> WholeDocument:
    d = forged.document
    return WholeDocument(doc_id, d.data, forged_digest(forged), d.signatures, d.keys)


def as_sync(doc_id: str, forged: Forged) -> Sync:
    s = forged.sync
    return Sync(doc_id, s.data, forged_digest(forged), s.signatures, s.keys)


def forged_digest(forged: Forged) -> bytes:
    return forged.doc.digest()


def write(key: str, value: str) -> Callable[[Document], None]:
    def edit(doc: Document) -> None:
        with doc.change() as w:
            w.put_str(ROOT, key, value)

    return edit


def forgeries(b: Board) -> list[tuple[str, str, Forged, str, str]]:
    """(what, document, forged edit, how it is sent, the reason it must be refused with)."""
    ana = b.ana.device_id
    forger = Forger(b.mo, b.board_id)
    new_id = items.new_id()

    def post(doc: Document) -> None:
        items.init_item(doc, kind=Kind.NEED, title="Ana's forged need", body="", tags=[], now=1)

    title = forger.change(b.need, lambda d: items.edit_item(d, now=9, title="Forged"))
    return [
        (
            "an item authored as another device",
            new_id,
            forger.change(new_id, post, actor=b.ana.identity.actor_id),
            "doc",
            "bad-signature",
        ),
        ("a title change on another's item", b.need, title, "sync", "forbidden-change"),
        (
            "a response under another's name",
            b.need,
            forger.change(
                b.need, lambda d: items.set_response(d, member=ana, kind="help", note="", now=9)
            ),
            "sync",
            "forbidden-change",
        ),
        (
            "a position under another's name",
            b.proposal,
            forger.change(
                b.proposal,
                lambda d: items.set_response(d, member=ana, kind="block", note="no", now=9),
            ),
            "sync",
            "forbidden-change",
        ),
        (
            "a history entry",
            b.need,
            forger.change(b.need, write("history", f"{ana} marked it met")),
            "sync",
            "forbidden-change",
        ),
        (
            "another's item withdrawn",
            b.need,
            forger.change(b.need, lambda d: items.set_status(d, status=Status.WITHDRAWN, now=9)),
            "sync",
            "forbidden-change",
        ),
        (
            "an unsigned change",
            b.need,
            forger.change(b.need, lambda d: items.add_reply(d, text="hi", now=9), sign=False),
            "sync",
            "bad-signature",
        ),
        (
            "a change signed by one device naming another as its actor",
            b.need,
            forger.change(
                b.need,
                lambda d: items.add_reply(d, text="Ana says yes", now=9),
                actor=b.ana.identity.actor_id,
            ),
            "sync",
            "bad-signature",
        ),
        (
            "a valid change that depends on a refused one",
            b.need,
            forger.change(
                b.need, lambda d: items.add_reply(d, text="fine reply", now=10), base=title
            ),
            "doc",
            "forbidden-change",
        ),
    ]


async def test_every_forgery_over_the_wire_is_refused_logged_and_never_relayed(
    board: Board, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    b = board
    caplog.set_level(logging.INFO, logger="potluck.p2p")
    vic_docs, ana_docs = b.vic.store.documents, b.ana.store.documents
    before = {d: vic_docs.digest(b.board_id, d) for d in (b.need, b.proposal)}
    for n, (what, doc_id, forged, path, reason) in enumerate(forgeries(b)):
        message = as_doc(doc_id, forged) if path == "doc" else as_sync(doc_id, forged)
        got = await send(b.node_vic, b, message)
        assert got == reason, (what, got)
        await wait_until(
            lambda reason=reason: any(
                b.mo.device_id[:8] in r.getMessage() and reason in r.getMessage()
                for r in caplog.records
            ),
            what=f"the refusal of {what} logged",
        )
        assert vic_docs.digest(b.board_id, doc_id) == before.get(doc_id), what
        # The honest peers keep syncing: Ana's next post reaches Vic and Bo.
        b.ana.board(b.board_id).post(Kind.OFFER, f"honest post {n}")
        for home in (b.vic, b.bo):
            await wait_until(
                lambda home=home, n=n: f"honest post {n}" in titles(home, b.board_id),
                timeout=15,
                what=f"Ana's post after {what}",
            )
        caplog.clear()
    # Nothing of it anywhere: not on Vic, not relayed to Ana or Bo.
    for home in (b.vic, b.ana, b.bo):
        shown = home.board(b.board_id).item(b.need)
        assert shown.title == "A long ladder"
        assert [r.text for r in shown.replies] == ["for the gutter"]
        assert shown.status is Status.OPEN and shown.responses == ()
        assert [h.what for h in shown.history] == ["posted"]
        assert "Ana's forged need" not in titles(home, b.board_id)
    assert ana_docs.digest(b.board_id, b.need) == before[b.need]


async def test_a_forgery_sent_to_an_honest_third_node_stops_there(
    board: Board, caplog: pytest.LogCaptureFixture
) -> None:
    b = board
    caplog.set_level(logging.INFO, logger="potluck.p2p")
    before = b.vic.store.documents.digest(b.board_id, b.need)
    forged = Forger(b.mo, b.board_id).change(
        b.need, lambda d: items.set_response(d, member=b.ana.device_id, kind="help", note="", now=9)
    )
    assert await send(b.node_bo, b, as_sync(b.need, forged)) == "forbidden-change"
    assert b.bo.store.documents.digest(b.board_id, b.need) == before
    b.ana.board(b.board_id).post(Kind.OFFER, "after the relay attempt")
    await wait_until(
        lambda: "after the relay attempt" in titles(b.bo, b.board_id),
        timeout=15,
        what="Bo still syncs through Vic",
    )
    assert b.vic.store.documents.digest(b.board_id, b.need) == before
    assert b.vic.board(b.board_id).item(b.need).responses == ()


async def test_a_forgery_in_an_export_file_is_refused(board: Board, tmp_path: Path) -> None:
    b = board
    forged = Forger(b.mo, b.board_id).change(
        b.need, lambda d: items.edit_item(d, now=9, title="Forged in a file")
    )
    path = tmp_path / "kitchen.potluck"
    _export_with(b.mo, b.board_id, b.need, forged.document, path)
    before = b.vic.store.documents.digest(b.board_id, b.need)
    with pytest.raises(Exception, match="only the item's author writes 'title'"):
        b.vic.import_board(path)
    assert b.vic.store.documents.digest(b.board_id, b.need) == before
    assert b.vic.board(b.board_id).item(b.need).title == "A long ladder"
