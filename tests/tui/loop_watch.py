"""Catches an event loop that is blocked: any callback that held the loop's thread too long.

What counts as blocked is the wall time a callback ran, minus the time its thread spent waiting
in the CPU run queue meanwhile (`/proc/self/task/<tid>/schedstat`, second field, in ns): on two
cores shared with other test runs, a 20 ms callback can take 80 ms of wall time only because the
scheduler ran someone else, and that is not the app's doing. Nor is the time the hypervisor gave
the CPU to another machine (steal time, `/proc/stat`, of the CPU it took most from meanwhile):
on a busy host a 30 ms callback took 80 ms. Waiting for a disk, an fsync, a lock or SQLite's busy
timeout is neither, so it counts in full.

Two more corrections, both for CPU time, never for waiting (a callback that waits 50 ms on a
disk fails however busy the machine is):

- On this shared virtual machine the same callback takes up to twice the CPU time when the
  host is busy (no run-queue or steal time shows it), for the whole of a test or for a moment,
  and some days the machine given is three times slower than others. A fixed piece of pure
  Python is timed before and after each test, and again right after any callback that ran
  longer than the limit, and compared with the fastest time seen in the session, or REFERENCE
  if that is faster; the CPU part of a callback is divided by the larger slowdown of its test
  and of its moment, at most MAX_SLOWDOWN. Its CPU part is its own (first field of schedstat)
  and, of the time it waited off the run queue, as much as the process's other threads ran
  meanwhile: the store thread held the interpreter's lock, and its work is CPU work too.
- Python's garbage collector runs inside whichever callback allocates when a threshold is
  crossed; a full collection scans every object the test process made since the fixture froze
  the rest (the test's own corpus and homes included), 20-70 ms here. Its time is taken out of
  the callback it fell into and held to its own limit, GC_LIMIT: a collection that long means
  the heap grew, which tests/tui/test_memory.py is about.

The test's own code is not measured: the test body (driving the app, and standing in for other
processes and windows with direct `Home` calls or `subprocess.run`) and Textual's auto pilot,
which runs a snapshot's `run_before` and exports the SVG.

The app's start-up is measured like everything else. Modules are imported before the loop
runs; Textual parsing the stylesheet and composing the first screen is CPU work of 10-30 ms
here, under the limit; what the app used to do there on the loop (open SQLite, read the home)
is exactly what this is meant to catch, so nothing is exempted.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import gc
import operator
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

LIMIT = 0.050
"""Seconds a callback may hold the loop (run-queue waits not counted)."""
MAX_SLOWDOWN = 4.0
"""The most a slow or busy host is allowed to excuse: CPU time is divided by at most this."""
REFERENCE = 0.0007
"""CPU seconds the calibration takes on the 2-core machine the limits were set on (a slower
machine's fastest counts as slowed down against it)."""
GC_LIMIT = 0.100
"""Seconds one garbage collection may take on the loop (CPU time, scaled like the rest)."""

TICKS = os.sysconf("SC_CLK_TCK")

_fastest: list[float] = [REFERENCE]
"""The fastest calibration seen in this process, in CPU seconds (REFERENCE until one is faster)."""


def calibration_seconds() -> float:
    """The thread CPU time a fixed piece of pure Python takes now (the best of a few runs)."""
    best = float("inf")
    for _ in range(5):
        start = time.thread_time()
        total = 0
        for n in range(20_000):
            total += n * n % 7
        best = min(best, time.thread_time() - start)
    return best


def slowdown() -> float:
    """How much slower than its fastest in this session the CPU runs code now (1 or more)."""
    now = calibration_seconds()
    if now < _fastest[0]:
        _fastest[:] = [now]
    return max(1.0, min(MAX_SLOWDOWN, now / _fastest[0]))


@dataclass(frozen=True)
class Span:
    """One callback that ran long: what it was and where its time went."""

    what: str
    wall: float
    run_queue: float
    """Seconds waiting for a CPU: in the run queue, and stolen by the hypervisor."""
    cpu: float
    collecting: float = 0.0
    """CPU seconds of the garbage collector within `cpu`."""
    others: float = 0.0
    """CPU seconds the process's other threads ran meanwhile."""
    slowdown: float = 1.0
    """How slow the CPU ran right after the callback (see `slowdown()`)."""

    def blocked(self, slowdown: float) -> float:
        """Seconds the loop was held: waits in full, CPU time as an unloaded CPU would take
        (at the test's slowdown, or the moment's if larger), garbage collection apart; a wait
        while other threads ran counts as their CPU time."""
        waited = max(0.0, self.wall - self.run_queue - self.cpu)
        held = min(waited, self.others)
        cpu = max(0.0, self.cpu - self.collecting) + held
        return waited - held + cpu / max(slowdown, self.slowdown)

    def describe(self, slowdown: float) -> str:
        return (
            f"{self.what}: blocked {self.blocked(slowdown) * 1000:.0f} ms "
            f"(wall {self.wall * 1000:.0f}, run queue {self.run_queue * 1000:.0f}, "
            f"cpu {self.cpu * 1000:.0f} of which collecting {self.collecting * 1000:.0f}, "
            f"other threads {self.others * 1000:.0f}, "
            f"at slowdown {slowdown:.2f}, {self.slowdown:.2f} right after)"
        )


def stolen(stat: bytes) -> list[int]:
    """Ticks the hypervisor has taken from each CPU so far, from /proc/stat."""
    return [int(line.split()[8]) for line in stat.split(b"\n") if line[3:4].isdigit()]


def describe(handle: asyncio.events.Handle) -> str:
    """The callback, and for a task's step the coroutine and where it stopped next."""
    owner = getattr(handle._callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = f" (now at {frame.f_code.co_filename}:{frame.f_lineno})" if frame else ""
        return f"task {getattr(coro, '__qualname__', coro)!s}{where}"
    return repr(handle)[:300]


class LoopWatch:
    """Times every callback run on one thread's event loops (the thread that makes it)."""

    def __init__(self, limit: float = LIMIT, exempt: frozenset[str] = frozenset()) -> None:
        self.limit = limit
        self.exempt = exempt
        """Names of coroutines whose steps are not measured (the test's own code)."""
        self.spans: list[Span] = []
        self.collections: list[float] = []
        """CPU seconds of each garbage collection run on the watched thread."""
        self._collecting = 0.0
        self._collection_started = 0
        self.slowdown = 1.0
        self.thread = threading.get_native_id()
        self._fd = os.open(f"/proc/self/task/{self.thread}/schedstat", os.O_RDONLY)
        self._stat = os.open("/proc/stat", os.O_RDONLY)

    def stat(self) -> bytes:
        """/proc/stat as it is now, unparsed (read before every callback)."""
        return os.pread(self._stat, 4096, 0)

    def schedstat(self) -> tuple[int, int]:
        """Nanoseconds this thread has run on a CPU, and waited in the run queue, so far."""
        fields = os.pread(self._fd, 64, 0).split()
        return int(fields[0]), int(fields[1])

    def mine(self, callback: object) -> bool:
        """Whether a callback is a step of the test's own code."""
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            name = getattr(owner.get_coro(), "__name__", "")
            return name in self.exempt
        return False

    @property
    def found(self) -> list[str]:
        """The callbacks that held the loop longer than the limit, and the collections."""
        found = [
            span.describe(self.slowdown)
            for span in self.spans
            if span.blocked(self.slowdown) > self.limit
        ]
        found += [
            f"a garbage collection of {seconds * 1000:.0f} ms of CPU "
            f"(at slowdown {self.slowdown:.2f})"
            for seconds in self.collections
            if seconds / self.slowdown > GC_LIMIT
        ]
        return found

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        if threading.get_native_id() != self.thread:
            return
        cpu, _ = self.schedstat()
        if phase == "start":
            self._collection_started = cpu
            return
        seconds = (cpu - self._collection_started) / 1e9
        self._collecting += seconds
        if info.get("generation") == 2:
            self.collections.append(seconds)

    @contextmanager
    def watching(self) -> Iterator[LoopWatch]:
        original = asyncio.events.Handle._run
        watch = self

        def run(handle: asyncio.events.Handle) -> None:
            if threading.get_native_id() != watch.thread or watch.mine(handle._callback):
                original(handle)
                return
            cpu, queued = watch.schedstat()
            stat = watch.stat()
            collecting = watch._collecting
            process = time.process_time()
            start = time.perf_counter()
            try:
                original(handle)
            finally:
                wall = time.perf_counter() - start
                if wall > watch.limit:
                    process_after = time.process_time()
                    cpu_after, queued_after = watch.schedstat()
                    own = (cpu_after - cpu) / 1e9
                    watch.spans.append(
                        Span(
                            describe(handle),
                            wall,
                            (queued_after - queued) / 1e9
                            + max(map(operator.sub, stolen(watch.stat()), stolen(stat)), default=0)
                            / TICKS,
                            own,
                            collecting=watch._collecting - collecting,
                            others=max(0.0, process_after - process - own),
                            slowdown=slowdown(),
                        )
                    )

        before = slowdown()
        asyncio.events.Handle._run = run  # type: ignore[method-assign]
        gc.callbacks.append(self._on_collection)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._on_collection)
            asyncio.events.Handle._run = original  # type: ignore[method-assign]
            os.close(self._fd)
            os.close(self._stat)
            self.slowdown = max(before, slowdown())
