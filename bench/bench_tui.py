"""Bench the terminal board on 10,000 items: open time, per-key move+open latency, memory."""

# ruff: noqa: E402  (imports are timed: the clock starts before them)

from __future__ import annotations

import time

T_PROCESS = time.perf_counter()

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.tui.app import PotluckApp
from potluck.tui.messages import BoardChanged
from potluck.tui.screens.board import BoardScreen
from potluck.tui.widgets.detail import ItemDetail
from potluck.tui.widgets.item_list import ItemList
from textual import events

IMPORT_SECONDS = time.perf_counter() - T_PROCESS

WORDS = [
    "soup",
    "bread",
    "tools",
    "bike",
    "roof",
    "paint",
    "blanket",
    "tea",
    "rice",
    "beans",
    "kettle",
    "ladder",
    "drill",
]
DEEP_ROWS = 3000
KINDS = [Kind.NEED, Kind.OFFER, Kind.PROJECT, Kind.EVENT, Kind.PROPOSAL, Kind.NOTE]


def build(path: Path, count: int) -> None:
    """A board of `count` items, most of them needs (the biggest tab), made once and reused."""
    marker = path / f"built-{count}"
    if marker.exists():
        return
    rng = random.Random(7)
    with Home.open(path) as home:
        home.set_profile(name="Bench")
        board = home.new_board("Bench board")
        home.store.db.connection.execute("PRAGMA synchronous = OFF")  # building only
        for n in range(count):
            kind = Kind.NEED if n % 2 else rng.choice(KINDS)
            board.post(
                kind,
                f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} #{n}",
                body=" ".join(rng.choice(WORDS) for _ in range(40)),
                tags=rng.sample(WORDS, 2),
            )
    marker.touch()


def rss_mb() -> float:
    """Resident memory now, from /proc (peak from getrusage where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(path: Path, keys: int) -> dict[str, float]:
    started = time.perf_counter()
    app = PotluckApp(path, run_node=False)
    async with app.run_test(size=(120, 36)) as pilot:
        while not (
            isinstance(app.screen, BoardScreen)
            and app.screen.query(ItemList)
            and app.screen.query_one(ItemList).option_count
        ):
            await pilot.pause(0.005)
        opened = time.perf_counter() - started
        items = app.screen.query_one(ItemList)
        detail = app.screen.query_one(ItemDetail)
        latencies = []
        for _ in range(keys):
            t0 = time.perf_counter()
            before = items.highlighted
            key = events.Key("down", None)
            key.set_sender(app)
            app._driver.send_message(key)  # type: ignore[union-attr]  # as a terminal would
            while items.highlighted == before:
                await asyncio.sleep(0.0005)
            want = items.current_id
            while detail.item is None or detail.item.id != want:
                await asyncio.sleep(0.0005)
            latencies.append((time.perf_counter() - t0) * 1000)
        await pilot.press("pagedown")
        loaded_rows = items.option_count
        # Deep in the list (thousands of rows loaded), another process posts: the refresh
        # re-reads one page (reload_top) where a full re-read (reload) would read them all.
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        while items.option_count < DEEP_ROWS and not screen.exhausted:
            screen.load_more()
            while screen.loading_more:
                await asyncio.sleep(0.001)
        items.highlighted = items.option_count - 1
        await pilot.pause()
        deep_rows = items.option_count
        kept = items.current_id
        with Home.open(path) as other:
            new_id = other.board().post(Kind.NEED, "Arrived while scrolled deep")
        # What the change feed does once it has read the commit: post BoardChanged.
        t0 = time.perf_counter()
        screen.post_message(BoardChanged(frozenset({new_id})))
        while new_id not in items._id_to_option:
            await asyncio.sleep(0.0005)
        live_ms = (time.perf_counter() - t0) * 1000
        assert items.current_id == kept
        t0 = time.perf_counter()
        await screen._reload(screen.query_, items.option_count, None).wait()
        full_ms = (time.perf_counter() - t0) * 1000
        return {
            "open_s": opened,
            "key_median_ms": statistics.median(latencies),
            "key_p95_ms": sorted(latencies)[int(len(latencies) * 0.95) - 1],
            "key_max_ms": max(latencies),
            "rss_mb": rss_mb(),
            "loaded_rows": float(loaded_rows),
            "deep_rows": float(deep_rows),
            "live_ms": live_ms,
            "full_ms": full_ms,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "potluck-bench")
    args = parser.parse_args()
    t0 = time.perf_counter()
    build(args.home, args.items)
    print(f"board of {args.items} items ready in {time.perf_counter() - t0:.1f} s ({args.home})")
    result = asyncio.run(measure(args.home, args.keys))
    result["open_s"] += IMPORT_SECONDS
    rows = [
        (
            "open until the list is interactive",
            f"{result['open_s']:.2f} s",
            "< 1.5 s",
            result["open_s"] < 1.5,
        ),
        ("  of which importing the app", f"{IMPORT_SECONDS:.2f} s", "", True),
        (
            "move + open an item, median",
            f"{result['key_median_ms']:.1f} ms",
            "< 50 ms",
            result["key_median_ms"] < 50,
        ),
        (
            "move + open an item, p95",
            f"{result['key_p95_ms']:.1f} ms",
            "< 50 ms",
            result["key_p95_ms"] < 50,
        ),
        ("move + open an item, worst", f"{result['key_max_ms']:.1f} ms", "", True),
        ("memory (RSS)", f"{result['rss_mb']:.0f} MB", "< 250 MB", result["rss_mb"] < 250),
        ("rows loaded into the list", f"{result['loaded_rows']:.0f}", "paged", True),
        (
            f"live refresh, {result['deep_rows']:.0f} rows loaded",
            f"{result['live_ms']:.0f} ms",
            "< 50 ms",
            result["live_ms"] < 50,
        ),
        ("  (re-reading every loaded row instead)", f"{result['full_ms']:.0f} ms", "", True),
    ]
    print(f"{'measure':<38}{'result':>12}  {'target':<10}")
    for name, value, target, ok in rows:
        print(f"{name:<38}{value:>12}  {target:<10}{'' if ok else '  MISSED'}")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
