"""A member's device gone bad floods a real `potluck serve`: memory stays bounded, an honest
peer keeps syncing through it, and the app open on the victim's home keeps answering keys.

A hostile member can still post junk (hundreds of "need" items a second, replies nobody
wants): it holds the key, so that is a social problem the board's people deal with. What it
cannot do is exhaust the victim's memory, stall its honest peers or freeze its screen.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from automerge.core import ROOT, Message, SyncState
from potluck.p2p.errors import DamagedDocument, InvalidInput
from potluck.p2p.model import measure as limits
from potluck.p2p.model.automerge import SyncState as StoredSyncState
from potluck.p2p.model.automerge import heads_digest
from potluck.p2p.model.types import Kind
from potluck.p2p.net import listener as listener_module
from potluck.p2p.net import messages
from potluck.p2p.net.messages import Bye
from potluck.tui.app import PotluckApp
from potluck.tui.screens.board import PAGE, BoardScreen
from potluck.tui.widgets.detail import ItemDetail
from potluck.tui.widgets.item_list import ItemList
from textual.pilot import Pilot

from tests.conftest import run_json, run_potluck
from tests.faults.hostile_member import (
    bytes_doc,
    huge_text_doc,
    junk_item,
    nested_doc,
    signed,
    text_doc,
)
from tests.p2p_helpers import (
    Serve,
    connected,
    make_homes,
    running_node,
    stored,
    titles,
    wait_sync,
    wait_until,
)
from tests.test_hostile import closes, hostile
from tests.tui.conftest import NOW

ATTACK_SECONDS = 20
VICTIM_RSS_MB = 250
"""The victim's resident memory must stay under this. It idles at about 45 MB and peaks near
130 MB here: a 16 MiB message costs about 50 MB while it is checked, a document at the
operation limit about 40 MB while it loads, and the allocator keeps some of it."""
APP_GROWTH_MB = 150
"""The app on the victim's home may grow by at most this while the flood arrives."""
KEY_SECONDS = 2.5
"""A key press (move, open) must be handled within this, on a loaded 2-core machine."""
HONEST_SECONDS = 5
"""An honest post must reach the victim within this during the attack (about 1 s here)."""


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


