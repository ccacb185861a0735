"""`potluck peers` tells the truth: a laptop whose lid closed (its process stopped) is "not
answering" with the post it never confirmed, and is in sync again once it wakes; an address
given by hand that does not answer is listed with why. Real `potluck serve` processes on
loopback."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import Any

from potluck.p2p.net.dialer import _why

from tests.conftest import run_json, run_potluck
from tests.p2p_helpers import Serve, wait_sync

POST = "Candles for the power cut"


def homes(tmp_path: Path) -> tuple[Path, Path]:
    ana, bo = tmp_path / "ana", tmp_path / "bo"
    run_potluck(ana, "whoami", "--name", "Ana")
    run_potluck(bo, "whoami", "--name", "Bo")
    run_potluck(bo, "join", run_json(ana, "new-board", "Kitchen")["invite"])
    return ana, bo


def seen_from(home: Path, name: str) -> dict[str, Any] | None:
    """The peer called `name` as `potluck peers --json` on `home` shows it."""
    return next((p for p in run_json(home, "peers")["peers"] if p["name"] == name), None)


def titles(home: Path) -> list[str]:
    return sorted(i["title"] for i in run_json(home, "ls"))


def test_a_stopped_peer_is_not_answering_with_the_post_waiting_then_in_sync(
    tmp_path: Path,
) -> None:
    ana, bo = homes(tmp_path)
    a = Serve(ana, "--port", "0", "--no-mdns")
    b = None
    try:
        port = int(a.wait_line(r"on port (\d+)").group(1))
        b = Serve(bo, "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")
        wait_sync(lambda: (p := seen_from(ana, "Bo")) is not None and p["in_sync"], 30, "in sync")
        asked = time.monotonic()
        assert seen_from(ana, "Bo") is not None
        one_call = time.monotonic() - asked  # `potluck peers` itself takes this long here

        b.proc.send_signal(signal.SIGSTOP)  # the lid closes
        try:
            posted_at = time.time()
            posted = time.monotonic()
            run_potluck(ana, "post", "need", POST)
            wait_sync(
                lambda: (p := seen_from(ana, "Bo")) is not None and not p["answering"],
                30,
                "Bo reported not answering",
            )
            took = time.monotonic() - posted
            bo_now = seen_from(ana, "Bo")
            assert bo_now is not None
            assert not bo_now["in_sync"] and bo_now["pending"] >= 1
            assert bo_now["last_heard"] < posted_at and bo_now["last_sync"] < posted_at
            said = run_potluck(ana, "peers").stdout
            assert "Bo (" in said and "not answering since" in said and "waiting" in said, said
            # Within 5 s of the post, give or take the time `potluck peers` takes to ask.
            assert took < 5 + 2 * one_call, (took, one_call)
        finally:
            b.proc.send_signal(signal.SIGCONT)  # the lid opens

        wait_sync(
            lambda: (
                (p := seen_from(ana, "Bo")) is not None
                and p["in_sync"]
                and p["answering"]
                and p["pending"] == 0
                and p["last_sync"] > posted_at
            ),
            30,
            "in sync again",
        )
        assert POST in titles(bo)
        assert "in sync" in run_potluck(ana, "peers").stdout
    finally:
        codes = [s.stop() for s in (b, a) if s is not None]
    assert codes == [0, 0], a.log() + (b.log() if b else "")


def test_an_address_given_by_hand_that_does_not_answer_is_listed_with_why(
    tmp_path: Path,
) -> None:
    ana, _ = homes(tmp_path)
    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    a = Serve(ana, "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{closed}")
    try:
        wait_sync(lambda: run_json(ana, "peers").get("unreachable"), 30, "the address listed")
        [listed] = run_json(ana, "peers")["unreachable"]
        assert listed["address"] == f"127.0.0.1:{closed}"
        assert listed["error"] == "connection refused" and not listed["answered_before"]
        said = run_potluck(ana, "peers").stdout
        assert f"127.0.0.1:{closed} (given by hand) does not answer: connection refused" in said
    finally:
        assert a.stop() == 0


def test_why_a_connection_failed_is_said_in_words() -> None:
    assert _why(TimeoutError()) == "no answer within 5 s"
    assert _why(ConnectionRefusedError(111, "Connection refused")) == "connection refused"
    assert _why(OSError(113, "No route to host")) == "no route to host"
