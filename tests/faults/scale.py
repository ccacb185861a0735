"""Many real `potluck serve` nodes on one board and one namespaced LAN, split in two halves
that change the board apart and then heal: what bench/bench_scale.py and test_scale.py run."""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from potluck.p2p.clock import now_ms
from potluck.p2p.home import Board, Home
from potluck.p2p.model import item_document as docs
from potluck.p2p.model.types import Kind, Status
from potluck.p2p.storage.database import BOARD, shown_id

from tests.faults.lan import heal, partition
from tests.netns import Lan
from tests.p2p_helpers import Serve, db_rows, make_homes, wait_sync


@dataclass(frozen=True)
class Round:
    """One partition and heal, as measured."""

    nodes: int
    changes_per_side: int
    apart: float
    """Seconds the halves stayed apart (from the split to the heal)."""
    halves_synced: float
    """Seconds from the split until each half agreed within itself, changes included."""
    converged: float
    """Seconds from the heal until every node held identical documents."""
    bytes_apart: int
    """Bytes all hosts put on the wire from the split to the heal."""
    bytes_heal: int
    """Bytes all hosts put on the wire from the heal to convergence."""
    healed_at: float = 0.0
    """Unix time of the heal (to find its messages in a message log)."""

    @property
    def bytes_per_change(self) -> float:
        return (self.bytes_apart + self.bytes_heal) / (2 * self.changes_per_side)

    @property
    def heal_bytes_per_change(self) -> float:
        return self.bytes_heal / (2 * self.changes_per_side)


def digests(home: Path, board_id: str) -> dict[str, bytes]:
    """Document digests of a home."""
    rows = db_rows(home, f"SELECT doc_id, digest FROM documents WHERE board={BOARD}", board_id)
    return {shown_id(doc_id): bytes(digest) for doc_id, digest in rows}


