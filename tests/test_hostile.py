"""Wrong keys and bad input on a live connection: that connection closes, nothing else changes."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import msgpack
import pytest
from potluck.p2p.home import Home
from potluck.p2p.keys import DeviceIdentity, board_psk, new_board_key
from potluck.p2p.model.types import Kind
from potluck.p2p.net.framing import MAX_CHUNK, MORE, encode_frame
from potluck.p2p.net.messages import (
    FINGERPRINT,
    PROTOCOL_VERSIONS,
    Have,
    Hello,
    Range,
    Reconcile,
    Sync,
    WholeDocument,
    encode,
)
from potluck.p2p.net.node import Node
from potluck.p2p.net.noise import NoiseState, SecureConnection, initiate, preamble

from tests.p2p_helpers import connected, make_homes, running_node, titles, wait_until

Attack = Callable[[SecureConnection], Awaitable[None]]


def _digests(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path / "potluck.db")
    try:
        return conn.execute("SELECT doc_id, digest FROM documents ORDER BY 1").fetchall()
    finally:
        conn.close()


def snapshot(path: Path) -> tuple[object, ...]:
    """Everything stored about documents, read with a fresh connection."""
    conn = sqlite3.connect(path / "potluck.db")
    try:
        return tuple(
            conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("documents", "changes", "items")
        )
    finally:
        conn.close()


async def hostile(
    port: int, board_key: bytes, me: DeviceIdentity | None = None
) -> SecureConnection:
    """A member (it holds the key; a new device unless `me`) that completes the handshake
    and says hello."""
    me = me or DeviceIdentity.generate()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = await initiate(reader, writer, me, board_key, timeout=5)
    await conn.send(encode(Hello(PROTOCOL_VERSIONS, me.device_id, "Mallory", 0, ())))
    await conn.flush()  # before the raw writes of the cases below
    return conn


async def closes(conn: SecureConnection) -> None:
    """Read until the node hangs up (it may send hello, have and bye first)."""
    for _ in range(100):
        try:
            data = await asyncio.wait_for(conn.reader.read(65536), 5)
        except ConnectionResetError:
            return
        if not data:
            return
    raise AssertionError("the node kept the connection open")


async def garbage(conn: SecureConnection) -> None:
    conn.writer.write(bytes(range(256)) * 4)


async def truncated(conn: SecureConnection) -> None:
    conn.writer.write(b"\x03\xe8" + bytes(10))
    await conn.writer.drain()
    conn.writer.write_eof()


async def oversized_length(conn: SecureConnection) -> None:
    conn.writer.write(b"\xff\xff" + bytes(65535))


async def oversized_message(conn: SecureConnection) -> None:
    chunk = conn._noise.encrypt(bytes([MORE]) + bytes(MAX_CHUNK))
    frame = encode_frame(chunk)
    for _ in range(300):  # 300 × 64 KiB > 16 MiB; the node must stop reading before the end
        if conn.writer.is_closing():
            return
        try:
            conn.writer.write(frame)
            await asyncio.wait_for(conn.writer.drain(), 5)
        except (ConnectionError, TimeoutError):
            return
        chunk = conn._noise.encrypt(bytes([MORE]) + bytes(MAX_CHUNK))
        frame = encode_frame(chunk)


async def unknown_type(conn: SecureConnection) -> None:
    await conn.send(msgpack.packb({"type": "gossip", "about": "you"}))


async def bad_document(conn: SecureConnection) -> None:
    await conn.send(encode(Have({})))
    await conn.send(encode(WholeDocument("ab" * 16, b"\x85o\x4a\x83 not automerge", bytes(16))))


async def bad_sync(conn: SecureConnection) -> None:
    await conn.send(encode(Have({"board": bytes(16)})))
    await conn.send(encode(Sync("board", b"\x42\x00garbage", bytes(16))))


async def closed_mid_sync(conn: SecureConnection) -> None:
    await conn.send(encode(Have({"cd" * 16: bytes(16)})))
    half = encode(WholeDocument("cd" * 16, bytes(100_000), bytes(16)))[:70_000]
    conn.writer.write(encode_frame(conn._noise.encrypt(bytes([MORE]) + half[:MAX_CHUNK])))
    await conn.writer.drain()
    conn.writer.close()


async def malformed_reconcile(conn: SecureConnection) -> None:
    ranges = [["m", 0], ["b", 1, bytes(16)]]  # bounds out of order
    await conn.send(msgpack.packb({"type": "reconcile", "ranges": ranges}))


async def endless_reconcile(conn: SecureConnection) -> None:
    """Fingerprints that never match, faster than answers come: out of turn, or one round
    too many; either way the reconciliation ends with the connection."""
    for _ in range(100):
        try:
            await conn.send(encode(Reconcile((Range(None, FINGERPRINT, bytes(16)),))))
        except (ConnectionError, OSError):
            return


ATTACKS: dict[str, tuple[Attack, str]] = {  # reasons: "a|b" when timing decides
    "garbage": (garbage, "bad-frame"),
    "truncated frame": (truncated, "bad-frame"),
    "oversized length prefix": (oversized_length, "bad-frame"),
    "oversized message": (oversized_message, "oversized"),
    "unknown type": (unknown_type, "unknown-type"),
    "malformed reconcile": (malformed_reconcile, "bad-message"),
    "endless reconciliation": (endless_reconcile, "protocol-violation"),
    "invalid automerge document": (bad_document, "damaged-document"),
    "invalid automerge sync message": (bad_sync, "damaged-document"),
    # If the node writes into the closed socket first, the kernel's reset can discard the
    # partial frame before it is read; either way that one connection ends with a reason.
    "closed in the middle of a sync": (closed_mid_sync, "bad-frame|peer-closed"),
}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Home, Home, str, Node, Node]]:
    (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
    ana.board(board_id).post(Kind.NEED, "before")
    async with (
        running_node(ana.path) as node_a,
        running_node(bo.path, peers=[("127.0.0.1", node_a.port)]) as node_b,
    ):
        await wait_until(connected(node_a), what="Ana and Bo synced")
        await wait_until(lambda: titles(bo, board_id) == ["before"], what="first post")
        # The board document too (each member's entry), so that nothing honest is still on
        # its way to Ana when an attack begins and her store is compared before and after.
        both = {ana.device_id, bo.device_id}
        await wait_until(
            lambda: (
                _digests(ana.path) == _digests(bo.path)
                and node_a.in_sync()
                and set(ana.board(board_id).members()) >= both
                and set(bo.board(board_id).members()) >= both
            ),
            what="both homes the same, each device introduced in both",
        )
        yield ana, bo, board_id, node_a, node_b


@pytest.mark.parametrize("name", list(ATTACKS))
async def test_bad_input_closes_only_that_connection(
    name: str, pair: tuple[Home, Home, str, Node, Node], caplog: pytest.LogCaptureFixture
) -> None:
    ana, bo, board_id, node_a, _ = pair
    attack, reason = ATTACKS[name]
    before = snapshot(ana.path)
    caplog.set_level(logging.INFO, logger="potluck.p2p")
    mallory = DeviceIdentity.generate()
    conn = await hostile(node_a.port, ana.board(board_id).key, mallory)
    await attack(conn)
    await closes(conn)
    await wait_until(
        lambda: any(
            # By device: a node whose hello write fails first never learns the name.
            re.search(rf"closed \S+ \({mallory.device_id[:8]}\): ({reason}) ", r.getMessage())
            for r in caplog.records
        ),
        what=f"a logged close with reason {reason}",
    )
    assert snapshot(ana.path) == before
    assert [p.name for p in node_a.peer_infos()] == ["Bo"]
    ana.board(board_id).post(Kind.OFFER, "after")
    await wait_until(lambda: titles(bo, board_id) == ["after", "before"], what="still syncing")


class TestWrongKey:
    async def test_a_node_of_another_board_is_refused_and_learns_nothing(
        self,
        pair: tuple[Home, Home, str, Node, Node],
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        ana, bo, board_id, node_a, _ = pair
        caplog.set_level(logging.INFO, logger="potluck.p2p")
        eve = Home.open(tmp_path / "eve")
        eve.set_profile(name="Eve")
        eve.new_board("Elsewhere")
        before = snapshot(ana.path)
        async with running_node(eve.path, peers=[("127.0.0.1", node_a.port)]) as node_e:
            await wait_until(
                lambda: any("refused" in r.getMessage() for r in caplog.records),
                what="Ana refuses Eve",
            )
            assert node_e.peer_infos() == []
            ana.board(board_id).post(Kind.OFFER, "after")
            await wait_until(lambda: titles(bo, board_id) == ["after", "before"], what="sync")
        assert snapshot(ana.path)[0] != before[0]  # only Ana's own post was written
        assert [t for t in titles(eve, eve.board().board_id)] == []
        assert [p.name for p in node_a.peer_infos()] == ["Bo"]
        eve.close()

    async def test_the_right_tag_with_the_wrong_key_fails_at_message_one(
        self, pair: tuple[Home, Home, str, Node, Node], caplog: pytest.LogCaptureFixture
    ) -> None:
        """psk0: the node answers nothing, so Eve never sees its static key."""
        ana, bo, board_id, node_a, _ = pair
        caplog.set_level(logging.INFO, logger="potluck.p2p")
        before = snapshot(ana.path)
        pre = preamble(ana.board(board_id).key)
        eve = NoiseState(
            initiator=True,
            static_private=DeviceIdentity.generate().private_key,
            psk=board_psk(new_board_key()),
            prologue=pre,
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", node_a.port)
        writer.write(pre + encode_frame(eve.write_handshake()))
        await writer.drain()
        assert await asyncio.wait_for(reader.read(1000), 5) == b""
        writer.close()
        await wait_until(
            lambda: any("rejected" in r.getMessage() for r in caplog.records), what="logged"
        )
        assert snapshot(ana.path) == before
        ana.board(board_id).post(Kind.OFFER, "after")
        await wait_until(lambda: titles(bo, board_id) == ["after", "before"], what="sync")


async def test_a_peer_that_stops_reading_is_dropped_and_stalls_nobody(
    pair: tuple[Home, Home, str, Node, Node], caplog: pytest.LogCaptureFixture
) -> None:
    ana, bo, board_id, node_a, _ = pair
    caplog.set_level(logging.INFO, logger="potluck.p2p")
    conn = await hostile(node_a.port, ana.board(board_id).key)
    await conn.send(encode(Have({})))  # "send me everything", then never read again
    board = ana.board(board_id)
    for i in range(8):
        board.post(Kind.NOTE, f"long note {i}", body=f"{i} " * 50_000)
    want = sorted(["before", *(f"long note {i}" for i in range(8))])
    await wait_until(lambda: titles(bo, board_id) == want, 10, "Bo gets every post meanwhile")
    await wait_until(
        lambda: any(
            "Mallory" in r.getMessage() and "timeout" in r.getMessage() for r in caplog.records
        ),
        15,
        "the silent peer dropped",
    )
    assert [p.name for p in node_a.peer_infos()] == ["Bo"]
    conn.writer.close()
