"""Bench what a reconnect costs on the wire: two nodes on loopback holding the same board meet
again through a relay that counts every byte of the TCP stream (handshake included), first with
nothing changed apart, then with k changes made apart on each side.

    .venv/bin/python bench/bench_reconnect.py --documents 2000 --changes 1,10,50
    .venv/bin/python bench/bench_reconnect.py --base main     # this tree beside an earlier commit

With --base, the same measurement runs once with the earlier commit imported in place of this
tree (as bench_compare.py does) and once with this tree, and the table gives both and their
ratio. Building the board takes ~3.5 ms a document (each is posted and committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.p2p.net.node import Node

from bench.bench_compare import importable, tree
from tests.p2p_helpers import Relay, db_rows, running_node, two_homes_holding, wait_until


def digests(home: Path, board_id: str) -> dict[str, bytes]:
    rows = db_rows(home, "SELECT doc_id, digest FROM documents")  # one board (any schema)
    return {_id(doc_id): bytes(digest) for doc_id, digest in rows}


def _id(stored: str | bytes) -> str:
    """A document id as the home keeps it (16 bytes for a hex id from schema 5), as text."""
    return stored.hex() if isinstance(stored, bytes) else stored


def synced_since(node: Node, moment: float) -> bool:
    infos = node.peer_infos()
    return len(infos) == 1 and infos[0].since > moment and infos[0].in_sync


async def measure(root: Path, documents: int, changes: list[int]) -> dict[str, int]:
    """Bytes of each reconnect: `same` with nothing changed, `k changes` with k on each side."""
    *paths, board_id = two_homes_holding(root, documents)

    def same() -> bool:
        return digests(paths[0], board_id) == digests(paths[1], board_id)

    out: dict[str, int] = {}
    async with running_node(paths[0]) as node_a:
        relay = Relay(node_a.port)
        await relay.start()
        try:
            async with running_node(paths[1], peers=[("127.0.0.1", relay.port)]) as node_b:
                await wait_until(
                    lambda: synced_since(node_a, 0) and synced_since(node_b, 0) and same(),
                    timeout=120,
                    what="the first sync",
                )
                for k in [0, *changes]:
                    relay.cut(refuse=True)
                    await wait_until(lambda: not node_a.peer_infos(), what="the cut seen")
                    with Home.open(paths[0]) as home_a, Home.open(paths[1]) as home_b:
                        a, b = home_a.board(board_id), home_b.board(board_id)
                        seeds = sorted(i.id for i in a.items())
                        for n in range(k):
                            a.reply(seeds[(n * 37) % len(seeds)], f"reply {n} while apart")
                            b.post(Kind.NEED, f"need {n} while apart")
                    cut = time.time()
                    relay.bytes = 0
                    relay.open = True
                    await wait_until(
                        lambda c=cut: (
                            synced_since(node_a, c) and synced_since(node_b, c) and same()
                        ),
                        timeout=120,
                        what="in sync again",
                    )
                    out["same" if k == 0 else f"{k} change{'' if k == 1 else 's'}"] = relay.bytes
        finally:
            await relay.aclose()
    return out


def run_variant(path: str, args: argparse.Namespace) -> dict[str, int]:
    """This script under another PYTHONPATH (an earlier commit's tree), its JSON result."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--documents",
            str(args.documents),
            "--changes",
            args.changes,
            "--json",
        ],
        env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, int] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--changes", default="1,10,50", help="changes made apart, per round")
    parser.add_argument("--base", help="an earlier commit to measure beside this tree")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    changes = [int(k) for k in args.changes.split(",") if k]
    if args.base is None:
        with tempfile.TemporaryDirectory(prefix="potluck-reconnect-") as root:
            result = asyncio.run(measure(Path(root), args.documents, changes))
        if args.json:
            print(json.dumps(result))
        else:
            for what, spent in result.items():
                print(f"| {args.documents:,} documents, reconnect with {what} | {spent:,} bytes |")
        return 0
    work = Path(tempfile.mkdtemp(prefix="potluck-compare-"))
    root = Path(__file__).resolve().parent.parent
    base = run_variant(importable(tree(args.base, work / "base"), work / "base-path"), args)
    this = run_variant(importable(root, work / "this-path"), args)
    print(f"| {args.documents:,} documents, reconnect with | {args.base} | this tree | ratio |")
    print("|---|---:|---:|---:|")
    for what in this:
        print(f"| {what} | {base[what]:,} B | {this[what]:,} B | {this[what] / base[what]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
