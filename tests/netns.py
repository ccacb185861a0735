"""A namespaced LAN for tests: one bridge namespace and N host namespaces on 198.18.0.0/24."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

SUBNET = "198.18.0"


def netns_unavailable() -> str | None:
    """Why namespaced tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to build network namespaces"
    if shutil.which("ip") is None:
        return "needs the 'ip' command (iproute2)"
    probe = f"plk-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _run(*args: str, stdin: str | None = None) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=20, input=stdin)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")


class Lan:
    """Hosts h0..hN-1, each with eth0 = 198.18.0.(i+1)/24, joined by a bridge in its own
    namespace, so that no test traffic touches the machine's own interfaces."""

    def __init__(self, hosts: int) -> None:
        tag = f"{os.getpid() % 100000}"
        self.bridge = f"plk{tag}-br"
        self.hosts = [f"plk{tag}-h{i}" for i in range(hosts)]

    def __enter__(self) -> Lan:
        self.teardown()  # leftovers of a crashed run with the same pid
        try:
            self._build()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()

    def _build(self) -> None:
        _run("ip", "netns", "add", self.bridge)
        _run("ip", "-n", self.bridge, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", self.bridge, "link", "set", "br0", "up")
        for i, ns in enumerate(self.hosts):
            _run("ip", "netns", "add", ns)
            _run(
                "ip", "-n", ns, "link", "add", "eth0", "type", "veth",
                "peer", "name", f"p{i}", "netns", self.bridge,
            )  # fmt: skip
            _run("ip", "-n", self.bridge, "link", "set", f"p{i}", "master", "br0", "up")
            _run("ip", "-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", "eth0")
            _run("ip", "-n", ns, "link", "set", "eth0", "up")
            _run("ip", "-n", ns, "link", "set", "lo", "up")

    def teardown(self) -> None:
        for ns in [*self.hosts, self.bridge]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)

    def address(self, i: int) -> str:
        return f"{SUBNET}.{i + 1}"

    def add_addresses(self, i: int, count: int) -> list[str]:
        """Give host i `count` more addresses (198.18.0.100 onwards), as a device with many."""
        extra = [f"{SUBNET}.{100 + k}" for k in range(count)]
        for address in extra:
            _run("ip", "-n", self.hosts[i], "addr", "add", f"{address}/24", "dev", "eth0")
        return extra

    def prefix(self, i: int) -> tuple[str, ...]:
        """Run a command inside host i: ('ip', 'netns', 'exec', name)."""
        return ("ip", "netns", "exec", self.hosts[i])

    def link(self, i: int, up: bool) -> None:
        """Unplug or replug host i's cable (its port on the bridge)."""
        _run("ip", "-n", self.bridge, "link", "set", f"p{i}", "up" if up else "down")

    def block_multicast(self) -> None:
        """Drop all IPv4 multicast on the bridge, like a router or hotspot that filters it."""
        rules = (
            "table bridge plk {\n chain forward {\n"
            "  type filter hook forward priority 0;\n  ip daddr 224.0.0.0/4 counter drop\n }\n}\n"
        )
        _run("ip", "netns", "exec", self.bridge, "nft", "-f", "-", stdin=rules)

    def multicast_dropped(self) -> int:
        """Packets the block_multicast rule has dropped so far."""
        out = subprocess.run(
            ["ip", "netns", "exec", self.bridge, "nft", "list", "table", "bridge", "plk"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
        match = re.search(r"counter packets (\d+)", out)
        return int(match.group(1)) if match else 0
