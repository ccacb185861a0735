"""What the running node of a home publishes (node.json), readable by any other process."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

import ifaddr

from .messages import DEFAULT_PORT

LOCK_NAME = "node.lock"
STATE_NAME = "node.json"
MAX_HINTS = 8


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
