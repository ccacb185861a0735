"""The network node of a home: listener, discovery, dialer and one sync session per peer+board."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import json
import logging
import os
import random
import socket
import struct
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import HandshakeError, NodeError, PotluckError
from ..home import Home
from ..keys import board_tag
from ..model.board_document import BOARD_DOC_ID
from ..storage.files import open_private, write_private
from ..storage.thread import StoreThread
from .channel import NoiseChannel
from .discovery import Advert, Discovery
from .messages import DEFAULT_PORT, PROTOCOL_VERSIONS, Bye, Hello
from .noise import SecureConnection, initiate, respond
from .presence import LOCK_NAME, STATE_NAME, local_addresses
from .session import BoardState, CloseReason, Session, Timing

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
BACKOFF_START = 0.25
BACKOFF_MAX = 8.0
FEED_INTERVAL = 0.05
"""How often the node asks SQLite whether another process committed (PRAGMA data_version)."""
STATE_INTERVAL = 0.5
"""At most this often, node.json is rewritten for `potluck peers`."""
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
LARGE_AT_ONCE = 2
"""Connections that may assemble or handle a message over 1 MiB at the same time."""


def _loopback(ip: str) -> bool:
    """Whether a peer address is this device's own (other processes here, tests)."""
    try:
        return ipaddress.ip_address(ip.split("%")[0]).is_loopback
    except ValueError:
        return False


TCP_RTO_MAX_MS = 44
"""The Linux (6.15 and later) socket option that caps one socket's retransmission timeout."""
RTO_MAX_MS = 3000
"""Our cap. TCP doubles the wait between retransmissions up to two minutes, so after a router
reboot or half a minute unplugged a healed link stood unused for up to as long again."""


