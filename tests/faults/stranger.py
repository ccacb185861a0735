"""A stranger on the LAN without the board key: connection floods and handshake garbage.

Run inside a namespace: `python stranger.py HOST PORT TAG_HEX REPLAY_HEX SECONDS SOURCES`
(SOURCES: the comma-separated addresses it holds connections from). It knows the board tag
(mDNS advertises it) and a first flight captured from a real handshake, and at once: holds
many connections open from many addresses without finishing a handshake, opens and drops
connections as fast as it can, sends garbage, sends a well-formed Noise first message made
with a wrong key, and replays the captured first flight. It prints one JSON object of what
happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from potluck.p2p.keys import DeviceIdentity, board_psk, new_board_key
from potluck.p2p.net.framing import encode_frame
from potluck.p2p.net.noise import MAGIC, NoiseState

HELD = 300
"""Connections held open at once without finishing a handshake (re-opened when closed)."""
HOLD_ROUNDS = 200
"""At most this many connections one holder opens in turn."""
CHURN = 1500
"""Connections opened and dropped at once (a SYN-ish flood through the real stack)."""
PROBES_AT_ONCE = 6
"""Probes open at a time: fewer than the node's pending handshakes per address (8)."""


async def answer(reader: asyncio.StreamReader, limit: float) -> tuple[bytes, float]:
    """What the node sends back until it closes (or `limit` seconds), and when it closed."""
    started = time.monotonic()
    got = b""
    try:
        while time.monotonic() - started < limit:
            data = await asyncio.wait_for(reader.read(4096), limit)
            if not data:
                break
            got += data
    except (ConnectionError, TimeoutError, OSError):
        pass
    return got, time.monotonic() - started


class Stranger:
    def __init__(
        self,
        host: str,
        port: int,
        tag: bytes,
        replay: bytes,
        seconds: float,
        sources: list[str],
    ) -> None:
        self.host, self.port, self.tag, self.replay = host, port, tag, replay
        self.sources = sources
        self.seconds = seconds
        self.lifetimes: list[float] = []
        self.received: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.probing = asyncio.Semaphore(PROBES_AT_ONCE)

    def note(self, what: str, got: bytes) -> None:
        """One connection of this kind was tried, and the node sent it `got`."""
        self.counts[what] = self.counts.get(what, 0) + 1
        self.received[what] = self.received.get(what, 0) + len(got)

    async def open(
        self, source: str | None = None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        local = None if source is None else (source, 0)
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, local_addr=local), 5
            )
        except (OSError, TimeoutError):
            self.counts["connect failed"] = self.counts.get("connect failed", 0) + 1
            return None

    async def hold(self, index: int, until: float) -> None:
        """Connect from one of the sources, send nothing or a little, wait for the node to give
        up on us; again and again until `until`, so the node's handshake slots stay full."""
        source = self.sources[index % len(self.sources)]
        for _ in range(HOLD_ROUNDS):
            if time.monotonic() >= until:
                return
            opened = await self.open(source)
            if opened is None:
                self.note("held", b"")
                await asyncio.sleep(0.5)
                continue
            reader, writer = opened
            if index % 3 == 1:
                writer.write(MAGIC + self.tag)  # a preamble, then silence
            elif index % 3 == 2:
                writer.write(os.urandom(7))
            got, lived = await answer(reader, max(0.1, until - time.monotonic()))
            self.lifetimes.append(lived)
            self.note("held", got)
            writer.close()

    async def churn(self) -> None:
        deadline = time.monotonic() + self.seconds / 2
        for _ in range(CHURN):
            if time.monotonic() > deadline:
                return
            opened = await self.open()
            if opened is not None:
                opened[1].write(os.urandom(100))
                opened[1].transport.abort()
                self.counts["churned"] = self.counts.get("churned", 0) + 1

    async def probe(self, what: str, first: bytes, sent: asyncio.Event) -> None:
        async with self.probing:
            opened = await self.open()
            if opened is None:
                sent.set()
                return
            reader, writer = opened
            writer.write(first)
            with contextlib.suppress(OSError):
                await writer.drain()
            sent.set()
            got, _ = await answer(reader, 15)
            self.note(what, got)
            writer.close()

    def wrong_key(self) -> bytes:
        pre = MAGIC + self.tag
        noise = NoiseState(
            initiator=True,
            static_private=DeviceIdentity.generate().private_key,
            psk=board_psk(new_board_key()),
            prologue=pre,
        )
        return pre + encode_frame(noise.write_handshake())

    async def run(self) -> None:
        # The probes first, within the node's per-address burst and pending handshakes, so that
        # each is answered by the handshake code rather than by a cap; then the flood. A
        # replay waits for the node's handshake timeout, so the replays go last.
        firsts = [("wrong key", self.wrong_key()) for _ in range(15)]
        firsts += [("garbage", os.urandom(2000)) for _ in range(10)]
        firsts += [("replay", self.replay)] * 5
        sent = [asyncio.Event() for _ in firsts]
        started = [
            asyncio.ensure_future(self.probe(what, first, done))
            for (what, first), done in zip(firsts, sent, strict=True)
        ]
        async with asyncio.timeout(15):
            await asyncio.gather(*(done.wait() for done in sent))
        print(json.dumps({"flooding": True}), flush=True)
        until = time.monotonic() + self.seconds
        await asyncio.gather(*(self.hold(i, until) for i in range(HELD)), self.churn(), *started)


def main() -> None:
    host, port, tag, replay, seconds, sources = sys.argv[1:7]
    stranger = Stranger(
        host,
        int(port),
        bytes.fromhex(tag),
        bytes.fromhex(replay),
        float(seconds),
        sources.split(","),
    )
    print(json.dumps({"ready": True}), flush=True)
    asyncio.run(stranger.run())
    lifetimes = sorted(stranger.lifetimes)
    print(
        json.dumps(
            {
                "counts": stranger.counts,
                "received": stranger.received,
                "opened": len(lifetimes),
                "longest": lifetimes[-1] if lifetimes else None,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
