"""Disk trouble at node level: the disk fills during a sync and during a post, then space returns.

Cy's home is on a small tmpfs; Ana's real `potluck serve` holds a big board. Cy's real
`potluck serve` takes what fits, says so in one clear log line, loses nothing it had committed,
and finishes the sync by itself, without a restart, once a filler file is removed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from potluck.p2p.errors import HomeError
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.p2p.net.node import Node
from potluck.p2p.net.presence import STATE_NAME
from potluck.p2p.storage.database import shown_id
from potluck.p2p.storage.thread import StoreThread

from tests.conftest import mounted_tmpfs, run_json, run_potluck
from tests.p2p_helpers import Serve, db_rows, wait_sync

BIG_ITEMS = 200
BODY_BYTES = 4000
"""Random bytes per item body (written as hex): about 4.7 MB of board in all."""
DISK = 16 * 1024 * 1024
HEADROOM = 3 * 1024 * 1024
"""Free space left for the sync: less than the board needs, so the disk fills during it, and
more than the first batch of 64 documents takes in the write-ahead log (1.5 MB, and the index
grows with what it holds), so that some of the board is taken before the disk fills."""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK bytes mounted for this test alone, unmounted at the end."""
    with mounted_tmpfs(tmp_path / "disk", DISK) as disk:
        yield disk


def listed_ids(home: Path) -> set[str]:
    return {shown_id(r[0]) for r in db_rows(home, "SELECT id FROM items")}


def fill(path: Path, leave: int) -> None:
    """Write a file that leaves `leave` bytes free on path's filesystem."""
    stat = os.statvfs(path.parent)
    size = max(0, stat.f_bavail * stat.f_frsize - leave)
    with open(path, "wb") as f:
        f.write(b"\0" * size)


def big_board(home: Path) -> str:
    """Ana's home with a board of BIG_ITEMS items of random text; returns the invite code."""
    rng = random.Random(5)
    with Home.open(home) as ana:
        ana.set_profile(name="Ana")
        board = ana.new_board("Kitchen")
        for n in range(BIG_ITEMS):
            board.post(Kind.OFFER, f"big offer {n}", body=rng.randbytes(BODY_BYTES).hex())
        return board.invite()


def one_clear_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_disk_fills_during_a_sync_and_a_post_then_space_returns(
    tmp_path: Path, small_disk: Path
) -> None:
    ana, cy = tmp_path / "ana", small_disk / "cy"
    code = big_board(ana)
    run_potluck(cy, "whoami", "--name", "Cy")
    run_potluck(cy, "join", code)
    earlier = [run_json(cy, "post", "need", f"Cy's need {n}")["id"] for n in range(3)]
    filler = small_disk / "filler"
    fill(filler, HEADROOM)

    a = Serve(ana, "--port", "0", "--no-mdns")
    c = None
    try:
        port = a.wait_line(r"listening on port (\d+)", 30).group(1)
        c = Serve(cy, "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")
        full = c.wait_line(r"closed Ana .*: local-error (.*)", 60).group(1)
        assert "disk" in full and "full" in full, full
        assert "Traceback" not in c.log(), c.log()
        got = listed_ids(cy)
        assert set(earlier) < got, "Cy lost its own posts when the disk filled"
        assert len(got) < BIG_ITEMS, "the disk did not fill during the sync"

        # A sync batch that did not fit was rolled back, and the room it took in the
        # write-ahead log takes a few posts before the disk refuses one.
        accepted: list[str] = []
        for n in range(60):
            body = random.randbytes(60_000).hex()  # does not compress: 120 kB on disk
            refused = run_potluck(
                cy, "post", "need", f"while the disk is full {n}", "--body", body, check=False
            )
            if refused.returncode != 0:
                break
            accepted.append(refused.stdout.strip())
        assert refused.returncode == 1, refused
        got |= set(accepted)
        line = one_clear_line(refused.stderr)
        assert "disk" in line and "full" in line and "nothing was saved" in line, line

        assert db_rows(cy, "PRAGMA integrity_check") == [("ok",)]
        with Home.open(cy) as home:
            board = home.board()
            readable = {board.item(item_id).id for item_id in got}
        assert readable == got
        assert got <= {i["id"] for i in run_json(cy, "ls")}
        assert f"while the disk is full {n}" not in {i["title"] for i in run_json(cy, "ls")}

        filler.unlink()
        pid = c.proc.pid
        everything = listed_ids(ana) | set(earlier)
        wait_sync(lambda: listed_ids(cy) >= everything, 90, "Cy's sync to complete")
        wait_sync(lambda: listed_ids(ana) >= set(earlier), 30, "Cy's posts on Ana")
        assert c.proc.poll() is None and c.proc.pid == pid, "Cy's node did not survive"
        after = run_json(cy, "post", "need", "after the clean-up")["id"]
        wait_sync(lambda: after in listed_ids(ana), 30, "the new post on Ana")
        assert db_rows(cy, "PRAGMA integrity_check") == [("ok",)]
    finally:
        codes = [s.stop() for s in (c, a) if s is not None]
    assert codes == [0, 0], a.log() + "\n" + (c.log() if c else "")
    for node in (a, c):
        assert node is not None and "Traceback" not in node.log(), node.log()


def test_a_peer_address_not_remembered_on_a_full_disk_is_a_clear_error(small_disk: Path) -> None:
    """The node remembers each peer it meets in a write of its own; on a full disk that write
    fails like any other (HomeError, handled), not as a stray SQLite error in a task."""
    with Home.open(small_disk / "cy") as home:
        board = home.new_board("Kitchen")
        fill(small_disk / "filler", 0)
        db = StoreThread(home.store)
        try:
            with pytest.raises(HomeError, match="full"):
                asyncio.run(db.remember_peer(board.board_id, "ab" * 16, "127.0.0.1", 7434))
        finally:
            db.close()


def test_a_state_file_that_cannot_be_written_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """node.json is rewritten at every peer change: on a full disk that must not be one warning
    every half second for as long as the disk stays full."""
    with Home.open(tmp_path / "cy") as home:
        node = Node(home, port=0, mdns=False)
        blocker = home.path / Path(STATE_NAME).with_suffix(".tmp")
        blocker.mkdir()  # writing the state file now fails as a full disk would make it fail
        caplog.set_level(logging.WARNING, logger="potluck.p2p")
        for _ in range(5):
            node.presence.write()
        assert len([r for r in caplog.records if STATE_NAME in r.getMessage()]) == 1
        blocker.rmdir()
        node.presence.write()
        assert (home.path / STATE_NAME).exists()
        blocker.mkdir()
        node.presence.write()
        assert len([r for r in caplog.records if STATE_NAME in r.getMessage()]) == 2
