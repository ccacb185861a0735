"""`bench/message_log.py`: real `potluck serve` nodes log every message they send and receive,
and the log sums up what went."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import run_json, run_potluck
from tests.p2p_helpers import Serve, wait_sync

BENCH = Path(__file__).resolve().parent.parent / "bench"


def message_log() -> ModuleType:
    spec = importlib.util.spec_from_file_location("message_log", BENCH / "message_log.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_nodes_log_what_they_send_and_receive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = message_log()
    folder = tmp_path / "log"
    for name, value in log.environment(folder).items():
        monkeypatch.setenv(name, value)
    ana, bo = tmp_path / "ana", tmp_path / "bo"
    run_potluck(ana, "whoami", "--name", "Ana")
    run_potluck(bo, "whoami", "--name", "Bo")
    run_potluck(bo, "join", run_json(ana, "new-board", "Kitchen")["invite"])
    a = Serve(ana, "--port", "0", "--no-mdns")
    b = None
    try:
        port = int(a.wait_line(r"on port (\d+)").group(1))
        b = Serve(bo, "--port", "0", "--no-mdns", "--peer", f"127.0.0.1:{port}")
        a.wait_line(r"Bo \(\w+\) joined board")
        item = run_json(ana, "post", "need", "A ladder")["id"]
        wait_sync(lambda: [i["id"] for i in run_json(bo, "ls")] == [item], 15, "the post on Bo")
    finally:
        codes = [s.stop() for s in (b, a) if s is not None]
    assert codes == [0, 0]
    entries = log.read(folder)
    hellos = [e for e in entries if e["type"] == "Hello" and e["way"] == "out"]
    devices = {e["home"]: e["device"] for e in hellos}
    assert sorted(devices) == ["ana", "bo"]
    # What Ana sent Bo, Bo received from Ana: the post whole among it, the same sizes.
    sent = [e for e in entries if (e["home"], e["way"], e["peer"]) == ("ana", "out", devices["bo"])]
    received = [
        e for e in entries if (e["home"], e["way"], e["peer"]) == ("bo", "in", devices["ana"])
    ]
    whole = [(e["doc"], e["bytes"]) for e in sent if e["type"] == "WholeDocument"]
    assert item in [d for d, _ in whole]
    assert whole == [(e["doc"], e["bytes"]) for e in received if e["type"] == "WholeDocument"]
    summary = log.summary(entries)
    arrived = [e for e in entries if e["way"] == "in" and e["type"] == "WholeDocument"]
    assert f"whole documents received: {len(arrived)}, for {len(arrived)} (node" in summary
    assert "0 came again" in summary
    assert f"{'Hello':<16} {2:>8,}" in summary
