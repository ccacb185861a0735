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
        f = open(self.home_path / LOCK_NAME, "a+")  # noqa: SIM115 - held for the node's life
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
            tmp.write_text(json.dumps(self.state()))
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
    """What the running node of a home last wrote, or None when no node runs there."""
    lock = home_path / LOCK_NAME
    if not lock.exists():
        return None
    with open(lock, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                state = json.loads((home_path / STATE_NAME).read_text())
            except (OSError, ValueError):
                return {"peers": []}
            return state if isinstance(state, dict) else {"peers": []}
        fcntl.flock(f, fcntl.LOCK_UN)
        return None


def invite_hints(home_path: Path) -> list[tuple[str, int]]:
    """Addresses to put in an invite code: the running node's, else this machine's on the
    default port (where a node started later will most likely listen)."""
    state = read_node_state(home_path)
    if state and state.get("addresses"):
        return [(str(h), int(p)) for h, p in state["addresses"]][:MAX_HINTS]
    return [(ip, DEFAULT_PORT) for ip in local_addresses()][:MAX_HINTS]
