"""Crash loop on loopback: a node SIGKILLed and restarted N times while three homes post.

The suite runs the same scenario (tests/faults/test_crash_loop.py); this prints what it took.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.test_crash_loop import RESTARTS, SEED, crash_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--restarts", type=int, default=RESTARTS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="potluck-crash-") as root:
        result = crash_loop(Path(root), args.restarts, args.seed)
    starts = sorted(result.restart_seconds)
    rows = [
        ("SIGKILLs (of which during start-up)", f"{result.restarts} ({result.startup_kills})"),
        ("posts acknowledged, all on 3 nodes once", f"{result.posts}"),
        (
            "serve start to listening, median (max)",
            f"{statistics.median(starts) * 1000:.0f} ms ({starts[-1] * 1000:.0f} ms)",
        ),
        ("convergence after the last restart", f"{result.converge_seconds:.1f} s"),
        ("whole run", f"{result.seconds:.0f} s"),
        (
            "connection close reasons logged",
            ", ".join(f"{r} {n}" for r, n in result.close_reasons.most_common()),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  result")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
