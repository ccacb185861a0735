"""Helpers for network tests: homes on one board, nodes on loopback, waits with deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from p2p.home import Board, Home
from p2p.node import Node
from p2p.session import Timing

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
    node = Node(home, port=0, host="127.0.0.1", peers=peers, mdns=False, timing=FAST, **kwargs)
    try:
        await node.start()
        yield node
    finally:
        await node.aclose()
        home.close()


def connected(node: Node, count: int = 1) -> Callable[[], bool]:
    return lambda: len([p for p in node.peer_infos() if p.last_sync]) >= count
