"""Storage: acknowledged writes survive SIGKILL, compaction keeps documents, damage is named."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from potluck.p2p.errors import DamagedDocument, HomeError
from potluck.p2p.home import Home
from potluck.p2p.model.signing import Signed
from potluck.p2p.model.types import Kind, ResponseKind
from potluck.p2p.storage.database import stored_id

from tests.conftest import copied, run_json, run_potluck
from tests.p2p_helpers import Serve, db_rows

POSTER = textwrap.dedent(
    """
    import sys
    from potluck.tui.main import main
    home = sys.argv[1]
    for n in range(10_000):
        main(["--home", home, "post", "need", f"post number {n}", "--body", "x" * 200])
        sys.stdout.flush()
    """
)


@pytest.mark.parametrize("kill_after", [1, 7, 23])
def test_acknowledged_posts_survive_sigkill(tmp_path: Path, kill_after: int) -> None:
    """Every id the command printed is on disk after the process is killed with SIGKILL."""
    home = tmp_path / "home"
    run_potluck(home, "new-board", "Kitchen")
    proc = subprocess.Popen(
        [sys.executable, "-c", POSTER, str(home)], stdout=subprocess.PIPE, text=True
    )
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < kill_after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "the posting process ended early"
        acknowledged.append(line.strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(acknowledged) == kill_after
    listed = {item["id"] for item in run_json(home, "ls")}
    assert set(acknowledged) <= listed


def test_compaction_keeps_the_document_identical(home: Home) -> None:
    board = home.new_board("Kitchen")
    item = board.post(Kind.EVENT, "Soup night", body="Bring bowls", tags=["food"])
    for n in range(10):
        board.reply(item, f"reply {n}")
    board.respond(item, ResponseKind.BRING, "bread")
    store = home.store
    before_digest = store.documents.digests(board.board_id)[item]
    before_item = board.item(item)
    before_heads = sorted(store.documents.read_document(board.board_id, item).heads())
    rows = store.db.connection.execute(
        "SELECT count(*) FROM changes JOIN documents USING (num) WHERE doc_id=?", (stored_id(item),)
    ).fetchone()[0]
    assert rows > 10

    store.documents.compact(board.board_id, item)

    assert (
        store.db.connection.execute(
            "SELECT count(*) FROM changes JOIN documents USING (num) WHERE doc_id=?",
            (stored_id(item),),
        ).fetchone()[0]
        == 0
    )
    reopened = Home.open(home.path)
    try:
        doc = reopened.store.documents.read_document(board.board_id, item)
        assert sorted(doc.heads()) == before_heads
        assert reopened.store.documents.digests(board.board_id)[item] == before_digest
        assert reopened.board(board.board_id).item(item) == before_item
    finally:
        reopened.close()


def test_automatic_compaction_after_many_changes(home: Home) -> None:
    board = home.new_board("Kitchen")
    item = board.post(Kind.NOTE, "House agreements")
    for n in range(100):
        board.reply(item, f"line {n}")
    rows = home.store.db.connection.execute(
        "SELECT count(*) FROM changes JOIN documents USING (num) WHERE doc_id=?", (stored_id(item),)
    ).fetchone()[0]
    assert rows <= 64
    reopened = Home.open(home.path)
    try:
        assert len(reopened.board().item(item).replies) == 100
    finally:
        reopened.close()


def test_a_write_in_one_process_is_seen_by_the_next_read_in_another(home: Home) -> None:
    board = home.new_board("Kitchen")
    item = board.post(Kind.OFFER, "Spare bike")
    assert board.item(item).replies == ()
    run_potluck(home.path, "reply", item[:6], "I'd love it")
    assert [r.text for r in board.item(item).replies] == ["I'd love it"]
    second = Home.open(home.path)
    try:
        second.board().reply(item, "me too")
        assert [r.text for r in board.item(item).replies] == ["I'd love it", "me too"]
        assert board.items()[0].replies == 2
    finally:
        second.close()


def test_a_damaged_database_is_named_not_emptied(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_potluck(home, "new-board", "Kitchen")
    db = home / "potluck.db"
    for suffix in ("-wal", "-shm"):
        (home / f"potluck.db{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not sqlite" * 100)
    result = run_potluck(home, "ls", check=False)
    assert result.returncode == 1
    assert str(db) in result.stderr
    assert "damaged" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(HomeError):
        Home.open(home)


def test_a_document_automerge_refuses_is_named(home: Home) -> None:
    board = home.new_board("Kitchen")
    item = board.post(Kind.NEED, "Blankets")
    home.store.documents.compact(board.board_id, item)
    conn = sqlite3.connect(home.path / "potluck.db")
    key = (stored_id(item),)
    snapshot = conn.execute("SELECT snapshot FROM documents WHERE doc_id=?", key).fetchone()[0]
    conn.execute(
        "UPDATE documents SET snapshot=?, changed_seq=changed_seq+1 WHERE doc_id=?",
        (snapshot[: len(snapshot) // 2], *key),
    )
    conn.commit()
    conn.close()
    with pytest.raises(DamagedDocument, match=item):
        board.item(item)
    result = run_potluck(home.path, "show", item, check=False)
    assert result.returncode == 1
    assert "potluck.db" in result.stderr and item in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(run_potluck(home.path, "ls", "--json").stdout)[0]["id"] == item


def test_a_home_from_before_signed_changes_gets_one_line_saying_what_to_do(home: Home) -> None:
    """No released home predates signing: a clean break, said plainly, never a traceback."""
    home.new_board("Kitchen")
    home.close()
    conn = sqlite3.connect(home.path / "potluck.db")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    result = run_potluck(home.path, "ls", check=False)
    assert result.returncode == 1
    assert "earlier Potluck" in result.stderr and f"mv {home.path}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    (home.path / "device.key").write_bytes(bytes(32))  # a version 1 key: X25519 alone
    again = run_potluck(home.path, "whoami", check=False)
    assert again.returncode == 1 and "earlier Potluck" in again.stderr


def test_a_batch_of_saved_documents_is_one_commit_and_stops_at_a_damaged_one(
    home: Home, other_home: Home
) -> None:
    board = home.new_board("Kitchen")
    ids = [board.post(Kind.NEED, f"need {i}", body=f"words {i}") for i in range(5)]
    joined, _ = other_home.join(board.invite())
    saved = [(i, home.store.documents.saved_document(board.board_id, i)) for i in ids]
    store = other_home.store
    before = store.documents.change_cursor()
    changed, damaged = store.documents.apply_saved_documents(
        board.board_id, [*saved[:3], (ids[3], Signed(b"not automerge")), saved[4]]
    )
    assert changed == ids[:3] and damaged is not None and ids[3] in str(damaged)
    assert sorted(s.title for s in joined.items()) == ["need 0", "need 1", "need 2"]
    assert store.documents.change_cursor() == before + 3
    assert [s.id for s in joined.items(search="words 1")] == [ids[1]]
    changed, damaged = store.documents.apply_saved_documents(board.board_id, saved)
    assert changed == ids[3:] and damaged is None
    assert store.documents.apply_saved_documents(board.board_id, saved) == ([], None)
    assert len(joined.items()) == 5


WORKER_HOLDER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from potluck.p2p.home import Home
    from potluck.p2p.model.types import Kind
    from potluck.p2p.storage.thread import PREPARE_AT, StoreThread

    async def main(root: Path) -> None:
        ana, vic = Home.open(root / "ana"), Home.open(root / "vic")
        board = ana.new_board("Kitchen")
        vic.join(board.invite())
        ids = [board.post(Kind.NEED, f"need {i}") for i in range(2 * PREPARE_AT)]
        saved = [(i, ana.store.documents.saved_document(board.board_id, i)) for i in ids]
        thread = StoreThread(vic.store)
        await thread.apply_saved_documents(board.board_id, saved[:PREPARE_AT])
        while thread._worker_ready is None or not thread._worker_ready.done():
            await asyncio.sleep(0.02)
        await thread.apply_saved_documents(board.board_id, saved[PREPARE_AT:])
        print(*thread._worker._processes, flush=True)
        time.sleep(600)

    if __name__ == "__main__":
        asyncio.run(main(Path(sys.argv[1])))
    """
)


