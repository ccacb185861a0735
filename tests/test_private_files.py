"""Files at rest are private: the home 0700, every file in it 0600, exports 0600, whatever the
umask; a home left readable by others (an older Potluck, a loose umask) is tightened when
opened, and the person is told once."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from potluck.p2p import Home, Kind

from tests.conftest import run_json, run_potluck
from tests.p2p_helpers import Serve, connected, running_node, wait_sync, wait_until


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask (022) for this test and the processes it starts."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(home: Path) -> dict[str, str]:
    """Every file of the home (and the home itself) whose mode lets anyone else in."""
    found = {home.name: oct(stat.S_IMODE(home.stat().st_mode))}
    for path in home.iterdir():
        found[path.name] = oct(stat.S_IMODE(path.lstat().st_mode))
    return {name: mode for name, mode in found.items() if int(mode, 8) & 0o077}


def listed(home: Path) -> list[str]:
    return sorted(i["title"] for i in run_json(home, "ls"))


@pytest.mark.usefixtures("loose_umask")
def test_modes_after_new_board_join_a_sync_and_an_export(tmp_path: Path) -> None:
    ana, bo = tmp_path / "ana", tmp_path / "bo"
    code = run_json(ana, "new-board", "Kitchen")["invite"]
    assert modes(ana) == {}
    run_potluck(bo, "join", code)
    assert modes(bo) == {}
    run_potluck(ana, "post", "need", "Soup pot")
    a = Serve(ana, "--port", "0", "--no-mdns")
    b = None
    try:
        port = int(a.wait_line(r"on port (\d+)").group(1))
        b = Serve(bo, "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")
        wait_sync(lambda: listed(bo) == ["Soup pot"], 20, "the post on Bo")
        wait_sync(lambda: (bo / "node.json").exists(), 10, "Bo's node.json")
        # While the nodes run: their state, lock, WAL and shared memory files too.
        for home in (ana, bo):
            names = {p.name for p in home.iterdir()}
            assert {"node.json", "node.lock", "potluck.db-wal", "potluck.db-shm"} <= names
            assert modes(home) == {}
    finally:
        for serve in (b, a):
            if serve is not None:
                serve.stop()
    target = tmp_path / "kitchen.potluck"
    run_potluck(bo, "export", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert modes(ana) == {} and modes(bo) == {}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.usefixtures("loose_umask")
def test_a_program_using_the_library_gets_private_files_too(tmp_path: Path) -> None:
    """No `main()` to set the umask: Home.open and the node make their files private."""
    with Home.open(tmp_path / "ana") as ana, Home.open(tmp_path / "bo") as bo:
        board = ana.new_board("Kitchen")
        board.post(Kind.OFFER, "Bread")
        bo.join(board.invite())

        async def sync() -> None:
            async with running_node(ana.path) as a:
                peer = [("127.0.0.1", a.port)]
                async with running_node(bo.path, peers=peer) as b:
                    await wait_until(connected(b), what="a sync")
                    await wait_until(lambda: (bo.path / "node.json").exists(), what="node.json")
                    assert modes(ana.path) == {} and modes(bo.path) == {}

        asyncio.run(sync())
        bo.export_board(bo.board(board.board_id), tmp_path / "bread.potluck")
        assert stat.S_IMODE((tmp_path / "bread.potluck").stat().st_mode) == 0o600
        assert modes(ana.path) == {} and modes(bo.path) == {}
        assert ana.privacy_notice is None and bo.privacy_notice is None


@pytest.mark.usefixtures("loose_umask")
def test_a_home_readable_by_others_is_tightened_and_the_person_told_once(tmp_path: Path) -> None:
    home = tmp_path / "old"
    run_potluck(home, "new-board", "Kitchen")
    (home / "potluck.log").write_text("what an older app logged\n")
    os.chmod(home, 0o755)
    for path in home.iterdir():
        os.chmod(path, 0o644)
    first = run_potluck(home, "ls")
    notice = [line for line in first.stderr.splitlines() if "other users" in line]
    assert len(notice) == 1 and str(home) in notice[0] and notice[0].startswith("potluck: ")
    assert modes(home) == {}
    assert stat.S_IMODE((home / "potluck.log").stat().st_mode) == 0o600
    second = run_potluck(home, "ls")
    assert "other users" not in second.stderr
    os.chmod(home / "device.key", 0o640)
    with Home.open(home) as opened:
        assert opened.privacy_notice is not None and "1 file in it" in opened.privacy_notice
    with Home.open(home) as opened:
        assert opened.privacy_notice is None


def test_a_symbolic_link_in_the_home_is_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared.txt"
    elsewhere.write_text("not ours")
    os.chmod(elsewhere, 0o644)
    home = tmp_path / "home"
    run_potluck(home, "new-board", "Kitchen")
    (home / "link").symlink_to(elsewhere)
    run_potluck(home, "ls")
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644
