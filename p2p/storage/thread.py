"""The store thread: every store call of the node (and all its automerge work) runs on it."""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import resource_tracker
from typing import Any, TypeVar

from ..errors import DamagedDocument
from ..model.automerge import SyncState
from ..model.signing import Signed
from .documents import Arrived, Version, prepare_all
from .store import Store

T = TypeVar("T")

PREPARE_BYTES = 4 * 1024 * 1024
"""Bytes of outgoing documents and sync messages prepared in one trip to the store thread."""
PREPARE_AT = 16
"""Whole documents arriving together from this many on are measured, loaded, checked and read
for the index in the worker processes, in slices of this many, while the store
thread inserts the slices before: a newcomer's catch-up is thousands of them. Fewer are done
on the store thread (a round trip to a worker would cost a live post more than it saves)."""
WORKERS = min(2, os.cpu_count() or 1)
"""Worker processes: two where there are two cores (more would only share them with the store
thread and the node), one on a single-core board."""
PARENT_POLL = 0.5
"""Seconds between a worker's looks at whether the node that started it is still there."""
Prepared = Arrived | DamagedDocument | None


def _ready() -> bool:
    return True


def ready_workers() -> None:
    """Start what worker processes need, multiprocessing's resource tracker, while this
    process's stderr is still a file: the terminal app calls this before Textual takes stderr
    (a stderr without a file descriptor, which the tracker passes on to its own process,
    would stop it starting, and with it every worker)."""
    resource_tracker.ensure_running()


def _end_with(parent: int) -> None:
    """In a worker: end when the process that started it is gone (a node killed with SIGKILL
    would otherwise leave its workers waiting for work forever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(0)

    threading.Thread(target=watch, name="potluck-parent-watch", daemon=True).start()


class StoreThread:
    """Runs store calls one at a time on a dedicated thread, so the event loop never blocks."""

    def __init__(self, store: Store, *, worker: bool = True) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="potluck-store")
        self._use_worker = worker
        self._worker: ProcessPoolExecutor | None = None
        self._worker_ready: Future[bool] | None = None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._worker is not None:
            # Waited for: the workers are idle or finish a slice in milliseconds, and an
            # executor left running races its own exit hook (Python 3.11 then prints a
            # traceback of a closed pipe as the node stops).
            self._worker.shutdown(wait=True, cancel_futures=True)

    def _prepare(
        self, documents: list[tuple[str, Signed]]
    ) -> Generator[Prepared, None, None] | None:
        """Whole documents through the worker processes, if they are up (they start with the
        first large batch; until they answer, the store thread does this itself): their
        results in order, each waited for as it is needed, with at most WORKERS + 1 slices
        sent ahead, so that results never pile up. None for a document a worker left to the
        store thread (too large, or the worker died)."""
        if not self._use_worker or len(documents) < PREPARE_AT:
            return None
        if self._worker is None:
            try:
                self._worker = ProcessPoolExecutor(
                    max_workers=WORKERS,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_end_with,
                    initargs=(os.getpid(),),
                )
                self._worker_ready = self._worker.submit(_ready)
            except (OSError, ValueError):  # no process can start here (see ready_workers)
                self._use_worker = False
                return None
        assert self._worker_ready is not None
        if not self._worker_ready.done():
            return None
        slices = [
            documents[first : first + PREPARE_AT] for first in range(0, len(documents), PREPARE_AT)
        ]
        return self._results(self._worker, slices)

    def _results(
        self, worker: ProcessPoolExecutor, slices: list[list[tuple[str, Signed]]]
    ) -> Generator[Prepared, None, None]:
        actor = self.store.documents.actor
        sent: collections.deque[Future[list[Prepared]]] = collections.deque()
        try:
            for n, piece in enumerate(slices):
                try:
                    if not self._use_worker:
                        raise RuntimeError("the workers are gone")
                    while len(sent) <= WORKERS and n + len(sent) < len(slices):
                        sent.append(worker.submit(prepare_all, slices[n + len(sent)], actor))
                    results = sent.popleft().result()
                except Exception:  # a worker that died (BrokenProcessPool): no more of them
                    self._use_worker = False
                    results = [None] * len(piece)
                yield from results
        finally:
            for future in sent:
                future.cancel()

    async def document_versions(self, board_id: str) -> dict[str, Version]:
        return await self.call(self.store.documents.versions, board_id)

    async def versions_of(self, board_id: str, doc_ids: set[str]) -> dict[str, Version]:
        return await self.call(self.store.documents.versions_of, board_id, list(doc_ids))

    async def apply_saved_documents(
        self, board_id: str, documents: list[tuple[str, Signed]]
    ) -> tuple[dict[str, Version], DamagedDocument | None]:
        """Merge whole documents in one transaction: the version of each that changed, and
        the refusal that stopped the batch, if any (the documents before it are committed).
        A large batch is measured, loaded, checked and read in the worker processes, slice by
        slice, while the store thread inserts the slices before."""

        def run() -> tuple[dict[str, Version], DamagedDocument | None]:
            documents_ = self.store.documents
            prepared = self._prepare(documents)
            try:
                changed, refused = documents_.apply_saved_documents(board_id, documents, prepared)
            finally:
                if prepared is not None:
                    prepared.close()  # what was sent ahead and not needed (a refusal)
            return documents_.versions_of(board_id, changed), refused

        return await self.call(run)

    async def receive_sync_message(
        self, board_id: str, doc_id: str, state: SyncState, data: Signed
    ) -> Version | None:
        """Apply and commit a peer's sync message: the version committed, None if it changed
        nothing."""

        def run() -> Version | None:
            documents_ = self.store.documents
            if not documents_.receive_sync_message(board_id, doc_id, state, data):
                return None
            return documents_.version(board_id, doc_id)

        return await self.call(run)

    async def prepare(
        self, board_id: str, plan: list[tuple[str, SyncState | None]]
    ) -> tuple[list[tuple[str, Signed, Version]], int]:
        """For (id, None) the saved document, for (id, state) the next sync message if any,
        each with the signatures of the changes it carries and the version it was read at.

        Stops once PREPARE_BYTES are prepared, so that a batch of large documents is never
        held in memory at once; returns the messages and how many plan entries were done."""

        def run() -> tuple[list[tuple[str, Signed, Version]], int]:
            documents_ = self.store.documents
            out: list[tuple[str, Signed, Version]] = []
            size = 0
            for done, (doc_id, state) in enumerate(plan):
                if size >= PREPARE_BYTES:
                    return out, done
                found = documents_.outgoing(board_id, doc_id, state)
                if found is not None and found[0] is not None:
                    out.append((doc_id, found[0], found[1]))
                    size += len(found[0].data)
            return out, len(plan)

        return await self.call(run)

    async def changes(self, cursor: int) -> tuple[int, set[tuple[str, str]]]:
        return await self.call(self.store.documents.changed_since, cursor)

    async def change_cursor(self) -> int:
        return await self.call(self.store.documents.change_cursor)

    async def data_version(self) -> int:
        return await self.call(self.store.db.data_version)

    async def remember_peer(self, board_id: str, device_id: str, host: str, port: int) -> None:
        await self.call(self.store.boards.remember_peer, board_id, device_id, host, port)

    async def remembered_peers(self, board_id: str) -> list[tuple[str, int]]:
        return await self.call(self.store.boards.remembered_peers, board_id)
