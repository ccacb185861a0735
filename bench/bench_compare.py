"""Compare this tree with an earlier commit in one run: what signing and checking cost.

Runs `bench_store.py` (a store in one process; CPU time beside wall time), each commit's own
`bench_floor.py` where it has one (a newcomer's store against its floor, and the home's size
against its saved documents), with `--sync` each commit's own `bench_sync.py` (real
`potluck serve` on a namespaced LAN: post propagation and a newcomer's catch-up of 10,000
items), and with `--scale` each commit's own `bench_scale.py --apart 0,30` (20 nodes cut in
two halves: the bytes and time to heal after 30 s apart), alternating the two commits round by
round so that a shared machine's load falls on both alike. The earlier commit is taken with
`git archive` and imported instead of this tree through PYTHONPATH. Prints a table of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNC_LINES = {
    "post, commit to listed elsewhere, median (ms)": r"post[^\n]*median of \d+[^\n]*?([\d.]+) ms",
    "post, commit to listed elsewhere, p95 (ms)": r"median of \d+ \(p95\)\s+[\d.]+ ms \(([\d.]+)\)",
    "fresh node gets 10,000 items (s)": r"fresh node gets [\d,]+ items\s+([\d.]+) s",
}
"""What `bench_sync.py` prints, in its earlier wordings too."""
FLOOR_LINES = {
    "catch-up: the store / its floor, wall clock": r"store / floor\s+([\d.]+)",
    "catch-up: the store / its floor, CPU": r"store CPU / floor CPU\s+([\d.]+)",
    "home: database / saved documents": r"database / saved documents\s+([\d.]+)",
}
"""What `bench_floor.py` prints."""
SCALE_APART = "0,30"
"""The rounds of `bench_scale.py`: the figures are of the last, a heal after 30 s apart that
follows one after none, as the bench runs by default."""


def scale_figures(text: str) -> dict[str, float]:
    """The last round of `bench_scale.py`'s table: its heal's bytes per change and time."""
    rows = [line for line in text.splitlines() if re.match(r"\|\s*\d", line)]
    if not rows:
        return {}
    cells = [cell.strip().replace(",", "") for cell in rows[-1].strip("|").split("|")]
    return {
        "heal after 30 s apart: kB per change": float(cells[8]) / 1000,
        "heal after 30 s apart: converged (s)": float(cells[4]),
    }


def tree(commit: str, where: Path) -> Path:
    """`commit`'s p2p/, tui/, tests/ and bench/ in `where`, importable as `potluck`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "p2p", "tui", "tests", "bench"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def importable(source: Path, where: Path) -> str:
    """A PYTHONPATH under which `potluck.p2p` and `potluck.tui` are `source`'s folders."""
    package = where / "potluck"
    package.mkdir(parents=True)
    for folder in ("p2p", "tui"):
        (package / folder).symlink_to(source / folder, target_is_directory=True)
    return f"{where}{os.pathsep}{source}"


def run(script: Path, path: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode:
        raise RuntimeError(f"{script} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def found(lines: dict[str, str], text: str) -> dict[str, float]:
    """The figures of `lines` that a bench's table holds."""
    out = {}
    for label, pattern in lines.items():
        match = re.search(pattern, text)
        if match:
            out[label] = float(match.group(1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="main", help="the earlier commit (default: main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--sync", action="store_true", help="also the namespaced-LAN bench")
    parser.add_argument(
        "--scale", action="store_true", help="also the 20-node heal (needs root, ~2 min a run)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="potluck-compare-"))
    base = tree(args.base, work / "base")
    variants = {
        args.base: (importable(base, work / "base-path"), base),
        "this tree": (importable(ROOT, work / "this-path"), ROOT),
    }
    results: dict[str, dict[str, list[float]]] = {name: {} for name in variants}
    for round_ in range(args.rounds):
        order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
        for name in order:
            path, source = variants[name]
            measured = json.loads(
                run(ROOT / "bench" / "bench_store.py", path, source, "--items", str(args.items))
            )
            floor = source / "bench" / "bench_floor.py"
            if floor.exists():
                text = run(floor, path, source, "--items", str(args.items))
                measured |= found(FLOOR_LINES, text)
            if args.sync:
                text = run(source / "bench" / "bench_sync.py", path, source)
                measured |= found(SYNC_LINES, text)
            if args.scale:
                text = run(
                    source / "bench" / "bench_scale.py", path, source, "--apart", SCALE_APART
                )
                measured |= scale_figures(text)
            for label, value in measured.items():
                results[name].setdefault(label, []).append(value)
            print(f"round {round_ + 1}, {name}: {measured}", file=sys.stderr, flush=True)
    before, after = (results[name] for name in variants)
    width = max(len(label) for label in after)
    print(f"{'measure':<{width}}  {args.base:>12}  {'this tree':>12}  change")
    for label in after:
        if label not in before:
            continue
        old, new = statistics.median(before[label]), statistics.median(after[label])
        change = (new - old) / old * 100 if old else 0.0
        print(f"{label:<{width}}  {old:>12.3f}  {new:>12.3f}  {change:+6.1f} %")


if __name__ == "__main__":
    main()
