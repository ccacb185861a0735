"""The status line never lies: "in sync" only once every peer confirmed what this laptop holds;
a peer whose lid closed (a `potluck serve` process stopped with SIGSTOP) is "not answering"
after a post it never received, on the status line and the peers screen, and in sync again
once it wakes. Real nodes on loopback; the words themselves from made-up snapshots."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.p2p.net.session import Timing
from potluck.tui.app import PotluckApp
from potluck.tui.node_bridge import NodeBridge, Presence, peer_view, unreachable_view
from potluck.tui.screens.board import BoardScreen
from potluck.tui.screens.info import PeersScreen
from potluck.tui.status_line import network, status_line
from textual.widgets import DataTable, Static

from tests.p2p_helpers import Serve, make_homes
from tests.tui.conftest import wait_for

SIZE = (80, 24)
DEADLINE = 30.0  # generous: two cores shared with other test runs
NOW = 1_000_000.0
PATIENT = Timing(ping_every=1.0, silence_limit=60.0)
"""Quick pings, but a silent peer's connection is kept long enough to be seen not answering
(with a short silence limit it is dropped first, and then nobody is here)."""


def bo(**fields: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "device_id": "b0" * 16,
        "name": "Bo",
        "board_id": "b",
        "address": "127.0.0.1:7434",
        "found": "manual",
        "since": NOW - 600,
        "last_sync": NOW - 5,
        "last_heard": NOW - 1,
        "pending": 0,
        "in_sync": True,
        "answering": True,
    }
    return raw | fields


def words(*peers: dict[str, object], unreachable: tuple[dict[str, object], ...] = ()) -> str:
    views = tuple(peer_view(p, NOW) for p in peers)
    return network(
        Presence(
            running=True,
            peers=views,
            in_sync=all(v.in_sync for v in views),
            unreachable=tuple(unreachable_view(u, NOW) for u in unreachable),
        )
    ).plain


def test_the_words_follow_what_peers_confirmed() -> None:
    assert words(bo()) == "1 other person here · all in sync"
    assert words(bo(), bo(device_id="c1" * 16, name="Cy")) == "2 other people here · all in sync"
    # Sent is not confirmed: a peer that has not confirmed three items is syncing them.
    assert words(bo(in_sync=False, pending=3)) == "1 other person here · syncing 3 changes…"
    assert words(bo(in_sync=False, pending=1)) == "1 other person here · syncing 1 change…"
    assert words(bo(in_sync=False)) == "1 other person here · syncing…"
    quiet = time.strftime("%H:%M", time.localtime(NOW - 40))
    gone = bo(in_sync=False, answering=False, pending=1, last_heard=NOW - 40)
    assert words(gone) == f"Bo not answering since {quiet}"
    assert words(gone, bo(device_id="c1" * 16, name="Cy", answering=False)).startswith(
        "Bo and 1 other not answering since"
    )
    assert words() == "nobody else here right now (p: peers)"
    refused = {"address": "10.0.0.9:7434", "error": "connection refused", "since": NOW - 60}
    assert (
        words(unreachable=(refused,)) == "nobody else here right now · 1 address not answering (p)"
    )
    assert network(Presence()).plain == "starting sync…"
    assert network(Presence(problem="cannot listen")).plain == "on this laptop only (p: why)"


def test_the_line_fits_and_says_the_open_places() -> None:
    from potluck.tui.cli.people import People

    presence = Presence(running=True, peers=(peer_view(bo(), NOW),), in_sync=True)
    people = People({"a0" * 16: "Ana"})
    line = status_line("Kitchen at No. 9", presence, 4, people, "a0" * 16, 80).plain
    assert line == " Kitchen at No. 9 · 1 other person here · all in sync · 4 open places this week"
    assert len(line) <= 80  # "you are Ana" is left out before anything is cut
    line = status_line("Kitchen", presence, 1, people, "a0" * 16, 100).plain
    assert line.endswith("1 open place this week · you are Ana")
    assert "open place" not in status_line("Kitchen", presence, 0, people, "x", 80).plain
    long = status_line("K" * 200, presence, 2, people, "x", 80).plain
    assert len(long) <= 80


def board(app: PotluckApp) -> BoardScreen:
    return next(s for s in app.screen_stack if isinstance(s, BoardScreen))


def status(app: PotluckApp) -> str:
    if not any(isinstance(s, BoardScreen) for s in app.screen_stack):
        return ""
    return str(board(app).query_one("#status", Static).render())


def post(path: Path, title: str) -> None:
    """A post made in another window on Ana's laptop (the node hears of it at once)."""
    with Home.open(path) as home:
        home.board().post(Kind.NEED, title)


async def test_a_stopped_peer_is_not_answering_then_in_sync_again(tmp_path: Path) -> None:
    homes, _ = make_homes(tmp_path, ["Ana", "Bo"])
    for home in homes:
        home.close()
    ana_path, bo_path = homes[0].path, homes[1].path
    serve = Serve(bo_path, "--port", "0", "--no-mdns")
    stopped = False
    try:
        port = int(serve.wait_line(r"on port (\d+)", timeout=DEADLINE).group(1))
        peers = [("127.0.0.1", port)]
        bridge = NodeBridge(ana_path, peers, port=0, host="127.0.0.1", mdns=False, timing=PATIENT)
        app = PotluckApp(ana_path, peers=peers, bridge=bridge)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "1 other person here · all in sync" in status(app), 60)

            serve.proc.send_signal(signal.SIGSTOP)  # Bo's lid closes
            stopped = True
            posted = time.time()
            await asyncio.to_thread(post, ana_path, "Candles for the power cut")
            await wait_for(pilot, lambda: "not answering since" in status(app), DEADLINE)
            said = status(app)
            assert said.startswith(" Kitchen · Bo not answering since "), said
            assert "in sync" not in said
            took = time.time() - posted

            # The peers screen: when Bo was last heard, and the post waiting for Bo.
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
            table = app.screen.query_one(DataTable)
            await wait_for(pilot, lambda: table.row_count == 1)
            name, found, heard, sync = (str(c) for c in table.get_row_at(0))
            assert name.startswith("Bo (") and found == "address given"
            assert heard.startswith("at ") and sync == "not answering, 1 waiting", sync
            await pilot.press("escape")

            serve.proc.send_signal(signal.SIGCONT)  # the lid opens
            stopped = False
            await wait_for(
                pilot, lambda: "1 other person here · all in sync" in status(app), DEADLINE
            )
            # Within a few seconds of the post, as the silence limit (3 s here) says.
            assert took < 15, took
    finally:
        if stopped:
            serve.proc.send_signal(signal.SIGCONT)
        code = serve.stop()
    assert code == 0, serve.log()


async def test_an_address_that_does_not_answer_is_shown_with_why(tmp_path: Path) -> None:
    homes, _ = make_homes(tmp_path, ["Ana"])
    homes[0].close()
    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    peers = [("127.0.0.1", closed)]
    bridge = NodeBridge(homes[0].path, peers, port=0, host="127.0.0.1", mdns=False, timing=PATIENT)
    app = PotluckApp(homes[0].path, peers=peers, bridge=bridge)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "1 address not answering (p)" in status(app), DEADLINE)
        assert "nobody else here right now" in status(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PeersScreen))
        shown = app.screen.query_one("#unreachable", Static)
        await wait_for(pilot, lambda: shown.display)
        assert str(shown.render()).startswith(
            f"127.0.0.1:{closed} (given by hand) does not answer: connection refused · since "
        )
