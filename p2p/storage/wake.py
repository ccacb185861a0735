"""Wake-ups: a process that commits to a home tells the home's node at once, with a datagram.

Without them the node would only learn of another process's commit by asking SQLite every
few tens of milliseconds. The datagram carries nothing: it only says "look now". It goes to
the Unix socket `node.wake` in the home (0600, like every file there); where the home's path
is too long for a socket, on Linux to an abstract socket named after the home (those are
per network namespace, so a file is preferred), else nowhere, and the node falls back to
asking SQLite.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sys
from pathlib import Path

WAKE_NAME = "node.wake"
MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to 104 (macOS) or 108 (Linux) bytes."""


def wake_address(home: Path) -> str | bytes | None:
    """Where the node of `home` listens for wake-ups, or None where it cannot."""
    path = str(home.resolve() / WAKE_NAME)
    if len(path.encode()) <= MAX_SOCKET_PATH:
        return path
    if sys.platform.startswith("linux"):
        digest = hashlib.blake2b(str(home.resolve()).encode(), digest_size=12).hexdigest()
        return b"\0potluck-wake-" + digest.encode()
    return None


def send_wake(address: str | bytes | None) -> None:
    """Tell the node at `address` to look now; nothing happens if no node listens."""
    if address is None:
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.sendto(b"", address)
    except OSError:
        pass  # no node, or its queue is full: it is awake already


def bind_wake(address: str | bytes) -> socket.socket:
    """The node's socket for wake-ups (a stale file from a crashed node is replaced)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        if isinstance(address, str):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(address)
        sock.bind(address)
        if isinstance(address, str):
            os.chmod(address, 0o600)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
