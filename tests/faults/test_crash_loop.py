"""Crash loop: a node syncing with two others is SIGKILLed at random moments while all three post.

Three real `potluck serve` processes on loopback with manual peers; a background loop per home
posts with the real CLI the whole time. One node is killed with SIGKILL and restarted again and
again; after each kill its database opens, and at the end every post any command reported done
is on every node exactly once. bench/bench_crash_loop.py runs the same loop 100 times.
"""

from __future__ import annotations

import json
import random
import re
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.storage.database import shown_id

from tests.conftest import run_json, run_potluck
from tests.p2p_helpers import Serve, db_rows, wait_sync

RESTARTS = 100
SEED = 20261123
NAMES = ("Ana", "Bo", "Cy")
STARTUP_KILLS = 0.2
"""Share of kills aimed at the node's first moments (opening the database, listening)."""
KILL_WINDOW = 0.6
"""Other kills come up to this many seconds after the node logged its start: during its
reconciliation with both peers, or while it pushes and takes the posts that keep coming."""
POST_PAUSE = 0.5
"""Pause between two posts of one home's loop, so three loops leave the machine some CPU."""
MAX_POSTS = 2000
NEVER = {"local-error", "damaged-document", "protocol-violation", "bad-message", "unknown-type"}
"""Close reasons that a crashed peer must never cause: they would mean a node broke."""
CLOSE = re.compile(r" closed .* \(\w+\): ([a-z-]+)")


def free_ports(count: int) -> list[int]:
    """Ports free on this machine right now, held open together so they are distinct."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def setup_homes(root: Path) -> list[Path]:
    """Three homes on one board, made with the real CLI."""
    homes = [root / name.lower() for name in NAMES]
    for home, name in zip(homes, NAMES, strict=True):
        run_potluck(home, "whoami", "--name", name)
    code = run_json(homes[0], "new-board", "Kitchen")["invite"]
    for home in homes[1:]:
        run_potluck(home, "join", code)
    return homes


def serve(home: Path, port: int, peers: list[int]) -> Serve:
    args = ["--port", str(port), "--no-mdns"]
    for peer in peers:
        args += ["--peer", f"127.0.0.1:{peer}"]
    return Serve(home, *args)


def item_ids(home: Path) -> set[str]:
    """Item ids in a home's index."""
    return {shown_id(r[0]) for r in db_rows(home, "SELECT id FROM items")}


def integrity(home: Path) -> str:
    return str(db_rows(home, "PRAGMA integrity_check")[0][0])


@dataclass
class Poster:
    """Posts on one home with the real CLI until told to stop; keeps what was acknowledged."""

    home: Path
    name: str
    stop: threading.Event
    done: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for n in range(MAX_POSTS):
            if self.stop.is_set():
                return
            title = f"{self.name} post {n}"
            result = run_potluck(self.home, "post", "need", title, "--json", check=False)
            if result.returncode == 0:
                self.done[title] = json.loads(result.stdout)["id"]
            else:
                self.failed.append(f"{title}: exit {result.returncode}: {result.stderr.strip()}")
            self.stop.wait(POST_PAUSE)

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(120)
        assert not self.thread.is_alive(), f"{self.name}'s post loop did not stop"


def kill(node: Serve) -> None:
    node.proc.send_signal(signal.SIGKILL)
    node.proc.wait(30)
    node._reader.join(5)


@dataclass
class CrashLoopResult:
    restarts: int
    startup_kills: int
    posts: int
    seconds: float
    converge_seconds: float
    restart_seconds: list[float]
    close_reasons: Counter[str]


def crash_loop(root: Path, restarts: int, seed: int = SEED) -> CrashLoopResult:
    """Run the whole scenario and assert everything it promises; returns what it measured."""
    rng = random.Random(seed)
    homes = setup_homes(root)
    ports = free_ports(3)
    peers_of = [[p for p in ports if p != port] for port in ports]
    steady = [serve(homes[i], ports[i], peers_of[i]) for i in (0, 1)]
    victim_home, victim_port = homes[2], ports[2]
    stop = threading.Event()
    posters = [Poster(h, n, stop) for h, n in zip(homes, NAMES, strict=True)]
    victim: Serve | None = None
    startup_kills = 0
    restart_seconds: list[float] = []
    victim_lines: list[str] = []
    started = time.monotonic()
    try:
        for node in steady:
            node.wait_line(r"listening on port", 30)
        for poster in posters:
            poster.start()
        for run in range(restarts):
            spawned = time.monotonic()
            victim = serve(victim_home, victim_port, peers_of[2])
            if rng.random() < STARTUP_KILLS:
                startup_kills += 1
                time.sleep(rng.uniform(0.0, 0.3))
            else:
                line = victim.wait_line(r"listening on port (\d+)", 30)
                assert int(line.group(1)) == victim_port, f"run {run}: {victim.log()}"
                restart_seconds.append(time.monotonic() - spawned)
                time.sleep(rng.uniform(0.0, KILL_WINDOW))
            kill(victim)
            assert "Traceback" not in victim.log(), f"run {run}:\n{victim.log()}"
            victim_lines += victim.lines
            with Home.open(victim_home) as home:  # the database opens and reads, as `ls` does
                home.board().items()
            if run % 10 == 0:
                # node.json outlives a SIGKILL; the free lock says that no node runs.
                assert run_json(victim_home, "peers")["running"] is False
            victim = None
        stop.set()
        for poster in posters:
            poster.join()
        victim = serve(victim_home, victim_port, peers_of[2])
        victim.wait_line(r"listening on port", 30)
        acknowledged = {t: i for p in posters for t, i in p.done.items()}
        wanted = set(acknowledged.values())
        converging = time.monotonic()
        wait_sync(
            lambda: (
                all(item_ids(h) >= wanted for h in homes)
                and len({frozenset(item_ids(h)) for h in homes}) == 1
            ),
            120,
            "every acknowledged post on every node",
        )
        converge_seconds = time.monotonic() - converging
        listings = [run_json(h, "ls") for h in homes]
        for home, listing in zip(homes, listings, strict=True):
            ids = Counter(i["id"] for i in listing)
            titles = Counter(i["title"] for i in listing)
            for title, item_id in acknowledged.items():
                assert titles[title] == 1, f"{home.name}: {title!r} listed {titles[title]} times"
                assert ids[item_id] == 1
            assert integrity(home) == "ok"
        assert listings[0] == listings[1] == listings[2]
        for poster in posters:
            assert not poster.failed, f"{poster.name}'s posts failed: {poster.failed[:3]}"
            assert len(poster.done) > restarts // 10, f"{poster.name} posted too little"
    finally:
        stop.set()
        nodes = [*steady, *([victim] if victim is not None else [])]
        codes = [node.stop() for node in nodes]
    for node in nodes:
        assert "Traceback" not in node.log(), node.log()
    assert codes == [0] * len(nodes), "\n".join(n.log() for n in nodes)
    lines = victim_lines + [line for node in nodes for line in node.lines]
    reasons = Counter(m.group(1) for line in lines if (m := CLOSE.search(line)))
    assert not NEVER & set(reasons), [line for line in lines if any(r in line for r in NEVER)]
    return CrashLoopResult(
        restarts=restarts,
        startup_kills=startup_kills,
        posts=len(acknowledged),
        seconds=time.monotonic() - started,
        converge_seconds=converge_seconds,
        restart_seconds=restart_seconds,
        close_reasons=reasons,
    )


def test_crash_loop(tmp_path: Path) -> None:
    result = crash_loop(tmp_path, RESTARTS)
    assert result.startup_kills > 0
    assert result.posts > 0
