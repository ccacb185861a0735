"""Range-based set reconciliation (PROTOCOL.md §5.3): random inventories reconciled through
the real encoding, each side learning the other's exactly, in bounded messages and rounds."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from potluck.p2p.errors import ProtocolError
from potluck.p2p.net import messages
from potluck.p2p.net.messages import FINGERPRINT, LIST, SKIP, Range, Reconcile
from potluck.p2p.net.reconcile import (
    BRANCH,
    MAX_ROUNDS,
    ReconcileError,
    Reconciler,
    fingerprint,
    item_hash,
    separator,
)


def digest(n: int) -> bytes:
    return hashlib.blake2b(n.to_bytes(8, "big"), digest_size=16).digest()


def doc_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def exchange(
    ours: dict[str, bytes], theirs: dict[str, bytes], **params: int
) -> tuple[Reconciler, Reconciler, list[int]]:
    """Reconcile two inventories as two peers do, every message through the encoding; the
    two sides and the size of each message on the wire (encoded), in the order sent."""
    a = Reconciler(ours, lead=True, **params)
    b = Reconciler(theirs, lead=False, **params)
    sizes: list[int] = []
    inbox: dict[Reconciler, list[bytes]] = {a: [], b: []}

    def send(to: Reconciler, message: Reconcile) -> None:
        data = messages.encode(message)
        sizes.append(len(data))
        inbox[to].append(data)

    send(b, a.opening())
    send(a, b.opening())
    while inbox[a] or inbox[b]:
        for side, other in ((a, b), (b, a)):
            if inbox[side]:
                decoded = messages.decode(inbox[side].pop(0))
                assert isinstance(decoded, Reconcile)
                answer = side.receive(decoded)
                if answer is not None:
                    assert len(answer.ranges) <= messages.MAX_RANGES
                    send(other, answer)
    assert a.done and b.done
    assert a.theirs == theirs and b.theirs == ours
    return a, b, sizes


inventories = st.dictionaries(
    st.text("abcdef0123456789", min_size=1, max_size=6), st.integers(0, 3).map(digest)
)


@settings(max_examples=300, deadline=None)
@given(
    base=inventories,
    only_a=inventories,
    only_b=inventories,
    changed=st.sets(st.integers(0, 200)),
    branch=st.integers(2, 5),
    list_max=st.integers(1, 4),
)
def test_random_inventories_reconcile_exactly(
    base: dict[str, bytes],
    only_a: dict[str, bytes],
    only_b: dict[str, bytes],
    changed: set[int],
    branch: int,
    list_max: int,
) -> None:
    a = base | only_a
    b = base | only_b
    for n, key in enumerate(sorted(base)):
        if n in changed:
            b[key] = digest(1000 + n)  # both hold it, in different versions
    _, _, sizes = exchange(a, b, branch=branch, list_max=list_max)
    assert len(sizes) <= MAX_ROUNDS


def test_identical_inventories_take_one_fingerprint_each_way() -> None:
    rng = random.Random(1)
    inventory = {doc_id(rng): digest(n) for n in range(10_000)}
    _, _, sizes = exchange(inventory, dict(inventory))
    assert len(sizes) == 2
    assert all(size < 64 for size in sizes), sizes


@pytest.mark.parametrize("n", [2_000, 10_000])
def test_bytes_grow_with_the_differences_not_the_documents(n: int) -> None:
    rng = random.Random(n)
    inventory = {doc_id(rng): digest(k) for k in range(n)}
    keys = sorted(inventory)
    cost = {}
    for k in (1, 10, 100):
        theirs = dict(inventory)
        for key in rng.sample(keys, k):
            theirs[key] = digest(-1 & 0xFFFF)  # changed apart
        for _ in range(k // 2):
            theirs[doc_id(rng)] = digest(7)  # posted apart
        _, _, sizes = exchange(inventory, theirs)
        cost[k] = sum(sizes)
        assert len(sizes) <= 8
    # A full inventory is ~50 bytes a document; k differences cost a few kB each at most,
    # O(k log n): tens of times less than the inventory when k is small.
    assert cost[1] < 4_000, cost
    assert cost[10] < 10 * 3_000, cost
    assert cost[100] < 100 * 2_500, cost
    assert cost[1] * 20 < 50 * n, cost


def test_a_newcomer_learns_every_pair() -> None:
    rng = random.Random(3)
    inventory = {doc_id(rng): digest(k) for k in range(3_000)}
    for ours, theirs in (({}, inventory), (inventory, {})):
        _, _, sizes = exchange(ours, theirs)
        assert sum(sizes) < 60 * len(inventory)  # about what a full inventory costs


def test_the_fingerprint_function() -> None:
    pairs = [("board", bytes(16)), ("ab" * 16, bytes(range(16)))]
    total = sum(item_hash(i, d) for i, d in pairs) % (1 << 128)
    expected = hashlib.sha256(total.to_bytes(16, "big") + (2).to_bytes(8, "big")).digest()[:16]
    assert fingerprint(total, 2) == expected
    assert item_hash("board", bytes(16)) == int.from_bytes(
        hashlib.sha256(b"board\0" + bytes(16)).digest()[:16], "big"
    )
    assert separator("abc", "abd") == "abd"
    assert separator("ab", "abz") == "abz"
    assert separator("a1", "b0") == "b"
    assert separator("ab", "abc") == "abc"


class TestAHostilePeer:
    """Whatever the peer sends, a side ends with a reason rather than looping or guessing."""

    def test_the_first_message_must_be_one_fingerprint_of_everything(self) -> None:
        side = Reconciler({"a": digest(0)}, lead=False)
        side.opening()
        with pytest.raises(ReconcileError):
            side.receive(Reconcile((Range("m", FINGERPRINT, bytes(16)),)))

    def test_a_question_left_unanswered_is_refused(self) -> None:
        side = Reconciler({f"d{n:03d}": digest(n) for n in range(100)}, lead=False)
        side.opening()
        answer = side.receive(Reconcile((Range(None, FINGERPRINT, bytes(16)),)))
        assert answer is not None and len(answer.ranges) == BRANCH
        # The peer answers our fingerprints with nothing: nothing was resolved.
        with pytest.raises(ReconcileError):
            side.receive(Reconcile(()))

    def test_a_list_we_asked_for_must_come(self) -> None:
        side = Reconciler({"a": digest(0)}, lead=False)
        side.opening()
        answer = side.receive(Reconcile((Range(None, FINGERPRINT, bytes(16)),)))
        assert answer == Reconcile((Range(None, LIST, items=(("a", digest(0)),)),))
        with pytest.raises(ReconcileError):
            side.receive(Reconcile((Range(None, SKIP),)))

    def test_endless_fingerprints_end_after_max_rounds(self) -> None:
        side = Reconciler({f"d{n:04d}": digest(n) for n in range(5_000)}, lead=False)
        side.opening()
        with pytest.raises(ReconcileError, match="more than"):
            for _ in range(MAX_ROUNDS + 1):
                side.receive(Reconcile((Range(None, FINGERPRINT, bytes(16)),)))

    def test_a_message_after_the_end_is_refused(self) -> None:
        inventory = {"a": digest(0)}
        a, _, _ = exchange(inventory, dict(inventory))
        with pytest.raises(ReconcileError):
            a.receive(Reconcile(()))

    @pytest.mark.parametrize(
        "ranges",
        [
            [["b", 0], ["a", 0]],  # bounds out of order
            [["a", 0], ["a", 0]],  # a bound twice
            [[None, 0], ["z", 0]],  # a range after the end
            [["a", 1, b"short"]],
            [["a", True, bytes(16)]],
            [["a", 9]],
            [["../x", 0]],
            [[None, 2, [["b", bytes(16)], ["a", bytes(16)]]]],  # items out of order
            [["m", 2, [["z", bytes(16)]]]],  # an item outside its range
            [[None, 3, [["a", b"x"]]]],
            [[None, 2, "not a list"]],
            "not ranges",
            [[None, 0]] * (messages.MAX_RANGES + 1),
        ],
    )
    def test_malformed_messages_are_refused(self, ranges: object) -> None:
        import msgpack

        with pytest.raises(ProtocolError):
            messages.decode(msgpack.packb({"type": "reconcile", "ranges": ranges}))
