"""Bench sync on a namespaced LAN (loopback if not root): connect, propagation, catch-up (and
how many documents the newcomer merged, and was sent whole, from its peers' "synced" log
lines)."""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind

from tests.netns import Lan, netns_unavailable
from tests.p2p_helpers import Serve, db_rows, make_homes, wait_sync

PORT = 7434


def count(path: Path, board_id: str) -> int:
    """Items listed on a home (of one board: `board_id` is not needed, whatever the schema)."""
    return int(db_rows(path, "SELECT count(*) FROM items")[0][0])


def poll(condition: Callable[[], bool], timeout: float, every: float = 0.002) -> float:
    """Seconds until `condition` holds, polling every `every` seconds."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("condition not met")
        time.sleep(every)
    return time.perf_counter() - start


CLOSED = re.compile(r"closed (.+?): .*\((\d+) documents merged from it, (\d+) sent to it whole\)")


def closed_counts(log: str) -> dict[str, tuple[int, int]]:
    """Documents merged from each peer and sent to it whole, as a node's log says when its
    connections close."""
    return {m[1]: (int(m[2]), int(m[3])) for m in CLOSED.finditer(log)}


def peak_memory(pid: int) -> int:
    """The most resident memory a process and its children have held, in bytes (each its
    own peak, summed)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="potluck-bench-"))
    homes, board_id = make_homes(root, ["Ana", "Bo", "Cy", "Dee", "Eve"])
    paths = [h.path for h in homes]
    for home in homes:
        home.close()
    reason = netns_unavailable()
    with ExitStack() as stack:
        if reason is None:
            lan = stack.enter_context(Lan(4))
            where = "3-namespace LAN, mDNS only"

            def serve(i: int) -> Serve:
                return Serve(paths[i], "--port", str(PORT), prefix=lan.prefix(i))

            def serve_alone(i: int) -> Serve:  # in the newcomer's namespace, once it has left
                peer = f"198.18.0.1:{PORT}"
                return Serve(
                    paths[i], "--port", str(PORT), "--no-mdns", "--peer", peer, prefix=lan.prefix(3)
                )
        else:
            where = f"loopback, manual peers ({reason})"
            first = Serve(paths[0], "--port", "0", "--no-mdns")
            port = first.wait_line(r"on port (\d+)").group(1)

            def serve(i: int) -> Serve:
                if i == 0:
                    return first
                return Serve(paths[i], "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")

            def serve_alone(i: int) -> Serve:
                return serve(i)

        nodes: list[Serve] = []
        stack.callback(lambda: [n.stop() for n in nodes])
        nodes += [serve(0), serve(1)]
        wait_sync(lambda: " joined board " in nodes[1].log(), 30, "first two connected")
        start = time.perf_counter()
        nodes.append(serve(2))
        peers = 2 if reason is None else 1
        wait_sync(lambda: nodes[2].log().count(" joined board ") >= peers, 30, "third connected")
        connect = time.perf_counter() - start

        delays = []
        with Home.open(paths[0]) as home:  # another process than the node, as a CLI post is
            board = home.board(board_id)
            for i in range(args.posts):
                board.post(Kind.NEED, f"bench post {i}")  # returns once committed
                delays.append(poll(lambda i=i: count(paths[1], board_id) >= i + 1, 10))
        median = statistics.median(delays)
        p95 = sorted(delays)[max(0, int(len(delays) * 0.95) - 1)]

        with Home.open(paths[0]) as home:
            board = home.board(board_id)
            for i in range(args.items - args.posts):
                board.post(Kind.OFFER, f"offer {i}", body="bread, soup and a ladder", tags=["x"])
        wait_sync(lambda: count(paths[1], board_id) == args.items, 300, "Bo caught up")
        start = time.perf_counter()
        nodes.append(serve(3))
        # Every 50 ms: a poll that opens the database 500 times a second would compete for
        # the CPU with the node it measures.
        catch_up = poll(lambda: count(paths[3], board_id) == args.items, 300, every=0.05)
        # Once the newcomer holds the board: what it merged from each peer and what each sent
        # it whole (the rest reached it after another peer's copy), told as it leaves.
        nodes[3].stop()
        merged = sum(m for m, _ in closed_counts(nodes[3].log()).values())
        wait_sync(
            lambda: all("Dee " in "".join(closed_counts(n.log())) for n in nodes[:3]), 30, "left"
        )
        sent = sum(
            s for n in nodes[:3] for who, (_, s) in closed_counts(n.log()).items() if "Dee " in who
        )

        # Another fresh node, from Ana alone: the time, and the most memory it held (with its
        # worker processes).
        start = time.perf_counter()
        nodes.append(serve_alone(4))
        alone = poll(lambda: count(paths[4], board_id) == args.items, 300, every=0.05)
        memory = peak_memory(nodes[4].proc.pid)

    rows = [
        ("where", where, ""),
        ("new node connected to the others", f"{connect * 1000:.0f} ms", "< 2000 ms"),
        (
            f"post, commit to listed elsewhere, median of {args.posts} (p95)",
            f"{median * 1000:.1f} ms ({p95 * 1000:.1f})",
            "< 10 ms (25)",
        ),
        (f"fresh node gets {args.items:,} items", f"{catch_up:.1f} s", "< 10 s"),
        ("documents it merged whole (were sent whole)", f"{merged:,} ({sent:,})", ""),
        (f"fresh node gets {args.items:,} items from one peer", f"{alone:.1f} s", ""),
        ("its peak memory, with its worker processes", f"{memory / 1e6:.0f} MB", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>14}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>14}  {target}")


if __name__ == "__main__":
    main()
