"""Range-based set reconciliation of two inventories, (document id, digest) pairs (PROTOCOL.md
§5.3): peers holding the same documents exchange one fingerprint each way; peers k documents
apart exchange O(k log n) bytes, where a full inventory would cost every digest each way."""

from __future__ import annotations

import hashlib
import itertools
from bisect import bisect_left
from collections.abc import Mapping

from ..errors import ProtocolError
from .messages import FINGERPRINT, LAST_LIST, LIST, MAX_RANGES, SKIP, Range, Reconcile

__all__ = [
    "BRANCH",
    "LIST_MAX",
    "MAX_ROUNDS",
    "ReconcileError",
    "Reconciler",
    "fingerprint",
    "item_hash",
    "separator",
]

BRANCH = 16
"""A range whose fingerprints differ is split in this many parts."""
LIST_MAX = 16
"""A range holding at most this many of the sender's pairs goes as a list, not split."""
MAX_ROUNDS = 64
"""`reconcile` messages one side takes on one connection; an honest exchange of a million
documents takes fewer than 16."""
_MOD = 1 << 128
_TOP = "\x7f"
"""Above every document id: the upper bound written `nil` on the wire."""


class ReconcileError(ProtocolError):
    """A `reconcile` message no honest peer sends at this point."""


def item_hash(doc_id: str, digest: bytes) -> int:
    """The 128-bit hash of one pair: SHA-256(id ‖ 00 ‖ digest), first 16 bytes, big-endian."""
    return int.from_bytes(hashlib.sha256(doc_id.encode() + b"\0" + digest).digest()[:16], "big")


def fingerprint(total: int, count: int) -> bytes:
    """A range's fingerprint from the sum of its item hashes (mod 2^128) and its count:
    SHA-256(sum as 16 bytes ‖ count as 8 bytes, big-endian), first 16 bytes."""
    return hashlib.sha256(total.to_bytes(16, "big") + count.to_bytes(8, "big")).digest()[:16]


def separator(below: str, above: str) -> str:
    """The shortest prefix of `above` that sorts after `below` (below < above)."""
    common = 0
    while common < len(below) and below[common] == above[common]:
        common += 1
    return above[: common + 1]