def test_a_nodes_workers_end_when_it_is_killed(tmp_path: Path) -> None:
    """A node SIGKILLed (as the crash loop does) leaves no worker process behind."""
    script = tmp_path / "holder.py"
    script.write_text(WORKER_HOLDER)
    holder = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        workers = [int(p) for p in holder.stdout.readline().split()]
        assert workers and all(Path(f"/proc/{p}").exists() for p in workers)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state != "Z"

    deadline = time.monotonic() + 30
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in workers)


APP_CATCHING_UP = textwrap.dedent(
    """
    import asyncio, multiprocessing, sqlite3, sys, time
    from pathlib import Path
    from potluck.p2p import ready_workers
    from potluck.tui.app import PotluckApp
    from potluck.tui.node_bridge import NodeBridge

    def held(home: Path) -> int:
        with sqlite3.connect(f"file:{home / 'potluck.db'}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM documents").fetchone()[0]

    async def main(home: Path, port: int, count: int) -> None:
        ready_workers()  # as run_app does, before the app takes stderr
        bridge = NodeBridge(home, [("127.0.0.1", port)], port=0, host="127.0.0.1", mdns=False)
        async with PotluckApp(home, bridge=bridge).run_test(size=(80, 24)) as pilot:
            taken = sys.stderr.fileno()  # Textual's stand-in, as in the terminal
            deadline = time.monotonic() + 120
            while held(home) < count and time.monotonic() < deadline:
                await pilot.pause(0.05)
            workers = len(multiprocessing.active_children())
        print(taken, held(home), workers, flush=True)

    if __name__ == "__main__":
        asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
    """
)


def test_the_apps_catch_up_gets_the_worker_processes(
    catch_up_homes: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """The terminal app catching up a board of 1,500 items from a peer prepares the documents
    in worker processes too, although Textual holds stderr (the resource tracker they need
    is started before; without it no worker could start inside the app)."""
    ana, bo, _ = copied(catch_up_homes, tmp_path)
    count = int(db_rows(ana, "SELECT count(*) FROM documents")[0][0])
    peer = Serve(ana, "--port", "0", "--no-mdns")
    try:
        port = peer.wait_line(r"on port (\d+)").group(1)
        script = tmp_path / "app.py"
        script.write_text(APP_CATCHING_UP)
        result = subprocess.run(
            [sys.executable, str(script), str(bo), port, str(count)],
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        peer.stop()
    assert result.returncode == 0, result.stderr
    taken, held, workers = (int(n) for n in result.stdout.split())
    assert taken == -1, "stderr was not Textual's"
    assert held == count
    assert workers >= 1, "the app caught up without its worker processes"