def agree(homes: list[Path], board_id: str) -> bool:
    first = digests(homes[0], board_id)
    return all(digests(h, board_id) == first for h in homes[1:])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until `condition` holds, polling every 50 ms; fails after `timeout`."""
    start = time.monotonic()
    wait_sync(condition, timeout, what)
    return time.monotonic() - start


class ScaleLan:
    """N homes on one board, each with `potluck serve` in its own namespace (mDNS on)."""

    def __init__(self, root: Path, nodes: int, stack: ExitStack) -> None:
        names = [f"Member{i:02d}" for i in range(nodes)]
        homes, self.board_id = make_homes(root, names)
        self.paths = [h.path for h in homes]
        for home in homes:
            home.close()
        self.lan = stack.enter_context(Lan(nodes))
        self.nodes: list[Serve] = []
        stack.callback(self._stop)
        self.homes = [stack.enter_context(Home.open(p)) for p in self.paths]
        self.boards: list[Board] = [h.board(self.board_id) for h in self.homes]
        self.random = random.Random(7)
        self.seeds: list[str] = []
        self.note = ""
        self.made = 0
        self.offers: list[str] = []
        self.replies: list[str] = []
        self.lines: list[str] = []

    def _stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def logs(self) -> str:
        return "\n---\n".join(n.log() for n in self.nodes)

    def start(self, timeout: float) -> float:
        """Start every node; seconds until each is connected to all the others."""
        started = time.monotonic()
        self.nodes += [Serve(p, prefix=self.lan.prefix(i)) for i, p in enumerate(self.paths)]
        others = len(self.nodes) - 1
        for node in self.nodes:
            remaining = timeout - (time.monotonic() - started)
            wait_sync(lambda n=node: n.log().count(" joined board ") >= others, remaining, "mesh")
        return time.monotonic() - started

    def seed(self, items: int, timeout: float) -> None:
        """A shared note and `items` needs, from the first node, everywhere."""
        board = self.boards[0]
        self.note = board.post(Kind.NOTE, "House agreements", body="Be kind.")
        self.seeds = [board.post(Kind.NEED, f"Need {n}", body="soon") for n in range(items)]
        wait_for(lambda: agree(self.paths, self.board_id), timeout, "the seeds everywhere")

    def wire_bytes(self) -> int:
        """Bytes every host has sent into the bridge so far (its port's receive counter)."""
        out = subprocess.run(
            ["ip", "-n", self.lan.bridge, "-j", "-s", "link", "show"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        return sum(
            link["stats64"]["rx"]["bytes"]
            for link in json.loads(out)
            if link["ifname"].startswith("p")
        )

    def change(self, i: int) -> None:
        """One change on node i, of one of the kinds people make, committed before it returns."""
        board = self.boards[i]
        self.made += 1
        n = self.made
        seed = self.random.choice(self.seeds)
        match n % 5:
            case 0:
                self.offers.append(board.post(Kind.OFFER, f"Offer {n}", body=f"offer {n}"))
            case 1:
                self.replies.append(f"reply {n} from node {i}")
                board.reply(seed, self.replies[-1])
            case 2:
                board.respond(seed, note=f"help {n} from node {i}")
            case 3:
                line = f"line {n} from node {i}"
                self.lines.append(line)
                # Appended under the write lock. Board.edit takes a whole new body and applies
                # its difference from the text as it is now, so a body read a moment earlier
                # would delete any line a peer's change brought in between.
                self.homes[i].store.documents.update(
                    self.board_id,
                    self.note,
                    lambda doc: docs.edit_item(
                        doc,
                        now=now_ms(),
                        body=docs.read_item(doc, self.note).body + "\n" + line,
                    ),
                )
            case _:
                # Anyone marks an item open, met or closed; only its author withdraws it.
                board.set_status(seed, self.random.choice([Status.OPEN, Status.MET, Status.CLOSED]))

    def nothing_lost(self, i: int) -> None:
        """Every offer, reply and line of the note that was made is on node i, exactly once."""
        board = self.boards[i]
        ids = [s.id for s in board.items()]
        assert sorted(set(self.offers) - set(ids)) == [], "offers missing"
        assert len(ids) == len(set(ids)) == 1 + len(self.seeds) + len(self.offers)
        replies = [r.text for seed in self.seeds for r in board.item(seed).replies]
        assert sorted(replies) == sorted(self.replies), "replies missing or doubled"
        lines = board.item(self.note).body.split("\n")
        assert sorted(lines) == sorted(["Be kind.", *self.lines]), "note lines missing"

    def split_round(self, changes_per_side: int, apart: float, timeout: float) -> Round:
        """Split into halves, make the changes on both, stay apart `apart` seconds at least,
        heal, and measure until every node agrees."""
        half = len(self.paths) // 2
        sides = [list(range(half)), list(range(half, len(self.paths)))]
        partition(self.lan, *sides)
        split_at = time.monotonic()
        before = self.wire_bytes()
        for k in range(changes_per_side):
            for side in sides:
                self.change(side[k % len(side)])
        for side in sides:
            paths = [self.paths[i] for i in side]
            wait_for(lambda p=paths: agree(p, self.board_id), timeout, "each half in sync")
        halves = time.monotonic() - split_at
        assert not agree(self.paths, self.board_id), "the halves were not apart"
        time.sleep(max(0.0, apart - (time.monotonic() - split_at)))
        at_heal = self.wire_bytes()
        heal(self.lan)
        healed, healed_at = time.monotonic(), time.time()
        apart_for = healed - split_at
        converged = wait_for(lambda: agree(self.paths, self.board_id), timeout, "convergence")
        return Round(
            nodes=len(self.paths),
            changes_per_side=changes_per_side,
            apart=apart_for,
            halves_synced=halves,
            converged=converged,
            bytes_apart=at_heal - before,
            bytes_heal=self.wire_bytes() - at_heal,
            healed_at=healed_at,
        )