class Reconciler:
    """One side's reconciliation of its inventory, taken when the connection began, with the
    peer's. `opening` is the first message; `receive` takes each of the peer's and returns
    the answer, if one is due. Once `done`, `theirs` is the peer's inventory exactly.

    Both sides open with the fingerprint of everything. The *leader* (decided by the caller,
    the same way on both sides) does not answer the follower's opening: when the two differ,
    the follower splits, and from then on the sides alternate, each answering every range of
    the other's message. A side answers a fingerprint that matches with a skip, one that does
    not with a list of its pairs in the range (if it holds at most LIST_MAX there) or with
    BRANCH fingerprints of parts; a LIST with a LAST_LIST of its own pairs. A message that
    asks nothing (no FINGERPRINT, no LIST) ends the exchange: its sender is done once it
    sends it, its receiver once it reads it (and answers nothing)."""

    def __init__(
        self,
        items: Mapping[str, bytes],
        *,
        lead: bool,
        branch: int = BRANCH,
        list_max: int = LIST_MAX,
        max_ranges: int = MAX_RANGES,
    ) -> None:
        self.ids = sorted(items)
        self.digests = [items[doc_id] for doc_id in self.ids]
        self.prefix = [0]
        total = 0
        for doc_id, digest in zip(self.ids, self.digests, strict=True):
            total = (total + item_hash(doc_id, digest)) % _MOD
            self.prefix.append(total)
        if branch < 2 or list_max < 1:
            raise ValueError("a range splits in at least 2 parts, and lists hold at least 1")
        self.lead = lead
        self.branch = branch
        self.list_max = list_max
        self.max_ranges = max_ranges
        self.rounds = 0
        self.done = False
        self.theirs: dict[str, bytes] = {}
        """The peer's pairs learnt so far: all of them once `done`."""
        self._resolved: list[tuple[str, str]] = []
        self._asked: list[tuple[str, str, int]] = []
        """What our last message asked: (lower, upper, FINGERPRINT or LIST)."""

    def opening(self) -> Reconcile:
        """The first message: the fingerprint of everything."""
        self._asked = [("", _TOP, FINGERPRINT)]
        return Reconcile((Range(None, FINGERPRINT, self._fingerprint(0, len(self.ids))),))

    def receive(self, message: Reconcile) -> Reconcile | None:
        """Take the peer's message; the answer to send, if any. ReconcileError when the
        peer breaks the exchange (too many rounds, out of turn, a question left open)."""
        if self.done:
            raise ReconcileError("a reconcile message after the inventories were reconciled")
        self.rounds += 1
        if self.rounds > MAX_ROUNDS:
            raise ReconcileError(f"more than {MAX_ROUNDS} reconcile messages")
        ranges = list(message.ranges)
        if self.rounds == 1 and (
            len(ranges) != 1 or ranges[0].upper is not None or ranges[0].mode != FINGERPRINT
        ):
            raise ReconcileError("the first reconcile message is one fingerprint of everything")
        if ranges and ranges[-1].upper is not None:
            ranges.append(Range(None, SKIP))
        answer: list[Range] = []
        asked: list[tuple[str, str, int]] = []
        lower = ""
        for n, part in enumerate(ranges):
            upper = _TOP if part.upper is None else part.upper
            start, end = bisect_left(self.ids, lower), bisect_left(self.ids, upper)
            if part.mode == SKIP:
                self._skipped(lower, upper)
                answer.append(Range(part.upper, SKIP))
            elif part.mode == FINGERPRINT:
                if part.fingerprint == self._fingerprint(start, end):
                    self._agree(lower, upper, start, end)
                    answer.append(Range(part.upper, SKIP))
                elif self.rounds == 1 and self.lead:
                    return None  # the follower splits; our opening stays the question
                else:
                    room = self.max_ranges - len(answer) - (len(ranges) - n - 1)
                    self._split(lower, part.upper, start, end, room, answer, asked)
            else:
                self._learn(lower, upper, part.items)
                if part.mode == LIST:
                    answer.append(Range(part.upper, LAST_LIST, items=self._pairs(start, end)))
                else:
                    answer.append(Range(part.upper, SKIP))
            lower = upper
        self._asked = asked
        if not asked:
            self._finish()
        while answer and answer[-1].mode == SKIP:
            answer.pop()
        if all(part.mode == SKIP for part in answer):
            return None
        return Reconcile(tuple(_merge_skips(answer)))

    # ------------------------------------------------------------ the parts

    def _fingerprint(self, start: int, end: int) -> bytes:
        return fingerprint((self.prefix[end] - self.prefix[start]) % _MOD, end - start)

    def _pairs(self, start: int, end: int) -> tuple[tuple[str, bytes], ...]:
        return tuple(zip(self.ids[start:end], self.digests[start:end], strict=True))

    def _split(
        self,
        lower: str,
        upper: str | None,
        start: int,
        end: int,
        room: int,
        answer: list[Range],
        asked: list[tuple[str, str, int]],
    ) -> None:
        """Answer a range whose fingerprints differ: our pairs, or BRANCH parts' fingerprints
        (as a list, too, when the message has no room left for the parts)."""
        count = end - start
        top = _TOP if upper is None else upper
        if count <= self.list_max or room < self.branch:
            answer.append(Range(upper, LIST, items=self._pairs(start, end)))
            asked.append((lower, top, LIST))
            return
        parts = min(self.branch, count)
        bounds = [start + count * j // parts for j in range(parts + 1)]
        low = lower
        for first, last in itertools.pairwise(bounds):
            if last == end:
                high: str | None = upper
            else:
                high = separator(self.ids[last - 1], self.ids[last])
            answer.append(Range(high, FINGERPRINT, self._fingerprint(first, last)))
            asked.append((low, _TOP if high is None else high, FINGERPRINT))
            low = _TOP if high is None else high

    def _agree(self, lower: str, upper: str, start: int, end: int) -> None:
        """Both hold exactly the same pairs in [lower, upper)."""
        self.theirs.update(self._pairs(start, end))
        self._resolved.append((lower, upper))

    def _learn(self, lower: str, upper: str, items: tuple[tuple[str, bytes], ...]) -> None:
        """The peer holds exactly `items` in [lower, upper)."""
        self.theirs.update(items)
        self._resolved.append((lower, upper))

    def _skipped(self, lower: str, upper: str) -> None:
        """The peer says nothing more of [lower, upper): where we asked by fingerprint, it
        found ours equal to its own."""
        for low, high, mode in self._asked:
            if mode != FINGERPRINT or high <= lower or low >= upper:
                continue
            low, high = max(low, lower), min(high, upper)
            start, end = bisect_left(self.ids, low), bisect_left(self.ids, high)
            self._agree(low, high, start, end)

    def _finish(self) -> None:
        """Nothing is asked any more: every id must be resolved, or the peer left a question
        of ours unanswered."""
        reached = ""
        for lower, upper in sorted(self._resolved):
            if lower > reached:
                break
            reached = max(reached, upper)
        if reached != _TOP:
            raise ReconcileError("the reconciliation ended with ranges left unresolved")
        self.done = True
        self._resolved = []


def _merge_skips(ranges: list[Range]) -> list[Range]:
    """Consecutive skips as one (the last one's upper bound)."""
    merged: list[Range] = []
    for part in ranges:
        if merged and merged[-1].mode == SKIP and part.mode == SKIP:
            merged[-1] = part
        else:
            merged.append(part)
    return merged
