"""The sync decision as a state machine: three peers whose documents are plain sets, messages
delivered in any interleaving the machine picks, connections cut and made again, store work
finishing late. No asyncio, no sockets: the same `decide` and `BoardSync` the node runs, driven
by a small synchronous carrier that does what the real session does. After every step the
numbered invariants of `decide` hold; when the network turns quiet every peer holds the same."""

from __future__ import annotations

import hashlib
import json
import random
from collections import deque
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from potluck.p2p.model.automerge import SyncState
from potluck.p2p.net.board_sync import SPREAD_TURN, BoardSync
from potluck.p2p.net.messages import (
    Have,
    Message,
    Ping,
    Pong,
    Reconcile,
    Sync,
    Synced,
    WholeDocument,
)
from potluck.p2p.net.reconcile import Reconciler
from potluck.p2p.net.sync import (
    Action,
    Apply,
    Close,
    DocumentsMerged,
    Event,
    Merge,
    OursChanged,
    PeerState,
    Prepare,
    Prepared,
    Received,
    Scheduled,
    Send,
    Sent,
    Spread,
    Started,
    SyncApplied,
    Tick,
    Timing,
    Version,
    answering,
    cut_off,
    decide,
    held_back,
    in_sync,
    merges,
    paused,
    quiet,
    wake_at,
)

TIMING = Timing(branch=2, list_max=1)
"""Reconciliation splits small inventories too, over several rounds."""
PEERS = 3
PAIRS = [(0, 1), (0, 2), (1, 2)]
DIGESTS: dict[bytes, frozenset[str]] = {}
"""Every document value any peer ever held, by digest: what a digest stands for."""


def digest_of(value: frozenset[str]) -> bytes:
    digest = hashlib.blake2b(",".join(sorted(value)).encode(), digest_size=16).digest()
    DIGESTS[digest] = value
    return digest


def encode(value: object) -> bytes:
    return json.dumps(value, sort_keys=True).encode()


def whole(data: bytes) -> frozenset[str]:
    return frozenset(json.loads(data))


@dataclass
class FakeSync:
    """Automerge's sync state, reduced to sets: what the peer has, what we sent it."""

    theirs: frozenset[str] = frozenset()
    sent: frozenset[str] = frozenset()
    last_sent: frozenset[str] | None = None


class Peer:
    """One device: documents as sets of change ids, committed with a feed number each."""

    def __init__(self, index: int, machine: SyncMachine) -> None:
        self.index = index
        self.docs: dict[str, frozenset[str]] = {}
        self.versions: dict[str, Version] = {}
        self.seq = 0
        self.history: set[tuple[str, Version]] = set()
        self.fake: dict[SyncState, FakeSync] = {}
        self.generated: dict[bytes, bytes] = {}
        """The digest of the document each sync message was generated from."""
        self.cursor = 0
        self.board = BoardSync(
            "board",
            b"k" * 32,
            {},
            device=f"device {index}",
            clock=lambda: machine.now,
            uniform=machine.rng.uniform,
        )

    def commit(self, doc_id: str, value: frozenset[str]) -> Version | None:
        if self.docs.get(doc_id) == value:
            return None
        self.seq += 1
        self.docs[doc_id] = value
        version = self.versions[doc_id] = Version(digest_of(value), self.seq)
        self.history.add((doc_id, version))
        return version

    def feed(self) -> None:
        """The change feed: what was committed since it last looked, newest versions."""
        fresh = {d: v for d, v in self.versions.items() if v.seq > self.cursor}
        self.cursor = self.seq
        if fresh:
            self.board.local_changes(fresh)

    # what the store thread does

    def merge(self, batch: list[WholeDocument]) -> dict[str, Version]:
        changed = {}
        for message in batch:
            value = self.docs.get(message.id, frozenset()) | whole(message.data)
            version = self.commit(message.id, value)
            if version is not None:
                changed[message.id] = version
        return changed

    def apply(self, message: Sync, state: SyncState) -> Version | None:
        fake = self.fake.setdefault(state, FakeSync())
        body = json.loads(message.data)
        fake.theirs |= frozenset(body["heads"])
        value = self.docs.get(message.id, frozenset()) | frozenset(body["changes"])
        if not value:
            return None
        return self.commit(message.id, value)

    def prepare(
        self, plan: tuple[tuple[str, SyncState | None], ...], done: int
    ) -> tuple[tuple[str, bytes, Version], ...]:
        out = []
        for doc_id, state in plan[:done]:
            value, version = self.docs[doc_id], self.versions[doc_id]
            if state is None:
                out.append((doc_id, encode(sorted(value)), version))
                continue
            fake = self.fake.setdefault(state, FakeSync())
            lacking = value - fake.theirs - fake.sent
            if fake.last_sent == value and not lacking:
                continue
            fake.last_sent, fake.sent = value, fake.sent | lacking
            data = encode({"heads": sorted(value), "changes": sorted(lacking), "n": self.seq})
            self.generated[data] = version.digest
            out.append((doc_id, data, version))
        return tuple(out)