def cap_retransmissions(writer: asyncio.StreamWriter) -> None:
    """Retransmit at least every RTO_MAX_MS on this connection (no-op where unsupported)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, TCP_RTO_MAX_MS, RTO_MAX_MS)


class FoundBy:
    MDNS = "mdns"
    MANUAL = "manual"
    REMEMBERED = "remembered"
    INVITE = "invite"
    INCOMING = "incoming"


@dataclass(frozen=True)
class PeerInfo:
    """One connected peer on one board, as `potluck peers` and the app show it."""

    device_id: str
    name: str
    board_id: str
    address: str
    found: str
    since: float
    last_sync: float | None
    pending: int


@dataclass
class _Target:
    """Somewhere to dial for one board; the dial loop keeps one connection to it."""

    board_id: str
    addresses: tuple[tuple[str, int], ...]
    found_by: str
    device_id: str | None = None
    gone: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


@dataclass
class _Link:
    session: Session
    found_by: str
    address: tuple[str, int]
    rank: tuple[str, bytes]
    announced: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Node:
    """Keeps every board of one home in sync with every peer it can reach."""

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
        self.feed_interval = feed_interval
        self.started = time.time()
        self._manual = list(peers or [])
        self._db = StoreThread(home.store)
        self._boards: dict[str, BoardState] = {}
        self._tags: dict[bytes, str] = {}
        self._links: dict[tuple[str, str], _Link] = {}
        self._targets: dict[tuple[str, tuple[tuple[str, int], ...]], _Target] = {}
        self._mdns_targets: dict[str, list[_Target]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listener: socket.socket | None = None
        self._discovery: Discovery | None = None
        self._lock_file: Any = None
        self._state_dirty = asyncio.Event()
        self._closing = False
        self._state_unwritable = False
        self._handshakes: dict[str, int] = {}
        """Incoming handshakes in progress, by address."""
        self._pending: dict[asyncio.Task[Any], str] = {}
        """The same, oldest first."""
        self._buckets: dict[str, tuple[float, float]] = {}
        self._refused_logged: dict[str, float] = {}
        self._large_gate = asyncio.Semaphore(LARGE_AT_ONCE)

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Node:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Lock the home, listen, advertise, dial; raises NodeError if a node already runs."""
        self._take_lock()
        try:
            await self._listen()
            # The feed's starting point is read before the digests, so no change falls between.
            cursor = await self._db.change_cursor()
            version = await self._db.data_version()
            await self._refresh_boards()
            self._spawn(self._feed_loop(cursor, version))
            self._spawn(self._state_loop())
            if self.mdns:
                self._discovery = Discovery(
                    self.port,
                    lambda: list(self._tags),
                    self._on_advert,
                    self._on_advert_lost,
                    local_addresses,
                )
                await self._discovery.start()
            for host, port in self._manual:
                self._add_manual(host, port)
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
        if self._discovery is not None:
            with contextlib.suppress(Exception):
                await self._discovery.aclose()
        links = list(self._links.values())
        await asyncio.gather(
            *(link.session.close(CloseReason.SHUTDOWN) for link in links), return_exceptions=True
        )
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()
        self._db.close()
        with contextlib.suppress(OSError):
            (self.home.path / STATE_NAME).unlink()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _take_lock(self) -> None:
        f = open_private(self.home.path / LOCK_NAME)  # held for the node's life; 0600
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise NodeError(
                f"another potluck is already syncing {self.home.path}; "
                "stop it first, or use that one (only one node per home)"
            ) from None
        f.truncate(0)
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock_file = f

    async def _listen(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            listener = socket.create_server(
                (self.host, self.requested_port), family=family, backlog=LISTEN_BACKLOG
            )
        except OSError as exc:
            if self.requested_port == 0:
                raise NodeError(f"cannot listen for peers: {exc}") from None
            log.info("port %d is taken (%s); using another", self.requested_port, exc.strerror)
            listener = socket.create_server((self.host, 0), family=family, backlog=LISTEN_BACKLOG)
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept(listener))

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
                self._log_refusal(ip, too_many)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:
                if len(self._pending) >= MAX_HANDSHAKES:
                    self._push_out_oldest_handshake()
                self._handshakes[ip] = self._handshakes.get(ip, 0) + 1
                self._pending[self._spawn(self._on_incoming(sock, ip, int(peer[1])))] = ip
            # A flood must not starve the sessions; and the new handshake takes its first step
            # before the next connection is taken, so one pushed out has a socket to close.
            await asyncio.sleep(0)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------ what the UI reads

    def addresses(self) -> list[tuple[str, int]]:
        """Where this node can be reached: hints for an invite code."""
        if not self.port:
            return []
        return [(ip, self.port) for ip in local_addresses()]

    def peer_infos(self) -> list[PeerInfo]:
        out = []
        for (board_id, device_id), link in sorted(self._links.items()):
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
                    pending=len(session.pending),
                )
            )
        return out

    def peers(self) -> list[dict[str, Any]]:
        """Connected peers as plain dicts (what tui.node_bridge reads)."""
        return [asdict(p) for p in self.peer_infos()]

    def in_sync(self) -> bool:
        return all(link.session.in_sync for link in self._links.values())

    async def add_peer(self, host: str, port: int) -> None:
        """Dial host:port for every board, and keep redialling it (a manual peer)."""
        self._manual.append((host, port))
        self._add_manual(host, port)

    # ------------------------------------------------------------ boards and local changes

    async def _refresh_boards(self) -> None:
        """Pick up boards joined or created since (by this or another process)."""
        boards = await self._db.call(self.home.boards)
        for info in boards:
            if info.board_id in self._boards:
                continue
            digests = await self._db.document_digests(info.board_id)
            self._boards[info.board_id] = BoardState(info.board_id, info.key, digests)
            self._tags[board_tag(info.key)] = info.board_id
            for host, port in self._manual:
                self._add_target(info.board_id, ((host, port),), FoundBy.MANUAL)
            for hint in info.hints:
                self._add_target(info.board_id, (hint,), FoundBy.INVITE)
            for address in await self._db.remembered_peers(info.board_id):
                self._add_target(info.board_id, (address,), FoundBy.REMEMBERED)
            if self._discovery is not None:
                await self._discovery.update()

    async def _feed_loop(self, cursor: int, version: int) -> None:
        """Follow the store's change feed: SQLite's data_version, then the changed documents."""
        while True:
            await asyncio.sleep(self.feed_interval)
            now = await self._db.data_version()
            if now == version:
                continue
            version = now
            try:
                await self._refresh_boards()
                cursor, changed = await self._db.changes(cursor)
                by_board: dict[str, set[str]] = {}
                for board_id, doc_id in changed:
                    by_board.setdefault(board_id, set()).add(doc_id)
                for board_id, doc_ids in by_board.items():
                    board = self._boards.get(board_id)
                    if board is None:
                        continue
                    board.digests.update(await self._db.digests_of(board_id, doc_ids))
                    self._notify(board_id, doc_ids)
            except PotluckError as exc:
                log.warning("could not read local changes: %s", exc)

    def _notify(self, board_id: str, doc_ids: set[str]) -> None:
        for (link_board, _), link in list(self._links.items()):
            if link_board == board_id:
                link.session.notify(doc_ids)

    def _on_remote_change(self, origin: Session, doc_ids: set[str]) -> None:
        """A session committed a peer's change: it answers at once, the others relay it on."""
        for (link_board, _), link in list(self._links.items()):
            if link.session is origin:
                link.session.notify(doc_ids)
            elif link_board == origin.board.board_id:
                link.session.relay(doc_ids)
        if BOARD_DOC_ID in doc_ids:
            self._spawn(self._introduce(origin.board.board_id))

    async def _introduce(self, board_id: str) -> None:
        """Add this device to a board's members once the board document has arrived (a device
        that joined cannot write it before: its first change is the board's maker's)."""
        try:
            await self._db.call(lambda: self.home.board(board_id).introduce())
        except PotluckError as exc:
            log.warning("could not add this device to board %s: %s", board_id[:8], exc)

    # ------------------------------------------------------------ connections

    def _key_for_tag(self, tag: bytes) -> bytes | None:
        board_id = self._tags.get(tag)
        return None if board_id is None else self._boards[board_id].key

    async def _on_incoming(self, sock: socket.socket, ip: str, port: int) -> None:
        """Run the responder handshake on an admitted connection, then its session."""
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await asyncio.open_connection(sock=sock)
            cap_retransmissions(writer)
            conn = await respond(reader, writer, self.identity, self._key_for_tag)
        except HandshakeError as exc:
            self._log_refusal(ip, str(exc))
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
        await self._run_connection(conn, FoundBy.INCOMING, (ip, port))

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
        self._log_refusal(ip, f"pushed out by newer handshakes ({MAX_HANDSHAKES} pending)")

    def _admit(self, ip: str) -> str:
        """Why a new incoming connection from `ip` is refused at once, or "" to take it.

        Loopback connections come from this device and skip the per-address limits."""
        if _loopback(ip):
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

    def _crowded(self, ip: str) -> str:
        """Why one more connection from `ip` would be too many, or "" if it is welcome."""
        if len(self._links) >= MAX_SESSIONS:
            return f"{MAX_SESSIONS} connections already"
        if _loopback(ip):
            return ""
        if sum(link.address[0] == ip for link in self._links.values()) >= (
            MAX_SESSIONS_PER_ADDRESS
        ):
            return f"{MAX_SESSIONS_PER_ADDRESS} connections from this address already"
        return ""

    def _log_refusal(self, ip: str, why: str) -> None:
        """A warning per address at most every 10 s, so that a flood cannot flood the log."""
        now = time.monotonic()
        if now - self._refused_logged.get(ip, -60.0) < 10:
            log.debug("refused a connection from %s: %s", ip, why)
            return
        if len(self._refused_logged) > 4096:
            self._refused_logged.clear()
        self._refused_logged[ip] = now
        log.warning("refused a connection from %s: %s", ip, why)

    async def _run_connection(
        self, conn: SecureConnection, found_by: str, address: tuple[str, int]
    ) -> CloseReason:
        """Register a fresh connection (one per board and peer), run its session, clean up."""
        if conn.remote_static == self.identity.public_key:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await NoiseChannel(conn).send(Bye(CloseReason.SELF.value))
            await conn.aclose()
            return CloseReason.SELF
        conn.large_gate = self._large_gate
        board_id = self._tags.get(board_tag(conn.board_key), "")
        name = await self._db.call(self.home.display_name)
        device = conn.remote_device
        initiator = self.identity.device_id if conn.initiator else device
        rank = (initiator, conn.handshake_hash)
        key = (board_id, device)
        while (existing := self._links.get(key)) is not None:
            if existing.rank <= rank:
                log.debug("dropping a duplicate connection to %s", device[:8])
                await conn.aclose()
                return CloseReason.DUPLICATE
            if found_by == FoundBy.INCOMING:
                found_by = existing.found_by
            await existing.session.close(CloseReason.DUPLICATE)
            if self._links.get(key) is existing:
                del self._links[key]
        if self._closing or board_id not in self._boards:
            await conn.aclose()
            return CloseReason.SHUTDOWN
        if found_by == FoundBy.INCOMING and (crowded := self._crowded(address[0])):
            self._log_refusal(address[0], crowded)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await NoiseChannel(conn).send(Bye(CloseReason.BUSY.value))
            await conn.aclose()
            return CloseReason.BUSY
        hello = Hello(
            versions=PROTOCOL_VERSIONS,
            device=self.identity.device_id,
            name=name[:200],
            port=self.port,
            addrs=tuple(ip for ip, _ in self.addresses())[:16],
        )
        session = Session(
            NoiseChannel(conn),
            self._boards[board_id],
            self._db,
            hello,
            timing=self.timing,
            on_change=self._on_remote_change,
            on_update=self._on_session_update,
        )
        link = _Link(session, found_by, address, rank)
        self._links[key] = link
        self._boards[board_id].sessions += 1
        try:
            reason = await session.run()
        finally:
            self._boards[board_id].sessions -= 1
            if self._links.get(key) is link:
                del self._links[key]
            link.done.set()
            self._state_dirty.set()
        if session.peer is not None:
            log.info(
                "%s (%s) left board %s: %s",
                session.peer.name or "someone",
                device[:8],
                board_id[:8],
                reason.value,
            )
        return reason

    def _on_session_update(self, session: Session) -> None:
        self._state_dirty.set()
        link = self._links.get((session.board.board_id, session.remote_device))
        if link is not None and link.session is session and session.peer and not link.announced:
            link.announced = True
            address = link.address
            log.info(
                "%s (%s) joined board %s from %s:%d, found by %s",
                session.peer.name or "someone",
                session.remote_device[:8],
                session.board.board_id[:8],
                address[0],
                session.peer.port,
                link.found_by,
            )
            if session.peer.port:
                self._spawn(
                    self._remember_peer(
                        session.board.board_id,
                        session.remote_device,
                        address[0],
                        session.peer.port,
                    )
                )

    async def _remember_peer(self, board_id: str, device_id: str, host: str, port: int) -> None:
        """Remember where a peer listens; a refused write (a full disk) only costs the hint."""
        try:
            await self._db.remember_peer(board_id, device_id, host, port)
        except PotluckError as exc:
            log.warning("could not remember %s:%d: %s", host, port, exc)

    # ------------------------------------------------------------ dialling

    def _add_manual(self, host: str, port: int) -> None:
        for board_id in self._boards:
            self._add_target(board_id, ((host, port),), FoundBy.MANUAL)

    def _add_target(
        self, board_id: str, addresses: tuple[tuple[str, int], ...], found_by: str
    ) -> _Target:
        key = (board_id, addresses)
        target = self._targets.get(key)
        if target is not None and not target.gone:
            return target
        target = _Target(board_id, addresses, found_by)
        self._targets[key] = target
        if not self._closing:
            target.task = self._spawn(self._dial_loop(target))
        return target

    async def _dial_loop(self, target: _Target) -> None:
        """Keep one connection to a target: dial, run, redial with bounded backoff and jitter."""
        backoff = BACKOFF_START
        while not target.gone and not self._closing:
            link = self._links.get((target.board_id, target.device_id or ""))
            if link is not None:
                await link.done.wait()
                await asyncio.sleep(random.uniform(0.05, 0.3))
                continue
            board = self._boards.get(target.board_id)
            if board is None:
                return
            conn = await self._dial(target, board.key)
            if conn is None:
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            target.device_id = conn.remote_device
            started = time.monotonic()
            reason = await self._run_connection(conn, target.found_by, conn.peer_address)
            if reason is CloseReason.SELF:
                log.debug("%s is this node; not dialling it again", target.addresses)
                return
            if time.monotonic() - started > 5:
                backoff = BACKOFF_START
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _dial(self, target: _Target, board_key: bytes) -> SecureConnection | None:
        for host, port in target.addresses:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    reader, writer = await asyncio.open_connection(host, port)
            except (OSError, TimeoutError) as exc:
                log.debug("could not reach %s:%d: %s", host, port, exc)
                continue
            cap_retransmissions(writer)
            try:
                return await initiate(reader, writer, self.identity, board_key)
            except HandshakeError as exc:
                log.warning("handshake with %s:%d failed: %s", host, port, exc)
                writer.close()
        return None

    # ------------------------------------------------------------ mDNS

    def _on_advert(self, advert: Advert) -> None:
        addresses = tuple((ip, advert.port) for ip in advert.addresses)
        targets = [
            self._add_target(self._tags[tag], addresses, FoundBy.MDNS)
            for tag in advert.tags
            if tag in self._tags
        ]
        stale = [t for t in self._mdns_targets.get(advert.name, []) if t not in targets]
        self._mdns_targets[advert.name] = targets
        self._forget(stale)

    def _on_advert_lost(self, name: str) -> None:
        self._forget(self._mdns_targets.pop(name, []))

    def _forget(self, targets: list[_Target]) -> None:
        """Stop dialling targets mDNS no longer advertises; a live connection carries on."""
        for target in targets:
            if target.found_by != FoundBy.MDNS:
                continue
            target.gone = True
            self._targets.pop((target.board_id, target.addresses), None)
            linked = self._links.get((target.board_id, target.device_id or ""))
            if target.task is not None and linked is None:
                target.task.cancel()

    # ------------------------------------------------------------ node.json

    async def _state_loop(self) -> None:
        while True:
            self._write_state()
            await self._state_dirty.wait()
            self._state_dirty.clear()
            await asyncio.sleep(STATE_INTERVAL)

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "device": self.identity.device_id,
            "port": self.port,
            "started": self.started,
            "addresses": self.addresses(),
            "peers": self.peers(),
        }
        path = self.home.path / STATE_NAME
        tmp = path.with_suffix(".tmp")
        try:
            write_private(tmp, json.dumps(state))
            os.replace(tmp, path)
        except OSError as exc:
            if not self._state_unwritable:  # once, not every half second while the disk is full
                log.warning("could not write %s: %s", path, exc)
            self._state_unwritable = True
        else:
            self._state_unwritable = False
