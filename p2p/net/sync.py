"""The sync decision for one board with one peer: a record per document, and one pure `decide`."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model.automerge import SyncState
from ..model.signing import Signed
from ..storage.documents import Version
from .messages import (
    Bye,
    CloseReason,
    Have,
    Hello,
    Message,
    Ping,
    Pong,
    Reconcile,
    Sync,
    Synced,
    WholeDocument,
)
from .reconcile import BRANCH, LIST_MAX, ReconcileError, Reconciler

__all__ = [
    "BATCH",
    "MAX_CONTROL_QUEUE",
    "MERGE_BATCH",
    "Action",
    "Apply",
    "Close",
    "DocRecord",
    "DocumentsMerged",
    "Event",
    "Merge",
    "OursChanged",
    "PeerState",
    "Prepare",
    "Prepared",
    "Received",
    "Scheduled",
    "Send",
    "Sent",
    "Spread",
    "Started",
    "SyncApplied",
    "Tick",
    "Timing",
    "Version",
    "answering",
    "cut_off",
    "decide",
    "held_back",
    "in_sync",
    "merges",
    "paused",
    "pending",
    "quiet",
    "spread_score",
    "wake_at",
]

BATCH = 64
"""Documents prepared per trip to the store thread."""
MERGE_BATCH = 64
"""Whole documents that have already arrived are merged in one transaction, up to this many
(the session's reader)."""
MAX_CONTROL_QUEUE = 64
"""Pongs owed at once; a peer that makes more is flooding us."""


@dataclass(frozen=True)
class Timing:
    """Keep-alive and timeouts (seconds), how reconciliation splits ranges, and how many
    arrived documents are merged at once; tests shrink them."""

    ping_every: float = 15.0
    silence_limit: float = 45.0
    relay_delay: float = 0.25
    """A change from one peer goes on to the others after this (×0.5–1.5, and once more for
    each device placed before ours in the document's order), unless they say first that they
    hold it: in a mesh most have it from its author by then (or, after a cut, from the device
    that carried it across, which pushes it to every peer as its author would)."""
    probe_after: float = 0.25
    """A peer silent this long gets a ping with the next push, and no `doc` or `sync` follows
    until something arrives: on a live link that is one round trip; on a dead one, the changes
    wait merged here instead of queueing on it (a relayed change is due only to peers that
    have not said within the relay wait that they hold it, so such a peer is often cut off)."""
    tell_gather: float = 0.05
    """Our new digests of relayed documents wait this long to go in one `have` (or go sooner
    with anything else written to the peer): while a mesh heals, a node commits changes from
    its peers ms apart, and each `have` alone would be a TCP segment and an acknowledgement.
    A relay waits longer (`relay_delay`), so the peers still hear before theirs."""
    tell_for: float = 1.0
    """While a ping of ours is unanswered, `have` updates still go this long (a busy peer,
    told our digests, does not push us what we hold); on a dead link they would only wait."""
    hold_after: float = 3.0
    """A ping unanswered this long holds the peer back (or sooner, once the socket says the
    link is cut: `stall_check`): what waited goes, once the peer is heard again and has
    answered a ping, in the board's spread (after a cut that the connection survived); and a
    peer silent this long while something waits on it is not `answering`."""
    stall_check: float = 0.25
    """While a ping of ours is unanswered, the socket is asked this often whether what we
    wrote is acknowledged: a busy peer's kernel acknowledges it, across a cut nothing is, and
    the peer is held back at once (a cut of a few seconds is spread after, as a long one)."""
    cut_memory: float = 30.0
    """A peer heard again after being held back, or a connection this young whose catch-up
    (what the peer held that we lacked when it began) has not all arrived, counts this long as
    on the other side of a cut (the board's spread ranks only our side)."""
    branch: int = BRANCH
    """Reconciliation (PROTOCOL.md §5.3): a range whose fingerprints differ splits in this
    many parts, …"""
    list_max: int = LIST_MAX
    """… unless we hold at most this many documents in it: then they go as a list."""
    merge_batch: int = MERGE_BATCH
    """Whole documents from the peer merged in one transaction at most (a test that watches
    a catch-up go by makes it take many small steps)."""


# ---------------------------------------------------------------- the record


@dataclass(slots=True)
class DocRecord:
    """Everything one connection knows about one document: the only place it is kept."""

    ours: Version | None = None
    """Our digest, with the commit it is of; replaced only by a newer version."""
    theirs: bytes | None = None
    """The peer's digest as last heard: its `have`, or the label of its `sync` or `doc`."""
    sent: bytes | None = None
    """The digest of the whole document we sent the peer (it has not said what it holds)."""
    told: bytes | None = None
    """Our digest as the peer has it from us (invariant 2)."""
    dirty: bool = False
    """A push is due at the next chance: a local change, or a message of the peer to answer."""
    relay_due: float | None = None
    """When to push a change another peer brought, or one spread when the connection began."""
    sync: SyncState | None = None
    """The automerge sync state with this peer, from the first time the document needs one."""
    spoke: bytes | None = None
    """The label of the peer's last sync message: its digest as `sync` last heard of it."""
    pushed: float | None = None
    """When we last pushed the document to the peer as a sync message."""
    asked_across: bool = False
    """The peer's last `sync` only asked, from across a cut, and waits for our turn in the
    spread: by then the peer has mostly taken the changes from the best placed device of our
    side, without telling us (invariant 4)."""

    @property
    def assumed(self) -> bytes | None:
        """What the peer holds as far as pushing goes: what it said, else what we sent it."""
        return self.theirs if self.theirs is not None else self.sent


@dataclass(eq=False)
class PeerState:
    """One connection's sync state: a record per document, and what it knows of the peer.

    `dirty`, `relaying`, `differ`, `unsettled`, `unconfirmed`, `known`, `unheard`, and `held`
    are indexes of the records, so that a decision costs what it touches rather than the size
    of the board; `_index` alone keeps them."""

    timing: Timing
    last_heard: float
    """When anything last arrived from the peer (monotonic seconds)."""
    last_sent: float
    """When we last wrote anything to the peer."""
    docs: dict[str, DocRecord] = field(default_factory=dict)
    heard_have: bool = False
    """The peer's inventory is known: reconciled, or its full `have` arrived."""
    reconciler: Reconciler | None = None
    """The reconciliation of our inventory with the peer's, until it is done."""
    device: str = ""
    """`Started.device`."""
    reconcile_out: Reconcile | Have | None = None
    """Our answer in the reconciliation (or our full `have`, to a peer that opened with its
    own), for the sender to write next."""
    active: bool = False
    """Something was exchanged since our last `synced`."""
    probe_sent: float | None = None
    """When we pinged a peer that had been silent, if nothing has been heard since."""
    cut_seen: bool = False
    """Since that ping, the socket said what we wrote is not acknowledged: a cut, not a busy
    peer (`held_back` at once)."""
    tell_due: float | None = None
    """When the `have` of our new digests of relayed documents is due (`tell_gather`)."""
    released: bool = False
    """A peer we held back was heard again: what waited on it is spread (invariant 8)."""
    rejoined: bool = False
    """Released, and the peer has since answered a ping: it reads what we write again."""
    rejoin_pinged: bool = False
    """Released, and we pinged the peer to learn that it reads what we write."""
    cut_at: float | None = None
    """When the peer, held back, was last heard again: for a while after, it counts as on
    the other side of a cut (`cut_off`)."""
    pongs_owed: int = 0
    settled: bool = False
    """`in_sync` as of the last decision."""
    last_sync: float | None = None
    """When the peer last confirmed everything (the status turned in sync, or its `synced`
    arrived while in sync)."""
    waiting_since: float | None = None
    """Since when something has waited on the peer (the status has not been in sync)."""
    received_docs: int = 0
    sent_docs: int = 0
    expected: int = 0
    """Documents the peer's inventory held that we lacked or held in another version when it
    became known: what this connection's catch-up brings."""
    arrived: int = 0
    """How many of the `expected` the peer has since confirmed we hold as it does (never more
    than `expected`)."""
    expecting: set[str] = field(default_factory=set)
    """The `expected` that have not arrived yet."""
    held: int = 0
    """Documents we hold (records with `ours`)."""
    dirty: dict[str, None] = field(default_factory=dict)
    """Records with `dirty`, oldest first."""
    relaying: dict[str, float] = field(default_factory=dict)
    """Records with `relay_due`."""
    differ: set[str] = field(default_factory=set)
    """Records whose `ours` differs from `assumed`: a push may be due."""
    unsettled: set[str] = field(default_factory=set)
    """Records whose `ours` differs from `theirs`: not confirmed by the peer."""
    unconfirmed: set[str] = field(default_factory=set)
    """The `unsettled` we hold (`pending`, counted on every update of a peer list)."""
    known: set[str] = field(default_factory=set)
    """Records the peer holds for sure, once it has read what we sent: `theirs` or `sent`."""
    unheard: set[str] = field(default_factory=set)
    """Records sent whole that the peer has said nothing of (`sent` without `theirs`)."""


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Started:
    """The greeting is done: reconcile every document we hold (the board's `ours`) with the
    peer's; `lead` on one side of the connection only (PROTOCOL.md §5.3)."""

    ours: Mapping[str, Version]
    lead: bool = False
    device: str = ""
    """Our device id, which orders what the peer lacks (`spread_score`): each of a newcomer's
    peers sends it its catch-up in another order, so that most documents reach it once and
    the others hear it holds them before sending them too."""


@dataclass(frozen=True)
class Received:
    """A message arrived from the peer."""

    message: Message


@dataclass(frozen=True)
class DocumentsMerged:
    """Whole documents from the peer were committed: the digest each was sent with, and the
    version committed of each that changed here."""

    theirs: Mapping[str, bytes]
    ours: Mapping[str, Version]
    count: int


@dataclass(frozen=True)
class SyncApplied:
    """A sync message from the peer was committed: its label, and the version committed
    (None when it changed nothing here)."""

    doc_id: str
    theirs: bytes
    ours: Version | None
    asks: bool = False
    """It carried no change, only the peer's heads and summary (as a fresh sync state's
    first message does): the peer waits for our answer to send what we lack."""


@dataclass(frozen=True)
class OursChanged:
    """Documents of the board changed here: their newest versions. One committed by this
    device (any process) is pushed at once (`relay_due` None); one another peer brought is
    relayed at `relay_due`."""

    ours: Mapping[str, Version]
    relay_due: float | None = None


@dataclass(frozen=True)
class Scheduled:
    """When to push each document that differed on both sides as the connection began (the
    board decides, knowing its other peers); None for at once."""

    due: Mapping[str, float | None]


@dataclass(frozen=True)
class Tick:
    """The sender is free: what is due now?"""

    stalled: bool = False
    """What we wrote is not being acknowledged (the socket says so): the link may be cut."""


@dataclass(frozen=True)
class Prepared:
    """The store thread prepared a `Prepare`: the messages, each with the version its data was
    read at, and how many plan entries it got through (the rest wait for the next batch)."""

    batch: tuple[str, ...]
    plan: tuple[tuple[str, SyncState | None], ...]
    messages: tuple[tuple[str, Signed | bytes, Version], ...]
    """(id, data with the signatures of the changes it carries, version read at)."""
    done: int


@dataclass(frozen=True)
class Sent:
    """A message went out."""

    message: Message


Event = (
    Started
    | Received
    | DocumentsMerged
    | SyncApplied
    | OursChanged
    | Scheduled
    | Tick
    | Prepared
    | Sent
)


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Send:
    """Write this message to the peer."""

    message: Message


@dataclass(frozen=True)
class Prepare:
    """In one trip to the store thread, read each planned document whole (no sync state) or
    generate its next sync message; then report `Prepared`. `batch` is every document this
    push looked at, planned or not."""

    batch: tuple[str, ...]
    plan: tuple[tuple[str, SyncState | None], ...]


@dataclass(frozen=True)
class Merge:
    """Commit this whole document from the peer (with any that follow it), then report
    `DocumentsMerged`."""

    message: WholeDocument


@dataclass(frozen=True)
class Apply:
    """Commit this sync message with this sync state, then report `SyncApplied`."""

    message: Sync
    state: SyncState


@dataclass(frozen=True)
class Spread:
    """Ask the board when to push these documents, which differ on both sides; it reports
    `Scheduled`."""

    doc_ids: frozenset[str]


@dataclass(frozen=True)
class Close:
    """End the connection."""

    reason: CloseReason
    detail: str = ""


Action = Send | Prepare | Merge | Apply | Spread | Close


# ---------------------------------------------------------------- the decision


def decide(state: PeerState, event: Event, now: float) -> list[Action]:
    """Update `state` with what happened, and say what to do about it.

    Pure in what matters: no I/O, no clock but `now`, no randomness; it changes `state` (in
    place: copying a board's records per event would cost more than the decision) and nothing
    else. The session feeds every event here and carries out the actions in order; the board
    (`BoardSync`) feeds the changes other connections and processes make. Invariants:

    1. `ours` changes only to a version the store thread returned with the commit that made it
       or with data it read, and only to a newer one (higher `seq`): a value read late never
       replaces a later one.
    2. A `doc` or `sync` carries the digest of the version its data was read at (one store
       transaction reads both). `told` is our digest as the peer has it from us: the last we
       put on the wire, or the one of a whole document it sent us when we had never told it
       anything of that document. A `have` of ours goes out only when it differs from `told`.
    3. `theirs` is the last digest heard from the peer for the document: its `have`, the label
       of its `sync` or `doc`, or, for a document we sent whole and it has not spoken of, the
       digest we sent once its `synced` counts at least every document we know it holds (so
       that a `synced` written before our document arrived confirms nothing). Nothing else
       writes it, and no decision undoes it: sending records `sent` beside it, never over it.
    4. There is at most one automerge sync state per document and connection: decided here,
       made here as an empty placeholder, filled by the store thread, kept until the end.
       A push marks it `stale` when the peer's digest as last heard is neither the label of
       its last `sync` (`spoke`) nor the digest we told it: its copy moved by other ways; and
       when it answers at its turn a `sync` that only asked from across a cut (`asked_across`).
    5. Nothing about documents is sent before the peer's inventory is known (reconciled,
       PROTOCOL.md §5.3, or its full `have`), and a `doc`, `sync` or `have` update from the
       peer before that, or a `reconcile` after it or out of turn, closes the connection
       (`protocol-violation`). Our answer in the reconciliation goes before anything else.
    6. Only `Tick` and `Prepared` (the sender's own events) produce messages to send; events
       of the reader and the board produce none, so one task writes to the channel and a slow
       peer stalls only its own connection.
    7. A document is pushed whole only when the peer has neither spoken of it nor been sent
       it and there is no sync state; otherwise as a sync message; never while `assumed`
       equals ours (then only a `have`, if the peer has not been told our digest).
    8. A peer silent for `probe_after` gets a ping with the next push, and no `doc` or `sync`
       goes until something is heard (`paused`), nor a `have` once the ping is `tell_for`
       old. If it was `hold_after` old by the time the peer is heard, or the socket said
       meanwhile that what we wrote is not acknowledged (`cut_seen`), nothing is
       pushed until the peer also answers a ping (it reads us again), and then what waited
       is spread by the board, as when a connection starts (`Spread`); otherwise it goes at
       once. While the socket says what we wrote is not acknowledged (`stalled`), only the
       ping goes, though the peer be heard (its older messages, read late).
    9. `synced` goes out once the connection turns `quiet` after activity: the peer's `have`
       arrived, every record's `assumed` equals `ours`, nothing dirty, nothing to relay.
    10. The indexes (`dirty`, `relaying`, `differ`, `unsettled`, `unconfirmed`, `known`,
        `unheard`, `held`) are exactly what the records say.
    11. No record is stuck: when `ours` differs from `theirs`, or we told the peer another
        digest than ours, the next push settles it, or the peer's does, or one is under way.
        (A whole document from the peer settles it only when we never told it another word
        of the document: a word of ours may cross it.)
    12. The status `in_sync` holds only when the peer's `have` arrived, every record is
        confirmed (`theirs` equals `ours`: by invariant 3, on the peer's word), and nothing is
        due to be pushed or relayed; `last_sync` is stamped only then, never when we send.
    13. The peer is `answering` unless something has waited on it (the status not in sync)
        for `hold_after` with nothing heard from it since the wait began.
    14. The catch-up: `expected` is fixed when the peer's inventory becomes known (what it
        held that we lacked or held otherwise); a document leaves `expecting` and counts in
        `arrived` the first time `ours` equals `theirs` (from this peer or any other), so
        `arrived` + len(`expecting`) == `expected` always: a counter, no walk over the board.
    """
    actions = _decide(state, event, now)
    _settle(state, now, isinstance(event, Received) and isinstance(event.message, Synced))
    return actions


def _decide(state: PeerState, event: Event, now: float) -> list[Action]:
    match event:
        case Received(message=message):
            return _received(state, message, now)
        case Tick(stalled=stalled):
            actions = _tick(state, now, stalled)
            # A stall right after a cut is its tail (each side's TCP retransmits on its own
            # timer), not a new cut to spread after.
            cut = stalled and paused(state) and not cut_off(state, now)
            state.cut_seen = state.cut_seen or cut
            return actions
        case Prepared():
            return _prepared(state, event, now)
        case Sent():
            state.last_sent = now
        case Started(ours=ours, lead=lead, device=device):
            state.waiting_since = now
            state.device = device
            for doc_id, version in ours.items():
                record = _record(state, doc_id)
                _set_ours(state, record, version)
                _index(state, doc_id, record)
            told = {}
            for doc_id, record in state.docs.items():
                if record.ours is not None:
                    record.told = told[doc_id] = record.ours.digest
            state.reconciler = Reconciler(
                told, lead=lead, branch=state.timing.branch, list_max=state.timing.list_max
            )
            return [Send(state.reconciler.opening())]
        case DocumentsMerged(theirs=theirs, ours=ours, count=count):
            for doc_id, version in ours.items():
                record = _record(state, doc_id)
                _set_ours(state, record, version)
                _answer(record)  # as any local change
                _index(state, doc_id, record)
            for doc_id, digest in theirs.items():
                _took_whole(state, doc_id, digest)
            state.received_docs += count
            state.active = True
        case SyncApplied(doc_id=doc_id, theirs=digest, ours=version, asks=asks):
            record = _record(state, doc_id)
            record.theirs = record.spoke = digest
            record.asked_across = False
            if version is not None:
                _set_ours(state, record, version)
            state.active = True
            if asks and cut_off(state, now) and not _answers_us(state, record):
                # Across a cut, the peer asks every device of our side at once (it pushes to
                # each, as its author would): answered at once, each would send it the same
                # changes. The board's spread orders the answers: the best placed of our side
                # answers at once, each of the others in its turn, once the peer holds them.
                record.asked_across = True
                _index(state, doc_id, record)
                return [Spread(frozenset({doc_id}))]
            if asks:
                record.dirty = True  # nothing to cross a cut again: the peer waits on us
            else:
                _answer(record)  # automerge may have more to say
            _index(state, doc_id, record)
        case OursChanged(ours=ours, relay_due=due):
            for doc_id, version in ours.items():
                record = _record(state, doc_id)
                _set_ours(state, record, version)
                if due is None:
                    record.dirty = True
                elif record.relay_due is None:
                    record.relay_due = due
                _index(state, doc_id, record)
            if due is not None and state.tell_due is None:
                state.tell_due = now + state.timing.tell_gather
        case Scheduled(due=scheduled):
            for doc_id, when in scheduled.items():
                record = _record(state, doc_id)
                if when is None:
                    record.dirty = True
                    record.asked_across = False  # the best placed answers with the changes
                elif record.relay_due is None:
                    record.relay_due = when
                _index(state, doc_id, record)
    return []


def in_sync(state: PeerState) -> bool:
    """The status (invariant 12): the peer confirmed every document, nothing waits."""
    return state.heard_have and not state.unsettled and not state.dirty and not state.relaying


def quiet(state: PeerState) -> bool:
    """Quiet as far as pushing goes (invariant 9): when our `synced` is due."""
    return state.heard_have and not state.differ and not state.dirty and not state.relaying


def spread_score(doc_id: str, device: str) -> bytes:
    """A device's place in the orders a document goes in (the same on every device): a
    catch-up's, and the spread's after a cut (`BoardSync.spread`)."""
    data = f"{doc_id}\n{device}".encode()
    return hashlib.blake2b(data, digest_size=8, person=b"potluck-spread").digest()


def pending(state: PeerState) -> int:
    """Documents we hold that the peer has not confirmed."""
    return len(state.unconfirmed)


def answering(state: PeerState, now: float) -> bool:
    """Invariant 13: false when changes have waited on a peer that has gone silent."""
    since = _silent_since(state)
    return since is None or now - since <= state.timing.hold_after


def paused(state: PeerState) -> bool:
    """Whether a probe of ours is unanswered: push nothing until the peer is heard."""
    return state.probe_sent is not None


def cut_off(state: PeerState, now: float) -> bool:
    """Whether the peer is held back, or was heard again after being held back within
    `cut_memory`: on the other side of a cut, as far as the spread goes."""
    recent = state.cut_at is not None and now - state.cut_at < state.timing.cut_memory
    return recent or held_back(state, now)


def _telling(state: PeerState, now: float) -> bool:
    """Whether our digests still go to a peer that has not answered our ping (`tell_for`)."""
    return state.probe_sent is None or now - state.probe_sent <= state.timing.tell_for


def held_back(state: PeerState, now: float) -> bool:
    """Whether the peer left a probe unanswered for `hold_after`, or while the socket said
    the link is cut: what waits on it is spread when it is heard again."""
    if state.probe_sent is None:
        return False
    return state.cut_seen or now - state.probe_sent > state.timing.hold_after


def merges(state: PeerState, message: Message) -> bool:
    """Whether `decide` answers this message with `Merge` (so the reader may batch it with
    the whole documents before it): a whole document that differs from ours, after `have`."""
    if not isinstance(message, WholeDocument) or not state.heard_have:
        return False
    record = state.docs.get(message.id)
    return record is None or record.ours is None or record.ours.digest != message.digest


def wake_at(state: PeerState, now: float) -> float:
    """When a `Tick` next has something to do, or the peer stops `answering`, if no event
    comes first."""
    when = state.last_sent + state.timing.ping_every
    if state.reconcile_out is not None:
        return now
    if state.relaying and state.heard_have and not state.released:
        if not paused(state):
            when = min(when, min(state.relaying.values()))
        if state.tell_due is not None and (not paused(state) or _telling(state, now)):
            when = min(when, state.tell_due)
    since = _silent_since(state)
    if since is not None and now - since <= state.timing.hold_after:
        when = min(when, since + state.timing.hold_after + 0.01)
    if paused(state) and not held_back(state, now):
        when = min(when, now + state.timing.stall_check)  # is the link cut?
    return when


# ---------------------------------------------------------------- the parts


def _received(state: PeerState, message: Message, now: float) -> list[Action]:
    if held_back(state, now):
        state.released = True
        state.cut_at = now
    state.last_heard = now
    state.probe_sent = None
    state.cut_seen = False
    match message:
        case Reconcile():
            reconciler = state.reconciler
            if reconciler is None or state.heard_have or state.reconcile_out is not None:
                return [Close(CloseReason.PROTOCOL_VIOLATION, "a reconcile message out of turn")]
            try:
                state.reconcile_out = reconciler.receive(message)
            except ReconcileError as exc:
                return [Close(CloseReason.PROTOCOL_VIOLATION, str(exc))]
            if not reconciler.done:
                return []
            return _heard_inventory(state, reconciler.theirs)
        case Have(docs=docs):
            if not state.heard_have:
                # A peer may open with its full inventory instead of reconciling: it then
                # learns ours the same way (and ignores our reconcile messages).
                if state.reconciler is None:
                    return [Close(CloseReason.PROTOCOL_VIOLATION, "a have before hello")]
                snapshot = dict(zip(state.reconciler.ids, state.reconciler.digests, strict=True))
                state.reconcile_out = Have(snapshot)
                return _heard_inventory(state, docs)
            state.active = True
            for doc_id, digest in docs.items():
                record = _record(state, doc_id)
                record.theirs = digest
                _index(state, doc_id, record)
            return []
        case WholeDocument(id=doc_id, digest=digest):
            if not state.heard_have:
                return [Close(CloseReason.PROTOCOL_VIOLATION, "a document before have")]
            if merges(state, message):
                return [Merge(message)]
            # Already identical (another peer sent it first): nothing to merge or write.
            _took_whole(state, doc_id, digest)
            state.active = True
        case Sync(id=doc_id):
            if not state.heard_have:
                return [Close(CloseReason.PROTOCOL_VIOLATION, "a document before have")]
            record = _record(state, doc_id)
            if record.sync is None:
                record.sync = SyncState()
            return [Apply(message, record.sync)]
        case Synced(docs=count):
            # The peer holds what we announced: once it counts every document we know it
            # holds, the documents we sent it whole have arrived too (invariant 3).
            if count >= len(state.known):
                for doc_id in list(state.unheard):
                    record = state.docs[doc_id]
                    record.theirs = record.sent
                    _index(state, doc_id, record)
        case Ping():
            if state.pongs_owed >= MAX_CONTROL_QUEUE:
                return [Close(CloseReason.PROTOCOL_VIOLATION, "too many pings")]
            state.pongs_owed += 1
        case Pong():
            # The peer read what we wrote: after a cut, our way is open too (invariant 8).
            state.rejoined = state.released
        case Bye(reason=reason):
            return [Close(CloseReason.PEER_CLOSED, f"peer said {reason!r}")]
        case Hello():
            return [Close(CloseReason.PROTOCOL_VIOLATION, "a second hello")]
    return []


def _heard_inventory(state: PeerState, docs: Mapping[str, bytes]) -> list[Action]:
    """The peer's whole inventory is known (reconciled, or its full `have`): what it lacks
    goes at once, unless it holds documents we lack too; what both hold in different
    versions (and then what it lacks), when the board says (with other peers about, most of
    it arrives from one of them first)."""
    state.heard_have = state.active = True
    state.reconciler = None
    new_to_us = False
    for doc_id, digest in docs.items():
        record = _record(state, doc_id)
        record.theirs = digest
        new_to_us = new_to_us or record.ours is None
        if record.ours is None or record.ours.digest != digest:
            state.expecting.add(doc_id)
        _index(state, doc_id, record)
    state.expected = len(state.expecting)
    both: set[str] = set()
    lacked: list[str] = []
    for doc_id, record in state.docs.items():
        if record.ours is None:
            continue
        if doc_id not in docs:
            lacked.append(doc_id)
        elif record.ours.digest != docs[doc_id]:
            both.add(doc_id)
    if new_to_us:
        # The peer holds documents we lack too: not a newcomer (whose only document is the
        # board's) but a device from across a divide (met again on a new connection after a
        # long cut), and our side's other peers hold what it lacks as well. Spread, or each
        # of them would push it the same documents.
        both.update(lacked)
        lacked = []
    if state.device:
        lacked.sort(key=lambda doc_id: spread_score(doc_id, state.device))
    for doc_id in lacked:
        record = state.docs[doc_id]
        record.dirty = True
        _index(state, doc_id, record)
    return [Spread(frozenset(both))] if both else []


def _tick(state: PeerState, now: float, stalled: bool) -> list[Action]:
    timing = state.timing
    out: list[Action] = []
    if state.reconcile_out is not None:
        # First, before any document: the peer may need it to finish reconciling.
        out.append(Send(state.reconcile_out))
        state.reconcile_out = None
    out += [Send(Pong()) for _ in range(state.pongs_owed)]
    state.pongs_owed = 0
    if now - state.last_sent >= timing.ping_every:
        out.append(Send(Ping()))  # even while busy, so that the peer hears from us
    if state.released and state.heard_have and not state.rejoined:
        # Heard again after a cut, but the way back may still be shut (each side's TCP
        # retransmits when its own timer says): until the peer answers a ping, it cannot
        # tell us what it holds, and would be pushed what it has from our side already.
        if not state.rejoin_pinged:
            state.rejoin_pinged = True
            out.append(Send(Ping()))
        return out
    if state.released and state.heard_have:
        # Back after a cut the connection survived: in a mesh, every peer on our side holds
        # what waited, and every peer on the other side needs it. Pushed at once, each would
        # arrive once from each of us; spread as when a connection starts, most arrive once,
        # pass on within the other side, and are found held before we send them.
        state.released = state.rejoined = state.rejoin_pinged = False
        state.tell_due = None
        waiting = frozenset(state.dirty) | frozenset(state.relaying)
        for doc_id in waiting:
            record = state.docs[doc_id]
            record.dirty, record.relay_due = False, None
            _index(state, doc_id, record)
        if waiting:
            out.append(Spread(waiting))
            return out
    if state.heard_have and not paused(state):
        pushed = _push(state, now, out, stalled)
        if pushed:
            return out
    elif state.heard_have and state.relaying and _telling(state, now):
        # Waiting for an answer (a busy peer, or a cut not yet sure): our digests still go,
        # a few bytes, so that neither side pushes the other what it holds once it is heard.
        told = _tell(state, now, gathered=bool(out))
        if told:
            out.append(Send(Have(told)))
    if state.active and quiet(state):
        state.active = False
        out.append(Send(Synced(state.held)))
    return out


def _push(state: PeerState, now: float, out: list[Action], stalled: bool) -> bool:
    """Add what is due to the peer to `out`; True when a batch of pushes is under way.
    `stalled`: what we wrote is not being acknowledged (invariant 8)."""
    silent = now - state.last_heard > state.timing.probe_after
    if (state.relaying or state.dirty) and (silent or stalled):
        # This push goes with a ping; the next waits until the peer is heard (`paused`).
        state.probe_sent = now
        out.append(Send(Ping()))
        if stalled:
            # What we wrote is not acknowledged: the peer may still be heard (its older
            # messages, read late), but nothing more goes onto what may be a cut link.
            return False
    if state.relaying:
        # Our new digests of relayed documents go out gathered; the changes, when due (and
        # then only if the peer has not said meanwhile that it holds them).
        told = _tell(state, now, gathered=bool(out))
        if told:
            out.append(Send(Have(told)))
        for doc_id, due in list(state.relaying.items()):
            if due <= now:
                record = state.docs[doc_id]
                record.relay_due = None
                record.dirty = True
                _index(state, doc_id, record)
    while state.dirty:
        batch = tuple(itertools.islice(state.dirty, BATCH))
        plan: list[tuple[str, SyncState | None]] = []
        for doc_id in batch:
            record = state.docs[doc_id]
            record.dirty = False
            asked_across, record.asked_across = record.asked_across, False
            _index(state, doc_id, record)
            if record.ours is None or record.assumed == record.ours.digest:
                continue
            if record.sync is None and record.assumed is None:
                plan.append((doc_id, None))
            else:
                if record.sync is None:
                    record.sync = SyncState()
                elif asked_across or record.theirs not in (record.spoke, record.told):
                    # Another peer changed its copy since it last spoke (or, at our turn,
                    # mostly has): what automerge thinks it lacks would mostly go again.
                    record.sync.stale = True
                record.pushed = now
                plan.append((doc_id, record.sync))
        if plan:
            out.append(Prepare(batch, tuple(plan)))
            return True
        told = _untold(state, batch) | _tell(state, now, gathered=True)
        if told:
            out.append(Send(Have(told)))
            return True
    return False


def _prepared(state: PeerState, event: Prepared, now: float) -> list[Action]:
    out: list[Action] = []
    for doc_id, _ in event.plan[event.done :]:  # left for the next batch
        record = state.docs[doc_id]
        record.dirty = True
        _index(state, doc_id, record)
    whole = {doc_id for doc_id, sync in event.plan if sync is None}
    for doc_id, data, version in event.messages:
        record = state.docs[doc_id]
        _set_ours(state, record, version)
        record.told = version.digest
        signed = data if isinstance(data, Signed) else Signed(data)
        parts = (doc_id, signed.data, version.digest, signed.signatures, signed.keys)
        if doc_id in whole:
            record.sent = version.digest
            state.sent_docs += 1
            out.append(Send(WholeDocument(*parts)))
        else:
            out.append(Send(Sync(*parts)))
        state.active = True
        _index(state, doc_id, record)
    # Automerge may have nothing to say after taking the peer's changes; the peer still
    # learns our new digest, so that both sides can tell they are in sync.
    told = _untold(state, event.batch) | _tell(state, now, gathered=True)
    if told:
        out.append(Send(Have(told)))
    return out


def _took_whole(state: PeerState, doc_id: str, digest: bytes) -> None:
    """The peer sent us a whole document, which we now hold (merged): it expects that we
    hold what it sent, so we need not say so, unless we ever told it another digest of the
    document (that word may reach it after this: a `have` or a document of ours crossed
    this one) or we hold more than it sent. Then the record is pushed: a `have`, or a sync."""
    record = _record(state, doc_id)
    record.theirs = digest
    ours = None if record.ours is None else record.ours.digest
    if record.told is None and ours == digest:
        record.told = digest
    elif ours != digest or record.told != ours:
        _answer(record)
    _index(state, doc_id, record)


def _answer(record: DocRecord) -> None:
    """Push the record at the next chance, unless a push of it is already scheduled (a relay,
    or the spread after a cut): then it goes at that time, and not at all if the peer says
    meanwhile that it holds what we hold. After a cut, the messages written onto the dead
    link arrive first; answered at once, each peer would cross the cut with the document."""
    if record.relay_due is None:
        record.dirty = True


def _answers_us(state: PeerState, record: DocRecord) -> bool:
    """Whether the peer's `sync` answers one we pushed it since the cut: then it waits on us,
    and only we can answer it."""
    return record.pushed is not None and state.cut_at is not None and record.pushed >= state.cut_at


def _tell(state: PeerState, now: float, *, gathered: bool) -> dict[str, bytes]:
    """Our digests of relayed documents that the peer has not been told, marking them told:
    once `tell_gather` has passed since the first was committed, or at once when something
    else goes to the peer in the same write (`gathered`)."""
    if not state.relaying or (not gathered and state.tell_due is not None and now < state.tell_due):
        return {}
    state.tell_due = None
    return _untold(state, list(state.relaying), dirty_too=True)


def _untold(
    state: PeerState, doc_ids: list[str] | tuple[str, ...], *, dirty_too: bool = False
) -> dict[str, bytes]:
    """Our digest of each of these that the peer has not been told, marking them told (for
    a `have`); without `dirty_too`, not of those about to be pushed anyway."""
    untold: dict[str, bytes] = {}
    for doc_id in doc_ids:
        record = state.docs[doc_id]
        if (record.dirty and not dirty_too) or record.ours is None:
            continue
        if record.ours.digest == record.told:
            continue
        record.told = untold[doc_id] = record.ours.digest
    return untold


def _record(state: PeerState, doc_id: str) -> DocRecord:
    record = state.docs.get(doc_id)
    if record is None:
        record = state.docs[doc_id] = DocRecord()
    return record


def _set_ours(state: PeerState, record: DocRecord, version: Version) -> None:
    """Invariant 1: only ever a newer version."""
    if record.ours is None:
        state.held += 1
    elif record.ours.seq >= version.seq:
        return
    record.ours = version


def _settle(state: PeerState, now: float, synced: bool) -> None:
    """The status after a decision (invariants 12 and 13)."""
    settled = in_sync(state)
    if settled:
        if not state.settled or synced:
            state.last_sync = now
        state.waiting_since = None
    elif state.waiting_since is None:
        state.waiting_since = now
    state.settled = settled


def _silent_since(state: PeerState) -> float | None:
    """Since when the peer has been silent while something waited on it, if it has."""
    if state.waiting_since is None:
        return None
    return max(state.waiting_since, state.last_heard)


def _index(state: PeerState, doc_id: str, record: DocRecord) -> None:
    """Invariant 10: the indexes follow the record."""
    if record.dirty:
        state.dirty.setdefault(doc_id, None)
    else:
        state.dirty.pop(doc_id, None)
    if record.relay_due is None:
        state.relaying.pop(doc_id, None)
    else:
        state.relaying[doc_id] = record.relay_due
    ours = None if record.ours is None else record.ours.digest
    _member(state.differ, doc_id, ours != record.assumed)
    _member(state.unsettled, doc_id, ours != record.theirs)
    _member(state.unconfirmed, doc_id, ours is not None and ours != record.theirs)
    if ours == record.theirs and doc_id in state.expecting:
        state.expecting.discard(doc_id)  # the catch-up brought it: we hold what the peer holds
        state.arrived += 1
    _member(state.known, doc_id, record.assumed is not None)
    _member(state.unheard, doc_id, record.theirs is None and record.sent is not None)


def _member(index: set[str], doc_id: str, member: bool) -> None:
    if member:
        index.add(doc_id)
    else:
        index.discard(doc_id)
