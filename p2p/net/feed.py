"""The change feed: what this device commits, in any of its processes, told to the boards."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from ..errors import PotluckError
from ..storage.thread import StoreThread
from .board_sync import BoardSync

log = logging.getLogger(__name__)

FEED_INTERVAL = 0.05
"""How often the node asks SQLite whether another process committed (PRAGMA data_version)."""


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
    ) -> None:
        self.db = db
        self.boards = boards
        self.refresh_boards = refresh_boards
        """Picks up boards joined or created since (by this process or another)."""
        self.interval = interval
        self._cursor = 0
        self._version = 0

    async def begin(self) -> None:
        self._cursor = await self.db.change_cursor()
        self._version = await self.db.data_version()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
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
