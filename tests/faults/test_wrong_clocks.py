"""Wrong clocks at node level: real `potluck serve` processes and CLIs under libfaketime.

Ana's clock is right, Bo's a day behind, Cy's a year ahead (the serve and every CLI run of that
home). They post and reply on each other's items and converge; an item from the future is not
pinned above newer real activity on the boards whose clock is right or behind. Then the wall
clocks jump (Bo another day back, Cy another year ahead) under live connections: nothing times
out or reconnects, because keep-alive, timeouts and redial backoff run on the monotonic clock
(libfaketime is told to leave CLOCK_MONOTONIC alone, as a real wrong clock would).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from potluck.p2p.home import Home

from tests.conftest import POTLUCK
from tests.faults.test_crash_loop import free_ports
from tests.p2p_helpers import Serve, wait_sync

DAY_MS = 86_400_000
NAMES = ("Ana", "Bo", "Cy")


def libfaketime() -> str | None:
    """The multi-threaded libfaketime preload library (Debian's libfaketime package)."""
    for pattern in (
        "/usr/lib/*/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1",
        "/usr/local/lib/faketime/libfaketimeMT.so.1",
    ):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


LIBFAKETIME = libfaketime()
pytestmark = pytest.mark.skipif(
    LIBFAKETIME is None, reason="libfaketime is not installed (apt install faketime)"
)


class Clock:
    """A wall clock offset (libfaketime syntax, e.g. '-1d') read from a file that can change."""

    def __init__(self, path: Path, offset: str) -> None:
        self.path = path
        self.set(offset)

    def set(self, offset: str) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(offset + "\n")
        os.replace(tmp, self.path)

    def prefix(self) -> tuple[str, ...]:
        assert LIBFAKETIME is not None
        return (
            "env",
            f"LD_PRELOAD={LIBFAKETIME}",
            f"FAKETIME_TIMESTAMP_FILE={self.path}",
            "FAKETIME_CACHE_DURATION=1",
            "FAKETIME_DONT_FAKE_MONOTONIC=1",
        )


class Device:
    """One home with its own wall clock (None: the machine's)."""

    def __init__(self, home: Path, clock: Clock | None) -> None:
        self.home = home
        self.clock = clock
        self.node: Serve | None = None

    @property
    def prefix(self) -> tuple[str, ...]:
        return self.clock.prefix() if self.clock else ()

    def run(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "POTLUCK_HOME"}
        result = subprocess.run(
            [*self.prefix, POTLUCK, "--home", str(self.home), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, f"potluck {' '.join(args)}: {result.stderr}"
        assert "Traceback" not in result.stderr
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def ls(self) -> list[dict[str, Any]]:
        return self.json("ls")

    def serve(self, port: int, peers: list[int]) -> Serve:
        args = ["--port", str(port), "--no-mdns"]
        for peer in peers:
            args += ["--peer", f"127.0.0.1:{peer}"]
        self.node = Serve(self.home, *args, prefix=self.prefix)
        self.node.wait_line(r"listening on port", 30)
        return self.node


def board_view(device: Device) -> dict[str, tuple[object, ...]]:
    """What must be identical everywhere: every item with its times and reply count."""
    return {
        i["id"]: (i["title"], i["created"], i["updated"], i["replies"], i["status"])
        for i in device.ls()
    }


def converged(devices: list[Device], count: int) -> bool:
    views = [board_view(d) for d in devices]
    return len(views[0]) == count and all(v == views[0] for v in views)


def replies_everywhere(devices: list[Device], count: int) -> bool:
    view = board_view(devices[0])
    return sum(int(str(v[3])) for v in view.values()) == count and converged(devices, len(view))


def order(device: Device) -> list[str]:
    """The list order `potluck ls` shows, after checking it is the store's (the app's) order."""
    listed = [i["title"] for i in device.ls()]
    with Home.open(device.home) as home:
        assert [s.title for s in home.board().items()] == listed
    return listed


def closes(node: Serve) -> int:
    return sum(1 for line in node.lines if " left board " in line or " closed " in line)


def joins(node: Serve | None, name: str) -> int:
    assert node is not None
    return sum(
        1
        for line in node.lines
        if line.split(" ", 1)[-1].startswith(f"{name} (") and " joined board " in line
    )


def test_a_day_behind_and_a_year_ahead(tmp_path: Path) -> None:
    ana = Device(tmp_path / "ana", None)
    bo_clock = Clock(tmp_path / "bo.clock", "-1d")
    cy_clock = Clock(tmp_path / "cy.clock", "+365d")
    bo = Device(tmp_path / "bo", bo_clock)
    cy = Device(tmp_path / "cy", cy_clock)
    devices = [ana, bo, cy]
    for device, name in zip(devices, NAMES, strict=True):
        device.run("whoami", "--name", name)
    code = ana.json("new-board", "Kitchen")["invite"]
    bo.run("join", code)
    cy.run("join", code)
    ports = free_ports(3)
    try:
        for n, device in enumerate(devices):
            device.serve(ports[n], [p for p in ports if p != ports[n]])
        for device, name in zip(devices, NAMES, strict=True):
            others = [n for n in NAMES if n != name]
            wait_sync(lambda d=device, o=others: all(joins(d.node, n) for n in o), 30, "a triangle")

        ana.json("post", "need", "Ana: a ladder")
        bo.json("post", "offer", "Bo: soup from yesterday")
        future = cy.json("post", "need", "Cy: from next year")["id"]
        now = time.time() * 1000
        [mine] = [i for i in cy.ls() if i["id"] == future]
        assert mine["created"] > now + 300 * DAY_MS, "libfaketime did not move Cy's clock"
        [bos] = [i for i in bo.ls() if i["title"].startswith("Bo")]
        assert now - 2 * DAY_MS < bos["created"] < now - DAY_MS / 2, "Bo's clock is not behind"
        wait_sync(lambda: converged(devices, 3), 30, "three posts everywhere")

        # Newer real activity goes above the item from next year where the clock is right or
        # behind; Cy, a year ahead, shows its own item first until real time catches up.
        ana.json("post", "need", "Ana: fresh")
        wait_sync(lambda: converged(devices, 4), 30, "the fresh post everywhere")
        for device in (ana, bo):
            listed = order(device)
            assert listed.index("Ana: fresh") < listed.index("Cy: from next year"), listed
            assert listed[0] == "Ana: fresh", listed

        ids = {i["title"]: i["id"] for i in ana.ls()}
        bo.run("reply", ids["Ana: fresh"], "on my way, yesterday")
        wait_sync(lambda: replies_everywhere(devices, 1), 30, "Bo's reply")
        # A reply stamped a day ago does not push the item it answers down.
        assert order(ana)[0] == order(bo)[0] == "Ana: fresh"
        cy.run("reply", ids["Ana: a ladder"], "there is one in the cellar")
        wait_sync(lambda: replies_everywhere(devices, 2), 30, "Cy's reply")
        # A reply stamped next year is the newest activity, shown as of when it arrived.
        assert order(ana)[0] == order(bo)[0] == order(cy)[0] == "Ana: a ladder"
        ana.run("reply", future, "your clock says next year")
        wait_sync(lambda: replies_everywhere(devices, 3), 30, "Ana's reply")
        assert order(ana)[0] == order(bo)[0] == "Cy: from next year"
        ana.run("reply", ids["Bo: soup from yesterday"], "saving a bowl")
        wait_sync(lambda: replies_everywhere(devices, 4), 30, "the last reply")
        for device in (ana, bo):
            listed = order(device)
            assert listed[0] == "Bo: soup from yesterday", listed
            assert listed.index("Cy: from next year") == 1, listed
        order(cy)  # its own order is the store's too, by its own clock

        # The wall clocks jump under live connections: monotonic timeouts do not notice.
        before = [closes(d.node) for d in devices if d.node]
        jumped = time.monotonic()
        bo_clock.set("-2d")
        cy_clock.set("+730d")
        ana.json("post", "offer", "Ana: after the jump")
        cy.json("post", "offer", "Cy: two years ahead")
        wait_sync(lambda: converged(devices, 6), 30, "posts after the jump everywhere")
        # The silence watchdog looks every second: give it three looks at the new wall clocks.
        wait_sync(lambda: time.monotonic() - jumped > 3, 10, "three watchdog periods")
        assert [closes(d.node) for d in devices if d.node] == before, "\n".join(
            d.node.log() for d in devices if d.node
        )

        # Redial backoff after a lost peer also runs on the monotonic clock.
        assert ana.node is not None
        met_ana = [joins(bo.node, "Ana"), joins(cy.node, "Ana")]
        assert ana.node.stop() == 0
        assert "Traceback" not in ana.node.log(), ana.node.log()
        ana.serve(ports[0], ports[1:])
        for device, seen in zip((bo, cy), met_ana, strict=True):
            wait_sync(
                lambda d=device, n=seen: joins(d.node, "Ana") > n,
                30,
                f"{device.home.name} redialling Ana",
            )
        ana.json("post", "need", "Ana: after the restart")
        wait_sync(lambda: converged(devices, 7), 30, "the last post everywhere")
    finally:
        codes = [d.node.stop() for d in devices if d.node is not None]
    logs = "\n".join(d.node.log() for d in devices if d.node)
    assert codes == [0, 0, 0], logs
    assert "Traceback" not in logs, logs
