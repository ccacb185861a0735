"""The node's listening socket: who may start a handshake, and who may stay once it is done."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from ..errors import HandshakeError, NodeError
from ..keys import DeviceIdentity
from .noise import SecureConnection, respond, tune

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 128
"""Connections the kernel completes before the node has taken them."""
MAX_HANDSHAKES = 64
"""Incoming connections still in their handshake at once; a new one pushes out the oldest."""
MAX_HANDSHAKES_PER_ADDRESS = 8
"""The same, from one IP address."""
CONNECT_RATE = 10.0
"""Incoming connections per second one IP address may open (sustained) …"""
CONNECT_BURST = 40.0
"""… and at once after a quiet spell; more are closed unread."""
MAX_SESSIONS = 256
"""Connections (board × peer) the node runs at once; more incoming ones are closed (`busy`)."""
MAX_SESSIONS_PER_ADDRESS = 16
"""The same, from one IP address (one device has one connection per board it shares)."""

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]
"""Starts a task that the node owns (cancelled when it closes)."""


def loopback(ip: str) -> bool:
    """Whether a peer address is this device's own (other processes here, tests)."""
    try:
        return ipaddress.ip_address(ip.split("%")[0]).is_loopback
    except ValueError:
        return False


class Listener:
    """Accepts connections and runs the responder's handshake on those it admits.

    A stranger on the network can reach this code without the board key, so everything it
    may make the node hold is bounded (PROTOCOL.md §6.1): connections a second per address,
    handshakes in progress per address and in all (a new one pushes out the oldest), and,
    after the handshake, connections per address and in all (`crowded`)."""

    def __init__(
        self,
        identity: DeviceIdentity,
        key_for_tag: Callable[[bytes], bytes | None],
        on_connection: Callable[[SecureConnection, str, int], Awaitable[object]],
        spawn: Spawn,
    ) -> None:
        self.identity = identity
        self.key_for_tag = key_for_tag
        self.on_connection = on_connection
        """Runs a connection once its handshake is done, until it ends."""
        self.spawn = spawn
        self.port = 0
        self._socket: socket.socket | None = None
        self._handshakes: dict[str, int] = {}
        """Incoming handshakes in progress, by address."""
        self._pending: dict[asyncio.Task[Any], str] = {}
        """The same, oldest first."""
        self._buckets: dict[str, tuple[float, float]] = {}
        self._refused_logged: dict[str, float] = {}

    def listen(self, host: str, port: int) -> int:
        """Bind (another port if `port` is taken) and start taking connections; the port."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            sock = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
        except OSError as exc:
            if port == 0:
                raise NodeError(f"cannot listen for peers: {exc}") from None
            log.info("port %d is taken (%s); using another", port, exc.strerror)
            sock = socket.create_server((host, 0), family=family, backlog=LISTEN_BACKLOG)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.spawn(self._accept(sock))
        return self.port

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def crowded(self, ip: str, in_use: Iterable[str]) -> str:
        """Why one more connection from `ip` would be too many, given the addresses of the
        connections running, or "" if it is welcome."""
        addresses = list(in_use)
        if len(addresses) >= MAX_SESSIONS:
            return f"{MAX_SESSIONS} connections already"
        if loopback(ip):
            return ""
        if addresses.count(ip) >= MAX_SESSIONS_PER_ADDRESS:
            return f"{MAX_SESSIONS_PER_ADDRESS} connections from this address already"
        return ""

    def refused(self, ip: str, why: str) -> None:
        """A warning per address at most every 10 s, so that a flood cannot flood the log."""
        now = time.monotonic()
        if now - self._refused_logged.get(ip, -60.0) < 10:
            log.debug("refused a connection from %s: %s", ip, why)
            return
        if len(self._refused_logged) > 4096:
            self._refused_logged.clear()
        self._refused_logged[ip] = now
        log.warning("refused a connection from %s: %s", ip, why)

    # ------------------------------------------------------------ admission

    async def _accept(self, listener: socket.socket) -> None:
        """Take incoming connections one at a time; one refused is reset before the next is
        taken, so a flood holds no more descriptors than the handshakes it is allowed."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, peer = await loop.sock_accept(listener)
            except OSError as exc:  # out of descriptors, say: wait for some to be freed
                log.warning("cannot take a connection: %s", exc.strerror or exc)
                await asyncio.sleep(0.5)
                continue
            ip = str(peer[0])
            too_many = self._admit(ip)
            if too_many:
                self.refused(ip, too_many)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:
                if len(self._pending) >= MAX_HANDSHAKES:
                    self._push_out_oldest_handshake()
                self._handshakes[ip] = self._handshakes.get(ip, 0) + 1
                self._pending[self.spawn(self._incoming(sock, ip, int(peer[1])))] = ip
            # A flood must not starve the sessions; and the new handshake takes its first step
            # before the next connection is taken, so one pushed out has a socket to close.
            await asyncio.sleep(0)

    def _admit(self, ip: str) -> str:
        """Why a new incoming connection from `ip` is refused at once, or "" to take it.

        Loopback connections come from this device and skip the per-address limits."""
        if loopback(ip):
            return ""
        now = time.monotonic()
        tokens, then = self._buckets.get(ip, (CONNECT_BURST, now))
        tokens = min(CONNECT_BURST, tokens + (now - then) * CONNECT_RATE)
        if len(self._buckets) > 4096:  # bounded memory under a flood from many addresses
            self._buckets.clear()
        if tokens < 1:
            self._buckets[ip] = (tokens, now)
            return f"more than {CONNECT_RATE:g} connections a second"
        self._buckets[ip] = (tokens - 1, now)
        if self._handshakes.get(ip, 0) >= MAX_HANDSHAKES_PER_ADDRESS:
            return f"{MAX_HANDSHAKES_PER_ADDRESS} handshakes from this address already pending"
        return ""

    async def _incoming(self, sock: socket.socket, ip: str, port: int) -> None:
        """Run the responder handshake on an admitted connection, then its session."""
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await asyncio.open_connection(sock=sock)
            tune(writer)
            conn = await respond(reader, writer, self.identity, self.key_for_tag)
        except HandshakeError as exc:
            self.refused(ip, str(exc))
            if writer is not None:
                writer.transport.abort()
            return
        except OSError:
            sock.close()
            return
        except asyncio.CancelledError:  # pushed out by newer handshakes, or shutting down
            if writer is not None:
                writer.transport.abort()
            else:
                sock.close()
            raise
        finally:
            self._handshake_over(asyncio.current_task())
        await self.on_connection(conn, ip, port)

    def _handshake_over(self, task: asyncio.Task[Any] | None) -> None:
        ip = self._pending.pop(task, None) if task is not None else None
        if ip is None:
            return
        self._handshakes[ip] -= 1
        if not self._handshakes[ip]:
            del self._handshakes[ip]

    def _push_out_oldest_handshake(self) -> None:
        """Make room by closing the handshake waiting longest: a real peer's handshake takes
        milliseconds, a stranger holding connections open takes up to HANDSHAKE_TIMEOUT."""
        oldest, ip = next(iter(self._pending.items()))
        self._handshake_over(oldest)
        oldest.cancel()
        self.refused(ip, f"pushed out by newer handshakes ({MAX_HANDSHAKES} pending)")
