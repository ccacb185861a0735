"""One connection's session: greets, feeds what the peer sends to `decide`, does what it says."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from ..errors import BadSignature, DamagedDocument, ForbiddenChange, PotluckError, ProtocolError
from ..model.chunks import sync_message_carries_changes
from ..model.measure import TooLarge
from ..model.signing import Signed
from ..storage.thread import StoreThread
from .board_sync import BoardSync
from .channel import Channel, PeerClosed
from .framing import FrameError, OversizedMessage
from .messages import (
    PROTOCOL_VERSIONS,
    Bye,
    CloseReason,
    Hello,
    Message,
    Synced,
    UnknownType,
    WholeDocument,
    choose_version,
)
from .sync import (
    Action,
    Apply,
    Close,
    DocumentsMerged,
    Event,
    Merge,
    PeerState,
    Prepare,
    Prepared,
    Received,
    Send,
    Sent,
    Spread,
    Started,
    SyncApplied,
    Tick,
    Timing,
    answering,
    cut_off,
    decide,
    in_sync,
    pending,
    wake_at,
)

__all__ = ["CloseReason", "Closed", "Session", "Timing"]

log = logging.getLogger(__name__)

MERGE_BATCH_BYTES = 4 * 1024 * 1024
"""Whole documents that have already arrived are merged in one transaction, up to these bytes
(and `Timing.merge_batch` documents)."""
SYNC_LOG_EVERY = 10.0
"""Seconds between two "synced" log lines of one connection (the rest go to debug)."""


class Closed(Exception):
    """Ends a session's tasks with a reason."""

    def __init__(self, reason: CloseReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


class Session:
    """Runs the protocol for one board with one peer: the hello exchange, then every message
    into `sync.decide` and every action it returns carried out. It decides nothing itself.

    Invariants:
    1. Every change from the peer is committed (by the store thread) before `decide` hears of
       it, so nothing sent or relayed depends on an uncommitted change.
    2. Two tasks: the reader commits what the peer sends, in order, before reading on; the
       sender is the only one that writes to the channel (a slow peer blocks only its own
       session), and the reader never waits on it, so two sessions never wait on each other.
    3. The sync state lives in `state` alone, changed only by `decide`.
    """

    def __init__(
        self,
        channel: Channel,
        board: BoardSync,
        db: StoreThread,
        hello: Hello,
        *,
        timing: Timing | None = None,
        on_update: Callable[[Session], None] = lambda session: None,
    ) -> None:
        self.channel = channel
        self.board = board
        self.db = db
        self.local_hello = hello
        self.on_update = on_update
        self.peer: Hello | None = None
        self.version: int | None = None
        self.connected_since = time.time()
        now = time.monotonic()
        self._started = now
        self.state = PeerState(timing or Timing(), last_heard=now, last_sent=now)
        self.close_reason: CloseReason | None = None
        self.close_detail = ""
        self._wake = asyncio.Event()
        self._status: tuple[bool, bool, int] | None = None
        self._last_logged = -SYNC_LOG_EVERY
        self._closing: Closed | None = None
        self._done = asyncio.Event()
        self._close_requested = asyncio.Event()

    # ------------------------------------------------------------ public

    @property
    def remote_device(self) -> str:
        return self.channel.remote_device

    @property
    def timing(self) -> Timing:
        return self.state.timing

    @property
    def in_sync(self) -> bool:
        """The peer confirmed every document we hold, and nothing waits either way."""
        return in_sync(self.state)

    @property
    def pending(self) -> int:
        """Documents we hold that the peer has not confirmed."""
        return pending(self.state)

    @property
    def expected(self) -> int:
        """Documents the peer held that we lacked or held otherwise when its inventory became
        known: what this connection's catch-up brings (0 until then)."""
        return self.state.expected

    @property
    def arrived(self) -> int:
        """How many of the `expected` we now hold as the peer does (at most `expected`)."""
        return self.state.arrived

    @property
    def last_sync(self) -> float | None:
        """When the peer last confirmed everything (epoch seconds), if it has."""
        return _wall(self.state.last_sync)

    @property
    def last_heard(self) -> float:
        """When anything last arrived from the peer (epoch seconds)."""
        return time.time() - (time.monotonic() - self.state.last_heard)

    @property
    def cut_off(self) -> bool:
        """Whether the peer counts as on the other side of a cut: held back or heard again
        lately, or connected lately (after a cut the connections did not survive) and still
        bringing what it held that we lacked. Once that has arrived, the peer is on our side
        (a mesh just formed is one side: a cut soon after is seen as any other)."""
        now = time.monotonic()
        state = self.state
        apart = not state.heard_have or bool(state.expecting)
        return (now - self._started < self.timing.cut_memory and apart) or cut_off(state, now)

    @property
    def answering(self) -> bool:
        """False when changes have waited on the peer, and it has been silent, for a while."""
        return answering(self.state, time.monotonic())

    def feed(self, event: Event) -> None:
        """An event from the board (a change elsewhere): decided now, acted on by the sender."""
        actions = self._decide(event)
        assert not actions, actions  # decide's invariant 6
        self._wake.set()

    async def run(self) -> CloseReason:
        """Greet, reconcile, then follow changes until the connection ends; returns why."""
        self.board.attach(self)
        try:
            await self._greet()
            self.on_update(self)
            # One side leads the reconciliation (§5.3); both tell which from the device ids.
            lead = self.local_hello.device < self.remote_device
            started = Started(self.board.digests, lead, self.local_hello.device)
            await self._carry_out(self._decide(started))
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
        # Versions first: a version 1 peer certified no device key, so its hello cannot match.
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
                actions = self._decide(Received(message))
                match actions:
                    case [Merge(message=first)]:
                        batch = [first]
                        size = len(first.data)
                        then: list[Action] = []
                        # Copies already held count too, so that a peer sending them without
                        # end cannot hold the batch open.
                        for _ in range(2 * self.timing.merge_batch):
                            if len(batch) >= self.timing.merge_batch or size >= MERGE_BATCH_BYTES:
                                break
                            ahead = asyncio.ensure_future(self.channel.receive())
                            await asyncio.sleep(0)  # a message already buffered is decoded now
                            if not ahead.done() or ahead.exception() is not None:
                                break
                            following = ahead.result()
                            if not isinstance(following, WholeDocument):
                                break  # handled in its turn, after the batch
                            ahead = None
                            then = self._decide(Received(following))
                            match then:
                                case [Merge()]:
                                    then = []
                                    batch.append(following)
                                    size += len(following.data)
                                case []:
                                    # Held already, another peer's copy first: the batch goes
                                    # on, so that a catch-up from several peers at once is not
                                    # merged a few documents a transaction.
                                    pass
                                case _:
                                    break  # carried out after the batch
                        await self._merge(batch)
                        await self._carry_out(then)
                    case _:
                        await self._carry_out(actions)
                self._wake.set()
                self.on_update(self)
        finally:
            if ahead is not None:
                ahead.cancel()

    async def _pump_loop(self) -> None:
        """The sender: whenever woken or a timer is due, ask `decide` and do what it says."""
        while True:
            # Cleared before looking for work, so an event during the awaits below is not lost.
            self._wake.clear()
            if self._closing is not None:
                raise self._closing
            actions = self._decide(Tick(self.channel.stalled()))
            if actions:
                await self._carry_out(actions)
                continue
            now = time.monotonic()
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, never wait_for: on 3.11 wait_for swallows a cancellation
                # that arrives as the event is set, and a closed session would run on.
                async with asyncio.timeout(max(0.0, wake_at(self.state, now) - now)):
                    await self._wake.wait()

    # ------------------------------------------------------------ carrying out

    def _decide(self, event: Event) -> list[Action]:
        now = time.monotonic()
        actions = decide(self.state, event, now)
        # What a peer list shows; the sender wakes when `answering` is due to turn.
        status = (self.state.settled, answering(self.state, now), len(self.state.unsettled))
        if status != self._status:
            self._status = status
            self.on_update(self)
        return actions

    async def _carry_out(self, actions: list[Action]) -> None:
        """Do what `decide` said, in order."""
        for action in actions:
            match action:
                case Send(message=message):
                    await self._send(message)
                    if isinstance(message, Synced):
                        self._log_synced()
                        self.on_update(self)
                case Prepare(batch=batch, plan=plan):
                    messages, done = await self.db.prepare(self.board.board_id, list(plan))
                    prepared = Prepared(batch, plan, tuple(messages), done)
                    await self._carry_out(self._decide(prepared))
                case Merge(message=message):
                    await self._merge([message])
                case Apply(message=message, state=sync_state):
                    signed = Signed(message.data, message.signatures, message.keys)
                    try:
                        version = await self.db.receive_sync_message(
                            self.board.board_id, message.id, sync_state, signed
                        )
                    except DamagedDocument as exc:  # TooLarge and refused changes included
                        raise _refusal(exc) from None
                    if version is not None:
                        version = self.board.committed(self, {message.id: version})[message.id]
                    asks = not sync_message_carries_changes(message.data)
                    applied = SyncApplied(message.id, message.digest, version, asks)
                    await self._carry_out(self._decide(applied))
                case Spread(doc_ids=doc_ids):
                    self.board.spread(self, doc_ids)
                case Close(reason=reason, detail=detail):
                    raise Closed(reason, detail)

    async def _merge(self, batch: list[WholeDocument]) -> None:
        """Commit whole documents from the peer in one transaction; the board relays them."""
        changed, refused = await self.db.apply_saved_documents(
            self.board.board_id, [(m.id, Signed(m.data, m.signatures, m.keys)) for m in batch]
        )
        if changed:
            changed = self.board.committed(self, changed)
        if refused is not None:
            raise _refusal(refused)
        self._decide(DocumentsMerged({m.id: m.digest for m in batch}, changed, len(batch)))

    def _log_synced(self) -> None:
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
            self.state.received_docs,
        )

    async def _watchdog(self) -> None:
        while True:
            silent = time.monotonic() - self.state.last_heard
            if silent > self.timing.silence_limit:
                raise Closed(CloseReason.TIMEOUT, f"nothing heard for {silent:.0f} s")
            await asyncio.sleep(min(1.0, self.timing.silence_limit / 4))

    async def _send(self, message: Message) -> None:
        async with asyncio.timeout(self.timing.silence_limit):
            await self.channel.send(message)
        self._decide(Sent(message))

    async def _finish(self) -> None:
        self.board.detach(self)
        closed = self._closing or Closed(CloseReason.LOCAL_ERROR)
        self.close_reason, self.close_detail = closed.reason, closed.detail
        if closed.reason not in (CloseReason.PEER_CLOSED, CloseReason.TIMEOUT):
            # The channel may already be broken; the reason is logged below either way.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self.channel.send(Bye(closed.reason.value))
        await self.channel.aclose()
        level = logging.INFO if closed.reason in _ORDINARY else logging.WARNING
        log.log(
            level,
            "closed %s: %s %s (%d documents merged from it, %d sent to it whole)",
            self._who(),
            closed.reason.value,
            closed.detail,
            self.state.received_docs,
            self.state.sent_docs,
        )
        self._done.set()
        self.on_update(self)

    def _who(self) -> str:
        name = self.peer.name if self.peer else "?"
        return f"{name} ({self.remote_device[:8]})"


def _wall(monotonic: float | None) -> float | None:
    """A time.monotonic() reading as epoch seconds (for people, and for other processes)."""
    return None if monotonic is None else time.time() - (time.monotonic() - monotonic)


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
