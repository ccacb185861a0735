"""One board's sync across all its peers: its digests, its connections, relaying and spreading."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from .sync import Event, OursChanged, Scheduled, Timing, Version, spread_score

SPREAD_TURN = 2.0
"""Seconds between two turns of the spread (BoardSync.spread): long enough, on a busy mesh,
for the peers a document reached in one turn to say so before the next."""


class Member(Protocol):
    """What the board needs of a connection: its timing, its peer, and a way to tell it what
    happened."""

    @property
    def timing(self) -> Timing: ...

    @property
    def remote_device(self) -> str: ...

    @property
    def cut_off(self) -> bool:
        """Whether the peer counts as on the other side of a cut (held back or heard again
        lately, or connected lately and still bringing what we lacked)."""

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
        device: str,
        clock: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] | None = None,
    ) -> None:
        self.board_id = board_id
        self.key = key
        self.device = device
        """This device's id: its place in the spread's order."""
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
        its author by then). Returns the newest versions, for the origin to take itself.

        The wait grows with this device's rank for the document (as in `spread`): of the
        devices that took the change from a peer, the best placed relays first, and the others
        mostly hear before their time that the peers hold it (in a mesh, from the author)."""
        fresh = self._newest(versions)
        others = [member for member in self.members if member is not origin]
        if others:
            now = self._clock()
            devices = self._devices(origin)
            by_rank: dict[int, dict[str, Version]] = {}
            for doc_id, version in fresh.items():
                by_rank.setdefault(_rank(doc_id, self.device, devices), {})[doc_id] = version
            for member in others:
                for rank, group in by_rank.items():
                    delay = member.timing.relay_delay * (self._uniform(0.5, 1.5) + rank)
                    member.feed(OursChanged(group, relay_due=now + delay))
        self.on_committed(set(versions))
        return fresh

    def spread(self, member: Member, doc_ids: Iterable[str]) -> None:
        """Documents that differ between us and a peer when a connection starts, or that
        waited on a peer heard again after a cut: with other peers on our side of the cut
        (those we never lost lately), each goes in an order that they all compute alike.

        For each document the devices of our side (this one and the peers of our connections
        that are not cut off) are ranked by a hash of the document id and the device id; the
        best placed pushes it at once, to every peer of the other side, as its author would;
        each of the others waits a turn per device placed before it, and mostly finds by then
        that the peer has said it holds the document."""
        across = {other.remote_device for other in self.members if other.cut_off}
        side = self._devices(member) - across - {member.remote_device}
        due: dict[str, float | None]
        if len(side) <= 1:
            due = dict.fromkeys(doc_ids)
        else:
            now = self._clock()
            due = {}
            for doc_id in doc_ids:
                turns = _rank(doc_id, self.device, side)
                due[doc_id] = now + SPREAD_TURN * (turns + self._uniform(0.0, 0.05))
        member.feed(Scheduled(due))

    def _devices(self, member: Member) -> set[str]:
        """Every device of the board we know of: this one and the peers of our connections."""
        devices = {self.device, member.remote_device}
        devices.update(other.remote_device for other in self.members)
        return devices

    def _newest(self, versions: Mapping[str, Version]) -> dict[str, Version]:
        """Keep each version unless a newer one is known; return the newest of each."""
        fresh: dict[str, Version] = {}
        for doc_id, version in versions.items():
            known = self.digests.get(doc_id)
            if known is None or version.seq > known.seq:
                self.digests[doc_id] = known = version
            fresh[doc_id] = known
        return fresh


def _rank(doc_id: str, device: str, devices: set[str]) -> int:
    """How many of `devices` come before `device` in the order of a document's spread."""
    score = spread_score(doc_id, device)
    return sum(spread_score(doc_id, other) < score for other in devices)
