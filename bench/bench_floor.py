"""Bench a newcomer's catch-up against its floor, in one process, and the size of its home.

The floor: for each saved document of a board of small items (made as `bench_sync.py` makes
them), an automerge load, a read of the fields the index holds, and the rows a home needs (the
document, its index row, its full-text row) inserted into a fresh SQLite file in one
transaction. The checked floor: the same with the checks a member's hostile device makes
necessary, in the same process: each document measured before automerge sees it, the signature
of its change verified, its genesis judged by the rules. Beside them, Potluck's store taking
the same documents into an empty home through the store thread as the node does (batches of
64, the worker processes preparing them), and the ratios, in wall-clock time and in CPU time
of all processes (on a shared machine the first depends on what else runs). Then the home's
database bytes against the saved documents' bytes (with their signatures and signers' keys).
`--profile FILE` writes a cProfile of the store's run (the store thread only); `--rounds N`
takes floor, checked floor and store in turn N times. Prints a
table. Runs against an older commit too (its `p2p/` importable as `potluck.p2p`, as
`bench_compare.py` does).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import multiprocessing
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.automerge import ROOT, Document
from potluck.p2p.model.checking import Received, check_whole_document, precheck
from potluck.p2p.model.permissions import Rules
from potluck.p2p.model.signing import Signed
from potluck.p2p.model.types import Kind
from potluck.p2p.storage.thread import StoreThread

BATCH = 64
"""Whole documents per batch, as a peer sends a newcomer's catch-up (`net.sync.BATCH`)."""

FLOOR_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE items (
    num INTEGER PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    title TEXT NOT NULL, tags TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    replies INTEGER NOT NULL, responses INTEGER NOT NULL
);
CREATE VIRTUAL TABLE items_fts USING fts5 (title, body, replies, tags);
"""


def source(path: Path, items: int) -> tuple[str, list[tuple[str, Signed]]]:
    """A home at `path` holding a board of `items` small items (made once, then reused), and
    its saved documents."""
    made = path.exists()
    home = Home.open(path)
    try:
        if not made:
            home.set_profile(name="Ana")
            board = home.new_board("Kitchen")
            for i in range(items):
                board.post(Kind.OFFER, f"offer {i}", body="bread, soup and a ladder", tags=["x"])
        board = home.board()
        documents = home.store.documents
        ids = sorted(documents.digests(board.board_id))
        saved = [(d, documents.saved_document(board.board_id, d)) for d in ids]
        return board.invite(), saved
    finally:
        home.close()


def _fields(doc: Document) -> tuple[str, str, str, str, str, int, int, list[str], int]:
    """What the index holds of an item: kind, status, title, body, tags, times, replies."""
    tags = doc.child(ROOT, "tags")
    replies = doc.child(ROOT, "replies")
    responses = doc.child(ROOT, "responses")
    texts = []
    for n in range(0 if replies is None else doc.length(replies)):
        reply = doc.child(replies, n)
        texts.append(str(doc.scalar(reply, "text") or "") if reply is not None else "")
    return (
        str(doc.scalar(ROOT, "kind") or ""),
        str(doc.scalar(ROOT, "status") or ""),
        str(doc.scalar(ROOT, "title") or ""),
        doc.text(ROOT, "body"),
        " ".join(doc.keys(tags)) if tags is not None else "",
        int(doc.scalar(ROOT, "created") or 0),
        int(doc.scalar(ROOT, "updated") or 0),
        texts,
        0 if responses is None else len(doc.keys(responses)),
    )


def cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def floor(
    where: Path, saved: list[tuple[str, Signed]], checked: bool = False
) -> tuple[float, float]:
    """Seconds to load, read and insert every document into a fresh SQLite file (`checked`:
    measured, verified and judged too), and the CPU seconds it took."""
    db = sqlite3.connect(where / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(FLOOR_SCHEMA)
    actor = os.urandom(16)
    start, used = time.perf_counter(), cpu()
    db.execute("BEGIN IMMEDIATE")
    for doc_id, signed in saved:
        pre = precheck(doc_id, signed) if checked else None
        doc = Document.load(signed.data, actor)
        if pre is not None:
            received = Received(*signed.received(), pre.verified)
            check_whole_document(doc, doc_id, pre, Rules(doc_id), {}, received)
        kind, status, title, body, tags, created, updated, replies, responses = _fields(doc)
        db.execute("INSERT INTO documents VALUES (?, ?)", (doc_id, signed.data))
        num = db.execute(
            "INSERT INTO items (id, kind, status, title, tags, created, updated, replies, "
            "responses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, kind, status, title, tags, created, updated, len(replies), responses),
        ).lastrowid
        db.execute(
            "INSERT INTO items_fts (rowid, title, body, replies, tags) VALUES (?, ?, ?, ?, ?)",
            (num, title, body, "\n".join(replies), tags),
        )
    db.execute("COMMIT")
    spent, used = time.perf_counter() - start, cpu() - used
    db.close()
    return spent, used


def store(
    where: Path, invite: str, saved: list[tuple[str, Signed]], profile: Path | None
) -> tuple[float, float, int]:
    """Seconds for an empty home to take every document through the store thread, in
    batches of BATCH as the node merges them; the CPU seconds it took, its worker processes
    included; and its database's bytes afterwards."""
    home = Home.open(where / "new")
    home.set_profile(name="Dee")
    board, _ = home.join(invite)
    thread = StoreThread(home.store)
    profiler = cProfile.Profile() if profile is not None else None

    used = cpu()

    async def run() -> float:
        if profiler is not None:
            await thread.call(profiler.enable)
        await thread.call(lambda: None)
        start = time.perf_counter()
        for first in range(0, len(saved), BATCH):
            _, refused = await thread.apply_saved_documents(
                board.board_id, saved[first : first + BATCH]
            )
            assert refused is None, refused
        spent = time.perf_counter() - start
        if profiler is not None:
            await thread.call(profiler.disable)
        return spent

    try:
        spent = asyncio.run(run())
        if profiler is not None and profile is not None:
            profiler.dump_stats(profile)
        assert len(home.board(board.board_id).items()) == len(saved) - 1
    finally:
        thread.close()
        for child in multiprocessing.active_children():  # the workers, so their CPU counts
            child.join(timeout=60)
        home.close()
    return spent, cpu() - used, database_bytes(where / "new")


