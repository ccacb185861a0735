"""Faults on the namespaced LAN: impaired cables, partitions, and what the kernel says of TCP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.netns import Lan, _run

WIRE = Path(__file__).with_name("wire.py")


def netem_available() -> bool:
    """Whether this kernel has sch_netem (many small VM kernels do not)."""
    probe = f"plk-netem-{os.getpid()}"
    try:
        _run("ip", "netns", "add", probe)
        _run("ip", "-n", probe, "link", "add", "a0", "type", "veth", "peer", "name", "a1")
        added = subprocess.run(
            ["ip", "netns", "exec", probe, "tc", "qdisc", "add", "dev", "a0", "root", "netem"],
            capture_output=True,
            timeout=20,
        )
        return added.returncode == 0
    except (RuntimeError, FileNotFoundError):
        return False
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=20)


class FaultyLan(Lan):
    """A Lan whose cables can be impaired like `tc qdisc add dev eth0 root netem ...` on every
    host: with netem itself where the kernel has it, else with tap cables run by wire.py."""

    def __init__(self, hosts: int) -> None:
        super().__init__(hosts)
        self.netem = netem_available()
        self._wire: subprocess.Popen[str] | None = None

    def _build(self) -> None:
        if self.netem:
            super()._build()
            return
        _run("ip", "netns", "add", self.bridge)
        _run("ip", "-n", self.bridge, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", self.bridge, "link", "set", "br0", "up")
        for ns in self.hosts:
            _run("ip", "netns", "add", ns)
        triples = [f"{ns},{self.bridge},p{i}" for i, ns in enumerate(self.hosts)]
        self._wire = subprocess.Popen(
            [sys.executable, str(WIRE), *triples],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._wire.stdout is not None
        if self._wire.stdout.readline().strip() != "ready":
            raise RuntimeError("the tap cables (wire.py) did not start")
        for i, ns in enumerate(self.hosts):
            _run("ip", "-n", self.bridge, "link", "set", f"p{i}", "master", "br0", "up")
            _run("ip", "-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", "eth0")
            _run("ip", "-n", ns, "link", "set", "eth0", "up")
            _run("ip", "-n", ns, "link", "set", "lo", "up")

    def teardown(self) -> None:
        if self._wire is not None:
            if self._wire.poll() is None:
                self._wire.kill()
            self._wire.wait(10)
            self._wire = None
        super().teardown()

    def impair(self, loss: float, delay: float, jitter: float, reorder: float) -> None:
        """Every host's egress: lose `loss`, send `reorder` at once, delay the rest
        `delay` ± `jitter` seconds (netem's loss, delay with jitter, and reorder)."""
        if self.netem:
            for i in range(len(self.hosts)):
                _run(
                    *self.prefix(i), "tc", "qdisc", "replace", "dev", "eth0", "root", "netem",
                    "loss", f"{loss:.0%}", "delay", f"{delay * 1000:.0f}ms",
                    f"{jitter * 1000:.0f}ms", "reorder", f"{reorder:.0%}", "50%",
                )  # fmt: skip
            return
        self._tell(f"impair {loss} {delay} {jitter} {reorder}")

    def clear(self) -> int:
        """No more impairment on any cable; returns how many packets the impairment dropped."""
        if self.netem:
            dropped = 0
            for i in range(len(self.hosts)):
                stats = subprocess.run(
                    [*self.prefix(i), "tc", "-s", "qdisc", "show", "dev", "eth0"],
                    capture_output=True,
                    text=True,
                    timeout=20,
                ).stdout
                dropped += sum(int(n) for n in re.findall(r"dropped (\d+)", stats))
                _run(*self.prefix(i), "tc", "qdisc", "del", "dev", "eth0", "root")
            return dropped
        self._tell("clear")
        assert self._wire is not None and self._wire.stdout is not None
        return int(self._wire.stdout.readline().split()[1])

    def _tell(self, line: str) -> None:
        assert self._wire is not None and self._wire.stdin is not None
        self._wire.stdin.write(line + "\n")
        self._wire.stdin.flush()


SPLIT_TABLE = "plk_split"


def partition(lan: Lan, *groups: list[int]) -> None:
    """Cut the LAN into groups: the bridge drops every frame from one group to another
    (unicast and multicast alike), while hosts within a group still reach each other."""
    rules = []
    for a, group in enumerate(groups):
        ports = ", ".join(f'"p{i}"' for i in group)
        for b, other in enumerate(groups):
            if a != b:
                others = ", ".join(f'"p{i}"' for i in other)
                rules.append(f"  iifname {{ {ports} }} oifname {{ {others} }} drop")
    table = (
        f"table bridge {SPLIT_TABLE} {{\n chain forward {{\n"
        "  type filter hook forward priority 0;\n" + "\n".join(rules) + "\n }\n}\n"
    )
    _run("ip", "netns", "exec", lan.bridge, "nft", "-f", "-", stdin=table)


def heal(lan: Lan) -> None:
    """Undo `partition`: one LAN again."""
    _run("ip", "netns", "exec", lan.bridge, "nft", "delete", "table", "bridge", SPLIT_TABLE)
