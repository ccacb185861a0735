"""Three real `potluck serve` nodes on a LAN that loses, delays and reorders packets, with a
cable that flaps; changes made meanwhile all arrive once the faults stop, exactly once, and no
connection is left half-open."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.faults.board import (
    done,
    half_open,
    listing,
    peers_settled,
    post,
    wait_converged,
)
from tests.faults.lan import FaultyLan
from tests.netns import netns_unavailable
from tests.p2p_helpers import Serve, make_homes, wait_sync

REASON = netns_unavailable()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(REASON is not None, reason=f"namespaced LAN unavailable: {REASON}"),
]

NAMES = ["Ana", "Bo", "Cy"]
ROUNDS = 6
ROUND_SECONDS = 4.0
"""Changes are paced so that the faults last about ROUNDS × ROUND_SECONDS."""
FLAP_DOWN, FLAP_UP = 3.0, 3.0


def flap(lan: FaultyLan, host: int, stop: threading.Event, unplugged: list[float]) -> None:
    """Unplug and replug one host's cable until told to stop (bounded: at most 10 minutes)."""
    for _ in range(int(600 / (FLAP_DOWN + FLAP_UP))):
        lan.link(host, up=False)
        unplugged.append(time.monotonic())
        stopped = stop.wait(FLAP_DOWN)
        lan.link(host, up=True)
        if stopped or stop.wait(FLAP_UP):
            return


def test_lossy_slow_reordering_flapping_lan_converges_with_nothing_lost(tmp_path: Path) -> None:
    homes, _ = make_homes(tmp_path, NAMES)
    paths = [h.path for h in homes]
    devices = [h.device_id for h in homes]
    for home in homes:
        home.close()
    with FaultyLan(3) as lan:
        nodes = [Serve(p, prefix=lan.prefix(i)) for i, p in enumerate(paths)]
        stop_flapping = threading.Event()
        unplugged: list[float] = []
        flapper = threading.Thread(
            target=flap, args=(lan, 2, stop_flapping, unplugged), daemon=True
        )
        try:
            for node in nodes:
                wait_sync(lambda n=node: n.log().count(" joined board ") >= 2, 30, "the mesh")
            seeds = [
                post(p, "need", f"Seed from {n}", "--body", "line 0")
                for p, n in zip(paths, NAMES, strict=True)
            ]
            wait_sync(lambda: all(len(listing(p)) == 3 for p in paths), 30, "the seeds")

            lan.impair(loss=0.2, delay=0.2, jitter=0.1, reorder=0.25)
            flapper.start()
            faults_from = time.monotonic()
            posted: list[str] = list(seeds)
            replies: dict[str, list[str]] = {s: [] for s in seeds}
            responses: dict[str, set[tuple[str, str]]] = {s: set() for s in seeds}
            bodies = {s: "line 0" for s in seeds}
            for r in range(ROUNDS):
                round_ends = time.monotonic() + ROUND_SECONDS
                for i, (path, name) in enumerate(zip(paths, NAMES, strict=True)):
                    posted.append(post(path, "offer", f"Round {r} from {name}"))
                    other = seeds[(i + 1) % 3]
                    text = f"reply {r} from {name}"
                    done(path, "reply", other, text)
                    replies[other].append(text)
                    if r < 2:
                        target = seeds[(i + 1 + r) % 3]
                        note = f"{name} can help (round {r})"
                        done(path, "respond", target, "--note", note)
                        responses[target].add((devices[i], note))
                    bodies[seeds[i]] += f"\nline {r + 1} by {name}"
                    done(path, "edit", seeds[i], "--body", bodies[seeds[i]])
                time.sleep(max(0.0, round_ends - time.monotonic()))
            faulty_for = time.monotonic() - faults_from
            stop_flapping.set()
            flapper.join(10)
            dropped = lan.clear()
            healed = time.monotonic()
            assert dropped > 0, "the impairment dropped nothing"
            assert len(unplugged) >= 3, f"Cy's cable flapped only {len(unplugged)} times"

            def complete(view: dict) -> None:
                assert sorted(view["items"]) == sorted(posted), "items missing or extra"
                for seed in seeds:
                    item = view["items"][seed]
                    assert item["body"] == bodies[seed], item["body"]
                    assert sorted(r["text"] for r in item["replies"]) == sorted(replies[seed])
                    got = {(r["member"], r["note"]) for r in item["responses"]}
                    assert got == responses[seed], got

            wait_converged(paths, 120, complete)
            converged_in = time.monotonic() - healed
            wait_sync(lambda: not half_open(lan), 60, f"no half-open connections: {half_open(lan)}")
            for i, path in enumerate(paths):
                others = set(devices) - {devices[i]}
                wait_sync(lambda p=path, o=others: not peers_settled(p, o), 30, "peers in sync")
        finally:
            stop_flapping.set()
            if flapper.is_alive():
                flapper.join(10)
            codes = [node.stop() for node in nodes]
        logs = "\n---\n".join(n.log() for n in nodes)
        assert codes == [0, 0, 0], logs
        print(
            f"netem={'kernel' if lan.netem else 'wire.py'} faults for {faulty_for:.1f} s, "
            f"{dropped} packets dropped, the cable unplugged {len(unplugged)} times, "
            f"converged {converged_in:.1f} s after they stopped"
        )
