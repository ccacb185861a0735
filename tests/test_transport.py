"""One channel contract, run against the in-memory pair and the real TCP + Noise channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from potluck.p2p.errors import HandshakeError, ProtocolError
from potluck.p2p.keys import DeviceIdentity, new_board_key
from potluck.p2p.net.channel import Channel, NoiseChannel, PeerClosed, memory_pair
from potluck.p2p.net.framing import encode_frame
from potluck.p2p.net.messages import Hello, Ping, Synced, WholeDocument
from potluck.p2p.net.noise import SecureConnection, initiate, preamble, respond

ANA = DeviceIdentity.generate()
BO = DeviceIdentity.generate()


@contextlib.asynccontextmanager
async def tcp_pair(
    key_a: bytes, key_b: bytes | None = None
) -> AsyncIterator[tuple[SecureConnection, SecureConnection]]:
    """A real TCP connection on 127.0.0.1, Ana initiating with key_a, Bo holding key_b."""
    held = key_a if key_b is None else key_b
    accepted: asyncio.Future[SecureConnection] = asyncio.get_running_loop().create_future()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            conn = await respond(
                reader, writer, BO, lambda tag: held if tag == preamble(held)[4:] else None
            )
            accepted.set_result(conn)
        except Exception as exc:
            accepted.set_exception(exc)
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        mine = await initiate(reader, writer, ANA, key_a, timeout=5)
        theirs = await asyncio.wait_for(accepted, 5)
        yield mine, theirs
        await mine.aclose()
        await theirs.aclose()
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


@pytest.fixture(params=["memory", "noise"])
async def channels(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Channel, Channel]]:
    if request.param == "memory":
        a, b = memory_pair(ANA.device_id, BO.device_id)
        yield a, b
        return
    async with tcp_pair(new_board_key()) as (a, b):
        yield NoiseChannel(a), NoiseChannel(b)


class TestChannelContract:
    async def test_each_end_knows_the_other_device(self, channels: tuple[Channel, Channel]) -> None:
        a, b = channels
        assert a.remote_device == BO.device_id
        assert b.remote_device == ANA.device_id

    async def test_messages_arrive_whole_and_in_order(
        self, channels: tuple[Channel, Channel]
    ) -> None:
        a, b = channels
        sent = [Ping(), Synced(1), Hello((1,), ANA.device_id, "Ana", 1, ()), Synced(2)]
        for m in sent:
            await a.send(m)
        assert [await asyncio.wait_for(b.receive(), 5) for _ in sent] == sent
        await b.send(Synced(9))
        assert await asyncio.wait_for(a.receive(), 5) == Synced(9)

    async def test_a_large_message_crosses_in_chunks(
        self, channels: tuple[Channel, Channel]
    ) -> None:
        a, b = channels
        big = WholeDocument("board", bytes(range(256)) * 5000, bytes(16))
        send = asyncio.create_task(a.send(big))
        assert await asyncio.wait_for(b.receive(), 10) == big
        await send

    async def test_close_ends_the_peer_cleanly(self, channels: tuple[Channel, Channel]) -> None:
        a, b = channels
        await a.send(Ping())
        await a.aclose()
        await a.aclose()
        assert await asyncio.wait_for(b.receive(), 5) == Ping()
        with pytest.raises(PeerClosed):
            await asyncio.wait_for(b.receive(), 5)


class TestHandshake:
    async def test_a_different_board_key_fails_the_handshake_on_both_sides(self) -> None:
        with pytest.raises(HandshakeError):
            async with tcp_pair(new_board_key(), new_board_key()):
                pass

    async def test_the_same_tag_with_a_different_key_fails_at_the_first_message(self) -> None:
        """psk0: the responder rejects message 1, so it never reveals its static key."""
        key, wrong = new_board_key(), new_board_key()
        result: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await respond(reader, writer, BO, lambda tag: wrong)
            except HandshakeError as exc:
                result.set_result(exc)
            writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.sockets[0].getsockname()[1]
        )
        with pytest.raises(HandshakeError):
            await initiate(reader, writer, ANA, key, timeout=5)
        assert "rejected" in str(await asyncio.wait_for(result, 5))
        writer.close()
        server.close()

    async def test_garbage_after_the_handshake_is_a_protocol_error(self) -> None:
        async with tcp_pair(new_board_key()) as (a, b):
            a.writer.write(encode_frame(b"not encrypted at all"))
            with pytest.raises(ProtocolError):
                await asyncio.wait_for(b.receive(), 5)

    async def test_a_truncated_frame_at_close_is_a_protocol_error(self) -> None:
        async with tcp_pair(new_board_key()) as (a, b):
            a.writer.write(b"\xff\xff" + bytes(100))
            a.writer.close()
            with pytest.raises(ProtocolError, match="middle"):
                await asyncio.wait_for(b.receive(), 5)


class TestWriting:
    async def test_messages_sent_at_once_leave_in_one_write(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A sync step sends a few small messages in a row: one write, so one TCP segment
        where they fit, not one segment (and acknowledgement) each."""
        async with tcp_pair(new_board_key()) as (a, b):
            writes: list[int] = []
            write = a.writer.write

            def counted(data: bytes | bytearray | memoryview) -> None:
                writes.append(len(data))
                write(data)

            monkeypatch.setattr(a.writer, "write", counted)
            for n in range(5):
                await a.send(f"message {n}".encode())
            assert writes == []  # nothing written before the sender waits for anything
            received = [await asyncio.wait_for(b.receive(), 5) for _ in range(5)]
            assert received == [f"message {n}".encode() for n in range(5)]
            assert len(writes) == 1

    async def test_a_peer_that_does_not_read_still_holds_the_sender_up(self) -> None:
        async with tcp_pair(new_board_key()) as (a, _unread):
            a.write_timeout = 0.5
            with pytest.raises(TimeoutError, match="stopped reading"):
                for _ in range(10_000):  # far more than the socket buffers hold
                    await a.send(bytes(60_000))
