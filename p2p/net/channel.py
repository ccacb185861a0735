"""The channel contract the sync session talks through, and its two implementations."""

from __future__ import annotations

import asyncio
from typing import Protocol

from . import messages
from .messages import Message
from .noise import PeerClosed, SecureConnection

__all__ = ["Channel", "MemoryChannel", "NoiseChannel", "PeerClosed", "memory_pair"]


class Channel(Protocol):
    """Whole, checked messages both ways with one authenticated peer."""

    remote_device: str

    async def send(self, message: Message) -> None:
        """Deliver one message in order; raises on a dead or stuck peer."""

    async def receive(self) -> Message:
        """The next message; PeerClosed at a clean end, ProtocolError on bad input."""

    async def aclose(self) -> None:
        """Close; idempotent. The peer's receive then raises PeerClosed."""

    def stalled(self) -> bool:
        """Whether what we sent is not being acknowledged (the link may be cut)."""


class NoiseChannel:
    """The real channel: messages encoded with msgpack inside a SecureConnection."""

    def __init__(self, connection: SecureConnection) -> None:
        self.connection = connection
        self.remote_device = connection.remote_device

    async def send(self, message: Message) -> None:
        await self.connection.send(messages.encode(message))

    async def receive(self) -> Message:
        return messages.decode(await self.connection.receive())

    async def aclose(self) -> None:
        await self.connection.aclose()

    def stalled(self) -> bool:
        return self.connection.stalled()


_CLOSED = b""


class MemoryChannel:
    """One end of an in-process pair; encodes and decodes exactly like the real channel."""

    def __init__(self, remote_device: str) -> None:
        self.remote_device = remote_device
        self._inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._peer: MemoryChannel | None = None
        self._closed = False

    async def send(self, message: Message) -> None:
        if self._closed or self._peer is None or self._peer._closed:
            raise ConnectionResetError("the channel is closed")
        self._peer._inbox.put_nowait(messages.encode(message))

    async def receive(self) -> Message:
        if self._closed:
            raise PeerClosed()
        data = await self._inbox.get()
        if data == _CLOSED:
            self._closed = True
            raise PeerClosed()
        return messages.decode(data)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._inbox.put_nowait(_CLOSED)
        if self._peer is not None:
            self._peer._inbox.put_nowait(_CLOSED)

    def stalled(self) -> bool:
        return False  # delivered at once, in process


def memory_pair(device_a: str, device_b: str) -> tuple[MemoryChannel, MemoryChannel]:
    """Two connected ends: what A sends, B receives. Each end knows the other's device id."""
    a, b = MemoryChannel(device_b), MemoryChannel(device_a)
    a._peer, b._peer = b, a
    return a, b