@dataclass(eq=False)
class Conn:
    """One end of a connection, carrying out `decide` as the session does."""

    machine: SyncMachine
    peer: Peer
    state: PeerState
    inbox: deque[Message] = field(default_factory=deque)
    other: Conn | None = None
    reader: tuple[str, object, bool, object] | None = None
    """A message being committed: (kind, what, committed yet, result)."""
    pump: tuple[Prepare, Prepared | None] | None = None
    """A batch being prepared, and what the store thread made of it."""
    heard: dict[str, bytes] = field(default_factory=dict)
    snapshot: dict[str, bytes] = field(default_factory=dict)
    """Our inventory as the connection began: what the peer learns by reconciling."""
    slots: dict[str, SyncState] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    whole: int | None = None
    """`expected` as first seen once the inventories met."""

    @property
    def timing(self) -> Timing:
        return self.state.timing

    @property
    def remote_device(self) -> str:
        assert self.other is not None
        return self.other.peer.board.device

    @property
    def cut_off(self) -> bool:
        return cut_off(self.state, self.machine.now)

    def decide(self, event: Event) -> list[Action]:
        last_sync = self.state.last_sync
        actions = decide(self.state, event, self.machine.now)
        if self.state.last_sync != last_sync:
            assert in_sync(self.state), "invariant 12: last_sync stamped while not in sync"
        sender = isinstance(event, Tick | Prepared | Started)
        assert sender or not [a for a in actions if isinstance(a, Send | Prepare)], (
            f"invariant 6: {event} produced {actions}"
        )
        assert not [a for a in actions if isinstance(a, Close)], f"an honest peer: {actions}"
        return actions

    def feed(self, event: Event) -> None:
        assert self.decide(event) == []

    def send(self, message: Message) -> None:
        if isinstance(message, WholeDocument | Sync):
            assert self.state.heard_have, "invariant 5: a document before the peer's have"
            made_from = (
                digest_of(whole(message.data))
                if isinstance(message, WholeDocument)
                else self.peer.generated[message.data]
            )
            assert message.digest == made_from, "invariant 2: a label that is not its data's"
        if isinstance(message, Synced):
            assert quiet(self.state), "invariant 9: synced while not quiet"
        if self.other is not None:
            self.other.inbox.append(message)
        self.decide(Sent(message))

    def carry_out(self, actions: list[Action]) -> None:
        for n, action in enumerate(actions):
            match action:
                case Send(message=message):
                    self.send(message)
                case Prepare():
                    assert n == len(actions) - 1
                    for doc_id, state in action.plan:
                        record = self.state.docs[doc_id]
                        assert record.ours is not None and record.assumed != record.ours.digest, (
                            "invariant 7: a push of what the peer holds"
                        )
                        if state is None:
                            assert record.assumed is None and record.sync is None, (
                                "invariant 7: a whole document to a peer that knows it"
                            )
                    self.pump = (action, None)
                case Spread(doc_ids=doc_ids):
                    self.peer.board.spread(self, doc_ids)
                case _:
                    raise AssertionError(action)

    # the reader

    def read(self) -> None:
        message = self.inbox.popleft()
        unheard = set(self.state.unheard)
        reconciling = not self.state.heard_have
        actions = self.decide(Received(message))
        if isinstance(message, Reconcile):
            assert reconciling, "invariant 5: a reconcile message after the inventories"
            if self.state.heard_have:  # reconciled: the peer's inventory, exactly
                assert self.other is not None
                self.heard.update(self.other.snapshot)
        for doc_id in unheard if isinstance(message, Synced) else ():
            record = self.state.docs[doc_id]  # vouched for what we sent whole?
            if record.theirs is not None:
                assert record.theirs == record.sent
                self.heard[doc_id] = record.theirs
        match message:
            case Have(docs=docs):
                self.heard.update(docs)
            case WholeDocument(id=doc_id, digest=digest) if not actions:
                self.heard[doc_id] = digest
        match actions:
            case [Merge(message=first)]:
                batch = [first]
                while self.inbox and merges(self.state, self.inbox[0]):
                    following = self.inbox.popleft()
                    assert self.decide(Received(following)) == [Merge(following)]
                    assert isinstance(following, WholeDocument)
                    batch.append(following)
                self.reader = ("merge", batch, False, None)
            case [Apply(message=sync, state=state)]:
                if sync.id in self.slots:
                    assert self.slots[sync.id] is state, "invariant 4: a second sync state"
                self.reader = ("apply", (sync, state), False, None)
            case _:
                self.carry_out(actions)

    def commit(self) -> None:
        """The store thread's part of what the reader is doing."""
        assert self.reader is not None
        kind, what, _, _ = self.reader
        if kind == "merge":
            assert isinstance(what, list)
            self.reader = (kind, what, True, self.peer.merge(what))
        else:
            assert isinstance(what, tuple)
            self.reader = (kind, what, True, self.peer.apply(*what))

    def committed(self) -> None:
        """The reader resumes after the store thread committed."""
        assert self.reader is not None
        kind, what, _, result = self.reader
        self.reader = None
        if kind == "merge":
            assert isinstance(what, list) and isinstance(result, dict)
            fresh = self.peer.board.committed(self, result) if result else {}
            self.feed(DocumentsMerged({m.id: m.digest for m in what}, fresh, len(what)))
            self.heard.update({m.id: m.digest for m in what})
        else:
            assert isinstance(what, tuple)
            sync, _ = what
            version = result if isinstance(result, Version) else None
            if version is not None:
                version = self.peer.board.committed(self, {sync.id: version})[sync.id]
            self.feed(SyncApplied(sync.id, sync.digest, version))
            self.heard[sync.id] = sync.digest

    # the sender

    def tick(self) -> None:
        was_paused = paused(self.state)
        probe = self.state.probe_sent
        actions = self.decide(Tick())
        if was_paused:
            assert not [
                a
                for a in actions
                if isinstance(a, Prepare)
                or (isinstance(a, Send) and isinstance(a.message, WholeDocument | Sync))
            ], "invariant 8: pushed to a peer while a probe was unanswered"
        if probe is not None and self.machine.now - probe > TIMING.tell_for:
            assert not [
                a for a in actions if isinstance(a, Send) and isinstance(a.message, Have)
            ], "invariant 8: told a peer that has not answered for tell_for"
        self.carry_out(actions)

    def prepare(self, done: int) -> None:
        assert self.pump is not None
        action, _ = self.pump
        done = max(1, min(done, len(action.plan)))
        messages = self.peer.prepare(action.plan, done)
        self.pump = (action, Prepared(action.batch, action.plan, messages, done))

    def prepared(self) -> None:
        assert self.pump is not None and self.pump[1] is not None
        prepared = self.pump[1]
        self.pump = None
        self.carry_out(self.decide(prepared))

    def busy(self) -> bool:
        return bool(self.inbox) or self.reader is not None or self.pump is not None


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        self.rng = random.Random(0)
        self.peers = [Peer(i, self) for i in range(PEERS)]
        self.links: dict[tuple[int, int], tuple[Conn, Conn]] = {}
        self.posts = 0

    # ------------------------------------------------------------ the world

    def conns(self) -> list[Conn]:
        return [c for pair in sorted(self.links) for c in self.links[pair]]

    def conn(self, n: int) -> Conn:
        conns = self.conns()
        return conns[n % len(conns)]

    @rule(peer=st.integers(0, PEERS - 1))
    def post(self, peer: int) -> None:
        self.posts += 1
        self.peers[peer].commit(f"doc{self.posts}", frozenset({f"p{peer}c{self.posts}"}))

    @rule(peer=st.integers(0, PEERS - 1), which=st.integers(0, 10))
    def edit(self, peer: int, which: int) -> None:
        p = self.peers[peer]
        if p.docs:
            doc_id = sorted(p.docs)[which % len(p.docs)]
            self.posts += 1
            p.commit(doc_id, p.docs[doc_id] | {f"p{peer}c{self.posts}"})

    @rule(peer=st.integers(0, PEERS - 1))
    def notice(self, peer: int) -> None:
        self.peers[peer].feed()

    @rule(pair=st.sampled_from(PAIRS))
    def connect(self, pair: tuple[int, int]) -> None:
        if pair in self.links:
            return
        ends = []
        for mine in pair:
            peer = self.peers[mine]
            conn = Conn(self, peer, PeerState(TIMING, last_heard=self.now, last_sent=self.now))
            ends.append(conn)
        ends[0].other, ends[1].other = ends[1], ends[0]
        self.links[pair] = (ends[0], ends[1])
        for conn in ends:
            conn.peer.board.attach(conn)
        for conn in ends:
            digests = conn.peer.board.digests
            conn.snapshot = {doc_id: version.digest for doc_id, version in digests.items()}
            lead = conn.peer.index < (conn.other.peer.index if conn.other else 0)
            conn.carry_out(conn.decide(Started(digests, lead)))

    @rule(pair=st.sampled_from(PAIRS), committed=st.booleans())
    def cut(self, pair: tuple[int, int], committed: bool) -> None:
        """The connection ends; a commit the store thread had begun may or may not land."""
        ends = self.links.pop(pair, None)
        for conn in ends or ():
            conn.peer.board.detach(conn)
            if conn.reader is not None and not conn.reader[2] and committed:
                conn.commit()

    def readers(self) -> list[Conn]:
        return [c for c in self.conns() if c.reader is not None or c.inbox]

    @precondition(lambda self: self.readers())
    @rule(n=st.integers(0, 5))
    def reader(self, n: int) -> None:
        """One step of one reader: read a message, or the store's commit of one, or resume."""
        conns = self.readers()
        conn = conns[n % len(conns)]
        if conn.reader is None:
            conn.read()
        elif not conn.reader[2]:
            conn.commit()
        else:
            conn.committed()

    @precondition(lambda self: self.links)
    @rule(n=st.integers(0, 5), done=st.integers(1, 3))
    def sender(self, n: int, done: int) -> None:
        """One step of one sender: what is due now, or the store's prepare, or resume."""
        conn = self.conn(n)
        if conn.pump is None:
            conn.tick()
        elif conn.pump[1] is None:
            conn.prepare(done)
        else:
            conn.prepared()

    @rule()
    def settle(self) -> None:
        """Let everything through that can go without time passing (then edits made on both
        sides of a cut meet as documents both hold, and go as sync messages)."""
        self.drain()

    @rule(seconds=st.sampled_from([0.02, 0.1, 1.0, 3.5]))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    # ------------------------------------------------------------ invariants

    @invariant()
    def records_and_indexes_agree(self) -> None:
        for conn in self.conns():
            state = conn.state
            assert set(state.dirty) == {d for d, r in state.docs.items() if r.dirty}, "inv 10"
            assert state.relaying == {
                d: r.relay_due for d, r in state.docs.items() if r.relay_due is not None
            }, "invariant 10"
            assert state.differ == {
                d for d, r in state.docs.items() if (r.ours.digest if r.ours else None) != r.assumed
            }, "invariant 10"
            assert state.held == sum(r.ours is not None for r in state.docs.values())
            assert state.unconfirmed == {
                d for d, r in state.docs.items() if r.ours and r.ours.digest != r.theirs
            }, "invariant 10"

    @invariant()
    def ours_is_committed_and_never_older(self) -> None:
        for conn in self.conns():
            for doc_id, record in conn.state.docs.items():
                if record.ours is None:
                    continue
                assert (doc_id, record.ours) in conn.peer.history, "invariant 1"
                assert record.ours.seq >= conn.seen.get(doc_id, 0), "invariant 1: went back"
                conn.seen[doc_id] = record.ours.seq
                if record.told is not None:
                    assert record.told in {v.digest for d, v in conn.peer.history if d == doc_id}

    @invariant()
    def theirs_is_what_was_heard(self) -> None:
        for conn in self.conns():
            for doc_id, record in conn.state.docs.items():
                assert record.theirs == conn.heard.get(doc_id), "invariant 3"
            for doc_id, digest in conn.heard.items():
                assert conn.state.docs[doc_id].theirs == digest, "invariant 3: heard, not kept"

    @invariant()
    def confirmed_means_held(self) -> None:
        """What the peer confirmed, it holds (or more): the status never claims too much."""
        for conn in self.conns():
            assert conn.other is not None
            peer = conn.other.peer
            for doc_id, record in conn.state.docs.items():
                if record.theirs is not None:
                    held = peer.docs.get(doc_id, frozenset())
                    assert DIGESTS[record.theirs] <= held, "invariant 3: vouched, not held"
            if in_sync(conn.state):
                assert all(r.ours and r.theirs == r.ours.digest for r in conn.state.docs.values())
            if not answering(conn.state, self.now):
                assert self.now - conn.state.last_heard > TIMING.hold_after, "invariant 13"

    @invariant()
    def the_catch_up_counts_add_up(self) -> None:
        """Invariant 14: nothing expected before the inventories met; then a fixed whole, of
        which each document arrives once, when we first hold it as the peer does."""
        for conn in self.conns():
            state = conn.state
            if not state.heard_have:
                assert state.expected == state.arrived == 0 and not state.expecting
            assert state.arrived + len(state.expecting) == state.expected, "invariant 14"
            assert state.expecting <= state.unsettled, "invariant 14: arrived, still expected"
            if state.heard_have:
                if conn.whole is None:
                    conn.whole = state.expected
                assert state.expected == conn.whole, "invariant 14: the whole changed"

    @invariant()
    def one_sync_state_per_document(self) -> None:
        for conn in self.conns():
            for doc_id, record in conn.state.docs.items():
                if record.sync is None:
                    assert doc_id not in conn.slots, "invariant 4: a sync state dropped"
                else:
                    assert conn.slots.setdefault(doc_id, record.sync) is record.sync, "inv 4"

    @invariant()
    def a_board_holds_the_newest_versions(self) -> None:
        for peer in self.peers:
            for doc_id, version in peer.board.digests.items():
                assert version.seq <= peer.versions[doc_id].seq
            for conn in peer.board.members:
                assert isinstance(conn, Conn)
                for doc_id, version in peer.board.digests.items():
                    ours = conn.state.docs[doc_id].ours
                    assert ours is not None and ours.seq >= version.seq

    # ------------------------------------------------------------ quiet

    def teardown(self) -> None:
        """Make every connection, let everything through, and wait out every timer: every
        peer then holds the same documents, and every connection is in sync."""
        for pair in PAIRS:
            self.connect(pair)
        for _ in range(200):
            self.drain()
            if self.quiet():
                break
            self.now += 0.5
        for peer in self.peers:
            peer.feed()
        self.drain()
        values = [peer.docs for peer in self.peers]
        assert values[0] == values[1] == values[2], values
        for conn in self.conns():
            assert in_sync(conn.state), conn.state
            assert answering(conn.state, self.now) and conn.state.last_sync is not None
            assert not conn.busy()
            assert not conn.state.expecting and conn.state.arrived == conn.state.expected
            for record in conn.state.docs.values():
                assert record.ours is not None and record.assumed == record.ours.digest

    def drain(self) -> None:
        for _ in range(10_000):
            moved = False
            for peer in self.peers:
                before = peer.cursor
                peer.feed()
                moved |= peer.cursor != before
            for conn in self.conns():
                if conn.reader is not None:
                    if not conn.reader[2]:
                        conn.commit()
                    else:
                        conn.committed()
                    moved = True
                elif conn.inbox:
                    conn.read()
                    moved = True
                if conn.pump is not None:
                    if conn.pump[1] is None:
                        conn.prepare(3)
                    else:
                        conn.prepared()
                    moved = True
                else:
                    sent = len(conn.other.inbox) if conn.other else 0
                    conn.tick()
                    moved |= conn.pump is not None or (
                        conn.other is not None and len(conn.other.inbox) != sent
                    )
            if not moved:
                return
        raise AssertionError("the peers never stop talking")

    def quiet(self) -> bool:
        same = self.peers[0].docs == self.peers[1].docs == self.peers[2].docs
        return same and all(in_sync(c.state) and not c.busy() for c in self.conns())


SyncMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSyncDecision = SyncMachine.TestCase


class TestStaleSyncState:
    """The peer's copy moved by other ways than ours since it last spoke on a sync state:
    the next push marks the state stale (automerge would resend what it got elsewhere)."""

    D1, D2, D3, D4 = (digest_of(frozenset("abcd"[:n])) for n in range(1, 5))

    def spoken(self) -> tuple[PeerState, SyncState]:
        """A connection on which the peer sent a sync message and we hold what it holds."""
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        decide(state, Started({}, lead=True), 0.0)
        decide(state, Received(Reconciler({}, lead=False).opening()), 0.0)
        [apply] = decide(state, Received(Sync("d", b"", self.D1)), 0.0)
        assert isinstance(apply, Apply)
        decide(state, SyncApplied("d", self.D1, Version(self.D1, 1)), 0.0)
        decide(state, Tick(), 0.0)
        return state, apply.state

    def push(self, state: PeerState, digest: bytes, seq: int, now: float) -> Prepare:
        decide(state, OursChanged({"d": Version(digest, seq)}), now)
        [prepare] = [a for a in decide(state, Tick(), now) if isinstance(a, Prepare)]
        return prepare

    def test_a_digest_the_peer_got_elsewhere_makes_the_state_stale(self) -> None:
        state, sync = self.spoken()
        decide(state, Received(Have({"d": self.D2})), 0.1)  # another peer brought it b
        prepare = self.push(state, self.D3, 2, 0.2)
        assert prepare.plan == (("d", sync),) and sync.stale

    def test_a_digest_the_peer_has_from_us_or_said_in_a_sync_does_not(self) -> None:
        state, sync = self.spoken()
        prepare = self.push(state, self.D2, 2, 0.1)
        assert prepare.plan == (("d", sync),) and not sync.stale
        decide(
            state, Prepared(prepare.batch, prepare.plan, (("d", b"", Version(self.D2, 2)),), 1), 0.1
        )
        decide(state, Received(Have({"d": self.D2})), 0.2)  # it holds what we sent
        prepare = self.push(state, self.D3, 3, 0.3)
        assert not sync.stale
        decide(
            state, Prepared(prepare.batch, prepare.plan, (("d", b"", Version(self.D3, 3)),), 1), 0.3
        )
        decide(state, Received(Sync("d", b"", self.D4)), 0.4)  # it speaks on the state
        decide(state, SyncApplied("d", self.D4, Version(self.D4, 4)), 0.4)
        decide(state, OursChanged({"d": Version(digest_of(frozenset("abcde")), 5)}), 0.5)
        decide(state, Tick(), 0.5)
        assert not sync.stale


