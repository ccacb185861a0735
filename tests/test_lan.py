"""A real LAN in network namespaces: `potluck serve` per host, mDNS only, partitions, hints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from potluck.p2p.invite import decode_invite
from potluck.p2p.keys import board_tag
from potluck.p2p.model.types import Kind

from tests.conftest import run_json, run_potluck
from tests.netns import Lan, netns_unavailable
from tests.p2p_helpers import Serve, make_homes, wait_sync

REASON = netns_unavailable()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(REASON is not None, reason=f"namespaced LAN unavailable: {REASON}"),
]


def listed(home: Path) -> list[str]:
    return sorted(i["title"] for i in run_json(home, "ls"))


@pytest.fixture
def lan3() -> Iterator[Lan]:
    with Lan(3) as lan:
        yield lan


@pytest.fixture
def lan2() -> Iterator[Lan]:
    with Lan(2) as lan:
        yield lan


def serve_all(lan: Lan, homes: list[Path], *args: str) -> list[Serve]:
    return [Serve(home, *args, prefix=lan.prefix(i)) for i, home in enumerate(homes)]


def check_what_mdns_reveals(lan: Lan, info: tuple[bytes, list[str]]) -> None:
    """A listener on the LAN sees an opaque record: no names, no device ids, no key."""
    key, device_ids = info
    out = subprocess.run(
        [*lan.prefix(0), sys.executable, str(Path(__file__).with_name("mdns_listener.py")), "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    records = json.loads(out.stdout)
    others = [r for r in records if r["addresses"] != [lan.address(0)]]
    assert len(others) == 2, out.stdout + out.stderr
    for record in records:
        assert set(record["txt"]) == {"v", "d", "t"}
        assert record["txt"]["t"] == board_tag(key).hex()
        assert re.fullmatch(r"[0-9a-f]{16}\._potluck\._tcp\.local\.", record["name"])
        text = json.dumps(record)
        for secret in ["Kitchen", "Ana", "Bo", "Cy", key.hex(), *device_ids]:
            assert secret not in text, f"{secret} advertised: {text}"


def test_three_hosts_find_each_other_by_mdns_and_heal_a_partition(
    lan3: Lan, tmp_path: Path
) -> None:
    homes, board_id = make_homes(tmp_path, ["Ana", "Bo", "Cy"])
    paths = [h.path for h in homes]
    key = homes[0].board(board_id).key
    homes_info = (key, [h.device_id for h in homes])
    for home in homes:
        home.close()
    started = time.monotonic()
    nodes = serve_all(lan3, paths)
    try:
        for node in nodes:
            wait_sync(lambda n=node: n.log().count(" joined board ") >= 2, 20, "two peers each")
        connect_time = time.monotonic() - started
        check_what_mdns_reveals(lan3, homes_info)
        run_potluck(paths[0], "post", "need", "We need a ladder")
        wait_sync(
            lambda: listed(paths[1]) == listed(paths[2]) == ["We need a ladder"], 10, "the post"
        )
        # Unplug Cy; both sides keep posting; plug Cy back in.
        lan3.link(2, up=False)
        run_potluck(paths[0], "post", "offer", "Soup while apart")
        run_potluck(paths[2], "post", "offer", "Bread while apart")
        wait_sync(lambda: "Soup while apart" in listed(paths[1]), 10, "Bo gets Ana's post")
        assert "Bread while apart" not in listed(paths[0])
        lan3.link(2, up=True)
        want = ["Bread while apart", "Soup while apart", "We need a ladder"]
        wait_sync(
            lambda: all(listed(p) == want for p in paths), 60, "convergence after the partition"
        )
        wait_sync(lambda: len(run_json(paths[1], "peers")["peers"]) == 2, 5, "Bo's peers")
        peers = run_json(paths[1], "peers")["peers"]
        assert {p["found"] for p in peers} <= {"mdns", "incoming"}
        assert {p["address"].split(":")[0] for p in peers} == {lan3.address(0), lan3.address(2)}
    finally:
        codes = [node.stop() for node in nodes]
    logs = "\n---\n".join(n.log() for n in nodes)
    assert codes == [0, 0, 0], logs
    assert connect_time < 10, logs


@pytest.mark.skipif(shutil.which("nft") is None, reason="needs nft (nftables) to drop multicast")
def test_multicast_blocked_an_invite_with_hints_still_syncs(lan2: Lan, tmp_path: Path) -> None:
    lan2.block_multicast()
    (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
    board = ana.board(board_id)
    board.post(Kind.NEED, "We need a ladder")
    bo_path = tmp_path / "bo2"
    ana.close()
    bo.close()
    nodes = serve_all(lan2, [ana.path])
    try:
        nodes[0].wait_line(r"on port 7434")
        # `potluck invite` on Ana's laptop puts her node's addresses in the code.
        code = run_potluck(ana.path, "invite", prefix=lan2.prefix(0)).stdout.strip()
        assert decode_invite(code).hints == ((lan2.address(0), 7434),)
        run_potluck(bo_path, "whoami", "--name", "Bo")
        run_potluck(bo_path, "join", code)
        nodes.append(Serve(bo_path, prefix=lan2.prefix(1)))
        wait_sync(lambda: listed(bo_path) == ["We need a ladder"], 20, "the post via the hint")
        wait_sync(lambda: run_json(bo_path, "peers")["peers"], 5, "Ana in Bo's peers")
        [peer] = run_json(bo_path, "peers")["peers"]
        assert peer["found"] == "invite" and peer["name"] == "Ana"
        assert lan2.multicast_dropped() > 0, "mDNS was sent and dropped on the bridge"
    finally:
        codes = [node.stop() for node in nodes]
    assert codes == [0, 0], "\n---\n".join(n.log() for n in nodes)
