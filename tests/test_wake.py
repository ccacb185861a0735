"""A commit by another process reaches the node at once: a wake-up datagram, not a poll."""

from __future__ import annotations

import time
from pathlib import Path

from potluck.p2p import Kind
from potluck.p2p.storage.wake import send_wake, wake_address

from tests.p2p_helpers import make_homes, running_node, wait_until


async def test_a_post_from_another_process_wakes_the_node_at_once(tmp_path: Path) -> None:
    """The node asks SQLite only every 30 s here: it can only see the post this fast by being
    woken (the writing Home sends the datagram after its commit)."""
    (ana,), board_id = make_homes(tmp_path, ["Ana"])
    async with running_node(ana.path, feed_interval=30.0) as node:
        board = node._boards[board_id]
        seen = dict(board.digests)
        started = time.monotonic()
        item = ana.board(board_id).post(Kind.NEED, "A ladder")
        await wait_until(lambda: item in board.digests, timeout=5, what="the node saw the post")
        assert time.monotonic() - started < 5
        assert item not in seen
    ana.close()


def test_no_node_no_harm(tmp_path: Path) -> None:
    """A wake-up with no node listening (or nowhere to send it) is silently nothing."""
    send_wake(wake_address(tmp_path))
    send_wake(None)
