"""Two groups of real `potluck serve` nodes apart, each editing the same items, then healed:
identical boards, nothing lost, and the read model (the SQLite index) agrees with the
documents on every node. A link healed after half a minute apart is used within seconds, and a
cut link shows on the socket while the peer's older messages are still being read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from potluck.p2p.net.noise import TCP_RTO_MAX_MS

from tests.faults.board import cli_json, done, listing, post, read_model_agrees, wait_converged
from tests.faults.lan import heal, partition
from tests.netns import Lan, netns_unavailable
from tests.p2p_helpers import Serve, make_homes, wait_sync

REASON = netns_unavailable()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(REASON is not None, reason=f"namespaced LAN unavailable: {REASON}"),
]

NAMES = ["Ana", "Bo", "Cy", "Dee"]


def responses(item: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["member"], r["kind"], r["note"]) for r in item["responses"]}


def before_split(home: Path) -> bool:
    """The four items and Dee's first position have reached this home."""
    rows = listing(home)
    return len(rows) == 4 and sum(r["responses"] for r in rows) == 1


def test_two_groups_apart_edit_the_same_items_and_merge_without_loss(tmp_path: Path) -> None:
    homes, _ = make_homes(tmp_path, NAMES)
    ana, bo, cy, dee = paths = [h.path for h in homes]
    a, b, c, d = (h.device_id for h in homes)
    for home in homes:
        home.close()
    with Lan(4) as lan:
        nodes = [Serve(p, prefix=lan.prefix(i)) for i, p in enumerate(paths)]
        try:
            for node in nodes:
                wait_sync(lambda n=node: n.log().count(" joined board ") >= 3, 30, "the mesh")
            note = post(ana, "note", "House agreements", "--body", "Be kind.")
            need = post(ana, "need", "A long ladder", "--body", "Bring it by Friday.")
            proposal = post(cy, "proposal", "Quiet hours after 22:00", "--body", "From Monday.")
            project = post(
                dee, "project", "Roof garden", "--task", "dig beds", "--task", "carry soil",
                "--shift", "Saturdays 10:00", "--slots", "3",
            )  # fmt: skip
            done(dee, "respond", proposal, "--as", "agree")
            wait_sync(lambda: all(before_split(p) for p in paths), 30, "the items everywhere")

            partition(lan, [0, 1], [2, 3])
            replies: dict[str, list[str]] = {note: [], need: [], proposal: [], project: []}
            steps: list[tuple[Path, tuple[str, ...]]] = [
                (ana, ("edit", note, "--body", "Be kind.\nWash your cup.")),
                (cy, ("edit", note, "--body", "Recycling goes out on Thursdays.\nBe kind.")),
                (ana, ("edit", need, "--body", "Bring it by Sunday; scaffolding too.")),
                (dee, ("status", need, "closed")),
                (bo, ("status", need, "met")),
                (cy, ("respond", need, "--note", "I can carry it")),
                (bo, ("respond", need, "--note", "I have one in the cellar")),
                (dee, ("respond", proposal, "--as", "block", "--note", "night workers sleep")),
                (ana, ("respond", proposal, "--as", "concern", "--note", "the bar downstairs")),
                (cy, ("respond", proposal, "--as", "stand-aside")),
                (bo, ("respond", proposal, "--as", "agree")),
                (ana, ("respond", project, "--as", "task", "--which", "1")),
                (cy, ("respond", project, "--as", "task", "--which", "2")),
                (bo, ("respond", project, "--as", "shift", "--which", "1")),
                (dee, ("respond", project, "--as", "shift", "--which", "1")),
            ]
            for n, item in enumerate([note, need, proposal, project]):
                for who, name in zip(paths, NAMES, strict=True):
                    text = f"{name} on {n} while apart"
                    steps.append((who, ("reply", item, text)))
                    replies[item].append(text)
            for who, args in steps:
                done(who, *args)

            def body(home: Path) -> str:
                return str(cli_json(home, "show", note)["body"])

            wait_sync(lambda: "cup" in body(bo) and "Recycling" in body(dee), 30, "each side")
            assert "cup" not in body(cy) and "Recycling" not in body(ana), "the groups are apart"
            heal(lan)

            def merged(view: dict[str, Any]) -> None:
                items = view["items"]
                assert items[note]["body"] == (
                    "Recycling goes out on Thursdays.\nBe kind.\nWash your cup."
                ), items[note]["body"]
                assert items[need]["body"] == "Bring it by Sunday; scaffolding too."
                assert items[need]["status"] in ("met", "closed")
                marked = [h["what"] for h in items[need]["history"]]
                assert "marked met" in marked and "marked closed" in marked, marked
                assert responses(items[need]) == {
                    (b, "help", "I have one in the cellar"),
                    (c, "help", "I can carry it"),
                }
                assert responses(items[proposal]) == {
                    (a, "concern", "the bar downstairs"),
                    (b, "agree", ""),
                    (c, "stand-aside", ""),
                    (d, "block", "night workers sleep"),
                }
                tasks = items[project]["tasks"]
                assert [t["taken_by"] for t in tasks] == [[a], [c]], tasks
                assert sorted(items[project]["shifts"][0]["signed_up"]) == sorted([b, d])
                for item_id, texts in replies.items():
                    got = sorted(r["text"] for r in items[item_id]["replies"])
                    assert got == sorted(texts), (item_id, got)

            view = wait_converged(paths, 90, merged)
            words = {"cup": [note], "recycling": [note], "scaffolding": [need], "friday": []}
            for path in paths:
                read_model_agrees(path, view, words)
        finally:
            codes = [node.stop() for node in nodes]
        assert codes == [0, 0, 0, 0], "\n---\n".join(n.log() for n in nodes)


