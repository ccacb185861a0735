"""Export files as a member's device gone bad would craft them, and exports that cannot be written.

A crafted export (sealed with the real board key: whoever holds it can write one) changes
nothing in the importing home, byte for byte, gets one line on stderr saying what is wrong,
and never takes the importing process past 200 MB, not even a 2 GB file with a valid header.
An export that cannot be written leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import msgpack
import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from potluck.p2p import Home, Kind
from potluck.p2p.exports import EXPORT_MAGIC, MAX_EXPORT_BYTES
from potluck.p2p.keys import board_tag, export_key
from potluck.p2p.model.signing import Signed

from tests.conftest import POTLUCK, mounted_tmpfs, run_json, run_potluck
from tests.faults.hostile_member import bytes_doc, junk_item, signed

MAX_RSS = 200 * 1024 * 1024


def seal(key: bytes, payload: bytes) -> bytes:
    """An export file around `payload`, exactly as Potluck seals one."""
    header = EXPORT_MAGIC + board_tag(key)
    nonce = os.urandom(12)
    return header + nonce + ChaCha20Poly1305(export_key(key)).encrypt(nonce, payload, header)


def pack(content: object) -> bytes:
    return bytes(msgpack.packb(content, use_bin_type=True))


def at_rest(home: Path) -> dict[str, str]:
    """A digest of every file of the home (the database, its WAL if any, the key)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.iterdir())
        if p.is_file() and p.stat().st_size
    }


LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command and writes its peak RSS to a file. It is a small process of its own: Linux
counts the memory a child had when it was forked towards its peak, so forking `potluck`
straight from this test process would count the test's own memory."""


def run_with_rss(home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `potluck` and return its result and its own peak RSS in bytes."""
    with tempfile.NamedTemporaryFile("r") as rss:
        result = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, rss.name, POTLUCK, "--home", str(home), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "POTLUCK_HOME"},
            timeout=120,
        )
        return result, int(rss.read())


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, str]:
    """A home holding a board with a few items: (its path, the board key, the board id)."""
    path = tmp_path_factory.mktemp("victim") / "home"
    with Home.open(path) as home:
        home.set_profile(name="Vic")
        board = home.new_board("Kitchen")
        for n in range(3):
            board.post(Kind.NEED, f"need {n}", body="words " * 50)
    # Closed: the database is whole in potluck.db, as between two commands.
    return path, board.key, board.board_id


def good_docs(count: int) -> dict[str, Signed]:
    """Documents as a member's device makes them, signed with its own key."""
    return {os.urandom(16).hex(): signed(junk_item(f"imported {n}")) for n in range(count)}


def content(board_id: str, docs: dict[str, Signed], **extra: object) -> dict[str, object]:
    """What an export holds: the documents, their signatures and the signers' keys."""
    return {
        "board": board_id,
        "docs": {d: s.data for d, s in docs.items()},
        "sigs": {d: s.signatures for d, s in docs.items()},
        "keys": b"".join({s.keys for s in docs.values()}),
        **extra,
    }


def crafted(key: bytes, board_id: str) -> dict[str, bytes]:
    """Every crafted export, by what is wrong with it."""
    valid = good_docs(3)
    first = valid[next(iter(valid))]
    deep = b"\x91" * 200_000 + b"\xc0"

    def docs(**more: object) -> dict[str, object]:
        body = content(board_id, valid)
        body["docs"] = {**body["docs"], **more}  # type: ignore[dict-item]
        return body

    return {
        "a document id the wire refuses": seal(
            key, pack(docs(**{"../../etc\n\x1b]0;x\x07": b"x"}))
        ),
        "a document id that is not text": seal(
            key,
            pack({**content(board_id, valid), "docs": {b"\x01\x02": first.data}}),
        ),
        "bad MessagePack": seal(key, b"\xc1" + os.urandom(200)),
        "bad UTF-8": seal(key, b"\x82\xa5board\xa3\xff\xfe\xfd\xa4docs\x80"),
        "deep nesting": seal(key, deep),
        "partly valid (one document automerge refuses)": seal(
            key, pack(docs(**{"00ff": b"not automerge at all"}))
        ),
        "partly valid (one document past the limits)": seal(
            key, pack(docs(**{"00fe": bytes_doc(5).save()}))
        ),
        "a document that is not bytes": seal(key, pack(docs(**{"00fd": "text, not a document"}))),
        "partly valid (one document unsigned)": seal(
            key,
            pack({**content(board_id, valid), "sigs": {}}),
        ),
        "another board's id inside": seal(key, pack({**content(board_id, valid), "board": "ab"})),
        "no documents": seal(key, pack({**content(board_id, valid), "docs": [1, 2, 3]})),
        "not a map": seal(key, pack([board_id, [s.data for s in valid.values()]])),
        "bytes after the end": seal(key, pack(content(board_id, valid)) + b"\x00"),
        "cut short": seal(key, pack(content(board_id, valid)))[:-100],
        "a flipped bit": _flipped(seal(key, pack(content(board_id, valid)))),
        "not an export": os.urandom(4096),
        "empty": b"",
        "only a header": EXPORT_MAGIC + board_tag(key),
    }


def _flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x10]) + data[middle + 1 :]


def check_refused(home: Path, file: Path, what: str) -> str:
    before = at_rest(home)
    result, rss = run_with_rss(home, "import", str(file))
    assert result.returncode == 1, f"{what}: {result}"
    assert "Traceback" not in result.stderr, f"{what}: {result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("potluck: "), f"{what}: {result.stderr!r}"
    assert "\x1b" not in result.stderr
    assert result.stdout == ""
    assert at_rest(home) == before, f"{what}: the home changed"
    assert rss < MAX_RSS, f"{what}: {rss / 2**20:.0f} MB"
    return lines[0]


