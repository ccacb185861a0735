"""The one node of a home: its lock, and what it publishes (node.json) for other processes."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import ifaddr

from ..errors import NodeError
from ..storage.files import open_private, write_private
from .messages import DEFAULT_PORT

log = logging.getLogger(__name__)

LOCK_NAME = "node.lock"
STATE_NAME = "node.json"
MAX_HINTS = 8
STATE_INTERVAL = 0.5
"""At most this often, node.json is rewritten for `potluck peers`."""


class Presence:
    """Holds the home's node lock while the node runs, and keeps node.json up to date:
    `potluck peers`, and the app beside a `potluck serve`, read what the node sees from it."""

    def __init__(self, home_path: Path, state: Callable[[], dict[str, Any]]) -> None:
        self.home_path = home_path
        self.state = state
        """What to publish, asked for at each write."""
        self._lock: IO[str] | None = None
        self._dirty = asyncio.Event()
        self._unwritable = False

    def lock(self) -> None:
        """Become the home's node; NodeError if another process already is."""
        f = open_private(self.home_path / LOCK_NAME)  # held for the node's life; 0600
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise NodeError(
                f"another potluck is already syncing {self.home_path}; "
                "stop it first, or use that one (only one node per home)"
            ) from None
        f.truncate(0)
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock = f

    def changed(self) -> None:
        """What the node sees changed: node.json is rewritten within STATE_INTERVAL."""
        self._dirty.set()

    async def run(self) -> None:
        while True:
            self.write()
            await self._dirty.wait()
            self._dirty.clear()
            await asyncio.sleep(STATE_INTERVAL)

    def write(self) -> None:
        path = self.home_path / STATE_NAME
        tmp = path.with_suffix(".tmp")
        try:
            write_private(tmp, json.dumps(self.state()))
            os.replace(tmp, path)
        except OSError as exc:
            if not self._unwritable:  # once, not every half second while the disk is full
                log.warning("could not write %s: %s", path, exc)
            self._unwritable = True
        else:
            self._unwritable = False

    def close(self) -> None:
        """Withdraw node.json and let go of the lock; idempotent."""
        if self._lock is None:
            return
        with contextlib.suppress(OSError):
            (self.home_path / STATE_NAME).unlink()
        self._lock.close()
        self._lock = None


def local_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, for invites and mDNS."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127.") and ip.ip not in found:
                found.append(ip.ip)
    return found


def read_node_state(home_path: Path) -> dict[str, Any] | None:
    """What the running node of a home last wrote, or None when no node runs there.

    The state is checked field by field (a damaged or hand-edited file gives what can be read
    of it): `peers` is a list of dicts with every field of a connected peer, `unreachable` of
    addresses given by hand that do not answer, `addresses` a list of (host, port)."""
    lock = home_path / LOCK_NAME
    try:
        f = open(lock, "rb")  # noqa: SIM115 - closed below; read-only, so a read-only home works
    except OSError:
        return None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                state = json.loads((home_path / STATE_NAME).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = {}
            return _checked(state if isinstance(state, dict) else {})
        except OSError:
            return None
        fcntl.flock(f, fcntl.LOCK_UN)
        return None


_PEER_FIELDS: dict[str, tuple[type, ...]] = {
    "device_id": (str,),
    "name": (str,),
    "board_id": (str,),
    "address": (str,),
    "found": (str,),
    "since": (int, float),
    "last_sync": (int, float, type(None)),
    "last_heard": (int, float, type(None)),
    "pending": (int,),
    "in_sync": (bool,),
    "answering": (bool,),
}
_PEER_COUNTS = ("expected", "arrived")
"""Fields a node before them did not write: 0 when absent or not a count."""
_UNREACHABLE_FIELDS: dict[str, tuple[type, ...]] = {
    "address": (str,),
    "error": (str,),
    "since": (int, float),
}


def _checked(state: dict[str, Any]) -> dict[str, Any]:
    """`state` with `peers` and `addresses` of the shapes their readers expect."""
    peers = state.get("peers")
    state["peers"] = [
        p
        for p in (peers if isinstance(peers, list) else [])
        if isinstance(p, dict)
        and all(isinstance(p.get(k), kinds) for k, kinds in _PEER_FIELDS.items())
    ]
    for p in state["peers"]:
        for k in _PEER_COUNTS:
            value = p.get(k)
            p[k] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    unreachable = state.get("unreachable")
    state["unreachable"] = [
        u
        for u in (unreachable if isinstance(unreachable, list) else [])
        if isinstance(u, dict)
        and all(isinstance(u.get(k), kinds) for k, kinds in _UNREACHABLE_FIELDS.items())
    ]
    addresses = state.get("addresses")
    state["addresses"] = [
        [a[0], a[1]]
        for a in (addresses if isinstance(addresses, list) else [])
        if isinstance(a, list)
        and len(a) == 2
        and isinstance(a[0], str)
        and isinstance(a[1], int)
        and 0 < a[1] < 65536
    ]
    return state


def invite_hints(home_path: Path) -> list[tuple[str, int]]:
    """Addresses to put in an invite code: the running node's, else this machine's on the
    default port (where a node started later will most likely listen)."""
    state = read_node_state(home_path)
    if state and state["addresses"]:
        return [(str(h), int(p)) for h, p in state["addresses"]][:MAX_HINTS]
    return [(ip, DEFAULT_PORT) for ip in local_addresses()][:MAX_HINTS]