class Sampler:
    """Polls a process's resident memory in a thread until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except (OSError, AssertionError):
                return

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(5)
        return self.peak


class TestLimits:
    """The checks the node runs on a peer's automerge bytes before automerge sees them."""

    def test_a_document_within_the_limits_is_measured(self) -> None:
        data = text_doc(100_000).save()
        size = limits.document_size(data)
        assert 100_000 <= size.ops < 110_000

    def test_a_compressed_bomb_is_refused_without_loading_it(self) -> None:
        data = text_doc(2_000_000).save()
        assert len(data) < 10_000  # a few KB on the wire …
        started = time.monotonic()
        with pytest.raises(limits.TooLarge, match="operations"):
            limits.document_size(data)  # … two million operations once loaded
        assert time.monotonic() - started < 0.5

    def test_too_many_bytes_are_refused(self) -> None:
        with pytest.raises(limits.TooLarge, match="bytes"):
            limits.document_size(bytes_doc(5).save())

    def test_deep_nesting_is_just_operations(self) -> None:
        assert limits.document_size(nested_doc(5000).save()).ops < 6000

    def test_not_automerge_is_damaged(self) -> None:
        for data in [b"", b"\x85\x6f\x4a\x83\x00\x00\x00\x00\x00\xff", os.urandom(100)]:
            with pytest.raises(DamagedDocument):
                limits.document_size(data or b"x")

    def test_changes_cannot_grow_a_document_past_the_limit(self, tmp_path: Path) -> None:
        """Each sync message is within the limits; the document they build is not."""
        (home,), board_id = make_homes(tmp_path, ["Ana"])
        doc = text_doc(400_000)
        home.store.documents.apply_saved_document(board_id, "ab" * 16, signed(doc))
        mine, theirs = SyncState(), StoredSyncState()
        digests = home.store.documents.digests(board_id)
        with pytest.raises(limits.TooLarge, match="would hold more than"):
            for _ in range(4):  # rounds of 60,000 more characters
                with doc.transaction() as tx:
                    tx.splice_text(tx.get(ROOT, "body")[1], 0, 0, "c" * 60_000)
                for _ in range(6):  # one sync, the store playing the receiving node
                    digests = home.store.documents.digests(board_id)
                    out = doc.generate_sync_message(mine)
                    if out is None:
                        break
                    home.store.documents.receive_sync_message(
                        board_id, "ab" * 16, theirs, signed(doc, out.encode())
                    )
                    back = home.store.documents.generate_sync_message(board_id, "ab" * 16, theirs)
                    if back is not None:
                        doc.receive_sync_message(mine, Message.decode(back.data))
        assert home.store.documents.digests(board_id) == digests  # the last one wrote nothing
        home.close()

    def test_changes_are_measured_through_their_compression(self) -> None:
        changes = text_doc(50_000).get_changes([])
        assert bytes(changes[-1].bytes)[8] == 2  # the text's change is DEFLATE-compressed
        size = limits.document_size(b"".join(c.bytes for c in changes))
        assert 50_000 <= size.change_ops == size.ops < 55_000

    def test_many_operations_as_changes_are_refused(self) -> None:
        doc = text_doc(200_000)
        as_changes = b"".join(c.bytes for c in doc.get_changes([]))
        assert limits.document_size(doc.save()).ops > 200_000  # fine as a document chunk
        with pytest.raises(limits.TooLarge, match="as changes"):
            limits.document_size(as_changes)

    def test_a_person_cannot_make_an_item_past_the_limit(self, tmp_path: Path) -> None:
        (home,), board_id = make_homes(tmp_path, ["Ana"])
        with pytest.raises(InvalidInput, match="too large"):
            home.board(board_id).post(Kind.NOTE, "Long", body="z" * 600_000)
        assert home.board(board_id).items() == []
        home.close()

    def test_an_item_is_read_with_its_fields_cut_to_size(self, tmp_path: Path) -> None:
        (home,), board_id = make_homes(tmp_path, ["Ana"])
        doc = junk_item("t" * 10_000, "b" * 300_000)
        home.store.documents.apply_saved_document(board_id, "ab" * 16, signed(doc))
        [summary] = home.board(board_id).items()
        assert summary.title == "t" * limits.MAX_TITLE_SHOWN
        assert len(home.board(board_id).item("ab" * 16).body) == limits.MAX_BODY_SHOWN
        assert heads_digest([]) != heads_digest([b"x" * 32])
        home.close()


@pytest.fixture
def victim_and_honest(tmp_path: Path) -> Iterator[tuple[Path, Path, bytes, Serve, Serve]]:
    (vic, hana), board_id = make_homes(tmp_path, ["Vic", "Hana"])
    key = vic.board(board_id).key
    vic.board(board_id).post(Kind.NEED, "A real need")
    vic.board(board_id).post(Kind.NEED, "Another real need")
    paths = (vic.path, hana.path)
    vic.close()
    hana.close()
    victim = Serve(paths[0], "--port", "0", "--no-mdns")
    port = int(victim.wait_line(r"listening on port (\d+)").group(1))
    honest = Serve(paths[1], "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")
    try:
        victim.wait_line(r"synced board .* with Hana", 20)
        yield paths[0], paths[1], key, victim, honest
    finally:
        codes = [honest.stop(), victim.stop()]
        assert codes == [0, 0], victim.log()[-3000:]


async def board_shown(app: PotluckApp, pilot: Pilot) -> BoardScreen:
    """The board screen, once the app has opened the home (on its store thread) and shown it."""
    deadline = time.monotonic() + 30
    while not isinstance(app.screen, BoardScreen):
        assert time.monotonic() < deadline, "the board was never shown"
        await pilot.pause(0.02)
    return app.screen


def offers(home: Path) -> list[str]:
    return sorted(i["title"] for i in run_json(home, "ls", "--kind", "offer"))


