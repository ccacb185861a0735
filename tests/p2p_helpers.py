"""Helpers for network tests: homes on one board, nodes on loopback, waits with deadlines."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from potluck.p2p.home import Board, Home
from potluck.p2p.model.types import Kind
from potluck.p2p.net.node import Node
from potluck.p2p.net.session import Timing

FAST = Timing(ping_every=1.0, silence_limit=3.0)


async def wait_until(
    condition: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Poll `condition` every 20 ms until true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        await asyncio.sleep(0.02)


def make_homes(root: Path, names: list[str]) -> tuple[list[Home], str]:
    """One home per name, all on one board made by the first; returns the homes and board id."""
    homes = []
    for name in names:
        home = Home.open(root / name.lower())
        home.set_profile(name=name)
        homes.append(home)
    board = homes[0].new_board("Kitchen")
    for home in homes[1:]:
        home.join(board.invite())
    return homes, board.board_id


def board_of_many(root: Path, count: int) -> tuple[Path, Path, str]:
    """Ana's home holding `count` small offers, and Bo's, which joined the board and holds
    nothing yet (a fresh laptop); both closed. Returns their paths and the board id."""
    (ana, bo), board_id = make_homes(root, ["Ana", "Bo"])
    board = ana.board(board_id)
    for n in range(count):
        board.post(Kind.OFFER, f"offer {n}", body="bread, soup and a ladder")
    paths = ana.path, bo.path
    ana.close()
    bo.close()
    return paths[0], paths[1], board_id


def two_homes_holding(root: Path, documents: int) -> tuple[Path, Path, str]:
    """Ana's and Bo's homes holding the same `documents` offers (she posted them, he imported
    an export of the board), both closed; their paths and the board id."""
    (ana, bo), board_id = make_homes(root, ["Ana", "Bo"])
    board = ana.board(board_id)
    for n in range(documents):
        board.post(Kind.OFFER, f"offer {n}")
    ana.export_board(board, root / "board.potluck")
    bo.import_board(root / "board.potluck")
    ana.close()
    bo.close()
    return ana.path, bo.path, board_id


def titles(home: Home, board_id: str) -> list[str]:
    return sorted(i.title for i in home.board(board_id).items())


def board_of(home: Home, board_id: str) -> Board:
    return home.board(board_id)


@asynccontextmanager
async def running_node(
    path: Path, peers: list[tuple[str, int]] | None = None, **kwargs: object
) -> AsyncIterator[Node]:
    """A node on 127.0.0.1 with its own connection to the home, as the app runs it."""
    home = Home.open(path)
    kwargs.setdefault("timing", FAST)
    node = Node(home, port=0, host="127.0.0.1", peers=peers, mdns=False, **kwargs)
    try:
        await node.start()
        yield node
    finally:
        await node.aclose()
        home.close()


def connected(node: Node, count: int = 1) -> Callable[[], bool]:
    return lambda: len([p for p in node.peer_infos() if p.last_sync]) >= count


class Serve:
    """A real `potluck serve` process (optionally under a prefix such as `ip netns exec`)."""

    def __init__(self, home: Path, *args: str, prefix: tuple[str, ...] = ()) -> None:
        from tests.conftest import POTLUCK

        env = {k: v for k, v in os.environ.items() if k != "POTLUCK_HOME"}
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [*prefix, POTLUCK, "--home", str(home), "serve", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_line(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        """The first log line matching `pattern`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in:\n{self.log()}")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then wait; kill only if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        return self.proc.returncode


def wait_sync(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Blocking twin of wait_until, for tests that drive processes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def db_rows(home: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Rows read the way any second process reads (read-only, no write lock)."""
    conn = sqlite3.connect(f"file:{home / 'potluck.db'}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def stored(home: Path, title: str) -> bool:
    """Whether the home's index lists an item with this title."""
    return bool(db_rows(home, "SELECT 1 FROM items WHERE title=?", title))


class Relay:
    """A TCP relay on loopback that counts the bytes it passes, and can cut every connection
    through it and refuse new ones (the two nodes apart)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.bytes = 0
        self.open = True
        self.server: asyncio.Server | None = None
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, up_writer}
        pipes = [self._pipe(reader, up_writer), self._pipe(up_reader, writer)]
        for pipe in pipes:
            task = asyncio.ensure_future(pipe)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                self.bytes += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def cut(self, *, refuse: bool) -> None:
        """End every connection through the relay; refuse new ones while `refuse`."""
        self.open = not refuse
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def aclose(self) -> None:
        self.cut(refuse=True)
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
