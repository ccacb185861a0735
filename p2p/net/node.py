"""The network node of a home: starts its parts, wires them together, closes them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
from collections.abc import Coroutine
from dataclasses import asdict
from typing import Any

from ..errors import PotluckError
from ..home import Home
from ..keys import board_tag
from ..model.board_document import BOARD_DOC_ID
from ..storage.thread import StoreThread
from .board_sync import BoardSync
from .connections import Connections, FoundBy, PeerInfo
from .dialer import Dialer
from .discovery import Discovery
from .feed import FEED_INTERVAL, ChangeFeed
from .listener import Listener
from .messages import DEFAULT_PORT, PROTOCOL_VERSIONS, Hello
from .noise import SecureConnection
from .presence import Presence, local_addresses
from .sync import Timing

__all__ = ["FoundBy", "Node", "PeerInfo"]

log = logging.getLogger(__name__)


class Node:
    """Keeps every board of one home in sync with every peer it can reach.

    Its parts: `presence` (the home's lock, node.json), `listener` (who may connect),
    `dialer` (whom to connect to), `connections` (one per board and peer, each running a
    session), `feed` (what this device commits), discovery (mDNS), and one `BoardSync` per
    board. The node owns every task they start, and closes them in order."""

    def __init__(
        self,
        home: Home,
        *,
        port: int | None = None,
        host: str = "0.0.0.0",
        peers: list[tuple[str, int]] | None = None,
        mdns: bool = True,
        timing: Timing | None = None,
        feed_interval: float = FEED_INTERVAL,
    ) -> None:
        self.home = home
        self.identity = home.identity
        self.requested_port = DEFAULT_PORT if port is None else port
        self.host = host
        self.port = 0
        self.mdns = mdns
        self.timing = timing or Timing()
        self.started = time.time()
        self._initial_peers = list(peers or [])
        self._db = StoreThread(home.store)
        self._boards: dict[str, BoardSync] = {}
        self._tags: dict[bytes, str] = {}
        """Board id by board tag, for every board the home holds."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._discovery: Discovery | None = None
        self.presence = Presence(home.path, self._published)
        self.listener = Listener(self.identity, self._key_for_tag, self._on_incoming, self._spawn)
        self.connections = Connections(
            self.identity,
            self._db,
            self._boards,
            self._tags,
            timing=self.timing,
            hello=self._hello,
            crowded=self.listener.crowded,
            refused=self.listener.refused,
            spawn=self._spawn,
            on_change=self.presence.changed,
        )
        self.dialer = Dialer(
            self.identity,
            self._boards,
            self._tags,
            self.connections,
            self._spawn,
            on_change=self.presence.changed,
        )
        self.feed = ChangeFeed(
            self._db, self._boards, self._refresh_boards, feed_interval, home=home.path
        )
        home.store.db.on_commit = None  # its own commits: the sessions know of them already

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Node:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Lock the home, listen, advertise, dial; raises NodeError if a node already runs."""
        self.presence.lock()
        try:
            self.port = self.listener.listen(self.host, self.requested_port)
            await self.feed.begin()  # before the boards' versions are read
            await self._refresh_boards()
            self._spawn(self.feed.run())
            self._spawn(self.presence.run())
            if self.mdns:
                self._discovery = Discovery(
                    self.port,
                    lambda: list(self._tags),
                    self.dialer.on_advert,
                    self.dialer.on_advert_lost,
                    local_addresses,
                )
                await self._discovery.start()
            for host, port in self._initial_peers:
                self.dialer.add_manual(host, port)
        except BaseException:
            await self.aclose()
            raise
        log.info(
            "node %s listening on port %d for %d board(s)%s",
            self.identity.device_id[:8],
            self.port,
            len(self._boards),
            "" if self.mdns else " (mDNS off)",
        )

    async def aclose(self) -> None:
        """Withdraw mDNS, close every connection (with bye), stop; idempotent."""
        if self._closing:
            return
        self._closing = True
        self.dialer.close()
        if self._discovery is not None:
            with contextlib.suppress(Exception):
                await self._discovery.aclose()
        await self.connections.aclose()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.listener.close()
        self.feed.close()
        self._db.close()
        self.presence.close()

    # ------------------------------------------------------------ what the UI reads

    def addresses(self) -> list[tuple[str, int]]:
        """Where this node can be reached: hints for an invite code."""
        if not self.port:
            return []
        return [(ip, self.port) for ip in local_addresses()]

    def peer_infos(self) -> list[PeerInfo]:
        return self.connections.infos()

    def peers(self) -> list[dict[str, Any]]:
        """Connected peers as plain dicts (what tui.node_bridge reads)."""
        return [asdict(p) for p in self.peer_infos()]

    def in_sync(self) -> bool:
        """Every connected peer confirmed every document we hold, and nothing waits."""
        return self.connections.in_sync()

    def unreachable(self) -> list[dict[str, Any]]:
        """Addresses given by hand (`--peer`, `add_peer`) that are not connected and whose
        last try failed: `address`, `error` ("connection refused", "no answer within 5 s"),
        `since` and `last_try` (epoch seconds), `answered_before`."""
        return self.dialer.unanswered()

    async def add_peer(self, host: str, port: int) -> None:
        """Dial host:port for every board, and keep redialling it (a manual peer)."""
        self.dialer.add_manual(host, port)

    # ------------------------------------------------------------ wiring

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Every task of the node's parts is the node's: cancelled when it closes."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _refresh_boards(self) -> None:
        """Pick up boards joined or created since (by this or another process)."""
        for info in await self._db.call(self.home.boards):
            if info.board_id in self._boards:
                continue
            versions = await self._db.document_versions(info.board_id)
            board = self._boards[info.board_id] = BoardSync(
                info.board_id, info.key, versions, device=self.identity.device_id
            )
            board.on_committed = functools.partial(self._committed, info.board_id)
            self._tags[board_tag(info.key)] = info.board_id
            remembered = await self._db.remembered_peers(info.board_id)
            self.dialer.board_added(info.board_id, info.hints, remembered)
            if self._discovery is not None:
                await self._discovery.update()

    def _committed(self, board_id: str, doc_ids: set[str]) -> None:
        if BOARD_DOC_ID in doc_ids:
            self._spawn(self._introduce(board_id))

    async def _introduce(self, board_id: str) -> None:
        """Add this device to a board's members once the board document has arrived (a device
        that joined cannot write it before: its first change is the board's maker's)."""
        try:
            await self._db.call(lambda: self.home.board(board_id).introduce())
            versions = await self._db.versions_of(board_id, {BOARD_DOC_ID})
        except PotluckError as exc:
            log.warning("could not add this device to board %s: %s", board_id[:8], exc)
            return
        board = self._boards.get(board_id)
        if board is not None:  # the node's own commit: its peers hear of it from here
            board.local_changes(versions)

    def _key_for_tag(self, tag: bytes) -> bytes | None:
        board_id = self._tags.get(tag)
        return None if board_id is None else self._boards[board_id].key

    async def _on_incoming(self, conn: SecureConnection, ip: str, port: int) -> None:
        await self.connections.run(conn, FoundBy.INCOMING, (ip, port))

    async def _hello(self) -> Hello:
        name = await self._db.call(self.home.display_name)
        return Hello(
            versions=PROTOCOL_VERSIONS,
            device=self.identity.device_id,
            name=name[:200],
            port=self.port,
            addrs=tuple(ip for ip, _ in self.addresses())[:16],
        )

    def _published(self) -> dict[str, Any]:
        """node.json: what `potluck peers` and an app beside this node show."""
        return {
            "pid": os.getpid(),
            "device": self.identity.device_id,
            "port": self.port,
            "started": self.started,
            "addresses": self.addresses(),
            "peers": self.peers(),
            "unreachable": self.unreachable(),
        }