def test_each_crafted_export_changes_nothing_and_gets_one_line(
    victim: tuple[Path, bytes, str], tmp_path: Path
) -> None:
    home, key, board_id = victim
    said = {}
    for what, data in crafted(key, board_id).items():
        file = tmp_path / "crafted.potluck"
        file.write_bytes(data)
        said[what] = check_refused(home, file, what)
    assert "bad id" in said["a document id the wire refuses"]
    assert "nothing was imported" in said["partly valid (one document automerge refuses)"]
    assert "00fe" in said["partly valid (one document past the limits)"]
    assert "not UTF-8" in said["bad UTF-8"]
    assert "nested too deeply" in said["deep nesting"]
    assert "not a Potluck export" in said["not an export"]
    assert "damaged or cut short" in said["cut short"]
    titles = sorted(i["title"] for i in run_json(home, "ls"))
    assert titles == ["need 0", "need 1", "need 2"]


def test_a_2_gb_file_with_a_valid_header_is_refused_before_it_is_read(
    victim: tuple[Path, bytes, str], tmp_path: Path
) -> None:
    home, key, _ = victim
    file = tmp_path / "huge.potluck"
    with open(file, "wb") as f:
        f.write(EXPORT_MAGIC + board_tag(key) + os.urandom(12))
        f.truncate(2 * 1024**3)  # sparse: two gigabytes that take no disk
    said = check_refused(home, file, "2 GB sparse")
    assert "2.0 GB" in said and "larger than any board export" in said


def test_a_file_just_under_the_cap_is_read_within_the_memory_bound(
    victim: tuple[Path, bytes, str], tmp_path: Path
) -> None:
    """The worst an import holds: a file at the cap (read whole, then refused by its tag)."""
    home, key, _ = victim
    file = tmp_path / "big.potluck"
    with open(file, "wb") as f:
        f.write(EXPORT_MAGIC + board_tag(key) + os.urandom(12))
        f.truncate(MAX_EXPORT_BYTES)
    said = check_refused(home, file, "at the cap")
    assert "damaged or cut short" in said


def test_a_good_export_still_merges_whole(victim: tuple[Path, bytes, str], tmp_path: Path) -> None:
    home, key, board_id = victim
    file = tmp_path / "good.potluck"
    file.write_bytes(seal(key, pack(content(board_id, good_docs(4), name="x"))))
    result, rss = run_with_rss(home, "import", str(file))
    assert result.returncode == 0, result.stderr
    assert "4 documents brought news" in result.stdout
    assert rss < MAX_RSS
    assert len(run_json(home, "ls")) == 7


# ---------------------------------------------------------------- writing exports


@pytest.fixture
def board_home(tmp_path: Path) -> Path:
    home = tmp_path / "ana"
    run_potluck(home, "new-board", "Kitchen")
    run_potluck(home, "post", "need", "Soup pot")
    return home


def no_leftovers(folder: Path) -> None:
    if folder.is_dir():
        assert [p.name for p in folder.iterdir() if p.name.endswith(".part")] == []


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("potluck: "), result.stderr
    return lines[0]


def test_an_export_is_private_and_replaces_the_target_whole(
    board_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "kitchen.potluck"
    target.parent.mkdir()
    target.write_text("an older file")
    os.chmod(target, 0o644)
    run_potluck(board_home, "export", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes().startswith(EXPORT_MAGIC)
    no_leftovers(target.parent)


def test_an_export_to_a_folder_or_a_missing_folder_is_one_line(
    board_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "stick"
    folder.mkdir()
    said = one_line(run_potluck(board_home, "export", str(folder), check=False))
    assert "is a folder" in said
    no_leftovers(folder)
    missing = tmp_path / "nowhere" / "kitchen.potluck"
    said = one_line(run_potluck(board_home, "export", str(missing), check=False))
    assert "does not exist" in said
    assert not missing.parent.exists()
    under_a_file = tmp_path / "a-file"
    under_a_file.write_text("x")
    said = one_line(run_potluck(board_home, "export", str(under_a_file / "k.potluck"), check=False))
    assert "not a folder" in said


def test_an_export_to_a_full_disk_is_one_line_and_leaves_nothing(
    board_home: Path, tmp_path: Path
) -> None:
    for n in range(40):
        run_potluck(board_home, "post", "offer", f"offer {n}", "--body", os.urandom(3000).hex())
    with mounted_tmpfs(tmp_path / "stick", 64 * 1024) as stick:
        target = stick / "kitchen.potluck"
        said = one_line(run_potluck(board_home, "export", str(target), check=False))
        assert "full" in said and "nothing was written" in said
        assert list(stick.iterdir()) == []


def test_a_board_too_large_to_export_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export is never larger than an import takes: the cap holds both ways."""
    from potluck.p2p import exports

    with Home.open(tmp_path / "home") as home:
        board = home.new_board("Kitchen")
        board.post(Kind.NEED, "Soup pot", body=os.urandom(1000).hex())
        monkeypatch.setattr(exports, "MAX_EXPORT_BYTES", 1000)
        target = tmp_path / "kitchen.potluck"
        with pytest.raises(exports.ExportError, match="too large to export"):
            home.export_board(board, target)
        assert list(tmp_path.iterdir()) == [tmp_path / "home"]
