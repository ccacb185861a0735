"""The one place the app talks to the network node (p2p.node.Node), in the person's words.

Nothing here waits on a disk on the event loop: opening the node's home, reading node.json
(another process's node) and this laptop's addresses happen in threads."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from potluck.p2p import Home, NodeError, PotluckError, invite_hints, read_node_state

from .cli.words import parse_address, plural, span

if TYPE_CHECKING:
    from potluck.p2p import Node, Timing

log = logging.getLogger(__name__)

FOUND_WORDS = {
    "mdns": "nearby (mDNS)",
    "manual": "address given",
    "remembered": "known before",
    "invite": "invite code",
    "incoming": "they connected",
}


CATCH_UP_FROM = 50
"""A catch-up bringing more items than this shows how far it has got."""


@dataclass(frozen=True)
class PeerView:
    """One peer as the peers screen and the status line show it; `name` is what the peer's
    device says (raw). The words come from what the peer *confirmed*, never from what was
    only sent to it: `in_sync`, `answering` and `last_heard` are the node's."""

    name: str
    device_id: str
    address: str
    found: str
    since: str
    last_sync: str
    pending: str
    in_sync: bool
    waiting: int = 0
    """Items of ours the peer has not confirmed."""
    answering: bool = True
    last_heard: str = ""
    """'5 s ago', or the time of day ('14:02') when it has gone quiet."""
    quiet_since: str = ""
    """The time of day the peer was last heard, as 'not answering since' says it."""
    expected: int = 0
    """Items the peer held that this laptop lacked (or held otherwise) when they met."""
    arrived: int = 0
    """How many of those this laptop now holds as the peer does (0 to `expected`)."""

    @property
    def catching_up(self) -> bool:
        """A catch-up of more than a handful of items from this peer is under way."""
        return self.expected > CATCH_UP_FROM and self.arrived < self.expected


def clock_time(ts: float | None, now: float) -> str:
    """A moment of today as '14:02'; of another day with its date ('29 Nov 14:02')."""
    if not ts:
        return "never"
    then, today = time.localtime(ts), time.localtime(now)
    return time.strftime("%H:%M" if then[:3] == today[:3] else "%d %b %H:%M", then)


def peer_view(peer: dict[str, Any], now: float) -> PeerView:
    """A peer dict (Node.peers() or node.json) in the person's words."""
    last = peer.get("last_sync")
    pending = int(peer.get("pending") or 0)
    device = str(peer.get("device_id", ""))
    heard = peer.get("last_heard")
    expected = max(0, int(peer.get("expected") or 0))
    answering = peer.get("answering") is not False
    in_sync = bool(peer.get("in_sync", pending == 0 and bool(last))) and answering
    quiet = clock_time(float(heard), now) if heard else "never"
    return PeerView(
        name=str(peer.get("name") or ""),
        device_id=device,
        address=str(peer.get("address", "")),
        found=FOUND_WORDS.get(str(peer.get("found")), str(peer.get("found", ""))),
        since=span(now - float(peer.get("since") or now)),
        last_sync="never" if not last else f"synced {span(now - float(last))} ago",
        pending="nothing" if not pending else plural(pending, "item"),
        in_sync=in_sync,
        waiting=pending,
        answering=answering,
        last_heard=(
            "never"
            if not heard
            else f"{span(now - float(heard))} ago"
            if answering
            else f"at {quiet}"
        ),
        quiet_since="" if answering else quiet,
        expected=expected,
        arrived=min(expected, max(0, int(peer.get("arrived") or 0))),
    )


@dataclass(frozen=True)
class Unreachable:
    """An address given by hand that does not answer, and why ('connection refused')."""

    address: str
    error: str
    since: str


def unreachable_view(raw: dict[str, Any], now: float) -> Unreachable:
    return Unreachable(
        address=str(raw.get("address", "")),
        error=str(raw.get("error") or "no answer"),
        since=clock_time(raw.get("since"), now),
    )


@dataclass(frozen=True)
class Presence:
    """Who is here and how syncing goes, at one moment: what the status line and the peers
    screen show. Equal snapshots mean nothing changed on screen."""

    running: bool = False
    elsewhere: bool = False
    """Another process runs this home's node: this is what its node.json says."""
    problem: str = ""
    peers: tuple[PeerView, ...] = ()
    in_sync: bool = True
    """Every peer here confirmed everything this laptop holds (and answers)."""
    hints: tuple[tuple[str, int], ...] = ()
    """Where this laptop can be reached (for invites and the peers screen)."""
    unreachable: tuple[Unreachable, ...] = ()

    @property
    def waiting(self) -> int:
        """The most items any one peer has yet to confirm."""
        return max((p.waiting for p in self.peers), default=0)

    @property
    def catch_up(self) -> tuple[int, int] | None:
        """(arrived, expected) of the peer with the most items still to come in a catch-up of
        more than a handful, if one is under way."""
        peers = [p for p in self.peers if p.catching_up]
        if not peers:
            return None
        most = max(peers, key=lambda p: p.expected - p.arrived)
        return most.arrived, most.expected

    @property
    def quiet(self) -> tuple[PeerView, ...]:
        """The peers that stopped answering while items waited for them."""
        return tuple(p for p in self.peers if not p.answering)


