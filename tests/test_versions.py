"""Protocol versions and the edges of a connection's start, as PROTOCOL.md §2 and §4.1 say."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import msgpack
import pytest
from potluck.p2p.home import Home
from potluck.p2p.keys import DeviceIdentity, board_psk
from potluck.p2p.net import messages
from potluck.p2p.net.framing import FrameDecoder, MessageAssembler, encode_frame, split_message
from potluck.p2p.net.messages import Bye, Hello
from potluck.p2p.net.node import Node
from potluck.p2p.net.noise import NoiseState, certificate_payload, initiate, preamble

from tests.p2p_helpers import make_homes, running_node, wait_until


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Home, str, Node]]:
    (ana,), board_id = make_homes(tmp_path, ["Ana"])
    async with running_node(ana.path) as running:
        yield ana, board_id, running
    ana.close()


async def raw_handshake(
    port: int, key: bytes, me: DeviceIdentity, payload: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, NoiseState]:
    """An initiator that sends `payload` in handshake message 3 (a certificate, or not)."""
    pre = preamble(key)
    noise = NoiseState(
        initiator=True, static_private=me.private_key, psk=board_psk(key), prologue=pre
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(pre + encode_frame(noise.write_handshake()))
    await writer.drain()
    size = int.from_bytes(await reader.readexactly(2), "big")
    assert size == 192  # e, the encrypted static key, the encrypted certificate, the tag
    noise.read_handshake(await reader.readexactly(size))
    writer.write(encode_frame(noise.write_handshake(payload)))
    await writer.drain()
    return reader, writer, noise


async def read_messages(reader: asyncio.StreamReader, noise: NoiseState) -> list[object]:
    """Every message the node sends until it closes."""
    frames, assembler, out = FrameDecoder(), MessageAssembler(), []
    while data := await asyncio.wait_for(reader.read(65536), 10):
        frames.push(data)
        while (frame := frames.next_frame()) is not None:
            message = assembler.add(noise.decrypt(frame))
            if message is not None:
                out.append(messages.decode(message))
    return out


async def send(writer: asyncio.StreamWriter, noise: NoiseState, body: bytes) -> None:
    for plaintext in split_message(body):
        writer.write(encode_frame(noise.encrypt(plaintext)))
    await writer.drain()


async def test_a_version_1_peer_is_told_no_common_version(
    node: tuple[Home, str, Node], caplog: pytest.LogCaptureFixture
) -> None:
    ana, board_id, running = node
    caplog.set_level(logging.INFO, logger="potluck.p2p")
    old = DeviceIdentity.generate()
    reader, writer, noise = await raw_handshake(running.port, ana.board(board_id).key, old, b"")
    hello = Hello((1,), "ab" * 16, "Old laptop", 0, ())
    await send(writer, noise, messages.encode(hello))
    got = await read_messages(reader, noise)
    assert Bye("no-common-version") in got
    writer.close()
    assert any("no-common-version" in r.getMessage() for r in caplog.records)


async def test_a_certificate_that_does_not_verify_fails_the_handshake(
    node: tuple[Home, str, Node], caplog: pytest.LogCaptureFixture
) -> None:
    ana, board_id, running = node
    caplog.set_level(logging.INFO, logger="potluck.p2p")
    mallory, ana_identity = DeviceIdentity.generate(), ana.identity
    # Ana's device key and certificate, replayed with Mallory's static key: they do not match.
    forged = certificate_payload(ana_identity)
    reader, writer, _ = await raw_handshake(running.port, ana.board(board_id).key, mallory, forged)
    assert await asyncio.wait_for(reader.read(1000), 10) == b""
    writer.close()
    await wait_until(
        lambda: any("certificate does not verify" in r.getMessage() for r in caplog.records),
        what="the refusal logged",
    )
    assert running.peer_infos() == []


async def test_an_unknown_type_before_hello_is_a_protocol_violation(
    node: tuple[Home, str, Node], caplog: pytest.LogCaptureFixture
) -> None:
    ana, board_id, running = node
    caplog.set_level(logging.INFO, logger="potluck.p2p")
    me = DeviceIdentity.generate()
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    conn = await initiate(reader, writer, me, ana.board(board_id).key)
    await conn.send(msgpack.packb({"type": "gossip"}))
    got = []
    try:
        async with asyncio.timeout(10):
            while True:
                got.append(messages.decode(await conn.receive()))
    except Exception:
        pass
    await conn.aclose()
    assert Bye("protocol-violation") in got


async def test_a_node_that_dials_itself_says_bye_self(
    node: tuple[Home, str, Node], caplog: pytest.LogCaptureFixture
) -> None:
    ana, board_id, running = node
    caplog.set_level(logging.DEBUG, logger="potluck.p2p")
    # Ana's own device (its keys) dialling Ana's node: what a node does when a hint is itself.
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    conn = await initiate(reader, writer, ana.identity, ana.board(board_id).key)
    got = []
    try:
        async with asyncio.timeout(10):
            while True:
                got.append(messages.decode(await conn.receive()))
    except Exception:
        pass
    await conn.aclose()
    assert got == [Bye("self")]
