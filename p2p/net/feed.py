"""The change feed: what this device commits, in any of its processes, told to the boards."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from ..errors import PotluckError
from ..storage.thread import StoreThread
from ..storage.wake import bind_wake, wake_address
from .board_sync import BoardSync

log = logging.getLogger(__name__)

FEED_INTERVAL = 0.05
"""How often the node asks SQLite whether another process committed (PRAGMA data_version),
where no wake-up socket can be had."""
WOKEN_INTERVAL = 1.0
"""… and how often it still asks when processes wake it on every commit (a safety net)."""


class ChangeFeed:
    """Follows SQLite's data_version (it moves when another process commits), then reads the
    documents committed since it last looked and gives each board their newest versions.

    Start with `begin()` before reading any board's versions, so no commit falls between."""

    def __init__(
        self,
        db: StoreThread,
        boards: Mapping[str, BoardSync],
        refresh_boards: Callable[[], Awaitable[None]],
        interval: float = FEED_INTERVAL,
        home: Path | None = None,
    ) -> None:
        self.db = db
        self.boards = boards
        self.refresh_boards = refresh_boards
        """Picks up boards joined or created since (by this process or another)."""
        self.interval = interval
        self.home = home
        """Where other processes' wake-ups come from (None: only ask SQLite)."""
        self._cursor = 0
        self._version = 0
        self._woken = asyncio.Event()
        self._socket: socket.socket | None = None
        self._address: str | bytes | None = None

    async def begin(self) -> None:
        """Listen for wake-ups, then read where the feed starts (so no commit falls between)."""
        address = self._address = wake_address(self.home) if self.home is not None else None
        if address is not None:
            try:
                self._socket = bind_wake(address)
            except OSError as exc:
                log.info("no wake-ups from other processes (%s): asking SQLite instead", exc)
            else:
                self.interval = max(self.interval, WOKEN_INTERVAL)
                asyncio.get_running_loop().add_reader(self._socket.fileno(), self._wake)
        self._cursor = await self.db.change_cursor()
        self._version = await self.db.data_version()

    def _wake(self) -> None:
        """Datagrams waiting: read them all (a burst of commits makes one round), look now."""
        assert self._socket is not None
        with contextlib.suppress(OSError):
            while self._socket.recv(16) is not None:
                pass
        self._woken.set()

    def close(self) -> None:
        if self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
            if isinstance(self._address, str):
                with contextlib.suppress(OSError):
                    os.unlink(self._address)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._woken.wait()
            self._woken.clear()
            version = await self.db.data_version()
            if version == self._version:
                continue
            self._version = version
            try:
                await self.refresh_boards()
                self._cursor, changed = await self.db.changes(self._cursor)
                by_board: dict[str, set[str]] = {}
                for board_id, doc_id in changed:
                    by_board.setdefault(board_id, set()).add(doc_id)
                for board_id, doc_ids in by_board.items():
                    board = self.boards.get(board_id)
                    if board is not None:
                        board.local_changes(await self.db.versions_of(board_id, doc_ids))
            except PotluckError as exc:
                log.warning("could not read local changes: %s", exc)
