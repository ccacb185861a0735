"""An impaired cable, netem in user space, for kernels built without sch_netem.

Run by tests/faults/lan.py as `python wire.py HOST_NS,BRIDGE_NS,PORT ...`. For every triple it
creates a tap `eth0` in HOST_NS and a tap PORT in BRIDGE_NS and copies Ethernet frames between
them. Frames a host sends (its egress, where netem would sit) can be impaired; frames towards a
host are copied at once. Taps carry no offloads, so every frame is complete and checksummed.

Commands on stdin, one a line:
  impair LOSS DELAY JITTER REORDER   loss and reorder as fractions, delay and jitter in seconds:
                                     drop LOSS of the frames; send REORDER of the rest at once
                                     (like netem's reorder) and hold the others DELAY ± JITTER
  clear                              no impairment; frames already held still go out on time;
                                     prints `dropped D held H` (frames lost, frames delayed)
It prints `ready` once every tap exists and exits when stdin closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
FRAME_MAX = 65536

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def open_tap(netns: str, name: str) -> int:
    """A new tap called `name` inside the named network namespace; returns its fd."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{netns}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
            flags = struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI)
            fcntl.ioctl(fd, TUNSETIFF, flags)
        finally:
            _setns(own)
    finally:
        os.close(own)
        os.close(target)
    return fd


class Impairment:
    def __init__(self, loss: float, delay: float, jitter: float, reorder: float) -> None:
        self.loss, self.delay, self.jitter, self.reorder = loss, delay, jitter, reorder

    def due(self, now: float) -> float | None:
        """When a frame sent now goes out, or None when it is lost."""
        if random.random() < self.loss:
            return None
        if random.random() < self.reorder:
            return now
        return now + max(0.0, self.delay + random.uniform(-self.jitter, self.jitter))


def _send(fd: int, frame: bytes) -> None:
    # The port may be down (the cable unplugged) or the tap gone: then the frame is lost.
    with contextlib.suppress(OSError):
        os.write(fd, frame)


def main(triples: list[str]) -> None:
    peer: dict[int, int] = {}
    egress: set[int] = set()
    for triple in triples:
        host_ns, bridge_ns, port = triple.split(",")
        host = open_tap(host_ns, "eth0")
        bridge = open_tap(bridge_ns, port)
        peer[host], peer[bridge] = bridge, host
        egress.add(host)
    poller = select.epoll()
    for fd in peer:
        poller.register(fd, select.EPOLLIN)
    poller.register(0, select.EPOLLIN)
    print("ready", flush=True)
    impairment: Impairment | None = None
    held: list[tuple[float, int, int, bytes]] = []
    count = dropped = 0
    pending_input = b""
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else -1
        for fd, _ in poller.poll(timeout):
            if fd == 0:
                data = os.read(0, 4096)
                if not data:
                    return
                pending_input += data
                while b"\n" in pending_input:
                    line, pending_input = pending_input.split(b"\n", 1)
                    words = line.decode().split()
                    if words[:1] == ["impair"]:
                        impairment = Impairment(*(float(w) for w in words[1:5]))
                    elif words[:1] == ["clear"]:
                        impairment = None
                        print(f"dropped {dropped} held {count}", flush=True)
                continue
            for _ in range(256):
                try:
                    frame = os.read(fd, FRAME_MAX)
                except BlockingIOError:
                    break
                if fd not in egress or impairment is None:
                    _send(peer[fd], frame)
                    continue
                now = time.monotonic()
                due = impairment.due(now)
                if due is None:
                    dropped += 1
                    continue
                if due <= now:
                    _send(peer[fd], frame)
                    continue
                count += 1
                heapq.heappush(held, (due, count, peer[fd], frame))
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, fd, frame = heapq.heappop(held)
            _send(fd, frame)


if __name__ == "__main__":
    main(sys.argv[1:])
