"""Bench a hostile member against a real `potluck serve` on loopback: memory, honest latency.

A member's device (tests/faults/hostile_member.py) floods the victim for --seconds with junk
items, sync bursts, documents near the limits and documents past them, while an honest peer
posts every few seconds. Prints a table: what the victim took and refused, its memory, and how
long the honest posts took to arrive.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import run_potluck
from tests.p2p_helpers import Serve, db_rows, make_homes, stored, wait_sync

HEAVY = (
    "nested",
    "huge-text",
    "near-limit-ops",
    "near-limit-bytes",
    "over-limit-bytes",
    "over-limit-ops",
    "over-limit-changes",
)
"""The heavier attacks of tests/faults/hostile_member.py, as its report names them."""


def items(home: Path) -> int:
    return int(db_rows(home, "SELECT count(*) FROM items")[0][0])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=3, help="seconds between honest posts")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="potluck-bench-hostile-"))
    (vic, hana), board_id = make_homes(root, ["Vic", "Hana"])
    key = vic.board(board_id).key
    vic_path, hana_path = vic.path, hana.path
    vic.close()
    hana.close()
    victim = Serve(vic_path, "--port", "0", "--no-mdns")
    port = int(victim.wait_line(r"listening on port (\d+)").group(1))
    honest = Serve(hana_path, "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            samples.append(rss_mb(victim.proc.pid))

    latencies: list[float] = []
    try:
        victim.wait_line(r"synced board .* with Hana", 30)
        idle = rss_mb(victim.proc.pid)
        script = Path(__file__).resolve().parent.parent / "tests/faults/hostile_member.py"
        attacker = subprocess.Popen(
            [sys.executable, str(script), str(port), key.hex(), str(args.seconds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert attacker.stdout is not None
        attacker.stdout.readline()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < args.seconds:
            title = f"Honest post {n}"
            run_potluck(hana_path, "post", "offer", title)
            posted = time.monotonic()
            wait_sync(lambda t=title: stored(vic_path, t), 60, title)
            latencies.append(time.monotonic() - posted)
            n += 1
            time.sleep(args.every)
        out, _ = attacker.communicate(timeout=120)
        stop.set()
        sampler.join(5)
        report = json.loads(out.strip().splitlines()[-1])
        log = victim.log()
    finally:
        honest.stop()
        victim.stop()
    sent = report["sent"]
    rows = [
        ("attack", f"{args.seconds:.0f} s"),
        ("junk items sent", sent.get("flood", 0)),
        ("junk items sent per second", f"{sent.get('flood', 0) / args.seconds:.0f}"),
        ("items on the victim", items(vic_path)),
        ("sync messages sent", sent.get("sync", 0)),
        ("heavy documents sent", sum(sent.get(k, 0) for k in HEAVY)),
        ("connections closed too-large", log.count(": too-large ")),
        ("victim RSS idle (MB)", f"{idle:.0f}"),
        ("victim RSS median (MB)", f"{statistics.median(samples):.0f}"),
        ("victim RSS peak (MB)", f"{max(samples):.0f}"),
        ("honest posts", len(latencies)),
        ("honest post median (s)", f"{statistics.median(latencies):.2f}"),
        ("honest post worst (s)", f"{max(latencies):.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  {'result':>10}")
    for name, value in rows:
        print(f"{name:<{width}}  {value!s:>10}")


if __name__ == "__main__":
    main()
