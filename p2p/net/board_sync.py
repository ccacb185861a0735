"""One board's sync across all its peers: its digests, its connections, relaying and spreading."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from .sync import Event, OursChanged, Scheduled, Timing, Version

SPREAD_PER_PEER = 0.1
"""Seconds added, per other peer on the board, to the wait before pushing a document that
differs on both sides when a connection starts (BoardSync.spread)."""


class Member(Protocol):
    """What the board needs of a connection: its timing, and a way to tell it what happened."""

    @property
    def timing(self) -> Timing: ...

    def feed(self, event: Event) -> None:
        """Take an event that produces no message by itself (the connection's sender acts)."""


class BoardSync:
    """Owns what the node knows of one board it holds: the newest version of every document,
    and the connections syncing it. Every change reaches every connection through here, so
    no connection writes another's state, and the policy between connections (relay a peer's
    change to the others a little later; spread pushes when a mesh meets again) is in one
    place. Runs on the event loop only: each call is one step, with nothing in between."""

    def __init__(
        self,
        board_id: str,
        key: bytes,
        digests: Mapping[str, Version],
        *,
        clock: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] | None = None,
    ) -> None:
        self.board_id = board_id
        self.key = key
        self.digests: dict[str, Version] = dict(digests)
        """The newest version of every document of the board that the node knows of."""
        self.members: list[Member] = []
        """Connections to peers on this board that are running."""
        self.on_committed: Callable[[set[str]], None] = lambda doc_ids: None
        """Told of every peer's change committed (the node introduces this device once the
        board document has arrived)."""
        self._clock = clock
        self._uniform = uniform if uniform is not None else random.uniform

    def attach(self, member: Member) -> None:
        self.members.append(member)

    def detach(self, member: Member) -> None:
        if member in self.members:
            self.members.remove(member)

    def local_changes(self, versions: Mapping[str, Version]) -> None:
        """This device committed these (this process or another): every peer gets them now."""
        fresh = self._newest(versions)
        for member in self.members:
            member.feed(OursChanged(fresh))

    def committed(self, origin: Member, versions: Mapping[str, Version]) -> dict[str, Version]:
        """A connection committed its peer's changes: relay them to the others a little later
        (each first tells its peer our new digest; most peers of a mesh have the change from
        its author by then). Returns the newest versions, for the origin to take itself."""
        fresh = self._newest(versions)
        now = self._clock()
        for member in self.members:
            if member is not origin:
                delay = member.timing.relay_delay * self._uniform(0.5, 1.5)
                member.feed(OursChanged(fresh, relay_due=now + delay))
        self.on_committed(set(versions))
        return fresh

    def spread(self, member: Member, doc_ids: Iterable[str]) -> None:
        """Documents both sides hold in different versions when a connection starts: with
        other peers on the board (a mesh meeting again after a cut), each is pushed after a
        random wait that grows with their number, so that most arrive from one peer, pass on
        within the other side, and are found in sync before every peer has sent them."""
        window = self.spread_window()
        due: dict[str, float | None]
        if window <= 0:
            due = dict.fromkeys(doc_ids)
        else:
            now = self._clock()
            due = {doc_id: now + self._uniform(0, window) for doc_id in doc_ids}
        member.feed(Scheduled(due))

    def spread_window(self) -> float:
        return SPREAD_PER_PEER * (len(self.members) - 1)

    def _newest(self, versions: Mapping[str, Version]) -> dict[str, Version]:
        """Keep each version unless a newer one is known; return the newest of each."""
        fresh: dict[str, Version] = {}
        for doc_id, version in versions.items():
            known = self.digests.get(doc_id)
            if known is None or version.seq > known.seq:
                self.digests[doc_id] = known = version
            fresh[doc_id] = known
        return fresh
