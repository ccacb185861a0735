"""Where the node dials for each board, and one loop per target that keeps it connected."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import HandshakeError
from ..keys import DeviceIdentity
from .board_sync import BoardSync
from .connections import Connections, FoundBy
from .discovery import Advert
from .messages import CloseReason
from .noise import SecureConnection, initiate, tune

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
BACKOFF_START = 0.25
BACKOFF_MAX = 8.0

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]
"""Starts a task the node owns (cancelled when it closes)."""


@dataclass
class Target:
    """Somewhere to dial for one board; its dial loop keeps one connection to it."""

    board_id: str
    addresses: tuple[tuple[str, int], ...]
    found_by: str
    device_id: str | None = None
    gone: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    answered: bool = False
    """A connection to it got through the handshake at least once."""
    error: str = ""
    """Why the last try failed, in words ("connection refused"); "" after a success."""
    first_failed: float | None = None
    """When a try first failed since it last answered (epoch seconds)."""
    last_try: float | None = None


class Dialer:
    """Dials, for every board: the manual addresses, the peers met before, the invite's
    hints and what mDNS finds; redials with bounded backoff and jitter (PROTOCOL.md §6)."""

    def __init__(
        self,
        identity: DeviceIdentity,
        boards: Mapping[str, BoardSync],
        tags: Mapping[bytes, str],
        connections: Connections,
        spawn: Spawn,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.identity = identity
        self.boards = boards
        self.tags = tags
        self.connections = connections
        self.spawn = spawn
        self.on_change = on_change
        """A try failed, or got through: what `unanswered` says may have changed."""
        self.manual: list[tuple[str, int]] = []
        """Addresses given by hand (`--peer`, the peers screen): dialled for every board."""
        self.closing = False
        self._targets: dict[tuple[str, tuple[tuple[str, int], ...]], Target] = {}
        self._mdns_targets: dict[str, list[Target]] = {}

    def add_manual(self, host: str, port: int) -> None:
        """Dial host:port for every board, now and for boards joined later."""
        self.manual.append((host, port))
        for board_id in self.boards:
            self._add(board_id, ((host, port),), FoundBy.MANUAL)

    def board_added(
        self,
        board_id: str,
        hints: Iterable[tuple[str, int]],
        remembered: Iterable[tuple[str, int]],
    ) -> None:
        """A board to sync: dial the manual addresses, its invite's hints, its known peers."""
        for address in self.manual:
            self._add(board_id, (address,), FoundBy.MANUAL)
        for hint in hints:
            self._add(board_id, (hint,), FoundBy.INVITE)
        for address in remembered:
            self._add(board_id, (address,), FoundBy.REMEMBERED)

    def on_advert(self, advert: Advert) -> None:
        addresses = tuple((ip, advert.port) for ip in advert.addresses)
        targets = [
            self._add(self.tags[tag], addresses, FoundBy.MDNS)
            for tag in advert.tags
            if tag in self.tags
        ]
        stale = [t for t in self._mdns_targets.get(advert.name, []) if t not in targets]
        self._mdns_targets[advert.name] = targets
        self._forget(stale)

    def on_advert_lost(self, name: str) -> None:
        self._forget(self._mdns_targets.pop(name, []))

    def close(self) -> None:
        """Dial nothing more (the node cancels the loops)."""
        self.closing = True

    def unanswered(self) -> list[dict[str, Any]]:
        """The addresses given by hand that have no connection now and whose last try
        failed, with why: a person who typed an address wants to know that it does not work."""
        out = []
        for host, port in dict.fromkeys(self.manual):
            targets = [
                t
                for t in self._targets.values()
                if t.addresses == ((host, port),) and t.found_by == FoundBy.MANUAL
            ]
            failing = [t for t in targets if t.error]
            if not failing or any(
                self.connections.link(t.board_id, t.device_id or "") for t in targets
            ):
                continue
            latest = max(failing, key=lambda t: t.last_try or 0.0)
            out.append(
                {
                    "address": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                    "found": FoundBy.MANUAL,
                    "error": latest.error,
                    "since": min(t.first_failed or 0.0 for t in failing),
                    "last_try": latest.last_try,
                    "answered_before": any(t.answered for t in targets),
                }
            )
        return out

    # ------------------------------------------------------------ the loops

    def _add(self, board_id: str, addresses: tuple[tuple[str, int], ...], found_by: str) -> Target:
        key = (board_id, addresses)
        target = self._targets.get(key)
        if target is not None and not target.gone:
            return target
        target = Target(board_id, addresses, found_by)
        self._targets[key] = target
        if not self.closing:
            target.task = self.spawn(self._dial_loop(target))
        return target

    def _forget(self, targets: list[Target]) -> None:
        """Stop dialling targets mDNS no longer advertises; a live connection carries on."""
        for target in targets:
            if target.found_by != FoundBy.MDNS:
                continue
            target.gone = True
            self._targets.pop((target.board_id, target.addresses), None)
            linked = self.connections.link(target.board_id, target.device_id or "")
            if target.task is not None and linked is None:
                target.task.cancel()

    async def _dial_loop(self, target: Target) -> None:
        """Keep one connection to a target: dial, run, redial with bounded backoff and jitter."""
        backoff = BACKOFF_START
        while not target.gone and not self.closing:
            link = self.connections.link(target.board_id, target.device_id or "")
            if link is not None:
                await link.done.wait()
                await asyncio.sleep(random.uniform(0.05, 0.3))
                continue
            board = self.boards.get(target.board_id)
            if board is None:
                return
            conn = await self._dial(target, board.key)
            if conn is None:
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            target.device_id = conn.remote_device
            started = time.monotonic()
            reason = await self.connections.run(conn, target.found_by, conn.peer_address)
            if reason is CloseReason.SELF:
                log.debug("%s is this node; not dialling it again", target.addresses)
                return
            if time.monotonic() - started > 5:
                backoff = BACKOFF_START
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _dial(self, target: Target, board_key: bytes) -> SecureConnection | None:
        target.last_try = time.time()
        for host, port in target.addresses:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    reader, writer = await asyncio.open_connection(host, port)
            except (OSError, TimeoutError) as exc:
                log.debug("could not reach %s:%d: %s", host, port, exc)
                self._failed(target, _why(exc))
                continue
            tune(writer)
            try:
                conn = await initiate(reader, writer, self.identity, board_key)
            except HandshakeError as exc:
                log.warning("handshake with %s:%d failed: %s", host, port, exc)
                self._failed(target, f"handshake failed: {exc}")
                writer.close()
                continue
            target.answered = True
            target.error, target.first_failed = "", None
            self.on_change()
            return conn
        return None

    def _failed(self, target: Target, why: str) -> None:
        target.error = why
        if target.first_failed is None:
            target.first_failed = target.last_try
        self.on_change()


def _why(exc: BaseException) -> str:
    """Why a TCP connection could not be made, as a person would say it."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "no such host name"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__
