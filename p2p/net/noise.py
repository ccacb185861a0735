"""The cleartext preamble and Noise_XXpsk0 over TCP: an authenticated, encrypted message pipe."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import warnings
from collections.abc import Awaitable, Callable

from noise.connection import Keypair, NoiseConnection

from ..errors import HandshakeError
from ..keys import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    DeviceIdentity,
    actor_id_for,
    board_psk,
    board_tag,
    verify_certificate,
)
from .framing import (
    FrameDecoder,
    FrameError,
    MessageAssembler,
    encode_frame,
    split_message,
)

PROTOCOL_NAME = b"Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"
MAGIC = b"PLK1"
PREAMBLE_SIZE = 12
MAX_HANDSHAKE_FRAME = 1024
"""Handshake messages here are 48, 192 and 160 bytes; anything much bigger is not a peer."""
CERTIFICATE_SIZE = PUBLIC_KEY_SIZE + SIGNATURE_SIZE
"""The payload of handshake messages 2 and 3: the sender's device key and its certificate."""
HANDSHAKE_TIMEOUT = 10.0
READ_SIZE = 65536
LARGE_MESSAGE = 1024 * 1024
"""A message past this size is assembled and handled only while holding the node's large gate."""
UNSENT_LIMIT = 65536
"""Bytes that may wait to be written (ours, and the transport's) before `send` waits."""


TCP_RTO_MAX_MS = 44
"""The Linux (6.15 and later) socket option that caps one socket's retransmission timeout."""
RTO_MAX_MS = 3000
"""Our cap. TCP doubles the wait between retransmissions up to two minutes, so after a router
reboot or half a minute unplugged a healed link stood unused for up to as long again."""


SEND_BUFFER = 32 * 1024
RECEIVE_BUFFER = 64 * 1024
"""A connection's socket buffers (Linux doubles each for its bookkeeping). Left to grow, they
took megabytes: a newcomer's three peers each wrote it their whole catch-up at once, before
it could say which documents it already held from another. Kept this small, a peer writes
only a few hundred small documents ahead of what the newcomer has read (about 200 kB, a LAN
round trip's worth many times over)."""


TCP_INFO: int | None = getattr(socket, "TCP_INFO", None)
"""The socket option that reads a connection's `struct tcp_info` (Linux; elsewhere none)."""
TCP_INFO_HEAD = 8
"""The first bytes of Linux's `struct tcp_info`: state, congestion state, retransmits (of the
oldest unacknowledged data, by the retransmission timer; zero-window probes are counted
apart), probes, backoff, options, window scales."""


def tune(writer: asyncio.StreamWriter) -> None:
    """Set a new connection's socket: every message goes out at once (no Nagle: asyncio sets
    this on the sockets it connects, not on one accepted and handed to it, where a small
    message then waited up to 40 ms for the peer's delayed acknowledgement), retransmit at
    least every RTO_MAX_MS (where the kernel can), and keep SEND_BUFFER and RECEIVE_BUFFER."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, TCP_RTO_MAX_MS, RTO_MAX_MS)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)


def preamble(board_key: bytes) -> bytes:
    """The 12 cleartext bytes an initiator sends first: magic and the board's tag."""
    return MAGIC + board_tag(board_key)


class NoiseState:
    """Sans-IO Noise_XXpsk0 for one side; test vectors fix the ephemeral key."""

    def __init__(
        self,
        *,
        initiator: bool,
        static_private: bytes,
        psk: bytes,
        prologue: bytes,
        ephemeral_private: bytes | None = None,
    ) -> None:
        conn = NoiseConnection.from_name(PROTOCOL_NAME)
        if initiator:
            conn.set_as_initiator()
        else:
            conn.set_as_responder()
        conn.set_psks(psk=psk)
        conn.set_prologue(prologue)
        conn.set_keypair_from_private_bytes(Keypair.STATIC, static_private)
        with warnings.catch_warnings():
            # noiseprotocol warns whenever an ephemeral key is fixed; only test vectors do that.
            warnings.simplefilter("ignore")
            if ephemeral_private is not None:
                conn.set_keypair_from_private_bytes(Keypair.EPHEMERAL, ephemeral_private)
            conn.start_handshake()
        self._conn = conn
        self._handshake = conn.noise_protocol.handshake_state
        self.remote_static: bytes | None = None

    @property
    def finished(self) -> bool:
        return bool(self._conn.handshake_finished)

    def write_handshake(self, payload: bytes = b"") -> bytes:
        out = bytes(self._conn.write_message(payload))
        self._capture_remote()
        return out

    def read_handshake(self, data: bytes) -> bytes:
        try:
            payload = bytes(self._conn.read_message(data))
        except Exception as exc:  # noiseprotocol and cryptography raise various types
            raise HandshakeError(
                f"handshake message rejected ({type(exc).__name__}): wrong board key?"
            ) from None
        self._capture_remote()
        return payload

    def _capture_remote(self) -> None:
        rs = getattr(self._handshake, "rs", None)
        public = getattr(rs, "public_bytes", None)
        if isinstance(public, bytes):
            self.remote_static = public

    @property
    def handshake_hash(self) -> bytes:
        return bytes(self._conn.get_handshake_hash())

    def encrypt(self, plaintext: bytes) -> bytes:
        return bytes(self._conn.encrypt(plaintext))

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return bytes(self._conn.decrypt(ciphertext))
        except Exception as exc:
            raise FrameError(f"a frame failed authentication ({type(exc).__name__})") from None


