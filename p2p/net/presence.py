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
    """What the running node of a home last wrote, or None when no node runs there.

    The state is checked field by field (a damaged or hand-edited file gives what can be read
    of it): `peers` is a list of dicts with every field of a connected peer, `addresses` a
    list of (host, port)."""
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
    "pending": (int,),
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