class TestCrossing:
    """The two crossings the machine found, as they happen on one connection."""

    D1 = digest_of(frozenset({"a"}))
    D2 = digest_of(frozenset({"a", "b"}))

    def connected(self) -> PeerState:
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        decide(state, Started({}, lead=True), 0.0)
        decide(state, Received(Reconciler({}, lead=False).opening()), 0.0)
        assert state.heard_have
        return state

    def test_a_have_of_ours_that_crossed_their_document_is_said_again(self) -> None:
        state = self.connected()
        # Another peer brought us the document; we tell this one our digest soon …
        decide(state, OursChanged({"d": Version(self.D1, 1)}, relay_due=5.0), 0.0)
        assert decide(state, Tick(), TIMING.tell_gather) == [Send(Have({"d": self.D1}))]
        # … while it, not knowing, sends the document whole, with more in it. It will read
        # our `have` after sending: it must hear of the merge, or believe us behind forever.
        decide(state, DocumentsMerged({"d": self.D2}, {"d": Version(self.D2, 2)}, 1), 0.1)
        assert decide(state, Tick(), 0.1) == [Send(Have({"d": self.D2}))]

    def test_a_document_sent_whole_with_less_than_ours_is_synced(self) -> None:
        state = self.connected()
        decide(state, OursChanged({"d": Version(self.D2, 2)}, relay_due=5.0), 0.0)
        assert decide(state, Tick(), TIMING.tell_gather) == [Send(Have({"d": self.D2}))]
        # The peer sends an older version whole; merging it changes nothing here. Our relay
        # is due at 5.0: the sync goes then, not at once (after a cut, the messages written
        # onto the dead link arrive first, and answered at once each would cross it).
        decide(state, DocumentsMerged({"d": self.D1}, {}, 1), 0.1)
        assert decide(state, Tick(), 0.1) == []
        probe, prepare = decide(state, Tick(), 5.0)  # the peer has been silent a while
        assert probe == Send(Ping())
        assert isinstance(prepare, Prepare) and [d for d, _ in prepare.plan] == ["d"]


