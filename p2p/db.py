"""The node's one database thread: every store call (and all automerge work) runs on it."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from p2p import docs
from p2p.errors import DamagedDocument
from p2p.store import Store

T = TypeVar("T")

PEERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS remembered_peers (
    board_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (board_id, device_id)
)
"""
MAX_REMEMBERED = 32
"""Remembered peers kept per board (most recently seen first)."""


class Db:
    """Runs store calls one at a time on a dedicated thread, so the event loop never blocks."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="potluck-db")

    async def call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    async def new_sync_state(self) -> Any:
        return await self.call(docs.new_sync_state)

    async def document_digests(self, board_id: str) -> dict[str, bytes]:
        return await self.call(self.store.document_digests, board_id)

    def _digest(self, board_id: str, doc_id: str) -> bytes | None:
        row = self.store.connection.execute(
            "SELECT digest FROM documents WHERE board_id=? AND doc_id=?", (board_id, doc_id)
        ).fetchone()
        return None if row is None else bytes(row[0])

    async def digests_of(self, board_id: str, doc_ids: set[str]) -> dict[str, bytes]:
        def run() -> dict[str, bytes]:
            found = {d: self._digest(board_id, d) for d in doc_ids}
            return {d: g for d, g in found.items() if g is not None}

        return await self.call(run)

    async def apply_saved_documents(
        self, board_id: str, documents: list[tuple[str, bytes]]
    ) -> tuple[dict[str, bytes], DamagedDocument | None]:
        """Merge whole documents in one transaction: the new digest of each that changed, and
        the refusal that stopped the batch, if any (the documents before it are committed)."""

        def run() -> tuple[dict[str, bytes], DamagedDocument | None]:
            changed, damaged = self.store.apply_saved_documents(board_id, documents)
            digests = {d: self._digest(board_id, d) for d in changed}
            return {d: g for d, g in digests.items() if g is not None}, damaged

        return await self.call(run)

    async def receive_sync_message(
        self, board_id: str, doc_id: str, state: Any, data: bytes
    ) -> tuple[bool, bytes | None]:
        def run() -> tuple[bool, bytes | None]:
            changed = self.store.receive_sync_message(board_id, doc_id, state, data)
            return changed, self._digest(board_id, doc_id)

        return await self.call(run)

    async def prepare(
        self, board_id: str, plan: list[tuple[str, str, Any]]
    ) -> list[tuple[str, str, bytes]]:
        """For ("doc", id, _) the saved document; for ("sync", id, state) a sync message if any."""

        def run() -> list[tuple[str, str, bytes]]:
            out = []
            for kind, doc_id, state in plan:
                if kind == "doc":
                    out.append((kind, doc_id, self.store.saved_document(board_id, doc_id)))
                else:
                    data = self.store.generate_sync_message(board_id, doc_id, state)
                    if data is not None:
                        out.append((kind, doc_id, data))
            return out

        return await self.call(run)

    async def changes(self, cursor: int) -> tuple[int, set[tuple[str, str]]]:
        return await self.call(self.store.changed_since, cursor)

    async def change_cursor(self) -> int:
        return await self.call(self.store.change_cursor)

    async def data_version(self) -> int:
        return await self.call(self.store.data_version)

    # ------------------------------------------------------------ remembered peers

    async def remember_peer(self, board_id: str, device_id: str, host: str, port: int) -> None:
        """Record where a peer listens, in one write; HomeError if refused (a full disk)."""

        def run() -> None:
            with self.store._write() as conn:
                conn.execute(PEERS_SCHEMA)
                conn.execute(
                    "INSERT OR REPLACE INTO remembered_peers VALUES (?, ?, ?, ?, ?)",
                    (board_id, device_id, host, port, int(time.time() * 1000)),
                )
                conn.execute(
                    "DELETE FROM remembered_peers WHERE board_id=? AND device_id NOT IN ("
                    " SELECT device_id FROM remembered_peers WHERE board_id=?"
                    " ORDER BY last_seen DESC LIMIT ?)",
                    (board_id, board_id, MAX_REMEMBERED),
                )

        await self.call(run)

    async def remembered_peers(self, board_id: str) -> list[tuple[str, int]]:
        def run() -> list[tuple[str, int]]:
            conn = self.store.connection
            conn.execute(PEERS_SCHEMA)
            rows = conn.execute(
                "SELECT host, port FROM remembered_peers WHERE board_id=? ORDER BY last_seen DESC",
                (board_id,),
            ).fetchall()
            return [(str(h), int(p)) for h, p in rows]

        return await self.call(run)