class NodeBridge:
    """Runs the node of a home inside the app, or reads the one another process runs.

    With `potluck serve` (or another window) already syncing this home, the node cannot run
    twice: the bridge then shows what that node publishes in node.json instead.
    """

    def __init__(
        self,
        home_path: Path,
        peers: list[tuple[str, int]] | None = None,
        *,
        port: int | None = None,
        host: str = "0.0.0.0",
        mdns: bool = True,
        timing: Timing | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.home_path = Path(home_path)
        self.initial_peers = list(peers or [])
        self.port = port
        self.host = host
        self.mdns = mdns
        self.timing = timing
        self.clock = clock
        self.node: Node | None = None
        self.node_home: Home | None = None
        self.elsewhere = False
        """True when another process runs this home's node; we read its node.json."""
        self.problem = ""

    @property
    def running(self) -> bool:
        return self.node is not None or self.elsewhere

    async def start(self) -> None:
        """Start the node; a failure leaves the app working offline with a plain reason."""
        # zeroconf is slow to import: keep it off the event loop that draws the screen.
        module = await asyncio.to_thread(importlib.import_module, "potluck.p2p.net.node")
        try:
            # The node gets its own connection: its commits then show up in the app's
            # PRAGMA data_version poll, and no SQLite connection is shared across threads.
            self.node_home = await asyncio.to_thread(Home.open, self.home_path)
            node = module.Node(
                self.node_home,
                port=self.port,
                host=self.host,
                peers=self.initial_peers,
                mdns=self.mdns,
                timing=self.timing,
            )
            await node.start()
        except NodeError as exc:
            await self.close_home()
            if await asyncio.to_thread(read_node_state, self.home_path) is not None:
                self.elsewhere = True
                self.problem = "another potluck on this laptop is syncing this home"
            else:
                self.problem = str(exc)
            return
        except (OSError, PotluckError) as exc:
            log.exception("node failed to start")
            await self.close_home()
            self.problem = f"syncing could not start: {exc}"
            return
        self.node = node

    async def close_home(self) -> None:
        home, self.node_home = self.node_home, None
        if home is not None:
            await asyncio.to_thread(home.close)

    async def aclose(self) -> None:
        node, self.node = self.node, None
        if node is not None:
            try:
                await node.aclose()
            except Exception:
                log.exception("node failed to stop")
        await self.close_home()

    async def add_peer(self, address: str) -> str:
        """Ask the node to keep connecting to host:port; returns a sentence for the person."""
        host, port = parse_address(address)
        if self.node is None:
            if self.elsewhere:
                raise NodeError(
                    "another potluck is syncing this home: add the address there "
                    f"(potluck serve --peer {host}:{port})"
                )
            raise NodeError(self.problem or "syncing has not started yet")
        await self.node.add_peer(host, port)
        return f"Connecting to {host}:{port}… it shows up here once it answers."

    async def raw_state(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The peers connected, and the addresses given by hand that do not answer."""
        if self.node is not None:  # in memory: the node runs on this loop
            return self.node.peers(), self.node.unreachable()
        if self.elsewhere:
            state = await asyncio.to_thread(read_node_state, self.home_path)
            if state is None:  # that process stopped: say so, do not pretend
                self.elsewhere = False
                self.problem = "the other potluck that was syncing this home has stopped"
                return [], []
            return list(state.get("peers") or []), list(state.get("unreachable") or [])
        return [], []

    async def raw_peers(self) -> list[dict[str, Any]]:
        return (await self.raw_state())[0]

    async def presence(self, board_id: str) -> Presence:
        """Who is here on `board_id` now, in plain words."""
        now = self.clock()
        raw, unanswered = await self.raw_state()
        peers = tuple(peer_view(p, now) for p in raw if p.get("board_id") == board_id)
        return Presence(
            running=self.running,
            elsewhere=self.elsewhere,
            problem=self.problem,
            peers=peers,
            in_sync=all(p.in_sync for p in peers),
            hints=tuple(await self.hints()) if self.running else (),
            unreachable=tuple(unreachable_view(u, now) for u in unanswered),
        )

    async def hints(self) -> list[tuple[str, int]]:
        """Addresses to put in an invite so a newcomer's laptop can reach this one."""
        node = self.node
        if node is not None:
            found = await asyncio.to_thread(node.addresses)
            if found:
                return found
        return await asyncio.to_thread(invite_hints, self.home_path)