class TestGatheringHaves:
    """Our digests of changes relayed from other peers go to a peer together."""

    D1 = digest_of(frozenset({"a"}))
    D2 = digest_of(frozenset({"a", "b"}))
    E1 = digest_of(frozenset({"e"}))

    def connected(self) -> PeerState:
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        decide(state, Started({}, lead=True), 0.0)
        decide(state, Received(Reconciler({}, lead=False).opening()), 0.0)
        return state

    def test_changes_committed_within_tell_gather_are_told_in_one_have(self) -> None:
        state = self.connected()
        decide(state, OursChanged({"d": Version(self.D1, 1)}, relay_due=5.0), 0.0)
        assert decide(state, Tick(), 0.0) == []
        assert wake_at(state, 0.0) == TIMING.tell_gather
        decide(state, OursChanged({"d": Version(self.D2, 2)}, relay_due=5.0), 0.02)
        decide(state, OursChanged({"e": Version(self.E1, 3)}, relay_due=5.0), 0.03)
        assert decide(state, Tick(), 0.03) == []
        # One `have`, with the newest digest of each, once the first is `tell_gather` old.
        told = decide(state, Tick(), TIMING.tell_gather)
        assert told == [Send(Have({"d": self.D2, "e": self.E1}))]
        assert decide(state, Tick(), 0.2) == []
        assert wake_at(state, 0.2) > 3.0  # nothing more until the peer's silence counts

    def test_they_go_at_once_with_anything_else_written_to_the_peer(self) -> None:
        state = self.connected()
        decide(state, OursChanged({"d": Version(self.D1, 1)}, relay_due=5.0), 0.0)
        decide(state, Received(Ping()), 0.01)  # a pong is owed: the digest goes with it
        assert decide(state, Tick(), 0.01) == [Send(Pong()), Send(Have({"d": self.D1}))]
        # And with the messages of a push of our own.
        decide(state, OursChanged({"e": Version(self.E1, 2)}, relay_due=5.0), 0.02)
        decide(state, OursChanged({"p": Version(self.D2, 3)}), 0.02)
        [prepare] = decide(state, Tick(), 0.02)
        assert isinstance(prepare, Prepare)
        prepared = Prepared(prepare.batch, prepare.plan, (("p", b"[]", Version(self.D2, 3)),), 1)
        assert decide(state, prepared, 0.03) == [
            Send(WholeDocument("p", b"[]", self.D2)),
            Send(Have({"e": self.E1})),
        ]


