"""Sans-IO framing: u16 length-prefixed frames, and messages split into flagged chunks."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ..errors import ProtocolError

MAX_FRAME = 65535
"""Largest frame body: the largest Noise message."""
NOISE_TAG = 16
MAX_CHUNK = MAX_FRAME - NOISE_TAG - 1
"""Largest chunk of a message in one transport frame (frame = Noise(flags + chunk))."""
MAX_MESSAGE = 16 * 1024 * 1024
"""Largest assembled application message (16 MiB)."""
MORE = 0x01
"""Flags bit 0: more chunks of this message follow."""


class FrameError(ProtocolError):
    """Bytes that are not frames of this protocol: bad flags, failed decryption, truncation."""


class OversizedMessage(FrameError):
    """A message would exceed MAX_MESSAGE; refused before it is all buffered."""


_LEN = struct.Struct(">H")


def encode_frame(body: bytes) -> bytes:
    """A frame on the wire: u16 big-endian length, then the body."""
    if len(body) > MAX_FRAME:
        raise ValueError(f"frame body of {len(body)} bytes exceeds {MAX_FRAME}")
    return _LEN.pack(len(body)) + body


class FrameDecoder:
    """Splits a byte stream into frame bodies; bytes may arrive in any pieces."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def push(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete frame body, if the bytes so far hold one."""
        if len(self._buffer) < 2:
            return None
        (size,) = _LEN.unpack_from(self._buffer)
        if len(self._buffer) < 2 + size:
            return None
        body = bytes(self._buffer[2 : 2 + size])
        del self._buffer[: 2 + size]
        return body

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Add bytes and yield every frame body now complete."""
        self.push(data)
        while (body := self.next_frame()) is not None:
            yield body

    @property
    def pending(self) -> int:
        """Bytes held that do not yet make a whole frame (non-zero at EOF = truncated frame)."""
        return len(self._buffer)


def split_message(message: bytes) -> list[bytes]:
    """The transport plaintexts of one message: flags byte + chunk, MORE set on all but the last."""
    if len(message) > MAX_MESSAGE:
        raise ValueError(f"message of {len(message)} bytes exceeds {MAX_MESSAGE}")
    chunks = [message[i : i + MAX_CHUNK] for i in range(0, len(message), MAX_CHUNK)] or [b""]
    last = len(chunks) - 1
    return [bytes([MORE if i < last else 0]) + chunk for i, chunk in enumerate(chunks)]


class MessageAssembler:
    """Joins transport plaintexts into messages, refusing one that would exceed MAX_MESSAGE."""

    def __init__(self, max_message: int = MAX_MESSAGE) -> None:
        self.max_message = max_message
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, plaintext: bytes) -> bytes | None:
        """Take one decrypted frame; return the whole message when its last chunk arrives."""
        if not plaintext:
            raise FrameError("empty transport frame (no flags byte)")
        flags, chunk = plaintext[0], plaintext[1:]
        if flags & ~MORE:
            raise FrameError(f"reserved flag bits set ({flags:#04x})")
        self._size += len(chunk)
        if self._size > self.max_message:
            raise OversizedMessage(f"message larger than {self.max_message} bytes")
        self._parts.append(chunk)
        if flags & MORE:
            return None
        message = b"".join(self._parts)
        self._parts, self._size = [], 0
        return message

    @property
    def size(self) -> int:
        """Bytes of the message being assembled so far."""
        return self._size

    @property
    def partial(self) -> bool:
        """True while a message has started but its last chunk has not arrived."""
        return bool(self._parts)
