"""A home in trouble is named for what it is, in one line and never a traceback: a damaged
database (damage a write would not stumble on included), a read-only home, a path that is a
file; and the command line's own edges: a closed pipe, numbers out of range."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from potluck.p2p import Home, HomeError, Kind
from potluck.p2p.storage.database import Database

from tests.conftest import POTLUCK, run_json, run_potluck


def one_line(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def big_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed home with 1,500 offers and a few needs: its indexes span many pages."""
    path = tmp_path_factory.mktemp("big") / "home"
    with Home.open(path) as home:
        home.set_profile(name="Ana")
        board = home.new_board("Kitchen")
        for n in range(1500):
            board.post(Kind.OFFER, f"offer number {n}", tags=["food", f"t{n % 7}"])
        for n in range(3):
            board.post(Kind.NEED, f"need {n}")
    return path


def copy_of(home: Path, where: Path) -> Path:
    shutil.copytree(home, where)
    return where


def leaf_pages(db: Path, name: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT pageno FROM dbstat WHERE name=? AND pagetype='leaf' ORDER BY pageno", (name,)
        ).fetchall()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    assert page_size == 4096 and len(rows) > 4, rows
    return [r[0] for r in rows]


def damage(db: Path, page: int) -> None:
    """Overwrite part of a page's cells, as a bad sector or a stray write would."""
    with open(db, "r+b") as f:
        f.seek((page - 1) * 4096 + 2000)
        f.write(b"\xff" * 300)


