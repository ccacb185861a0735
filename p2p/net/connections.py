"""The node's running connections: at most one per board and peer, each running its session."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import PotluckError
from ..keys import DeviceIdentity, board_tag
from ..storage.thread import StoreThread
from .board_sync import BoardSync
from .channel import NoiseChannel
from .messages import Bye, CloseReason, Hello
from .noise import SecureConnection
from .session import Session
from .sync import Timing

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]
"""Starts a task the node owns (cancelled when it closes)."""

LARGE_AT_ONCE = 2
"""Connections that may assemble or handle a message over 1 MiB at the same time."""


class FoundBy:
    """How a connection's peer was found (PROTOCOL.md §7.2)."""

    MDNS = "mdns"
    MANUAL = "manual"
    REMEMBERED = "remembered"
    INVITE = "invite"
    INCOMING = "incoming"


@dataclass(frozen=True)
class PeerInfo:
    """One connected peer on one board, as `potluck peers` and the app show it. Times are
    epoch seconds."""

    device_id: str
    name: str
    board_id: str
    address: str
    found: str
    since: float
    """When the connection began."""
    last_sync: float | None
    """When the peer last confirmed every document we hold (never when we only sent)."""
    pending: int
    """Documents we hold that the peer has not confirmed."""
    last_heard: float
    """When anything last arrived from the peer."""
    in_sync: bool
    """The peer confirmed every document we hold, and nothing waits either way."""
    answering: bool
    """False when changes have waited on the peer while it said nothing for a few seconds
    (a laptop's lid closed, a cut link): it is "not answering since `last_heard`"."""
    expected: int = 0
    """Documents the peer held that we lacked or held in another version when the connection
    compared inventories: what this catch-up brings from it."""
    arrived: int = 0
    """How many of `expected` we now hold as the peer does; equal to `expected` once the
    catch-up is done (never more)."""


@dataclass
class Link:
    """A running connection: its session, and what the node knows of how it came about."""

    session: Session
    found_by: str
    address: tuple[str, int]
    rank: tuple[str, bytes]
    """Of two connections to one peer for one board, both sides keep the smaller (§5.2)."""
    announced: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Connections:
    """Registers each connection whose handshake is done (incoming or dialled), keeps one per
    board and peer, runs its session to the end and says who came and went."""

    def __init__(
        self,
        identity: DeviceIdentity,
        db: StoreThread,
        boards: Mapping[str, BoardSync],
        tags: Mapping[bytes, str],
        *,
        timing: Timing,
        hello: Callable[[], Awaitable[Hello]],
        crowded: Callable[[str, Iterable[str]], str],
        refused: Callable[[str, str], None],
        spawn: Spawn,
        on_change: Callable[[], None],
    ) -> None:
        self.identity = identity
        self.db = db
        self.boards = boards
        self.tags = tags
        self.timing = timing
        self.hello = hello
        self.crowded = crowded
        self.refused = refused
        self.spawn = spawn
        self.on_change = on_change
        """Something a peer list shows changed."""
        self.links: dict[tuple[str, str], Link] = {}
        """By (board id, device id)."""
        self.closing = False
        self._large_gate = asyncio.Semaphore(LARGE_AT_ONCE)

    def link(self, board_id: str, device_id: str) -> Link | None:
        return self.links.get((board_id, device_id))

    def infos(self) -> list[PeerInfo]:
        out = []
        for (board_id, device_id), link in sorted(self.links.items()):
            session = link.session
            if session.peer is None:
                continue
            out.append(
                PeerInfo(
                    device_id=device_id,
                    name=session.peer.name,
                    board_id=board_id,
                    address=f"{link.address[0]}:{link.address[1]}",
                    found=link.found_by,
                    since=session.connected_since,
                    last_sync=session.last_sync,
                    pending=session.pending,
                    last_heard=session.last_heard,
                    in_sync=session.in_sync,
                    answering=session.answering,
                    expected=session.expected,
                    arrived=session.arrived,
                )
            )
        return out

    def in_sync(self) -> bool:
        return all(link.session.in_sync for link in self.links.values())

    async def aclose(self) -> None:
        """Close every connection (each says `bye`); no new one is taken from now on."""
        self.closing = True
        links = list(self.links.values())
        await asyncio.gather(
            *(link.session.close(CloseReason.SHUTDOWN) for link in links), return_exceptions=True
        )

    async def run(
        self, conn: SecureConnection, found_by: str, address: tuple[str, int]
    ) -> CloseReason:
        """Register a fresh connection (one per board and peer), run its session, clean up."""
        if conn.remote_static == self.identity.public_key:
            with contextlib.suppress(Exception):  # PROTOCOL.md §2.2: say so, then close
                async with asyncio.timeout(1):
                    await NoiseChannel(conn).send(Bye(CloseReason.SELF.value))
            await conn.aclose()
            return CloseReason.SELF
        conn.large_gate = self._large_gate
        board_id = self.tags.get(board_tag(conn.board_key), "")
        hello = await self.hello()
        device = conn.remote_device
        initiator = self.identity.device_id if conn.initiator else device
        rank = (initiator, conn.handshake_hash)
        key = (board_id, device)
        while (existing := self.links.get(key)) is not None:
            if existing.rank <= rank:
                log.debug("dropping a duplicate connection to %s", device[:8])
                await conn.aclose()
                return CloseReason.DUPLICATE
            if found_by == FoundBy.INCOMING:
                found_by = existing.found_by
            await existing.session.close(CloseReason.DUPLICATE)
            if self.links.get(key) is existing:
                del self.links[key]
        if self.closing or board_id not in self.boards:
            await conn.aclose()
            return CloseReason.SHUTDOWN
        if found_by == FoundBy.INCOMING and (
            crowded := self.crowded(address[0], (link.address[0] for link in self.links.values()))
        ):
            self.refused(address[0], crowded)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await NoiseChannel(conn).send(Bye(CloseReason.BUSY.value))
            await conn.aclose()
            return CloseReason.BUSY
        session = Session(
            NoiseChannel(conn),
            self.boards[board_id],
            self.db,
            hello,
            timing=self.timing,
            on_update=self._on_update,
        )
        link = Link(session, found_by, address, rank)
        self.links[key] = link
        try:
            reason = await session.run()
        finally:
            if self.links.get(key) is link:
                del self.links[key]
            link.done.set()
            self.on_change()
        if session.peer is not None:
            log.info(
                "%s (%s) left board %s: %s",
                session.peer.name or "someone",
                device[:8],
                board_id[:8],
                reason.value,
            )
        return reason

    def _on_update(self, session: Session) -> None:
        self.on_change()
        link = self.links.get((session.board.board_id, session.remote_device))
        if link is None or link.session is not session or not session.peer or link.announced:
            return
        link.announced = True
        log.info(
            "%s (%s) joined board %s from %s:%d, found by %s",
            session.peer.name or "someone",
            session.remote_device[:8],
            session.board.board_id[:8],
            link.address[0],
            session.peer.port,
            link.found_by,
        )
        if session.peer.port:
            self.spawn(
                self._remember(
                    session.board.board_id,
                    session.remote_device,
                    link.address[0],
                    session.peer.port,
                )
            )

    async def _remember(self, board_id: str, device_id: str, host: str, port: int) -> None:
        """Remember where a peer listens; a refused write (a full disk) only costs the hint."""
        try:
            await self.db.remember_peer(board_id, device_id, host, port)
        except PotluckError as exc:
            log.warning("could not remember %s:%d: %s", host, port, exc)
