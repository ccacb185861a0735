"""Bench a home's store in one process: posting, editing a long note, and taking a peer's items
and replies.

What signing and checking cost is measured here without a network's noise. It uses only what
every version of the store offers (a peer's bytes pass from one store to the other as they
are), so `bench_compare.py` runs it against an older commit too. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.automerge import SyncState
from potluck.p2p.model.types import Kind

BATCH = 256
"""Whole documents merged per transaction, as a node merges a newcomer's catch-up."""


CPU: list[float] = []
"""CPU seconds of each timed call, beside its wall-clock seconds: what signing and checking
cost is CPU, and a shared machine's disk makes the wall clock of a commit wander."""


def timed(fn: object) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start


def sync_once(src: Home, dst: Home, board_id: str, doc_id: str) -> float:
    """Run the automerge sync protocol from store to store for one document; the time the
    receiving store spent taking what it was sent."""
    mine, theirs = SyncState(), SyncState()
    spent = 0.0
    for _ in range(10):
        out = src.store.documents.generate_sync_message(board_id, doc_id, mine)
        if out is not None:
            spent += timed(
                lambda out=out: dst.store.documents.receive_sync_message(
                    board_id, doc_id, theirs, out
                )
            )
        back = dst.store.documents.generate_sync_message(board_id, doc_id, theirs)
        if back is not None:
            src.store.documents.receive_sync_message(board_id, doc_id, mine, back)
        if out is None and back is None:
            break
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--note-lines", type=int, default=500, help="lines of the shared note")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="potluck-bench-store-"))
    ana, bo, newcomer = (Home.open(root / name) for name in ("ana", "bo", "new"))
    for home, name in ((ana, "Ana"), (bo, "Bo"), (newcomer, "Dee")):
        home.set_profile(name=name)
    board = ana.new_board("Kitchen")
    board_id = board.board_id
    bo.join(board.invite())
    newcomer.join(board.invite())
    documents = ana.store.documents
    bo.store.documents.apply_saved_document(
        board_id, "board", documents.saved_document(board_id, "board")
    )

    CPU.clear()
    posts = [
        timed(lambda i=i: board.post(Kind.NEED, f"need {i}", body="a ladder", tags=["tools"]))
        for i in range(args.posts)
    ]
    posts_cpu = CPU[:]
    items = [s.id for s in board.items()]
    CPU.clear()
    taken = [
        timed(
            lambda d=d: bo.store.documents.apply_saved_document(
                board_id, d, documents.saved_document(board_id, d)
            )
        )
        for d in items
    ]
    taken_cpu = CPU[:]
    replies, replies_cpu = [], []
    received, received_cpu = [], []
    for n, item in enumerate(items):
        CPU.clear()
        replies.append(timed(lambda item=item, n=n: board.reply(item, f"reply {n}")))
        replies_cpu += CPU
        CPU.clear()
        received.append(sync_once(ana, bo, board_id, item))
        received_cpu.append(sum(CPU))

    for i in range(args.items - args.posts):
        board.post(Kind.OFFER, f"offer {i}", body="bread, soup and a ladder", tags=["x"])
    saved = [(d, documents.saved_document(board_id, d)) for d in documents.digests(board_id)]
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(saved), BATCH):
        _, refused = newcomer.store.documents.apply_saved_documents(
            board_id, saved[first : first + BATCH]
        )
        assert refused is None, refused
    catch_up, catch_up_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(newcomer.board(board_id).items()) == args.items
    note = board.post(Kind.NOTE, "House agreements", body="Be kind.")
    body = "Be kind."
    for n in range(args.note_lines):
        body += f"\nline {n}: wash your cup before you go"
    board.edit(note, body=body)
    CPU.clear()
    note_edits = []
    for n in range(20):  # a line added by a person, as the edit form saves it
        body += f"\nline {args.note_lines + n}: wash your cup before you go"
        note_edits.append(timed(lambda body=body: board.edit(note, body=body)))
    note_edits_cpu = CPU[:]

    for home in (ana, bo, newcomer):
        home.close()

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 3)

    json.dump(
        {
            "post (ms, median)": ms(posts),
            "post, CPU (ms, median)": ms(posts_cpu),
            "reply (ms, median)": ms(replies),
            "reply, CPU (ms, median)": ms(replies_cpu),
            "take a new item (ms, median)": ms(taken),
            "take a new item, CPU (ms, median)": ms(taken_cpu),
            "take a reply by sync (ms, median)": ms(received),
            "take a reply by sync, CPU (ms, median)": ms(received_cpu),
            f"add a line to a note of {args.note_lines:,} lines (ms, median)": ms(note_edits),
            f"add a line to a note of {args.note_lines:,} lines, CPU (ms, median)": ms(
                note_edits_cpu
            ),
            f"take {args.items:,} items whole (s)": round(catch_up, 3),
            f"take {args.items:,} items whole, CPU (s)": round(catch_up_cpu, 3),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
