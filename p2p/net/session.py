"""One sync session: reconcile one board with one peer over a channel, then push every change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeGuard

from ..errors import BadSignature, DamagedDocument, ForbiddenChange, PotluckError, ProtocolError
from ..model.measure import TooLarge
from ..model.signing import Signed
from ..storage.thread import StoreThread
from .channel import Channel, PeerClosed
from .framing import FrameError, OversizedMessage
from .messages import (
    PROTOCOL_VERSIONS,
    Bye,
    Have,
    Hello,
    Message,
    Ping,
    Pong,
    Sync,
    Synced,
    UnknownType,
    WholeDocument,
    choose_version,
)

log = logging.getLogger(__name__)

BATCH = 64
"""Documents prepared per trip to the database thread."""
MERGE_BATCH = 256
MERGE_BATCH_BYTES = 4 * 1024 * 1024
"""Whole documents that have already arrived are merged in one transaction, up to these."""
SYNC_LOG_EVERY = 10.0
"""Seconds between two "synced" log lines of one connection (the rest go to debug)."""
MAX_CONTROL_QUEUE = 64
"""Pongs and markers waiting to go out; a peer that makes more is flooding us."""
SPREAD_PER_PEER = 0.1
"""Seconds added, per other peer on the board, to the wait before pushing a document that
differs on both sides when a connection starts (Session._spread)."""


class CloseReason(StrEnum):
    """Why a connection ended; sent in `bye` when the channel still works."""

    SHUTDOWN = "shutdown"
    PEER_CLOSED = "peer-closed"
    DUPLICATE = "duplicate"
    SELF = "self"
    HANDSHAKE_FAILED = "handshake-failed"
    BAD_FRAME = "bad-frame"
    OVERSIZED = "oversized"
    BAD_MESSAGE = "bad-message"
    UNKNOWN_TYPE = "unknown-type"
    NO_COMMON_VERSION = "no-common-version"
    PROTOCOL_VIOLATION = "protocol-violation"
    DAMAGED_DOCUMENT = "damaged-document"
    TOO_LARGE = "too-large"
    BAD_SIGNATURE = "bad-signature"
    FORBIDDEN_CHANGE = "forbidden-change"
    BUSY = "busy"
    TIMEOUT = "timeout"
    LOCAL_ERROR = "local-error"


@dataclass(frozen=True)
class Timing:
    """Keep-alive and timeouts (seconds); tests shrink them."""

    ping_every: float = 15.0
    silence_limit: float = 45.0
    relay_delay: float = 0.05
    """A change from one peer goes on to the others after this (×0.5–1.5), unless they say
    first that they hold it: in a mesh most have it from its author by then."""
    hold_after: float = 3.0
    """A peer silent this long gets a ping with the next push, and no more pushes if that ping
    goes unanswered this long: changes wait merged here, not queued on a dead link, and go in
    one round when the peer is heard again (after a cut that the connection survived)."""


class BoardState:
    """What the node knows of one board it holds: the digest of every local document."""

    def __init__(self, board_id: str, key: bytes, digests: dict[str, bytes]) -> None:
        self.board_id = board_id
        self.key = key
        self.digests = digests
        self.sessions = 0
        """Connections to peers on this board that are running."""


class Closed(Exception):
    """Ends a session's tasks with a reason."""

    def __init__(self, reason: CloseReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


class Session:
    """Runs the protocol for one board with one peer.

    Invariants:
    1. Every remote change is committed (by the store, on the database thread) before this
       session sends anything that depends on it, and before other sessions are told of it.
    2. `peer_digests[d]` is the peer's digest of d as last heard (or as sent, for a whole
       document); `pending` is exactly the documents where it differs from ours.
    3. Only the pump task writes to the channel, so a slow peer blocks only its own session;
       the reader never waits on the writer, so two sessions can never wait on each other.
    """

    def __init__(
        self,
        channel: Channel,
        board: BoardState,
        db: StoreThread,
        hello: Hello,
        *,
        timing: Timing = Timing(),
        on_change: Callable[[Session, set[str]], None] = lambda session, ids: None,
        on_update: Callable[[Session], None] = lambda session: None,
    ) -> None:
        self.channel = channel
        self.board = board
        self.db = db
        self.local_hello = hello
        self.timing = timing
        self.on_change = on_change
        self.on_update = on_update
        self.peer: Hello | None = None
        self.version: int | None = None
        self.connected_since = time.time()
        self.last_sync: float | None = None
        self.peer_digests: dict[str, bytes] = {}
        self.pending: set[str] = set()
        self.close_reason: CloseReason | None = None
        self.close_detail = ""
        self.received_docs = 0
        self.sent_docs = 0
        self._have_received = False
        self._active = False
        self._states: dict[str, Any] = {}
        self._told: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self._relaying: dict[str, float] = {}
        """Documents another peer changed, and when to send the change on to this one."""
        self._control: list[Message] = []
        self._wake = asyncio.Event()
        self._last_heard = self._last_sent = time.monotonic()
        self._probe_sent: float | None = None
        self._last_logged = -SYNC_LOG_EVERY
        self._closing: Closed | None = None
        self._done = asyncio.Event()
        self._close_requested = asyncio.Event()

    # ------------------------------------------------------------ public

    @property
    def remote_device(self) -> str:
        return self.channel.remote_device

    @property
    def in_sync(self) -> bool:
        return self._have_received and not self.pending and not self._dirty and not self._relaying

    def notify(self, doc_ids: Iterable[str]) -> None:
        """Local documents changed (any process, or this session's peer): push them."""
        for doc_id in doc_ids:
            self._dirty.add(doc_id)
            self._recheck(doc_id)
        self._wake.set()

    def _spread(self, doc_ids: set[str]) -> None:
        """Documents both sides hold in different versions when the connection starts: with
        other peers on the board (a mesh meeting again after a cut), each is pushed after a
        random wait that grows with their number, so that most arrive from one peer, pass on
        within the other side, and are found in sync before every peer has sent them."""
        spread = SPREAD_PER_PEER * (self.board.sessions - 1)
        if spread <= 0:
            self._dirty |= doc_ids
            return
        now = time.monotonic()
        for doc_id in doc_ids:
            self._relaying.setdefault(doc_id, now + random.uniform(0, spread))

    def relay(self, doc_ids: Iterable[str]) -> None:
        """Another peer changed these documents: tell this peer our digests at once, and send
        the changes after `relay_delay`, unless it says by then that it holds the same."""
        due = time.monotonic() + self.timing.relay_delay * random.uniform(0.5, 1.5)
        for doc_id in doc_ids:
            self._relaying.setdefault(doc_id, due)
            self._recheck(doc_id)
        self._wake.set()

    async def run(self) -> CloseReason:
        """Greet, reconcile, then follow changes until the connection ends; returns why."""
        try:
            await self._greet()
            self.on_update(self)
            self._told = dict(self.board.digests)
            await self._send(Have(dict(self._told)))
            reader = asyncio.create_task(self._read_loop())
            pump = asyncio.create_task(self._pump_loop())
            watchdog = asyncio.create_task(self._watchdog())
            tasks = {reader, pump, watchdog}
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                if pump in done and reader not in done and isinstance(pump.exception(), OSError):
                    # A write failed because the peer went away: what the reader saw last
                    # (a truncated message, say) is the better reason.
                    await asyncio.wait({reader}, timeout=1.0)
                    if reader.done():
                        reader.result()
                for task in done:
                    task.result()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                # The exception on its way out refers to this frame: without these references
                # it makes no cycle with the tasks, so the message being handled (up to 16 MiB)
                # is freed now rather than at the next full garbage collection.
                del reader, pump, watchdog, task
                tasks.clear()
                done = set()
        except Closed as closed:
            self._closing = Closed(closed.reason, closed.detail)  # without its traceback
        except PeerClosed:
            self._closing = Closed(CloseReason.PEER_CLOSED)
        except OversizedMessage as exc:
            self._closing = Closed(CloseReason.OVERSIZED, str(exc))
        except FrameError as exc:
            self._closing = Closed(CloseReason.BAD_FRAME, str(exc))
        except UnknownType as exc:
            self._closing = Closed(CloseReason.UNKNOWN_TYPE, str(exc))
        except ProtocolError as exc:
            self._closing = Closed(CloseReason.BAD_MESSAGE, str(exc))
        except TimeoutError as exc:
            self._closing = Closed(CloseReason.TIMEOUT, str(exc) or "a write did not finish")
        except OSError as exc:
            self._closing = Closed(CloseReason.PEER_CLOSED, f"{type(exc).__name__} {exc}")
        except asyncio.CancelledError:
            self._closing = Closed(CloseReason.SHUTDOWN)
            await self._finish()
            raise
        except PotluckError as exc:
            self._closing = Closed(CloseReason.LOCAL_ERROR, str(exc))
        except Exception as exc:
            log.exception("sync session failed")
            self._closing = Closed(CloseReason.LOCAL_ERROR, f"{type(exc).__name__}: {exc}")
        await self._finish()
        assert self.close_reason is not None
        return self.close_reason

    async def close(self, reason: CloseReason, detail: str = "") -> None:
        """Ask the session to end (sends `bye`); returns when it has."""
        if self._closing is None:
            self._closing = Closed(reason, detail)
        self._close_requested.set()
        self._wake.set()
        await self._done.wait()

    # ------------------------------------------------------------ the phases

    async def _greet(self) -> None:
        await self._send(self.local_hello)
        receive = asyncio.ensure_future(self.channel.receive())
        stop = asyncio.ensure_future(self._close_requested.wait())
        try:
            done, _ = await asyncio.wait(
                {receive, stop},
                timeout=self.timing.silence_limit,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stop.cancel()
        if receive not in done:
            receive.cancel()
            raise self._closing or Closed(CloseReason.TIMEOUT, "no hello")
        try:
            first = receive.result()
        except UnknownType as exc:  # not even a message of ours: no hello came first
            raise Closed(
                CloseReason.PROTOCOL_VIOLATION, f"the first message was not hello: {exc}"
            ) from None
        if isinstance(first, Bye):
            raise Closed(CloseReason.PEER_CLOSED, f"peer said {first.reason!r}")
        if not isinstance(first, Hello):
            raise Closed(CloseReason.PROTOCOL_VIOLATION, "the first message was not hello")
        self.version = choose_version(first.versions)
        if self.version is None:
            raise Closed(
                CloseReason.NO_COMMON_VERSION,
                f"peer speaks {list(first.versions)}, we speak {list(PROTOCOL_VERSIONS)}",
            )
        if first.device != self.channel.remote_device:
            raise Closed(CloseReason.PROTOCOL_VIOLATION, "hello names another device")
        self.peer = first

    async def _read_loop(self) -> None:
        """Handle messages in order; whole documents that have already arrived are merged
        together, so a newcomer's catch-up costs one commit per batch, not per document."""
        ahead: asyncio.Future[Message] | None = None
        try:
            while True:
                message = await (ahead if ahead is not None else self.channel.receive())
                ahead = None
                self._last_heard = time.monotonic()
                self._probe_sent = None
                if not self._is_new_document(message):
                    await self._handle(message)
                    continue
                batch = [message]
                size = len(message.data)
                while len(batch) < MERGE_BATCH and size < MERGE_BATCH_BYTES:
                    ahead = asyncio.ensure_future(self.channel.receive())
                    await asyncio.sleep(0)  # a message already buffered is decoded by now
                    if not ahead.done() or ahead.exception() is not None:
                        break
                    following = ahead.result()
                    if not self._is_new_document(following):
                        break
                    ahead = None
                    batch.append(following)
                    size += len(following.data)
                await self._merge_documents(batch)
                self._wake.set()
                self.on_update(self)
        finally:
            if ahead is not None:
                ahead.cancel()

    def _is_new_document(self, message: Message) -> TypeGuard[WholeDocument]:
        return (
            isinstance(message, WholeDocument)
            and self._have_received
            and self.board.digests.get(message.id) != message.digest
        )

    async def _handle(self, message: Message) -> None:
        match message:
            case Have(docs=docs) if not self._have_received:
                self._have_received = True
                self.peer_digests = dict(docs)
                mine = self.board.digests
                self.pending = {d for d in mine.keys() | docs.keys() if mine.get(d) != docs.get(d)}
                self._dirty |= {d for d in self.pending if d in mine and d not in docs}
                self._spread({d for d in self.pending if d in mine and d in docs})
                self._active = True
            case Have(docs=docs):
                self.peer_digests.update(docs)
                for doc_id in docs:
                    self._recheck(doc_id)
                self._active = True
            case WholeDocument(id=doc_id, data=data, digest=digest) if (
                self._have_received and self.board.digests.get(doc_id) == digest
            ):
                # Already identical (another peer sent it first): nothing to merge or write.
                self.peer_digests[doc_id] = self._told[doc_id] = digest
                self._recheck(doc_id)
                self._active = True
            case WholeDocument():
                await self._merge_documents([message])
            case Sync(id=doc_id, data=data, digest=digest):
                state = self._states.get(doc_id)
                if state is None:
                    state = self._states[doc_id] = await self.db.new_sync_state()
                signed = Signed(data, message.signatures, message.keys)
                await self._commit(doc_id, digest, self.db.receive_sync_message, state, signed)
                self._dirty.add(doc_id)
            case Synced():
                if self.in_sync:
                    self.last_sync = time.time()
            case Ping():
                self._queue_control(Pong())
            case Pong():
                pass
            case Bye(reason=reason):
                raise Closed(CloseReason.PEER_CLOSED, f"peer said {reason!r}")
            case Hello():
                raise Closed(CloseReason.PROTOCOL_VIOLATION, "a second hello")
        self._wake.set()
        self.on_update(self)

    async def _merge_documents(self, batch: list[WholeDocument]) -> None:
        """Commit whole documents from the peer in one transaction, then tell the node."""
        if not self._have_received:
            raise Closed(CloseReason.PROTOCOL_VIOLATION, "a document before have")
        board_id = self.board.board_id
        changed, refused = await self.db.apply_saved_documents(
            board_id, [(m.id, Signed(m.data, m.signatures, m.keys)) for m in batch]
        )
        self.board.digests.update(changed)
        if changed:
            self.on_change(self, set(changed))
        if refused is not None:
            raise _refusal(refused)
        for m in batch:
            self.peer_digests[m.id] = m.digest
            if self.board.digests.get(m.id) == m.digest:
                self._told[m.id] = m.digest  # the sender assumes we now hold what it sent
            self._recheck(m.id)
        self.received_docs += len(batch)
        self._active = True

    async def _commit(self, doc_id: str, digest: bytes, apply: Any, *args: Any) -> None:
        """Hand peer bytes to the store (which commits them) and tell the node what changed."""
        if not self._have_received:
            raise Closed(CloseReason.PROTOCOL_VIOLATION, "a document before have")
        try:
            changed, new_digest = await apply(self.board.board_id, doc_id, *args)
        except DamagedDocument as exc:  # TooLarge and refused changes included
            raise _refusal(exc) from None
        self.peer_digests[doc_id] = digest
        self._active = True
        if changed:
            self.board.digests[doc_id] = new_digest
            self.on_change(self, {doc_id})
        self._recheck(doc_id)

    def _recheck(self, doc_id: str) -> None:
        if not self._have_received:
            return
        if self.board.digests.get(doc_id) != self.peer_digests.get(doc_id):
            self.pending.add(doc_id)
        else:
            self.pending.discard(doc_id)

    def _queue_control(self, message: Message) -> None:
        if len(self._control) >= MAX_CONTROL_QUEUE:
            raise Closed(CloseReason.PROTOCOL_VIOLATION, "too many pings")
        self._control.append(message)

    async def _pump_loop(self) -> None:
        while True:
            # Cleared before looking for work, so an event during the awaits below is not lost.
            self._wake.clear()
            if self._closing is not None:
                raise self._closing
            if time.monotonic() - self._last_sent >= self.timing.ping_every:
                self._control.append(Ping())  # even while busy, so the peer hears from us
            while self._control:
                await self._send(self._control.pop(0))
            pushing = self._have_received and not self._held_back()
            if pushing and (self._relaying or self._dirty):
                await self._probe_if_unheard()
            if self._relaying and pushing:
                await self._tell_relayed()
            if self._dirty and pushing:
                batch = [self._dirty.pop() for _ in range(min(BATCH, len(self._dirty)))]
                for message in await self._prepare(batch):
                    await self._send(message)
                continue
            if self._active and self.in_sync:
                self._active = False
                self.last_sync = time.time()
                await self._send(Synced(len(self.board.digests)))
                # One line per quiet spell would be one per document under a flood.
                loud = time.monotonic() - self._last_logged >= SYNC_LOG_EVERY
                if loud:
                    self._last_logged = time.monotonic()
                log.log(
                    logging.INFO if loud else logging.DEBUG,
                    "synced board %s with %s: %d documents here, %d received",
                    self.board.board_id[:8],
                    self._who(),
                    len(self.board.digests),
                    self.received_docs,
                )
                self.on_update(self)
                continue
            now = time.monotonic()
            wait = self.timing.ping_every - (now - self._last_sent)
            if self._relaying and pushing:
                wait = min(wait, min(self._relaying.values()) - now)
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, never wait_for: on 3.11 wait_for swallows a cancellation
                # that arrives as the event is set, and a closed session would run on.
                async with asyncio.timeout(max(0.0, wait)):
                    await self._wake.wait()

    def _held_back(self) -> bool:
        """Whether the peer left a probe unanswered for `hold_after`: push nothing until heard."""
        if self._probe_sent is None:
            return False
        return time.monotonic() - self._probe_sent > self.timing.hold_after

    async def _probe_if_unheard(self) -> None:
        now = time.monotonic()
        if self._probe_sent is None and now - self._last_heard > self.timing.hold_after:
            self._probe_sent = now
            await self._send(Ping())

    async def _tell_relayed(self) -> None:
        """Our new digests of relayed documents go out at once; the changes, when due."""
        mine = self.board.digests
        untold = {d: mine[d] for d in self._relaying if d in mine and mine[d] != self._told.get(d)}
        if untold:
            self._told.update(untold)
            await self._send(Have(untold))
        now = time.monotonic()
        for doc_id, due in list(self._relaying.items()):
            if due <= now:
                del self._relaying[doc_id]
                self._dirty.add(doc_id)  # skipped in _prepare if the peer holds it by now

    async def _prepare(self, doc_ids: list[str]) -> list[Message]:
        """The messages that bring the peer up to date on these documents (one db trip)."""
        mine = self.board.digests
        plan: list[tuple[str, str, Any]] = []
        for doc_id in doc_ids:
            digest = mine.get(doc_id)
            if digest is None:
                continue
            state = self._states.get(doc_id)
            theirs = self.peer_digests.get(doc_id)
            if theirs == digest:
                continue
            if state is None and theirs is None:
                plan.append(("doc", doc_id, None))
                self.peer_digests[doc_id] = digest
                self.sent_docs += 1
            else:
                if state is None:
                    state = self._states[doc_id] = await self.db.new_sync_state()
                plan.append(("sync", doc_id, state))
            self._recheck(doc_id)
        out: list[Message] = []
        prepared, done = await self.db.prepare(self.board.board_id, plan) if plan else ([], 0)
        for kind, doc_id, _ in plan[done:]:  # left for the next batch
            self._dirty.add(doc_id)
            if kind == "doc":
                del self.peer_digests[doc_id]
                self.sent_docs -= 1
            self._recheck(doc_id)
        doc_ids = [doc_id for doc_id in doc_ids if doc_id not in self._dirty]
        for kind, doc_id, signed in prepared:
            digest = self._told[doc_id] = mine[doc_id]
            parts = (doc_id, signed.data, digest, signed.signatures, signed.keys)
            out.append(WholeDocument(*parts) if kind == "doc" else Sync(*parts))
            self._active = True
        # Automerge may have nothing to say after taking the peer's changes; the peer still
        # learns our new digest, so that both sides can tell they are in sync.
        untold = {d: mine[d] for d in doc_ids if d in mine and mine[d] != self._told.get(d)}
        if untold:
            self._told.update(untold)
            out.append(Have(untold))
        return out

    async def _watchdog(self) -> None:
        while True:
            silent = time.monotonic() - self._last_heard
            if silent > self.timing.silence_limit:
                raise Closed(CloseReason.TIMEOUT, f"nothing heard for {silent:.0f} s")
            await asyncio.sleep(min(1.0, self.timing.silence_limit / 4))

    async def _send(self, message: Message) -> None:
        async with asyncio.timeout(self.timing.silence_limit):
            await self.channel.send(message)
        self._last_sent = time.monotonic()

    async def _finish(self) -> None:
        closed = self._closing or Closed(CloseReason.LOCAL_ERROR)
        self.close_reason, self.close_detail = closed.reason, closed.detail
        if closed.reason not in (CloseReason.PEER_CLOSED, CloseReason.TIMEOUT):
            # The channel may already be broken; the reason is logged below either way.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self.channel.send(Bye(closed.reason.value))
        await self.channel.aclose()
        level = logging.INFO if closed.reason in _ORDINARY else logging.WARNING
        log.log(level, "closed %s: %s %s", self._who(), closed.reason.value, closed.detail)
        self._done.set()
        self.on_update(self)

    def _who(self) -> str:
        name = self.peer.name if self.peer else "?"
        return f"{name} ({self.remote_device[:8]})"


_ORDINARY = {CloseReason.SHUTDOWN, CloseReason.PEER_CLOSED, CloseReason.DUPLICATE}


def _refusal(exc: DamagedDocument) -> Closed:
    """The close reason for a peer's document or sync message the store refused."""
    if isinstance(exc, TooLarge):
        return Closed(CloseReason.TOO_LARGE, str(exc))
    if isinstance(exc, BadSignature):
        return Closed(CloseReason.BAD_SIGNATURE, str(exc))
    if isinstance(exc, ForbiddenChange):
        return Closed(CloseReason.FORBIDDEN_CHANGE, str(exc))
    return Closed(CloseReason.DAMAGED_DOCUMENT, str(exc))
