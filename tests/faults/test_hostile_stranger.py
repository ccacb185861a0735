"""A stranger without the key floods a real `potluck serve` from another host of a namespaced
LAN, holding connections from 17 addresses: the node keeps serving its real peers and lets a
newcomer in, closes the flood, keeps its file descriptors bounded, and nothing on the wire
(captured on the bridge) reveals the board."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from potluck.p2p.home import Home
from potluck.p2p.keys import board_psk, board_tag
from potluck.p2p.model.types import Kind
from potluck.p2p.net.noise import HANDSHAKE_TIMEOUT, MAGIC

from tests.conftest import run_potluck
from tests.netns import Lan, netns_unavailable
from tests.p2p_helpers import Serve, stored, wait_sync

REASON = netns_unavailable()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(REASON is not None, reason=f"namespaced LAN unavailable: {REASON}"),
]

BOARD = "Kitchen at Number Nine Saffron"
VICTIM = "Anastasia Quillfeather"
HONEST = "Bartholomew Marrowbone"
NEWCOMER = "Cordelia Thistlewaite"
POSTS = [
    ("Soup at six o'clock Gazpacho", "Bring the big copper pot Xylophone"),
    ("Ladder for the roof Periwinkle", "Whoever has the long one Marzipan"),
    ("Bicycle pump wanted Tangerine", "The blue valve kind Quetzalcoatl"),
]
MAX_FDS = 100
"""Open file descriptors of the victim during the flood of 300 held connections. It idles at
about 15; on top come at most 64 pending handshakes (8 from one address): the node takes one
connection at a time and resets a refused one before it takes the next."""
FIRST_FLIGHT = 12 + 2 + 48
"""Preamble, then the framed Noise message 1."""


def packets(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """(source IP, destination IP, TCP payload) of every IPv4 TCP packet in a pcap file."""
    data = path.read_bytes()
    offset = 24
    while offset + 16 <= len(data):
        captured = struct.unpack_from("<I", data, offset + 8)[0]
        frame = data[offset + 16 : offset + 16 + captured]
        offset += 16 + captured
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        ip = frame[14:]
        header = (ip[0] & 0x0F) * 4
        tcp = ip[header:]
        if len(tcp) < 20:
            continue
        payload = tcp[(tcp[12] >> 4) * 4 : struct.unpack_from(">H", ip, 2)[0] - header]
        src, dst = ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20]))
        yield src, dst, bytes(payload)


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


HELD_STATES = {"01", "08"}
"""ESTABLISHED and CLOSE_WAIT: a connection the node's side still holds open."""


def held_from(pid: int, ips: set[str], port: int) -> set[tuple[str, int, int]]:
    """The connections from `ips` to `port` that the process's namespace holds, read from its
    kernel TCP table (what the node keeps open, not what the stranger believes), each as its
    remote address, remote port and socket inode (ports are reused under a flood)."""
    local = f":{port:04X}"
    held = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if not fields[1].endswith(local) or fields[3] not in HELD_STATES:
            continue
        there, remote_port = fields[2].split(":")
        ip = ".".join(str(b) for b in reversed(bytes.fromhex(there)))
        if ip in ips:
            held.add((ip, int(remote_port, 16), int(fields[9])))
    return held


class Capture:
    """tcpdump on the bridge: every frame between the hosts, written as it arrives."""

    def __init__(self, lan: Lan, path: Path) -> None:
        self.path = path
        command = ["tcpdump", "-i", "br0", "-U", "-s", "0", "-w", str(path)]
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lan.bridge, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()  # "listening on br0 …" once it captures
        assert "listening" in line, line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def lan3() -> Iterator[Lan]:
    with Lan(3) as lan:
        yield lan


