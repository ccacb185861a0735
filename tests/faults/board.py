"""Reading boards the way the command line prints them, and checking that nodes agree."""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from potluck.tui.main import main

from tests.conftest import run_potluck
from tests.netns import Lan

PORT = 7434


def cli_json(home: Path, *args: str) -> Any:
    """What `potluck --home HOME ARGS --json` prints: the command line's own code, run in this
    process because a board is read many times while waiting for it to converge."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["--home", str(home), *args, "--json"])
    assert code == 0, f"potluck {' '.join(args)} --json exited {code}"
    return json.loads(out.getvalue())


def done(home: Path, *args: str) -> str:
    """Run a real `potluck` command that changes the board; its output once it reports done."""
    return run_potluck(home, *args).stdout.strip()


def post(home: Path, *args: str) -> str:
    """`potluck post ARGS`; the new item's id once the command reports it done."""
    return json.loads(done(home, "post", *args, "--json"))["id"]


def listing(home: Path) -> list[dict[str, Any]]:
    return sorted(cli_json(home, "ls"), key=lambda s: s["id"])


def board_view(home: Path) -> dict[str, Any]:
    """`ls --json` (by id) and `show --json` of every item listed."""
    listed = listing(home)
    return {"ls": listed, "items": {s["id"]: cli_json(home, "show", s["id"]) for s in listed}}


def wait_converged(
    homes: list[Path], timeout: float, check: Callable[[dict[str, Any]], object] = lambda v: True
) -> dict[str, Any]:
    """Wait until every home shows the same board and `check(view)` passes; the view."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        listings = [listing(h) for h in homes]
        if all(x == listings[0] for x in listings):
            views = [board_view(h) for h in homes]
            if all(v == views[0] for v in views):
                try:
                    check(views[0])
                    return views[0]
                except AssertionError as exc:
                    last = str(exc)
            else:
                last = "the items differ"
        else:
            last = "the listings differ: " + "; ".join(str(len(x)) for x in listings)
        if time.monotonic() > deadline:
            raise AssertionError(f"no convergence within {timeout:g} s: {last}")
        time.sleep(0.5)


def read_model_agrees(home: Path, view: dict[str, Any], words: dict[str, list[str]]) -> None:
    """The SQLite index (`ls`, `ls --search`) says what the documents (`show`) say.

    `words` maps a search word to the ids of the items whose text holds it (none, for a word
    an edit removed)."""
    for summary in view["ls"]:
        item = view["items"][summary["id"]]
        for key in ("kind", "title", "status", "tags", "author", "created", "updated"):
            assert summary[key] == item[key], (key, summary, item)
        assert summary["replies"] == len(item["replies"]), (summary, item)
        assert summary["responses"] == len(item["responses"]), (summary, item)
    for word, ids in words.items():
        found = sorted(s["id"] for s in cli_json(home, "ls", "--search", word))
        assert found == sorted(ids), f"search {word!r} on {home.name}: {found}, want {ids}"


def tcp_sockets(lan: Lan, i: int) -> list[tuple[str, str, str]]:
    """(state, local address:port, peer address:port) of every TCP socket in host i."""
    out = subprocess.run(
        [*lan.prefix(i), "ss", "-tanH"], capture_output=True, text=True, timeout=20, check=True
    ).stdout
    return [(p[0], p[3], p[4]) for p in (line.split() for line in out.splitlines()) if len(p) >= 5]


def half_open(lan: Lan) -> list[str]:
    """What is wrong with the TCP connections of a fully meshed LAN: each host should hold
    exactly one established connection per other host, mirrored on that host, and nothing
    half-closed (TIME-WAIT is the kernel's, not the node's, and harmless)."""
    sockets = [tcp_sockets(lan, i) for i in range(len(lan.hosts))]
    established = [{(loc, peer) for state, loc, peer in s if state == "ESTAB"} for s in sockets]
    problems = []
    for i, mine in enumerate(sockets):
        for state, loc, peer in mine:
            if state not in ("ESTAB", "LISTEN", "TIME-WAIT"):
                problems.append(f"host {i}: {state} {loc} -> {peer}")
        for j in range(len(lan.hosts)):
            if j == i:
                continue
            prefix = lan.address(j) + ":"
            to_j = [(loc, peer) for loc, peer in established[i] if peer.startswith(prefix)]
            if len(to_j) != 1:
                problems.append(f"host {i}: {len(to_j)} established connections to host {j}")
            problems += [
                f"host {i}: {loc} -> {peer} is not established on host {j}"
                for loc, peer in to_j
                if (peer, loc) not in established[j]
            ]
    return problems


def peers_settled(home: Path, others: set[str]) -> str:
    """Why `potluck peers --json` does not yet show exactly `others`, in sync; '' when it does."""
    state = json.loads(run_potluck(home, "peers", "--json").stdout)
    peers = state["peers"]
    seen = {p["device_id"] for p in peers}
    if len(peers) != len(others) or seen != others:
        return f"{home.name} sees {sorted(seen)}, want {sorted(others)}"
    busy = [p for p in peers if p["pending"] or p["last_sync"] is None]
    return f"{home.name}: not in sync with {busy}" if busy else ""