async def test_a_flooding_member_cannot_exhaust_memory_stall_peers_or_freeze_the_app(
    victim_and_honest: tuple[Path, Path, bytes, Serve, Serve],
) -> None:
    vic, hana, key, victim, _ = victim_and_honest
    port = int(victim.wait_line(r"listening on port (\d+)").group(1))
    idle_rss = rss_mb(victim.proc.pid)
    sampler = Sampler(victim.proc.pid)
    me = os.getpid()
    app = PotluckApp(vic, clock=lambda: NOW, run_node=False)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await board_shown(app, pilot)
        app_before = rss_mb(me)
        script = Path(__file__).with_name("hostile_member.py")
        attacker = subprocess.Popen(
            [sys.executable, str(script), str(port), key.hex(), str(ATTACK_SECONDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            await asyncio.wait_for(asyncio.to_thread(attacker.stdout.readline), 60)
            started = time.monotonic()
            await asyncio.to_thread(
                wait_sync, lambda: "Mallory" in victim.log(), 30, "the flood to start"
            )
            # An honest post, made on Hana's laptop while the flood arrives.
            await asyncio.to_thread(run_potluck, hana, "post", "offer", "Soup at six")
            posted = time.monotonic()

            def arrival() -> float:
                wait_sync(lambda: stored(vic, "Soup at six"), HONEST_SECONDS, "the honest post")
                return time.monotonic()

            honest = asyncio.create_task(asyncio.to_thread(arrival))
            # Meanwhile, a person at the victim's laptop moves through the list and opens items.
            slowest = 0.0
            presses = 0
            items = screen.query_one(ItemList)
            detail = screen.query_one(ItemDetail)

            def shown(key_name: str) -> bool:
                """Enter opens the item (its respond dialog), Escape closes it, the others
                move the selection and show the chosen item."""
                if key_name == "enter":
                    return app.screen is not screen
                return (
                    app.screen is screen
                    and items.current_id is not None
                    and detail.item is not None
                    and detail.item.id == items.current_id
                )

            while time.monotonic() - started < ATTACK_SECONDS - 3 and presses < 40:
                key_name = ["down", "down", "enter", "escape", "home"][presses % 5]
                t0 = time.monotonic()
                await pilot.press(key_name)
                deadline = t0 + KEY_SECONDS * 3
                while not shown(key_name):
                    assert time.monotonic() < deadline, f"'{key_name}' not handled"
                    await pilot.pause(0.01)
                slowest = max(slowest, time.monotonic() - t0)
                presses += 1
                await pilot.pause(0.2)
            honest_seconds = await honest - posted
            app_growth = rss_mb(me) - app_before
        finally:
            out, err = await asyncio.to_thread(attacker.communicate, timeout=60)
    peak = sampler.stop()
    report = json.loads(out.strip().splitlines()[-1])
    print(
        f"\nvictim RSS idle {idle_rss:.0f} MB, peak {peak:.0f} MB; app grew {app_growth:.0f} MB;"
        f" slowest key {slowest:.2f} s over {presses}; honest post in {honest_seconds:.1f} s;"
        f" attacker {report}"
    )
    assert report["sent"].get("flood", 0) >= 2000, (report, err[-2000:])
    assert "closed Mallory" in victim.log() and ": too-large " in victim.log(), report
    assert peak < VICTIM_RSS_MB, peak
    assert app_growth < APP_GROWTH_MB, app_growth
    assert slowest < KEY_SECONDS, slowest
    assert presses >= 10
    assert victim.proc.poll() is None
    assert offers(vic) == ["Soup at six"]
    # The junk was taken (a member may post); nothing in the index is larger than the limits.
    conn = sqlite3.connect(vic / "potluck.db")
    try:
        junk, longest, tags = conn.execute(
            "SELECT count(*), max(length(title)), max(length(tags)) FROM items"
        ).fetchone()
    finally:
        conn.close()
    assert junk > 1000
    assert longest <= limits.MAX_TITLE_SHOWN
    assert tags < limits.MAX_TAGS_SHOWN * (limits.MAX_TITLE_SHOWN + 4)
    # Once the flood stops, the victim still syncs both ways.
    run_potluck(vic, "post", "offer", "Bread after")
    wait_sync(lambda: "Bread after" in offers(hana), 60, "a post after the flood")


async def test_a_member_opening_connection_after_connection_is_told_the_node_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each connection costs memory and relaying; past MAX_SESSIONS the node says `busy`."""
    monkeypatch.setattr(listener_module, "MAX_SESSIONS", 3)
    (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
    key = ana.board(board_id).key
    async with (
        running_node(ana.path) as node_a,
        running_node(bo.path, peers=[("127.0.0.1", node_a.port)]),
    ):
        await wait_until(connected(node_a), what="Ana and Bo synced")
        kept = [await hostile(node_a.port, key) for _ in range(2)]
        await wait_until(lambda: len(node_a.peer_infos()) == 3, what="two Mallorys in")
        refused = await hostile(node_a.port, key)
        message = messages.decode(await asyncio.wait_for(refused.receive(), 10))
        assert message == Bye("busy")
        await closes(refused)
        assert sorted(p.name for p in node_a.peer_infos()) == ["Bo", "Mallory", "Mallory"]
        ana.board(board_id).post(Kind.OFFER, "still here")
        await wait_until(lambda: titles(bo, board_id) == ["still here"], what="Bo still syncs")
        for conn in kept:
            await conn.aclose()
    ana.close()
    bo.close()


async def test_a_members_huge_item_opens_promptly_cut_to_size(tmp_path: Path) -> None:
    """A million-character title, thousands of tags, a long body: the screen shows the limits."""
    (home,), board_id = make_homes(tmp_path, ["Vic"])
    home.board(board_id).post(Kind.NEED, "A real need")
    home.store.documents.apply_saved_document(board_id, "ab" * 16, signed(huge_text_doc()))
    home.close()
    app = PotluckApp(tmp_path / "vic", clock=lambda: NOW, run_node=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await board_shown(app, pilot)
        items = app.screen.query_one(ItemList)
        detail = app.screen.query_one(ItemDetail)
        slowest, seen = 0.0, False
        for key_name in ["down", "up", "down", "up"]:
            t0 = time.monotonic()
            await pilot.press(key_name)
            while not (detail.item is not None and detail.item.id == items.current_id):
                assert time.monotonic() - t0 < KEY_SECONDS * 3, f"'{key_name}' not handled"
                await pilot.pause(0.01)
            await pilot.pause(0)  # and drawn
            slowest = max(slowest, time.monotonic() - t0)
            if items.current_id == "ab" * 16:
                seen = True
                assert len(detail.item.title) == limits.MAX_TITLE_SHOWN
                assert len(detail.item.body) == limits.MAX_BODY_SHOWN
                assert len(detail.item.tags) == limits.MAX_TAGS_SHOWN
        assert seen and slowest < KEY_SECONDS, (seen, slowest)


async def test_items_arriving_while_the_next_page_loads_are_not_shown_twice(
    tmp_path: Path,
) -> None:
    """New items push rows down between a redraw and the next page: no row twice, no crash."""
    (home,), board_id = make_homes(tmp_path, ["Vic"])
    board = home.board(board_id)
    for i in range(PAGE + 30):
        board.post(Kind.NEED, f"need {i}")
    app = PotluckApp(home.path, clock=lambda: NOW, run_node=False)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await board_shown(app, pilot)
        deadline = time.monotonic() + 10
        while not screen.query(ItemList) or len(screen.query_one(ItemList).options) < PAGE:
            assert time.monotonic() < deadline, "the first page was never shown"
            await pilot.pause(0.02)
        for i in range(20):  # arrive after the first page was read, before the next one
            board.post(Kind.NEED, f"late need {i}")
        screen.load_more()
        while screen.loading_more:  # the next page is read on the app's store thread
            await pilot.pause(0.01)
        await pilot.pause()
        ids = [option.id for option in screen.query_one(ItemList).options]
        assert len(ids) == len(set(ids)) >= PAGE + 30
    home.close()