def rto_cap_unsupported() -> str | None:
    with socket.socket() as probe:
        try:
            probe.setsockopt(socket.IPPROTO_TCP, TCP_RTO_MAX_MS, 3000)
        except OSError as exc:
            return f"this kernel cannot cap TCP's retransmission timeout (Linux 6.15+): {exc}"
    return None


OUTAGE = 30.0


@pytest.mark.skipif(rto_cap_unsupported() is not None, reason=str(rto_cap_unsupported()))
def test_a_link_healed_after_half_a_minute_is_used_within_seconds(tmp_path: Path) -> None:
    """TCP's doubled backoff would leave a post made during the outage waiting about as long
    again after the heal; the node caps it, so the post arrives within seconds."""
    homes, _ = make_homes(tmp_path, ["Ana", "Bo"])
    ana, bo = paths = [h.path for h in homes]
    for home in homes:
        home.close()
    with Lan(2) as lan:
        nodes = [Serve(p, prefix=lan.prefix(i)) for i, p in enumerate(paths)]
        try:
            for node in nodes:
                wait_sync(lambda n=node: " joined board " in n.log(), 30, "connected")
            post(ana, "need", "Before the outage")
            wait_sync(lambda: len(listing(bo)) == 1, 30, "the first post")
            lan.link(1, up=False)
            unplugged = time.monotonic()
            post(ana, "need", "During the outage")
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - unplugged)))
            assert len(listing(bo)) == 1, "Bo was cut off"
            lan.link(1, up=True)
            healed = time.monotonic()
            wait_sync(lambda: len(listing(bo)) == 2, 30, "the post made during the outage")
            took = time.monotonic() - healed
        finally:
            codes = [node.stop() for node in nodes]
        logs = "\n---\n".join(n.log() for n in nodes)
        assert codes == [0, 0], logs
        assert took < 8, f"{took:.1f} s after the heal\n{logs}"


def test_a_cut_link_shows_on_the_socket_until_the_heal() -> None:
    """`SecureConnection.stalled` (what stops our pushes while a backlog of the peer's older
    messages still makes it look alive): a real TCP + Noise connection in a namespace of its
    own, what reaches the responder dropped by nft, then let through."""
    namespace = f"plk{os.getpid() % 100000}-stall"
    subprocess.run(["ip", "netns", "add", namespace], check=True, timeout=20)
    try:
        probe = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-m", "tests.faults.stall_probe"],
            cwd=Path(__file__).resolve().parent.parent.parent,
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        subprocess.run(["ip", "netns", "del", namespace], timeout=20)
    said = dict(line.split() for line in probe.stdout.splitlines())
    assert said == {"live": "False", "cut": "True", "healed": "True", "arrived": "True"}, (
        probe.stdout + probe.stderr
    )
