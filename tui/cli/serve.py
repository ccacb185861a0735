"""`potluck serve` (a headless node) and `potluck peers` (what the running node knows)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from potluck.p2p import DEFAULT_PORT, read_node_state

from .output import PrintableFormatter, say_err
from .people import People, fingerprint
from .printable import printable
from .words import number, parse_address, plural

if TYPE_CHECKING:
    from .commands import Cli


def add_parsers(sub: Any) -> None:
    """Add `serve` and `peers` to the command line's subparsers."""
    p = sub.add_parser(
        "serve",
        help="keep this home's boards in sync with peers, without the screen",
        description=(
            "Run a peer with no screen (a Raspberry Pi in the corner keeps the board alive). "
            "It finds other laptops on the network by mDNS, also dials the addresses in the "
            "invite codes this home used, the peers it met before and every --peer, and logs "
            "one line per peer joining or leaving and per sync. Ctrl-C or SIGTERM stops it. "
            "Only one node runs per home: the board screen runs its own, so use serve when "
            "the screen is closed."
        ),
    )
    p.add_argument(
        "--port",
        type=number(0, 65535, "--port"),
        default=DEFAULT_PORT,
        help=f"port to listen on, 0 for any free one (default {DEFAULT_PORT})",
    )
    p.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="also connect to this address (repeatable), for networks that block mDNS",
    )
    p.add_argument("--no-mdns", action="store_true", help="do not advertise or browse with mDNS")
    p = sub.add_parser(
        "peers",
        help="list the peers the running node is connected to",
        description=(
            "Ask the node running for this home (potluck serve, or the board screen) which "
            "peers it knows: name, address, how it found them, since when, whether each has "
            "confirmed everything (in sync) or how many items wait for it, and which ones have "
            "stopped answering, since when. Addresses given with --peer that do not answer are "
            "listed with the reason."
        ),
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def cmd_serve(cli: Cli) -> None:
    args = cli.args
    peers = [parse_address(p) for p in [*args.app_peers, *args.peer]]
    handler = logging.StreamHandler(sys.stderr)
    # Peers' names and what they sent reach the log: each record is one printable line.
    handler.setFormatter(PrintableFormatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for noisy in ("zeroconf", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(_serve(cli, args, peers))


async def _serve(cli: Cli, args: argparse.Namespace, peers: list[tuple[str, int]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    from potluck.p2p import Node  # loads zeroconf, slow to import, only for serve

    node = Node(cli.home, port=args.port, peers=peers, mdns=not args.no_mdns)
    await node.start()
    try:
        boards = ", ".join(printable(b.name) for b in cli.home.boards()) or "none yet"
        say_err(f"potluck is syncing {boards} on port {node.port}; Ctrl-C stops it.")
        await stop.wait()
    finally:
        await node.aclose()
    say_err("stopped.")


def _clock(ts: float | None, now: float) -> str:
    """A time of today as HH:MM; of another day with the date."""
    if not ts:
        return "never"
    then = time.localtime(ts)
    same_day = time.localtime(now)[:3] == then[:3]
    return time.strftime("%H:%M" if same_day else "%d %b %H:%M", then)


def describe_peer(p: dict[str, Any], people: People, now: float) -> str:
    """One peer of node.json in a line: who, where, and whether it is in step with us."""
    pending = int(p.get("pending") or 0)
    waiting = plural(pending, "item") + " waiting"
    line = (
        f"{people.name_and_fingerprint(p['device_id'])} "
        f"at {printable(p['address'])}, found by {printable(p['found'])}, "
        f"here since {_clock(p.get('since'), now)}, "
    )
    if p.get("answering") is False:
        return (
            line
            + f"not answering since {_clock(p.get('last_heard'), now)}"
            + (f", {waiting}" if pending else "")
        )
    if p.get("in_sync", not pending):
        return line + f"in sync (last sync {_clock(p.get('last_sync'), now)})"
    expected, arrived = int(p.get("expected") or 0), int(p.get("arrived") or 0)
    if 0 <= arrived < expected:
        got = f"syncing, {arrived:,} of its {expected:,} items here so far"
        return line + got + (f", {waiting}" if pending else "")
    return line + "syncing" + (f", {waiting}" if pending else "")


def describe_unreachable(u: dict[str, Any], now: float) -> str:
    """An address given by hand that does not answer, and why."""
    return (
        f"{printable(u['address'])} (given by hand) does not answer: "
        f"{printable(u['error'])}, trying since {_clock(u.get('since'), now)}"
    )


def cmd_peers(cli: Cli) -> None:
    state = read_node_state(cli.home_path)
    if state is None:
        cli.out(
            {"running": False, "peers": []},
            "No node is running for this home: start one with 'potluck serve' "
            "(or open the board with 'potluck').",
        )
        return
    now = time.time()
    peers = state["peers"]
    unreachable = state["unreachable"]
    people = People({p["device_id"]: p["name"] for p in peers})
    lines = [f"node on port {state.get('port')}: {plural(len(peers), 'peer')} connected"]
    lines += ["  " + describe_peer(p, people, now) for p in peers]
    lines += ["  " + describe_unreachable(u, now) for u in unreachable]
    if not peers:
        lines.append(
            "  nobody yet: peers on the same network appear within seconds. If none ever do, "
            "the Wi-Fi may isolate devices; try 'potluck serve --peer HOST:PORT'."
        )
    for p in peers:
        p["fingerprint"] = fingerprint(p["device_id"])
    cli.out({"running": True, **state}, "\n".join(lines))