class TestStatus:
    """What a peer list shows of one connection: confirmed, in sync, answering."""

    D = digest_of(frozenset({"post"}))

    def sent_whole(self) -> PeerState:
        """A connection that just pushed a new post to a peer that was in sync."""
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        decide(state, Started({}), 0.0)
        decide(state, Received(Reconciler({}, lead=True).opening()), 0.0)
        # Posted before the peer has been silent for `probe_after`: no ping goes with it.
        decide(state, OursChanged({"d": Version(self.D, 1)}), 0.1)
        [prepare] = decide(state, Tick(), 0.1)
        assert isinstance(prepare, Prepare)
        prepared = Prepared(prepare.batch, prepare.plan, (("d", b"[]", Version(self.D, 1)),), 1)
        assert decide(state, prepared, 0.1) == [Send(WholeDocument("d", b"[]", self.D))]
        return state

    def test_sending_is_not_confirming(self) -> None:
        state = self.sent_whole()
        assert not in_sync(state) and state.last_sync == 0.0  # the empty boards' first sync
        assert quiet(state)  # as far as pushing goes, the peer has it: our `synced` is due

    def test_a_synced_that_crossed_our_post_confirms_nothing(self) -> None:
        state = self.sent_whole()
        decide(state, Received(Synced(0)), 1.1)  # written before our post arrived
        assert not in_sync(state) and state.last_sync == 0.0
        decide(state, Received(Synced(1)), 1.2)  # counts the post: it has read it
        assert in_sync(state) and state.last_sync == 1.2

    def test_a_peer_silent_while_a_post_waits_is_not_answering_after_hold_after(self) -> None:
        state = self.sent_whole()
        assert answering(state, 0.1 + TIMING.hold_after)
        assert not answering(state, 0.2 + TIMING.hold_after)
        decide(state, Received(Ping()), 5.0)  # heard again: answering, still waiting
        assert answering(state, 5.0) and not in_sync(state)


