"""`potluck serve` and `potluck peers` as a person runs them, on loopback with manual peers."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.conftest import run_json, run_potluck
from tests.p2p_helpers import Serve, wait_sync


def listed(home: Path) -> list[str]:
    return sorted(i["title"] for i in run_json(home, "ls"))


def test_serve_syncs_posts_from_other_shells_and_lists_peers(tmp_path: Path) -> None:
    ana, bo = tmp_path / "ana", tmp_path / "bo"
    run_potluck(ana, "whoami", "--name", "Ana")
    run_potluck(bo, "whoami", "--name", "Bo")
    code = run_json(ana, "new-board", "Kitchen")["invite"]
    run_potluck(bo, "join", code)
    assert run_json(ana, "peers") == {"running": False, "peers": []}
    a = Serve(ana, "--port", "0", "--no-mdns")
    b = None
    try:
        port = int(a.wait_line(r"on port (\d+)").group(1))
        refused = run_potluck(ana, "serve", "--port", "0", "--no-mdns", check=False)
        assert refused.returncode == 1 and "already syncing" in refused.stderr
        b = Serve(bo, "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")
        b.wait_line(r"Ana \(\w+\) joined board")
        a.wait_line(r"Bo \(\w+\) joined board")
        run_potluck(ana, "post", "need", "We need a ladder")
        started = time.monotonic()
        wait_sync(lambda: listed(bo) == ["We need a ladder"], 10, "the post on Bo")
        assert time.monotonic() - started < 5
        run_potluck(bo, "post", "offer", "Soup")
        wait_sync(lambda: listed(ana) == ["Soup", "We need a ladder"], 10, "the offer on Ana")
        peers = run_json(bo, "peers")
        assert peers["running"] is True
        [peer] = peers["peers"]
        assert peer["name"] == "Ana" and peer["found"] == "manual"
        assert peer["address"] == f"127.0.0.1:{port}"
        assert "Ana" in run_potluck(bo, "peers").stdout
        a.wait_line(r"synced board")
    finally:
        codes = [s.stop() for s in (b, a) if s is not None]
    assert codes == [0, 0], a.log() + (b.log() if b else "")
    assert "stopped." in a.log()
    assert json.loads(run_potluck(ana, "peers", "--json").stdout)["running"] is False