def certificate_payload(identity: DeviceIdentity) -> bytes:
    """What a v2 device puts in its handshake message (2 as responder, 3 as initiator)."""
    return identity.signing_public + identity.certificate


def read_certificate(payload: bytes, remote_static: bytes | None) -> bytes | None:
    """The peer's device key from its handshake payload, or None for a v1 peer (no payload).

    HandshakeError if the payload does not certify the static key the handshake proved."""
    if not payload:
        return None
    if len(payload) < CERTIFICATE_SIZE or remote_static is None:
        raise HandshakeError("the peer's handshake payload is not a device certificate")
    signing_public = payload[:PUBLIC_KEY_SIZE]
    certificate = payload[PUBLIC_KEY_SIZE:CERTIFICATE_SIZE]
    if not verify_certificate(signing_public, remote_static, certificate):
        raise HandshakeError("the peer's device certificate does not verify")
    return signing_public


class PeerClosed(Exception):
    """The peer ended the connection cleanly, between two messages."""


class SecureConnection:
    """An established connection: whole messages in and out, encrypted and framed."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        noise: NoiseState,
        board_key: bytes,
        initiator: bool,
        write_timeout: float,
        remote_signing_key: bytes | None,
    ) -> None:
        assert noise.remote_static is not None
        self.reader = reader
        self.writer = writer
        self.board_key = board_key
        self.initiator = initiator
        self.remote_static = noise.remote_static
        self.remote_signing_key = remote_signing_key
        """The peer's Ed25519 device key, certified in the handshake; None for a v1 peer,
        which sent no certificate (its hello then fails version negotiation)."""
        self.remote_device = (
            "" if remote_signing_key is None else actor_id_for(remote_signing_key).hex()
        )
        self.handshake_hash = noise.handshake_hash
        self.write_timeout = write_timeout
        self._noise = noise
        self._frames = FrameDecoder()
        self._assembler = MessageAssembler()
        self.large_gate: asyncio.Semaphore | None = None
        self._holding = False
        self._unsent: list[bytes] = []
        self._unsent_size = 0
        self._flush_handle: asyncio.Handle | None = None

    def stalled(self) -> bool:
        """Whether what we wrote is not being acknowledged: the kernel's retransmission timer
        has fired since the peer's last acknowledgement (a cut link; a peer that is merely
        busy still acknowledges, or closes its window, which is not counted). Read from the
        socket, so that a backlog of the peer's older messages, read here late, cannot hide
        it."""
        sock = self.writer.get_extra_info("socket")
        if sock is None or TCP_INFO is None:
            return False
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, TCP_INFO_HEAD)
        except OSError:
            return False
        return len(info) >= TCP_INFO_HEAD and info[2] > 0

    @property
    def peer_address(self) -> tuple[str, int]:
        peer = self.writer.get_extra_info("peername") or ("?", 0)
        return str(peer[0]), int(peer[1])

    async def send(self, message: bytes) -> None:
        """Write one message (split into chunks); a peer that does not read times out.

        The frames are written once the caller next waits for anything, with every message
        sent before then: the few a sync step sends at once (a `ping`, `have` updates, sync
        messages) leave in one TCP segment where they fit, rather than one segment (and often
        one acknowledgement) each. The caller waits only once much is unwritten."""
        for plaintext in split_message(message):
            frame = encode_frame(self._noise.encrypt(plaintext))
            self._unsent.append(frame)
            self._unsent_size += len(frame)
        unwritten = self._unsent_size + self.writer.transport.get_write_buffer_size()
        if unwritten < UNSENT_LIMIT:
            if self._flush_handle is None:
                self._flush_handle = asyncio.get_running_loop().call_soon(self._flush)
            return
        await self.flush()

    async def flush(self) -> None:
        """Write what `send` has not written yet, and wait until the transport takes it."""
        self._flush()
        try:
            async with asyncio.timeout(self.write_timeout):
                await self.writer.drain()
        except TimeoutError:
            raise TimeoutError("the peer stopped reading") from None

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._unsent:
            data = b"".join(self._unsent)
            self._unsent.clear()
            self._unsent_size = 0
            if not self.writer.is_closing():
                self.writer.write(data)

    async def receive(self) -> bytes:
        """The next whole message; PeerClosed at a clean end, ProtocolError on bad bytes.

        Frames are decrypted one message at a time, so the messages before a bad frame
        are still handled in order. A message larger than LARGE_MESSAGE waits for a place in
        `large_gate` (shared by the node's connections) before more of it is read, and keeps
        it until the next call: the caller has handled it by then.
        """
        self._release_large()
        while True:
            while (frame := self._frames.next_frame()) is not None:
                message = self._assembler.add(self._noise.decrypt(frame))
                if message is not None:
                    return message
            if (
                self.large_gate is not None
                and not self._holding
                and self._assembler.size > LARGE_MESSAGE
            ):
                await self.large_gate.acquire()
                self._holding = True
            data = await self.reader.read(READ_SIZE)
            if not data:
                if self._frames.pending or self._assembler.partial:
                    raise FrameError("connection closed in the middle of a frame or message")
                raise PeerClosed()
            self._frames.push(data)

    def _release_large(self) -> None:
        if self._holding and self.large_gate is not None:
            self._holding = False
            self.large_gate.release()

    async def aclose(self) -> None:
        self._release_large()
        self._flush()
        self.writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()


async def _read_handshake_frame(reader: asyncio.StreamReader) -> bytes:
    try:
        header = await reader.readexactly(2)
        size = int.from_bytes(header, "big")
        if size > MAX_HANDSHAKE_FRAME:
            raise HandshakeError(f"handshake frame of {size} bytes is too large")
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise HandshakeError("the peer closed the connection during the handshake") from None


async def initiate(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    identity: DeviceIdentity,
    board_key: bytes,
    *,
    timeout: float = HANDSHAKE_TIMEOUT,
    write_timeout: float = 20.0,
) -> SecureConnection:
    """Run the initiator side: preamble, then the three handshake messages."""
    pre = preamble(board_key)

    async def run() -> SecureConnection:
        noise = NoiseState(
            initiator=True,
            static_private=identity.private_key,
            psk=board_psk(board_key),
            prologue=pre,
        )
        writer.write(pre + encode_frame(noise.write_handshake()))
        await writer.drain()
        payload = noise.read_handshake(await _read_handshake_frame(reader))
        remote = read_certificate(payload, noise.remote_static)
        writer.write(encode_frame(noise.write_handshake(certificate_payload(identity))))
        await writer.drain()
        return SecureConnection(reader, writer, noise, board_key, True, write_timeout, remote)

    return await _bounded(run(), timeout)


async def respond(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    identity: DeviceIdentity,
    key_for_tag: Callable[[bytes], bytes | None],
    *,
    timeout: float = HANDSHAKE_TIMEOUT,
    write_timeout: float = 20.0,
) -> SecureConnection:
    """Run the responder side; a preamble naming no board we hold ends it at once."""

    async def run() -> SecureConnection:
        try:
            pre = await reader.readexactly(PREAMBLE_SIZE)
        except asyncio.IncompleteReadError:
            raise HandshakeError("the peer closed the connection before the preamble") from None
        if pre[:4] != MAGIC:
            raise HandshakeError("not a Potluck connection (bad preamble magic)")
        board_key = key_for_tag(pre[4:])
        if board_key is None:
            raise HandshakeError("the peer asked for a board this device does not hold")
        noise = NoiseState(
            initiator=False,
            static_private=identity.private_key,
            psk=board_psk(board_key),
            prologue=pre,
        )
        noise.read_handshake(await _read_handshake_frame(reader))
        writer.write(encode_frame(noise.write_handshake(certificate_payload(identity))))
        await writer.drain()
        payload = noise.read_handshake(await _read_handshake_frame(reader))
        remote = read_certificate(payload, noise.remote_static)
        return SecureConnection(reader, writer, noise, board_key, False, write_timeout, remote)

    return await _bounded(run(), timeout)


async def _bounded(coro: Awaitable[SecureConnection], timeout: float) -> SecureConnection:
    try:
        async with asyncio.timeout(timeout):
            return await coro
    except TimeoutError:
        raise HandshakeError(f"the handshake did not finish within {timeout:g} s") from None
    except (ConnectionError, OSError) as exc:
        raise HandshakeError(f"the connection failed during the handshake ({exc})") from None