def test_damage_in_an_index_stops_every_write_before_it_lands(
    big_home: Path, tmp_path: Path
) -> None:
    """A leaf of the list index, among the offers: a new need never touches that page, so
    without a check SQLite would write into the damaged file and say nothing."""
    home = copy_of(big_home, tmp_path / "home")
    db = home / "potluck.db"
    pages = leaf_pages(db, "items_list")
    damage(db, pages[len(pages) // 2])
    before = digest(db)
    said = one_line(run_potluck(home, "post", "need", "Blankets", check=False))
    assert str(db) in said and "damaged" in said and "potluck.db.damaged" in said
    assert "read-only" not in said
    assert digest(db) == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    with Home.open(home) as opened:
        with pytest.raises(HomeError, match="damaged"):
            opened.board().post(Kind.NEED, "Blankets")
        with pytest.raises(HomeError, match="damaged"):  # and every write after it
            opened.set_profile(name="Bo")
    assert digest(db) == before


def test_a_long_running_process_checks_its_file_again(
    big_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node left running for weeks on a Pi: damage that appears after its first write is
    found by the check it makes again once CHECK_EVERY has passed."""
    from potluck.p2p.storage import database

    home = copy_of(big_home, tmp_path / "home")
    with Home.open(home) as opened:
        board = opened.board()
        board.post(Kind.NEED, "before the damage")
        damage(home / "potluck.db", leaf_pages(home / "potluck.db", "items_list")[2])
        monkeypatch.setattr(database, "CHECK_EVERY", 0)
        with pytest.raises(HomeError, match="damaged"):
            board.post(Kind.NEED, "after the damage")


def test_damage_a_read_meets_is_one_line(big_home: Path, tmp_path: Path) -> None:
    home = copy_of(big_home, tmp_path / "home")
    db = home / "potluck.db"
    damage(db, leaf_pages(db, "items")[2])
    said = one_line(run_potluck(home, "ls", check=False))
    assert str(db) in said and "damaged" in said


def test_a_healthy_file_that_fails_to_write_is_not_called_damaged(
    big_home: Path, tmp_path: Path
) -> None:
    """quick_check tells damage from other trouble: an I/O error on a sound file is said as
    what it is, and the same error on a damaged file is called damage."""
    home = copy_of(big_home, tmp_path / "home")
    db = Database(home / "potluck.db")
    try:
        io_error = sqlite3.OperationalError("disk I/O error")
        io_error.sqlite_errorcode = 10  # type: ignore[attr-defined]
        said = str(db.trouble(io_error))
        assert "disk I/O error" in said and "damaged" not in said
        assert db.damage is None
    finally:
        db.close()
    damage(home / "potluck.db", leaf_pages(home / "potluck.db", "items_list")[3])
    db = Database(home / "potluck.db")
    try:
        assert "damaged" in str(db.trouble(io_error))
        assert db.damage is not None
    finally:
        db.close()


@contextmanager
def read_only_view(source: Path, where: Path) -> Iterator[Path]:
    """`source` seen read-only at `where` (a read-only bind mount, as a USB stick mounted
    read-only or a backup disk would be); skipped where mounting needs a root this run lacks."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root to mount a read-only view of a home")
    where.mkdir()
    subprocess.run(["mount", "--bind", str(source), str(where)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_read_only_home_is_called_read_only_and_can_still_be_read(
    big_home: Path, tmp_path: Path
) -> None:
    home = copy_of(big_home, tmp_path / "home")
    with read_only_view(home, tmp_path / "stick") as stick:
        listed = run_json(stick, "ls")
        assert len(listed) == 1503
        item = listed[0]["id"]
        assert run_json(stick, "show", item)["title"] == listed[0]["title"]
        assert [b["name"] for b in run_json(stick, "boards")] == ["Kitchen"]
        run_potluck(stick, "export", str(tmp_path / "kitchen.potluck"))
        assert (tmp_path / "kitchen.potluck").stat().st_size > 1000
        for args in (
            ("post", "need", "Blankets"),
            ("reply", item, "hi"),
            ("whoami", "--name", "Bo"),
        ):
            said = one_line(run_potluck(stick, *args, check=False))
            assert "read-only" in said and "damaged" not in said, said
            assert str(stick) in said
        said = one_line(run_potluck(stick, "serve", "--port", "0", "--no-mdns", check=False))
        assert "read-only" in said
    assert len(run_json(home, "ls")) == 1503  # the same home, writable again, is whole


def test_a_home_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("my notes")
    for args in (("ls",), ("new-board", "Kitchen"), ()):  # () opens the board on screen
        said = one_line(run_potluck(not_a_folder, *args, check=False))
        assert str(not_a_folder) in said and "not a folder" in said
    said = one_line(run_potluck(not_a_folder / "home", "ls", check=False))
    assert "not a folder" in said
    assert not_a_folder.read_text() == "my notes"


def test_a_closed_pipe_ends_quietly(big_home: Path, tmp_path: Path) -> None:
    home = copy_of(big_home, tmp_path / "home")
    for args in ("ls", "ls --json", "boards"):
        shell = subprocess.run(
            ["sh", "-c", f"'{POTLUCK}' --home '{home}' {args} 2>err | head -c 10 >/dev/null"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shell.returncode == 0
        assert (tmp_path / "err").read_text() == "", args


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (("post", "project", "Roof", "--shift", "Sat 10:00", "--slots", "9" * 20), "--slots"),
        (("post", "project", "Roof", "--shift", "Sat 10:00", "--slots", "0"), "1 to 1000"),
        (("post", "project", "Roof", "--shift", "Sat 10:00", "--slots", "²"), "--slots"),
        (("respond", "abcd", "--as", "task", "--which", "9" * 20), "--which"),
        (("respond", "abcd", "--as", "task", "--which", "0"), "--which"),
        (("serve", "--port", "99999"), "--port"),
        (("serve", "--port", "9" * 5000), "--port"),
        (("serve", "--peer", "127.0.0.1:" + "9" * 5000), "HOST:PORT"),
        (("serve", "--peer", "127.0.0.1:²"), "HOST:PORT"),
    ],
)
def test_every_number_is_range_checked_in_one_line(
    tmp_path: Path, args: tuple[str, ...], wanted: str
) -> None:
    result = run_potluck(tmp_path / "home", *args, check=False)
    assert result.returncode in (1, 2), result
    said = one_line(result, result.returncode)
    assert wanted in said, said


def test_a_read_only_copy_with_changes_still_in_its_wal_says_so(
    big_home: Path, tmp_path: Path
) -> None:
    """A home copied while a potluck was writing (its last changes in potluck.db-wal, and no
    WAL index): from a read-only disk they cannot be read, and that is what the line says."""
    home = copy_of(big_home, tmp_path / "home")
    writer = sqlite3.connect(home / "potluck.db", isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("INSERT INTO meta VALUES ('probe', 'only in the WAL')")
        copy = tmp_path / "copy"
        copy.mkdir(mode=0o700)
        for name in ("potluck.db", "potluck.db-wal", "device.key"):
            shutil.copy(home / name, copy / name)
    finally:
        writer.close()
    with read_only_view(copy, tmp_path / "stick") as stick:
        said = one_line(run_potluck(stick, "ls", check=False))
        assert "read-only" in said and "potluck.db-wal" in said and "damaged" not in said
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o700)
    with read_only_view(empty, tmp_path / "bare") as bare:
        said = one_line(run_potluck(bare, "ls", check=False))
        assert "read-only" in said