class TestHoldingBack:
    """A peer that does not answer is pushed nothing more after one push with a ping."""

    D1 = digest_of(frozenset({"a"}))
    D2 = digest_of(frozenset({"a", "b"}))
    D3 = digest_of(frozenset({"a", "b", "c"}))

    def probed(self) -> PeerState:
        """A connection in sync since 0.0 that pushed a change with a ping at 1.0."""
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        decide(state, Started({"d": Version(self.D1, 1)}, lead=True), 0.0)
        decide(state, Received(Reconciler({"d": self.D1}, lead=False).opening()), 0.0)
        decide(state, OursChanged({"d": Version(self.D2, 2)}), 1.0)
        probe, prepare = decide(state, Tick(), 1.0)  # silent for over `probe_after`
        assert probe == Send(Ping()) and isinstance(prepare, Prepare)
        prepared = Prepared(prepare.batch, prepare.plan, (("d", b"{}", Version(self.D2, 2)),), 1)
        [sync] = decide(state, prepared, 1.0)
        assert isinstance(sync.message, Sync)  # type: ignore[union-attr]
        assert paused(state)
        return state

    def test_nothing_more_is_pushed_until_the_peer_is_heard(self) -> None:
        state = self.probed()
        decide(state, OursChanged({"d": Version(self.D3, 3)}), 1.01)
        assert decide(state, Tick(), 1.01) == []  # before the ping is even `hold_after` old
        assert decide(state, Tick(), 1.0 + TIMING.hold_after / 2) == []
        decide(state, Received(Pong()), 1.1)  # heard: the change goes at once, not spread
        [prepare] = decide(state, Tick(), 1.1)
        assert isinstance(prepare, Prepare) and [d for d, _ in prepare.plan] == ["d"]

    def test_our_digests_still_go_until_the_ping_is_tell_for_old(self) -> None:
        state = self.probed()
        # Another peer brought a change: the peer may be merely busy, and hearing our digest
        # keeps it from pushing us what we hold …
        decide(state, OursChanged({"d": Version(self.D3, 3)}, relay_due=1.06), 1.01)
        told = 1.01 + TIMING.tell_gather
        assert wake_at(state, 1.01) == told
        assert decide(state, Tick(), told) == [Send(Have({"d": self.D3}))]
        assert decide(state, Tick(), 1.1) == []  # … but the change itself waits
        # Once the ping is `tell_for` old, not even a digest goes onto what may be a dead link.
        d4 = digest_of(frozenset({"a", "b", "c", "d"}))
        late = 1.1 + TIMING.tell_for
        decide(state, OursChanged({"d": Version(d4, 4)}, relay_due=late), late)
        assert decide(state, Tick(), late + TIMING.tell_gather) == []
        assert wake_at(state, late + TIMING.tell_gather) > late + TIMING.tell_gather

    def test_a_link_stalled_on_the_socket_gets_no_push_though_the_peer_is_heard(self) -> None:
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        decide(state, Started({"d": Version(self.D1, 1)}, lead=True), 0.0)
        decide(state, Received(Reconciler({"d": self.D1}, lead=False).opening()), 0.0)
        decide(state, OursChanged({"d": Version(self.D2, 2)}), 1.0)
        # The peer's older messages are still being read (it seems alive), but the kernel is
        # retransmitting what we wrote: a ping goes, the change waits.
        decide(state, Received(Pong()), 1.0)
        assert decide(state, Tick(stalled=True), 1.0) == [Send(Ping())]
        assert paused(state) and held_back(state, 1.0)  # a cut, by the socket's word
        decide(state, Received(Pong()), 1.1)
        # Heard again after a cut: what waited goes in the board's spread, and even then
        # only the ping goes onto a link that is still not acknowledged.
        assert decide(state, Tick(stalled=True), 1.1) == [Spread(frozenset({"d"}))]
        decide(state, Scheduled({"d": None}), 1.1)
        assert decide(state, Tick(stalled=True), 1.1) == [Send(Ping())]
        assert not held_back(state, 1.1)  # the same cut's tail, not a new one
        # Acknowledged again, and the peer heard: the change goes.
        decide(state, Received(Pong()), 1.5)
        [prepare] = decide(state, Tick(stalled=False), 1.5)
        assert isinstance(prepare, Prepare) and [d for d, _ in prepare.plan] == ["d"]

    def test_a_short_cut_the_socket_shows_is_spread_after_like_a_long_one(self) -> None:
        state = self.probed()
        decide(state, OursChanged({"d": Version(self.D3, 3)}), 1.01)
        # While the ping is unanswered, the sender looks at the socket every `stall_check`.
        assert wake_at(state, 1.01) == 1.01 + TIMING.stall_check
        assert decide(state, Tick(stalled=False), 1.25) == []
        assert not held_back(state, 1.25)  # acknowledged: a busy peer, not a cut
        assert decide(state, Tick(stalled=True), 1.5) == []
        assert held_back(state, 1.5)  # nothing acknowledged: a cut, long before `hold_after`
        assert wake_at(state, 1.5) > 1.5 + TIMING.stall_check  # no need to look again
        # Healed after a second: heard, then read again (its pong), what waited is spread.
        decide(state, Received(Synced(1)), 2.0)
        assert cut_off(state, 2.0)
        assert decide(state, Tick(), 2.0) == [Send(Ping())]
        decide(state, Received(Pong()), 2.1)
        assert decide(state, Tick(), 2.1) == [Spread(frozenset({"d"}))]

    def test_heard_again_after_hold_after_what_waited_is_spread(self) -> None:
        state = self.probed()
        decide(state, OursChanged({"d": Version(self.D3, 3)}), 1.01)
        decide(state, Received(Pong()), 2.0 + TIMING.hold_after)
        assert decide(state, Tick(), 2.0 + TIMING.hold_after) == [Spread(frozenset({"d"}))]

    def test_heard_again_the_peer_must_also_read_us_before_anything_goes(self) -> None:
        state = self.probed()
        decide(state, OursChanged({"d": Version(self.D3, 3)}), 1.01)
        # A `synced` it wrote during the cut arrives: our way to it may still be shut (its
        # TCP retransmits on its own timer), so it could not say what it holds yet.
        later = 2.0 + TIMING.hold_after
        decide(state, Received(Synced(1)), later)
        assert decide(state, Tick(), later) == [Send(Ping())]
        assert decide(state, Tick(), later + 1.0) == []
        decide(state, Received(Pong()), later + 2.0)  # it reads us: what waited is spread
        assert decide(state, Tick(), later + 2.0) == [Spread(frozenset({"d"}))]

    def test_the_answer_to_a_sync_waits_for_the_spread(self) -> None:
        state = self.probed()
        decide(state, OursChanged({"d": Version(self.D3, 3)}), 1.01)
        decide(state, Received(Pong()), 9.0)  # heard again after a cut
        [spread] = decide(state, Tick(), 9.0)
        assert spread == Spread(frozenset({"d"}))
        decide(state, Scheduled({"d": 12.0}), 9.0)
        assert decide(state, Tick(), 9.0) == [Send(Have({"d": self.D3}))]
        # A sync the peer wrote onto the dead link arrives now: answered when the spread says
        # (by then the peer may have the document from its side), not at once.
        [apply] = decide(state, Received(Sync("d", b"{}", self.D2)), 9.1)
        assert isinstance(apply, Apply)
        decide(state, SyncApplied("d", self.D2, None), 9.1)
        assert decide(state, Tick(), 9.1) == []
        probe, prepare = decide(state, Tick(), 12.0)  # silent since 9.1: with a ping
        assert probe == Send(Ping())
        assert isinstance(prepare, Prepare) and [d for d, _ in prepare.plan] == ["d"]

    def test_a_sync_that_only_asks_across_a_cut_is_answered_in_the_spread(self) -> None:
        state = self.probed()
        decide(state, OursChanged({"d": Version(self.D3, 3)}), 1.01)
        decide(state, Received(Pong()), 9.0)
        decide(state, Tick(), 9.0)
        decide(state, Scheduled({"d": 12.0}), 9.0)
        decide(state, Tick(), 9.0)
        # The peer's message carries no change, only what it holds (a fresh sync state): it
        # sends us what we lack once it hears what it lacks. Across a cut it asks every
        # device of our side so: the board's spread says who answers when.
        decide(state, Received(Sync("d", b"{}", self.D2)), 9.1)
        applied = decide(state, SyncApplied("d", self.D2, None, asks=True), 9.1)
        assert applied == [Spread(frozenset({"d"}))]
        assert decide(state, Tick(), 9.1) == []  # our turn is still the one at 12.0
        probe, prepare = decide(state, Tick(), 12.0)
        assert probe == Send(Ping()) and isinstance(prepare, Prepare)
        [(doc_id, sync_state)] = prepare.plan
        # By our turn the peer mostly has the changes from the best placed device of our side
        # without having told us: what our sync state says it lacks would mostly go again.
        assert doc_id == "d" and sync_state is not None and sync_state.stale
        sync_state.stale = False  # as the store thread leaves it once the message is made
        prepared = Prepared(prepare.batch, prepare.plan, (("d", b"{}", Version(self.D3, 3)),), 1)
        decide(state, prepared, 12.0)
        # The peer answers that message asking again (it lacks something): it waits on us
        # alone now, and is answered at once, with what it lacks.
        decide(state, Received(Sync("d", b"{}", self.D2)), 12.1)
        assert decide(state, SyncApplied("d", self.D2, None, asks=True), 12.1) == []
        [prepare] = decide(state, Tick(), 12.1)
        assert isinstance(prepare, Prepare)
        [(doc_id, sync_state)] = prepare.plan
        assert doc_id == "d" and sync_state is not None and not sync_state.stale

    def test_a_sync_that_only_asks_is_answered_at_once_by_the_best_placed(self) -> None:
        state = self.probed()
        decide(state, OursChanged({"d": Version(self.D3, 3)}), 1.01)
        decide(state, Received(Pong()), 9.0)
        decide(state, Tick(), 9.0)
        decide(state, Received(Sync("d", b"{}", self.D2)), 9.1)
        assert decide(state, SyncApplied("d", self.D2, None, asks=True), 9.1) == [
            Spread(frozenset({"d"}))
        ]
        decide(state, Scheduled({"d": None}), 9.1)
        [prepare] = decide(state, Tick(), 9.1)
        assert isinstance(prepare, Prepare)
        [(doc_id, sync_state)] = prepare.plan
        assert doc_id == "d" and sync_state is not None and not sync_state.stale  # the changes

    def test_a_sync_that_only_asks_within_a_mesh_is_answered_at_once(self) -> None:
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        decide(state, Started({"d": Version(self.D3, 3)}, lead=True), 0.0)
        assert decide(state, Received(Have({"d": self.D2})), 0.0) == [Spread(frozenset({"d"}))]
        decide(state, Scheduled({"d": 5.0}), 0.0)
        decide(state, Tick(), 0.0)  # our full `have` in answer
        decide(state, Received(Sync("d", b"{}", self.D2)), 0.1)
        assert decide(state, SyncApplied("d", self.D2, None, asks=True), 0.1) == []
        [prepare] = decide(state, Tick(), 0.1)
        assert isinstance(prepare, Prepare) and [d for d, _ in prepare.plan] == ["d"]


