"""Bench a board on many nodes: split a namespaced LAN in two halves, change the board on both,
heal, and measure the time to full convergence and the bytes sent per change.

Every node is a real `potluck serve` in its own network namespace (mDNS on); the halves are cut
with nft rules on the bridge. Needs root (namespaces); everything is removed on exit or Ctrl-C.

    sudo .venv/bin/python bench/bench_scale.py --nodes 20 --changes 100 --apart 0,30,60

With `--message-log FOLDER`, every node logs each message it sends and receives there
(`message_log.py`), and each round's heal is summed up from the log: messages by type, and
the whole documents that reached a node more than once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import message_log

from tests.faults.scale import Round, ScaleLan
from tests.netns import netns_unavailable


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def table(rounds: list[Round]) -> str:
    header = (
        "| nodes | changes per side | apart (s) | halves in sync (s) | converged after heal (s) "
        "| bytes while apart | bytes after heal | bytes per change | after-heal bytes per change |"
    )
    lines = [header, "|" + "|".join("---:" for _ in range(header.count("|") - 1)) + "|"]
    for r in rounds:
        lines.append(
            f"| {r.nodes} | {r.changes_per_side} | {r.apart:.1f} | {r.halves_synced:.1f} "
            f"| {r.converged:.1f} | {r.bytes_apart:,} | {r.bytes_heal:,} "
            f"| {r.bytes_per_change:,.0f} | {r.heal_bytes_per_change:,.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20, help="nodes, split in two halves")
    parser.add_argument("--changes", type=int, default=100, help="changes on each side")
    parser.add_argument(
        "--apart",
        default="0,30,60",
        help="comma-separated seconds the halves stay apart at least, one round each "
        "(over 45 s, the connections across time out and are dialled again on heal)",
    )
    parser.add_argument("--seeds", type=int, default=10, help="items on the board beforehand")
    parser.add_argument("--timeout", type=float, default=600, help="give up after (s)")
    parser.add_argument(
        "--message-log", type=Path, help="log every node's messages in this folder, kept"
    )
    args = parser.parse_args()
    reason = netns_unavailable()
    if reason is not None:
        print(f"bench_scale needs network namespaces: {reason}", file=sys.stderr)
        return 2
    # Ctrl-C and SIGTERM both unwind through the ExitStack, which stops every node and removes
    # the namespaces and homes (SIGINT too: a shell may start a background job ignoring it).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.message_log is not None:
        os.environ.update(message_log.environment(args.message_log))  # the nodes inherit it
    rounds: list[Round] = []
    try:
        with ExitStack() as stack:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="potluck-scale-")))
            run = ScaleLan(root, args.nodes, stack)
            try:
                mesh = run.start(args.timeout)
                print(
                    f"{args.nodes} nodes connected to each other in {mesh:.1f} s", file=sys.stderr
                )
                run.seed(args.seeds, args.timeout)
                for apart in (float(a) for a in args.apart.split(",")):
                    started = time.monotonic()
                    done = run.split_round(args.changes, apart, args.timeout)
                    rounds.append(done)
                    print(f"round took {time.monotonic() - started:.0f} s", file=sys.stderr)
                    if args.message_log is not None:
                        end = done.healed_at + done.converged
                        entries = message_log.read(args.message_log, done.healed_at, end)
                        print(
                            f"heal at {done.healed_at:.2f} (Unix time) after {done.apart:.0f} s "
                            "apart, as logged:",
                            file=sys.stderr,
                        )
                        print(message_log.summary(entries), file=sys.stderr)
            except AssertionError:
                print(run.logs()[-5000:], file=sys.stderr)
                raise
    except KeyboardInterrupt:
        print("interrupted: every node stopped, namespaces and homes removed", file=sys.stderr)
        return 130
    print(table(rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
