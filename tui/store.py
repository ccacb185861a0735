"""The app's store thread: it opens the home and runs every read and write of the app, one at
a time, so that the screen's event loop never waits on SQLite, a disk or another process's lock.

Screens and dialogs hand it a function (`await store.run(fn, *args)`) from a worker and carry on
with the answer on the loop. The `Home` and every `Board` read from it are used on this thread
only; SQLite statements run anywhere else are recorded in `strays` (the tests fail on any).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from potluck.p2p import Home, HomeError
from textual.app import App

T = TypeVar("T")


class StoreCrash(Exception):
    """Something below the app raised a BaseException that is not Python's own (automerge's
    PanicException): an Exception here, so the app's error handling sees it."""


class AppStore:
    """One thread that owns the app's `Home` (its SQLite connection); calls run in order."""

    def __init__(self, home_path: Path) -> None:
        self.home_path = home_path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="potluck-app-store")
        self._thread: int | None = None
        self._home: Home | None = None
        self._closed = False
        self.strays: list[str] = []
        """SQL statements run on the app's connection from another thread than the store's."""

    @property
    def home(self) -> Home:
        """The open home; only for functions that run on the store thread."""
        if self._home is None:
            raise HomeError("the home is not open (the app is starting or closing)")
        return self._home

    async def open(self) -> Home:
        """Open the home on the store thread (HomeError if it cannot be used)."""
        self._home = await self.run(self._open)
        return self._home

    def _open(self) -> Home:
        self._thread = threading.get_ident()
        home = Home.open(self.home_path)
        home.store.db.connection.raw.set_trace_callback(self._check_thread)
        return home

    def _check_thread(self, statement: str) -> None:
        if threading.get_ident() != self._thread:
            self.strays.append(f"{threading.current_thread().name}: {statement[:80]}")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the store thread, after every call made before it; HomeError once
        the app is closing."""
        if self._closed:
            raise HomeError("the home is closed (the app is closing)")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except (Exception, asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # automerge's PanicException: handled as any other bug
            raise StoreCrash(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the home after the calls already queued; idempotent."""
        home, self._home = self._home, None
        if home is not None:
            await self.run(home.close)
        self._closed = True
        self._executor.shutdown(wait=False)


def store_of(app: App[Any]) -> AppStore:
    """The store of the running Potluck app (dialogs and screens reach it through their app)."""
    store = getattr(app, "store", None)
    if not isinstance(store, AppStore):
        raise RuntimeError("not running inside the Potluck app")
    return store