class TestWhatAPeerLacks:
    """When a connection starts: what the peer lacks goes at once to a newcomer, and is
    spread (`Spread`) to a peer that holds documents we lack too (met again after a cut)."""

    D1 = digest_of(frozenset({"a"}))
    D2 = digest_of(frozenset({"a", "b"}))

    def started(self) -> PeerState:
        state = PeerState(TIMING, last_heard=0.0, last_sent=0.0)
        ours = {"board": Version(self.D1, 1), "offer": Version(self.D1, 2)}
        decide(state, Started(ours, lead=True), 0.0)
        return state

    def pushed(self, state: PeerState, now: float) -> list[str]:
        return [
            doc_id
            for action in decide(state, Tick(), now)
            if isinstance(action, Prepare)
            for doc_id, _ in action.plan
        ]

    def test_a_newcomer_is_pushed_what_it_lacks_at_once(self) -> None:
        state = self.started()
        # Its only document is the board's, in another version (it introduced itself).
        assert decide(state, Received(Have({"board": self.D2})), 0.1) == [
            Spread(frozenset({"board"}))
        ]
        assert self.pushed(state, 0.1) == ["offer"]

    def test_a_peer_from_across_a_cut_is_spread_what_it_lacks(self) -> None:
        state = self.started()
        # It holds a document we lack: the other side's new post.
        have = Have({"board": self.D1, "need": self.D2})
        assert decide(state, Received(have), 0.1) == [Spread(frozenset({"offer"}))]
        assert self.pushed(state, 0.1) == []  # until the board says when
        decide(state, Scheduled({"offer": None}), 0.2)  # the best placed of our side
        assert self.pushed(state, 0.2) == ["offer"]


class Other:
    """A connection to another peer of the board, as the spread sees it."""

    def __init__(self, device: str, cut_off: bool = False) -> None:
        self.remote_device = device
        self.timing = TIMING
        self.cut_off = cut_off
        self.events: list[Event] = []

    def feed(self, event: Event) -> None:
        self.events.append(event)


class TestSpread:
    """The spread after a cut: every device orders the devices alike, per document."""

    DEVICES = tuple(f"device {n}" for n in range(8))

    def due(self, ours: str, theirs: str, doc_ids: list[str]) -> dict[str, float | None]:
        board = BoardSync("board", b"k" * 32, {}, device=ours, clock=lambda: 100.0)
        board._uniform = lambda low, high: low  # no jitter
        members = {device: Other(device) for device in self.DEVICES if device != ours}
        for member in members.values():
            board.attach(member)
        board.spread(members[theirs], doc_ids)
        [scheduled] = members[theirs].events
        assert isinstance(scheduled, Scheduled)
        return dict(scheduled.due)

    def test_each_peer_gets_a_document_from_one_device_per_turn(self) -> None:
        for doc in [f"doc {n}" for n in range(20)]:
            turns: dict[tuple[str, str], int] = {}
            for receiver in self.DEVICES:
                for sender in self.DEVICES:
                    if sender != receiver:
                        due = self.due(sender, receiver, [doc])[doc]
                        assert due is not None
                        turns[sender, receiver] = round((due - 100.0) / SPREAD_TURN)
                # The seven devices that could push it to this one: one per turn, the best
                # placed at once, in the same order on every device.
                order = sorted(turns[s, receiver] for s in self.DEVICES if s != receiver)
                assert order == list(range(7))
            # A device pushes it to every peer at about the same turn, as its author would.
            for sender in self.DEVICES:
                mine = {turns[sender, r] for r in self.DEVICES if r != sender}
                assert max(mine) - min(mine) <= 1

    def test_two_peers_alone_push_at_once(self) -> None:
        board = BoardSync("board", b"k" * 32, {}, device="device 0")
        other = Other("device 1")
        board.attach(other)
        board.spread(other, ["doc"])
        assert other.events == [Scheduled({"doc": None})]

    def test_a_relay_waits_longer_the_later_we_come_in_the_order(self) -> None:
        docs = [f"doc {n}" for n in range(20)]
        waits: dict[str, list[float]] = {doc: [] for doc in docs}
        for ours in self.DEVICES[1:]:
            board = BoardSync("board", b"k" * 32, {}, device=ours, clock=lambda: 100.0)
            board._uniform = lambda low, high: low
            members = [Other(device) for device in self.DEVICES if device != ours]
            for member in members:
                board.attach(member)
            origin, *others = members
            board.committed(origin, {doc: Version(b"d" * 16, 1) for doc in docs})
            assert origin.events == []  # nothing goes back to where it came from
            for doc in docs:
                dues = set()
                for member in others:
                    for event in member.events:
                        assert isinstance(event, OursChanged)
                        if doc in event.ours:
                            assert event.relay_due is not None
                            dues.add(event.relay_due)
                [due] = dues  # the same wait towards every other peer
                waits[doc].append(due - 100.0)
        delay = TIMING.relay_delay
        for doc in docs:
            # Each device waits half a relay wait, and one more per device placed before it:
            # of the seven that took the change, each at its own time.
            ranks = sorted(round(wait / delay - 0.5) for wait in waits[doc])
            assert len(set(ranks)) == 7 and ranks[0] in (0, 1), ranks
