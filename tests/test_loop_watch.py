"""The blocked-loop watch of the app's tests (tests/tui/loop_watch.py) catches what it should.

These live outside tests/tui, whose autouse fixture would (rightly) fail them."""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time

from tests.tui.loop_watch import GC_LIMIT, LoopWatch


async def run_on_loop(callback: object, *args: object) -> None:
    """Run one plain callback on the loop, as Textual's handlers run."""
    done = asyncio.get_running_loop().create_future()

    def step() -> None:
        try:
            callback(*args)  # type: ignore[operator]
        finally:
            done.set_result(None)

    asyncio.get_running_loop().call_soon(step)
    await done


class TestLoopWatch:
    async def test_a_callback_that_waits_is_caught(self) -> None:
        with LoopWatch(exempt=frozenset({"test_a_callback_that_waits_is_caught"})).watching() as w:
            await run_on_loop(time.sleep, 0.12)
        assert len(w.found) == 1 and "blocked" in w.found[0]

    async def test_a_callback_that_waits_on_fsync_is_caught(self) -> None:
        def write_and_sync(path: str) -> None:
            deadline = time.perf_counter() + 0.12
            with open(path, "wb") as f:
                while time.perf_counter() < deadline:
                    f.write(os.urandom(4096))
                    f.flush()
                    os.fsync(f.fileno())
                    time.sleep(0.005)  # the rest of the wait, if the disk is too quick

        with tempfile.TemporaryDirectory() as folder:
            name = "test_a_callback_that_waits_on_fsync_is_caught"
            with LoopWatch(exempt=frozenset({name})).watching() as w:
                await run_on_loop(write_and_sync, os.path.join(folder, "f"))
        assert len(w.found) == 1

    async def test_long_cpu_work_is_caught(self) -> None:
        def spin(seconds: float) -> None:
            end = time.thread_time() + seconds
            while time.thread_time() < end:
                pass

        with LoopWatch(exempt=frozenset({"test_long_cpu_work_is_caught"})).watching() as w:
            await run_on_loop(spin, 0.25)  # 0.25 s of CPU: over the limit at any slowdown
        assert len(w.found) == 1

    async def test_a_long_garbage_collection_is_counted_as_one(self) -> None:
        heap = [[n] for n in range(5_000_000)]  # 0.2-0.5 s to scan: over GC_LIMIT, slowed 3 times
        name = "test_a_long_garbage_collection_is_counted_as_one"
        with LoopWatch(exempt=frozenset({name})).watching() as w:
            await run_on_loop(gc.collect)
        del heap
        # Found as a collection, once; the callback it ran in is not charged its CPU (what the
        # callback waited besides, freeing memory on a busy host, may still count).
        assert sum("garbage collection" in found for found in w.found) == 1, w.found
        [span] = w.spans
        assert span.collecting >= w.collections[0] > GC_LIMIT
        assert span.blocked(w.slowdown) < span.wall - span.collecting

    async def test_short_callbacks_and_the_tests_own_code_pass(self) -> None:
        name = "test_short_callbacks_and_the_tests_own_code_pass"
        with LoopWatch(exempt=frozenset({name})).watching() as w:
            for _ in range(20):
                await run_on_loop(time.sleep, 0.002)
            time.sleep(0.12)  # the test body stands in for another process: not measured
            await asyncio.sleep(0)
        assert w.found == []