def test_a_stranger_flooding_the_node_is_shut_out_and_learns_nothing(
    lan3: Lan, tmp_path: Path
) -> None:
    victim_home = Home.open(tmp_path / "victim")
    victim_home.set_profile(name=VICTIM, about="cooks on Tuesdays Wombat")
    board = victim_home.new_board(BOARD)
    board.post(Kind.NEED, POSTS[0][0], body=POSTS[0][1])
    honest_home = Home.open(tmp_path / "honest")
    honest_home.set_profile(name=HONEST)
    honest_home.join(board.invite())
    newcomer_home = Home.open(tmp_path / "newcomer")
    newcomer_home.set_profile(name=NEWCOMER)
    newcomer_home.join(board.invite())
    key = board.key
    secrets = {
        "board name": BOARD.encode(),
        "victim name": VICTIM.encode(),
        "honest name": HONEST.encode(),
        "newcomer name": NEWCOMER.encode(),
        "about": b"Wombat",
        "board key": key,
        "board key hex": key.hex().encode(),
        "psk": board_psk(key),
        "board id": board.board_id.encode(),
        "board id bytes": bytes.fromhex(board.board_id),
    }
    for title, body in POSTS:
        secrets[title] = title.encode()
        secrets[body] = body.encode()
    homes = (("victim", victim_home), ("honest", honest_home), ("newcomer", newcomer_home))
    for who, home in homes:
        secrets[f"{who} device id"] = home.device_id.encode()
        secrets[f"{who} device id bytes"] = bytes.fromhex(home.device_id)
        secrets[f"{who} static key"] = home.identity.public_key
        secrets[f"{who} static key hex"] = home.identity.public_key.hex().encode()
        secrets[f"{who} device key"] = home.identity.signing_public
    victim_path, honest_path = victim_home.path, honest_home.path
    victim_key = victim_home.identity.public_key
    newcomer_path = newcomer_home.path
    for _, home in homes:
        home.close()

    capture = Capture(lan3, tmp_path / "bridge.pcap")
    victim = Serve(victim_path, prefix=lan3.prefix(0))
    honest = Serve(honest_path, "--peer", f"{lan3.address(0)}:7434", prefix=lan3.prefix(1))
    stranger: subprocess.Popen[str] | None = None
    newcomer: Serve | None = None
    peak_fds = 0
    try:
        wait_sync(lambda: stored(honest_path, POSTS[0][0]), 30, "the first sync")
        idle_fds = fd_count(victim.proc.pid)
        # The stranger knows the tag (mDNS advertises it) and a first flight seen on the wire.
        wait_sync(
            lambda: any(p.startswith(MAGIC) for _, _, p in packets(capture.path)), 10, "a flight"
        )
        replay = next(p for _, _, p in packets(capture.path) if p.startswith(MAGIC))
        assert len(replay) >= FIRST_FLIGHT
        script = str(Path(__file__).with_name("stranger.py"))
        # Holding connections from 16 addresses, 8 each, it can fill every handshake slot.
        stranger_ips = {lan3.address(2), *lan3.add_addresses(2, 16)}
        sources = ",".join(sorted(stranger_ips - {lan3.address(2)}))
        args = [
            lan3.address(0),
            "7434",
            board_tag(key).hex(),
            replay[:FIRST_FLIGHT].hex(),
            "25",
            sources,
        ]
        stranger = subprocess.Popen(
            [*lan3.prefix(2), sys.executable, script, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert stranger.stdout is not None
        assert json.loads(stranger.stdout.readline()) == {"ready": True}
        stop_sampling = threading.Event()
        held_for: dict[tuple[str, int, int], float] = {}

        def sample() -> None:
            nonlocal peak_fds
            since: dict[tuple[str, int, int], float] = {}
            while not stop_sampling.wait(0.05):
                peak_fds = max(peak_fds, fd_count(victim.proc.pid))
                now = time.monotonic()
                # Held since it first appeared in an unbroken run of samples: one that is seen
                # again after a gap is a new connection reusing the port.
                held_now = held_from(victim.proc.pid, stranger_ips, 7434)
                since = {held: since.get(held, now) for held in held_now}
                for held, start in since.items():
                    held_for[held] = max(held_for.get(held, 0.0), now - start)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert json.loads(stranger.stdout.readline()) == {"flooding": True}
        # During the flood: a post over the live connection …
        run_potluck(honest_path, "post", "offer", POSTS[1][0], "--body", POSTS[1][1])
        wait_sync(lambda: stored(victim_path, POSTS[1][0]), 10, "a post during the flood")
        # … and a peer that (re)connects while the flood goes on.
        assert honest.stop() == 0
        run_potluck(honest_path, "post", "need", POSTS[2][0], "--body", POSTS[2][1])
        honest = Serve(honest_path, "--peer", f"{lan3.address(0)}:7434", prefix=lan3.prefix(1))
        wait_sync(lambda: stored(victim_path, POSTS[2][0]), 10, "a reconnect during the flood")
        # A newcomer the victim has never heard of can only come in: the stranger holds every
        # handshake slot, and the newcomer's handshake pushes out the oldest.
        newcomer = Serve(
            newcomer_path,
            *("--no-mdns", "--port", "7435", "--peer", f"{lan3.address(0)}:7434"),
            prefix=lan3.prefix(1),
        )
        wait_sync(lambda: stored(newcomer_path, POSTS[0][0]), 10, "a newcomer during the flood")
        out, err = stranger.communicate(timeout=90)
        stop_sampling.set()
        sampler.join(5)
        assert victim.proc.poll() is None
    finally:
        if stranger is not None and stranger.poll() is None:
            stranger.kill()
            stranger.wait(10)
        codes = [honest.stop(), victim.stop(), newcomer.stop() if newcomer else 0]
        capture.stop()
    assert codes == [0, 0, 0], victim.log()[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    longest = max(held_for.values(), default=0.0)
    print(
        f"\nvictim fds idle {idle_fds}, peak {peak_fds}; held {len(held_for)} stranger "
        f"connections, longest {longest:.1f} s; stranger {report}"
    )

    # The flood was real, and the node closed every connection it held in time. (Measured on
    # the node's side: under the flood the node's kernel can drop a handshake's last ACK with
    # a full accept queue, leaving a connection that only the silent stranger believes in.)
    assert report["counts"].get("held", 0) >= 300, (report, err[-2000:])
    probes = ("wrong key", "garbage", "replay")
    assert [report["counts"].get(what) for what in probes] == [15, 10, 5], report
    assert report["counts"].get("churned", 0) >= 100, report
    assert longest < HANDSHAKE_TIMEOUT + 5, sorted(held_for.values())[-5:]
    assert peak_fds <= MAX_FDS, peak_fds
    # Without the key the node tells a stranger nothing: not a byte for garbage or a wrong key;
    # a replayed first flight gets only the encrypted second handshake message (194 bytes:
    # the frame's length, e, the encrypted static key and the encrypted device certificate).
    assert report["received"].get("held", 0) == 0
    assert report["received"].get("garbage", 0) == 0
    assert report["received"].get("wrong key", 0) == 0
    assert report["received"].get("replay", 0) <= 5 * 194
    # One warning per address per 10 s: its reason is whichever refusal came first (a failed
    # handshake or a cap), so only the address is certain; the fd bound above shows the caps.
    assert f"refused a connection from {lan3.address(2)}" in victim.log()

    # What crossed the bridge: a sync, a post, a reconnect and the flood, none of it readable.
    wire = capture.path.read_bytes()
    assert wire.count(MAGIC + board_tag(key)) >= 3
    assert b"_potluck" in wire  # the mDNS records were captured too
    found = [what for what, secret in secrets.items() if secret in wire]
    assert found == [], f"seen in clear on the wire: {found}"
    assert victim_key not in b"".join(p for _, _, p in packets(capture.path))