def database_bytes(home: Path) -> int:
    """The bytes of a closed home's database (its write-ahead log included)."""
    return sum(
        p.stat().st_size for p in (home / "potluck.db", home / "potluck.db-wal") if p.exists()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1, help="floor and store taken in turn")
    parser.add_argument("--source", type=Path, help="a home to make the board in, kept")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the store here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="potluck-bench-floor-"))
    try:
        invite, saved = source(args.source or root / "source", args.items)
        floors, stores, floors_cpu, stores_cpu, checked = [], [], [], [], []
        size = 0
        for n in range(args.rounds):
            gc.collect()
            spent, used = floor(Path(tempfile.mkdtemp(dir=root)), saved)
            floors.append(spent)
            floors_cpu.append(used)
            gc.collect()
            checked.append(floor(Path(tempfile.mkdtemp(dir=root)), saved, checked=True)[0])
            gc.collect()
            spent, used, size = store(
                Path(tempfile.mkdtemp(dir=root)), invite, saved, args.profile if n == 0 else None
            )
            stores.append(spent)
            stores_cpu.append(used)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # A saved document as a peer sends it and a home must keep it: its bytes, the signatures
    # of its changes and its signers' keys.
    documents = sum(len(s.data) + len(s.signatures) + len(s.keys) for _, s in saved)
    best_floor, best_store = min(floors), min(stores)
    floor_cpu, store_cpu = min(floors_cpu), min(stores_cpu)
    rows = [
        (f"floor: load, read, insert {len(saved):,} documents", f"{best_floor:.2f} s", ""),
        ("the store takes them into an empty home", f"{best_store:.2f} s", ""),
        ("store / floor", f"{best_store / best_floor:.2f}", "<= 1.3"),
        ("checked floor: measure, verify, judge too", f"{min(checked):.2f} s", ""),
        ("store / checked floor", f"{best_store / min(checked):.2f}", ""),
        ("CPU: floor, store (all processes)", f"{floor_cpu:.2f} {store_cpu:.2f} s", ""),
        ("store CPU / floor CPU", f"{store_cpu / floor_cpu:.2f}", ""),
        ("database bytes", f"{size / 1e6:.1f} MB", ""),
        ("saved documents' bytes (with signatures and keys)", f"{documents / 1e6:.1f} MB", ""),
        ("database / saved documents", f"{size / documents:.2f}", "<= 1.5"),
    ]
    if args.rounds > 1:
        rows.insert(2, ("(best of rounds; all)", " ".join(f"{s:.2f}" for s in stores), ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>10}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>10}  {target}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
