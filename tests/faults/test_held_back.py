"""A peer that cannot be heard is not sent change after change. A cut that the connection
survives (a router rebooting, a cable out for half a minute) used to queue one sync message per
change on the dead link; after the heal all of them arrived, and were answered, at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.p2p.net.channel import MemoryChannel, memory_pair
from potluck.p2p.net.messages import Message, Sync
from potluck.p2p.net.session import Session, Timing
from potluck.p2p.net.sync import held_back, paused

from tests.faults.test_relay import change, session, stop
from tests.p2p_helpers import make_homes, wait_until

REPLIES = 15


class Cuttable:
    """A channel whose sends can be held back, as on a link that is cut, and let through."""

    def __init__(self, inner: MemoryChannel) -> None:
        self.inner = inner
        self.remote_device = inner.remote_device
        self.sent: list[Message] = []
        self.cut = False
        self._held: list[Message] = []

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if self.cut:
            self._held.append(message)
        else:
            await self.inner.send(message)

    async def heal(self) -> None:
        self.cut = False
        for message in self._held:
            await self.inner.send(message)
        self._held.clear()

    async def receive(self) -> Message:
        return await self.inner.receive()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def stalled(self) -> bool:
        return self.inner.stalled()


async def test_changes_made_during_a_cut_wait_and_go_in_one_round_after_it(
    tmp_path: Path,
) -> None:
    (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
    item = ana.board(board_id).post(Kind.NEED, "Blankets for the night shelter")
    to_bo, to_ana = (Cuttable(end) for end in memory_pair(ana.device_id, bo.device_id))
    timing = Timing(ping_every=30.0, silence_limit=60.0, probe_after=0.2, hold_after=0.2)
    ana_side, ana_node_home, ana_db = session(ana.path, board_id, to_bo, timing)
    bo_side, bo_node_home, bo_db = session(bo.path, board_id, to_ana, timing)
    tasks = [asyncio.create_task(s.run()) for s in (ana_side, bo_side)]

    def syncs_to_bo() -> int:
        return sum(isinstance(m, Sync) and m.id == item for m in to_bo.sent)

    def in_sync(*sides: Session) -> bool:
        return all(side.in_sync for side in sides)

    def replies(home: Home) -> list[str]:
        return sorted(r.text for r in home.board(board_id).item(item).replies)

    try:
        await wait_until(lambda: in_sync(ana_side, bo_side) and item in bo_side.board.digests)
        # Bo replies once, so that the next changes go as sync messages, not whole documents.
        bo.board(board_id).reply(item, "I have two")
        change(bo, bo_side, item)
        await wait_until(lambda: in_sync(ana_side, bo_side) and len(replies(ana)) == 1)

        def ana_replies(n: int) -> None:
            ana.board(board_id).reply(item, f"Blanket {n} is in the hall")
            change(ana, ana_side, item)

        to_bo.cut = to_ana.cut = True
        before = syncs_to_bo()
        ana_replies(0)  # pushed into the cut
        await wait_until(
            lambda: time.monotonic() - ana_side.state.last_heard > timing.probe_after,
            what="Bo silent for longer than probe_after",
        )
        ana_replies(1)  # pushed with a ping, which nothing answers …
        await wait_until(lambda: paused(ana_side.state), what="Ana's ping to Bo")
        ana_replies(2)  # … so this waits, before the ping is even hold_after old …
        await wait_until(
            lambda: held_back(ana_side.state, time.monotonic()),
            what="Ana holding back once the ping is 0.2 s old",
        )
        for n in range(3, REPLIES):  # … and so do the rest, made while the link stays cut
            ana_replies(n)
        await wait_until(lambda: not ana_side._wake.is_set(), what="Ana's session has looked")
        during_cut = syncs_to_bo() - before
        # Pushes stop with the first ping that goes unanswered, not one per reply.
        assert held_back(ana_side.state, time.monotonic())
        assert 1 <= during_cut <= 2, during_cut

        await to_bo.heal()
        await to_ana.heal()
        await wait_until(
            lambda: len(replies(bo)) == REPLIES + 1 and in_sync(ana_side, bo_side),
            what="Bo has every reply",
        )
        assert syncs_to_bo() - before - during_cut <= 4  # the rest went in one round
    finally:
        await stop(tasks, (ana_db, ana_node_home), (bo_db, bo_node_home))
    assert replies(bo) == replies(ana)


async def test_a_new_connection_counts_as_across_a_cut_until_its_catch_up_arrived(
    tmp_path: Path,
) -> None:
    """A connection made lately may join the two sides of a cut the older ones did not
    survive; once what the peer held has arrived, the peer is on our side, so a cut soon
    after is spread after as any other (a mesh just formed used to count every peer as across
    for 30 s)."""
    (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
    ana.board(board_id).post(Kind.NEED, "Blankets for the night shelter")
    to_bo, to_ana = memory_pair(ana.device_id, bo.device_id)
    ana_side, ana_node_home, ana_db = session(ana.path, board_id, to_bo)
    bo_side, bo_node_home, bo_db = session(bo.path, board_id, to_ana)
    started = time.monotonic()
    assert ana_side.cut_off and bo_side.cut_off
    tasks = [asyncio.create_task(s.run()) for s in (ana_side, bo_side)]
    try:
        await wait_until(lambda: ana_side.in_sync and bo_side.in_sync, what="in sync")
        assert not ana_side.cut_off and not bo_side.cut_off
        assert time.monotonic() - started < ana_side.timing.cut_memory  # still a young one
    finally:
        await stop(tasks, (ana_db, ana_node_home), (bo_db, bo_node_home))
