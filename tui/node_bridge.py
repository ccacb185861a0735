"""The one place the app talks to the network node; the app works fully offline without it."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeerView:
    """One peer as the peers screen shows it."""

    name: str
    found: str
    since: str
    last_sync: str
    pending: str


class NodeBridge:
    """Starts the node for a home if `p2p.node` exists, and reads its presence info."""

    def __init__(self, home_path: Path, peers: list[str] | None = None) -> None:
        self.home_path = home_path
        self.initial_peers = list(peers or [])
        self.node: Any = None
        self.node_home: Any = None
        self.problem = ""

    @property
    def running(self) -> bool:
        return self.node is not None

    async def start(self) -> None:
        """Start the node; any failure leaves the app offline with a plain reason."""
        try:
            module = importlib.import_module("p2p.node")
        except ImportError:
            self.problem = "syncing is not available in this version"
            return
        try:
            # The node gets its own connection: its commits then show up in the app's
            # PRAGMA data_version poll, and no SQLite connection is shared across threads.
            from p2p.home import Home

            self.node_home = Home.open(self.home_path)
            node = module.Node(self.node_home)
            await node.start()
            self.node = node
            for address in self.initial_peers:
                await self.add_peer(address)
        except Exception as exc:
            log.exception("node failed to start")
            self.problem = f"syncing could not start: {exc}"
            self.node = None
            self.close_home()

    def close_home(self) -> None:
        home, self.node_home = self.node_home, None
        if home is not None:
            home.close()

    async def aclose(self) -> None:
        node, self.node = self.node, None
        if node is not None:
            try:
                await node.aclose()
            except Exception:
                log.exception("node failed to stop")

    async def add_peer(self, address: str) -> str:
        """Ask the node to connect to host:port; returns a sentence for the person."""
        host, _, port = address.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("write the address as host:port, for example 192.168.1.20:7777")
        if self.node is None:
            raise ValueError(self.problem or "syncing is not running")
        for name in ("add_peer", "connect", "dial"):
            method = getattr(self.node, name, None)
            if method is not None:
                result = method(host, int(port))
                if hasattr(result, "__await__"):
                    await result
                return f"trying {host}:{port}…"
        raise ValueError("this version of the node cannot add peers by hand")

    def peers(self) -> list[PeerView]:
        """The peers the node knows now, in plain words."""
        if self.node is None:
            return []
        raw = getattr(self.node, "peers", None)
        if callable(raw):
            raw = raw()
        views = []
        for peer in raw or []:

            def get(*names: str, peer: Any = peer) -> str:
                for name in names:
                    value = peer.get(name) if isinstance(peer, dict) else getattr(peer, name, None)
                    if value not in (None, ""):
                        return str(value)
                return ""

            views.append(
                PeerView(
                    name=get("name", "display_name", "device_id") or "someone",
                    found=get("found", "how_found", "source", "via"),
                    since=get("since", "connected_at"),
                    last_sync=get("last_sync", "last_synced"),
                    pending=get("pending") or "nothing",
                )
            )
        return views

    def in_sync(self) -> bool | None:
        """True if nothing is pending with any peer, None if unknown."""
        if self.node is None:
            return None
        value = getattr(self.node, "in_sync", None)
        if callable(value):
            value = value()
        if value is None:
            return all(p.pending in ("", "nothing", "0") for p in self.peers())
        return bool(value)

    def hints(self) -> list[tuple[str, int]]:
        """Addresses to put in an invite so a newcomer can reach this laptop."""
        if self.node is None:
            return []
        value = getattr(self.node, "addresses", None) or getattr(self.node, "hints", None)
        if callable(value):
            value = value()
        try:
            return [(str(h), int(p)) for h, p in value or []]
        except (TypeError, ValueError):
            return []
