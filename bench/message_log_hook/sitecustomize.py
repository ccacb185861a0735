"""Imported by Python at start-up when this folder is on PYTHONPATH (`bench/message_log.py`
puts it there for `potluck serve` nodes of a bench): with POTLUCK_MESSAGE_LOG naming a folder,
every message this process sends or receives on a Noise connection is appended to
`<folder>/<pid>.jsonl` as one line: time (Unix seconds), home, way (out or in), peer, type,
document, bytes (the message before encryption), and a `hello`'s device. Nothing of the node
changes otherwise."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _install(folder: Path) -> None:
    from potluck.p2p.net import messages
    from potluck.p2p.net.channel import NoiseChannel

    home = Path(sys.argv[sys.argv.index("--home") + 1]).name if "--home" in sys.argv else ""
    log = (folder / f"{os.getpid()}.jsonl").open("a", buffering=1)

    def write(way: str, peer: str, message: Any, size: int) -> None:
        line = {
            "t": time.time(),
            "home": home,
            "way": way,
            "peer": peer,
            "type": type(message).__name__,
            "doc": getattr(message, "id", None),
            "bytes": size,
        }
        if isinstance(message, messages.Hello):
            line["device"] = message.device  # which home is which peer
        log.write(json.dumps(line) + "\n")

    async def send(self: NoiseChannel, message: messages.Message) -> None:
        data = messages.encode(message)
        await self.connection.send(data)
        write("out", self.remote_device, message, len(data))

    async def receive(self: NoiseChannel) -> messages.Message:
        data = await self.connection.receive()
        message = messages.decode(data)
        write("in", self.remote_device, message, len(data))
        return message

    NoiseChannel.send = send  # type: ignore[method-assign]
    NoiseChannel.receive = receive  # type: ignore[method-assign]


if os.environ.get("POTLUCK_MESSAGE_LOG"):
    _install(Path(os.environ["POTLUCK_MESSAGE_LOG"]))
