"""Log every message the `potluck serve` nodes of a bench send and receive, and sum up a
window of the log: what kinds of messages went, and which documents arrived whole at a node
more than once (the waste a heal or a catch-up can have).

A bench that starts nodes (`bench_scale.py --message-log FOLDER`) adds `environment(FOLDER)` to
theirs: Python then imports `message_log_hook/sitecustomize.py` at start-up, which wraps the
node's Noise channel to append one JSON line per message to `FOLDER/<pid>.jsonl`. Read a log
afterwards with

    .venv/bin/python bench/message_log.py FOLDER [--since UNIX_TIME] [--until UNIX_TIME]
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

HOOK = Path(__file__).resolve().parent / "message_log_hook"


def environment(folder: Path) -> dict[str, str]:
    """What to add to a node's environment so that it logs its messages into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = os.environ.get("PYTHONPATH", "")
    return {
        "POTLUCK_MESSAGE_LOG": str(folder),
        "PYTHONPATH": f"{HOOK}{os.pathsep}{path}" if path else str(HOOK),
    }


def read(folder: Path, since: float = 0.0, until: float = float("inf")) -> list[dict[str, Any]]:
    """Every line logged in `folder` between `since` and `until`, in time order."""
    entries = []
    for log in folder.glob("*.jsonl"):
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            if since <= entry["t"] <= until:
                entries.append(entry)
    return sorted(entries, key=lambda e: e["t"])


def summary(entries: list[dict[str, Any]]) -> str:
    """A table of the messages sent, by type, and of whole documents that came twice."""
    sent = [e for e in entries if e["way"] == "out"]
    count: Counter[str] = Counter(e["type"] for e in sent)
    size: Counter[str] = Counter()
    for e in sent:
        size[e["type"]] += e["bytes"]
    lines = [f"{'message':<16} {'sent':>8} {'bytes':>12}"]
    lines += [f"{t:<16} {count[t]:>8,} {size[t]:>12,}" for t, _ in size.most_common()]
    lines.append(f"{'all':<16} {len(sent):>8,} {sum(size.values()):>12,}")
    whole = [e for e in entries if e["way"] == "in" and e["type"] == "WholeDocument"]
    held: set[tuple[str, str]] = set()
    again = wasted = 0
    for e in whole:
        pair = (e["home"], e["doc"])
        if pair in held:
            again += 1
            wasted += e["bytes"]
        held.add(pair)
    lines.append(
        f"whole documents received: {len(whole):,}, for {len(held):,} (node, document); "
        f"{again:,} came again ({wasted:,} bytes)"
    )
    syncs: Counter[tuple[str, str]] = Counter(
        (e["home"], e["doc"]) for e in entries if e["way"] == "in" and e["type"] == "Sync"
    )
    lines.append(
        f"sync messages received: {sum(syncs.values()):,}, for {len(syncs):,} (node, document)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--since", type=float, default=0.0, help="Unix time")
    parser.add_argument("--until", type=float, default=float("inf"), help="Unix time")
    args = parser.parse_args()
    print(summary(read(args.folder, args.since, args.until)))


if __name__ == "__main__":
    main()
