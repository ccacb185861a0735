"""Assemblies decide: a proposal's state from its positions and its decision date, positions
that arrive late, and an outcome that never changes without saying so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from potluck.p2p import Board, Kind, ProposalState, ResponseKind, Status
from potluck.p2p.model.assembly import outcome
from potluck.p2p.model.types import Item, Response

from tests.p2p_helpers import make_homes
from tests.test_merge import copy_documents

HOUR = 3600 * 1000
DATE = int(datetime(2026, 12, 4, 23, 59).timestamp() * 1000)
"""The decision date of the proposals below."""


def proposal(
    positions: list[tuple[str, int]], status: Status = Status.OPEN, decide_by: int | None = DATE
) -> Item:
    return Item(
        id="p",
        kind=Kind.PROPOSAL,
        title="Paint the hall green",
        body="",
        tags=(),
        status=status,
        author="ana",
        created=DATE - 100 * HOUR,
        updated=DATE - 100 * HOUR,
        responses=tuple(
            Response(f"member{n}", kind, "green is awful" if kind == "block" else "", DATE + at)
            for n, (kind, at) in enumerate(positions)
        ),
        decide_by=decide_by,
    )


# (positions as (kind, made at, hours from the date), status, has a date, now, state, decided)
CASES = [
    ([], Status.OPEN, True, -1, ProposalState.OPEN, False),
    ([], Status.OPEN, True, +1, ProposalState.AGREED, True),  # silence is consent
    ([("agree", -5), ("concern", -4)], Status.OPEN, True, +1, ProposalState.AGREED, True),
    ([("stand-aside", -5)], Status.OPEN, True, +1, ProposalState.AGREED, True),
    ([("block", -5)], Status.OPEN, True, -1, ProposalState.BLOCKED, False),  # so far
    ([("block", -5)], Status.OPEN, True, +1, ProposalState.BLOCKED, True),
    ([("block", 0)], Status.OPEN, True, +1, ProposalState.BLOCKED, True),  # on the minute
    ([("block", +2)], Status.OPEN, True, +3, ProposalState.AGREED, True),  # after: not counted
    ([("agree", -5), ("block", -1)], Status.OPEN, True, +1, ProposalState.BLOCKED, True),
    ([("block", -5)], Status.WITHDRAWN, True, +1, ProposalState.WITHDRAWN, True),
    ([], Status.CLOSED, True, -1, ProposalState.CLOSED, True),
    ([("agree", -5)], Status.MET, False, -1, ProposalState.AGREED, True),  # agreed by hand
    ([("block", -5)], Status.MET, False, -1, ProposalState.BLOCKED, True),
    ([("agree", -5)], Status.OPEN, False, +1000, ProposalState.OPEN, False),  # no date
    ([("block", +500)], Status.OPEN, False, +1000, ProposalState.BLOCKED, False),
]


@pytest.mark.parametrize(("positions", "status", "dated", "now", "state", "decided"), CASES)
def test_state(
    positions: list[tuple[str, int]],
    status: Status,
    dated: bool,
    now: int,
    state: ProposalState,
    decided: bool,
) -> None:
    item = proposal([(k, h * HOUR) for k, h in positions], status, DATE if dated else None)
    found = outcome(item, DATE + now * HOUR)
    assert (found.state, found.decided) == (state, decided)
    late = [p for p in item.responses if dated and p.time > DATE]
    assert list(found.late) == late
    assert all(b.note == "green is awful" for b in found.blocks)


class Clock:
    """This test's wall clock, which every device reads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from potluck.p2p import clock

        self.now = DATE - 48 * HOUR
        monkeypatch.setattr(clock, "now_ms", lambda: self.now)


@pytest.fixture
def apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Board, Board, Clock]]:
    clock = Clock(monkeypatch)
    homes, board_id = make_homes(tmp_path, ["Ana", "Bo"])
    try:
        yield homes[0].board(board_id), homes[1].board(board_id), clock
    finally:
        for home in homes:
            home.close()


def test_a_block_made_apart_before_the_date_and_synced_after_it_is_said(
    apart: tuple[Board, Board, Clock],
) -> None:
    ana, bo, clock = apart
    paint = ana.post(Kind.PROPOSAL, "Paint the hall green", decide_by=DATE)
    copy_documents(ana, bo)
    ana.respond(paint, ResponseKind.AGREE)
    clock.now = DATE - HOUR
    bo.respond(paint, ResponseKind.BLOCK, "night workers sleep in the hall")  # apart
    clock.now = DATE + HOUR
    shown = ana.outcome(ana.item(paint))
    assert shown.state is ProposalState.AGREED and shown.notice == ""
    assert [s.id for s in ana.agreements()] == [paint]
    clock.now = DATE + 30 * HOUR
    copy_documents(bo, ana)  # the laptops meet again
    later = ana.outcome(ana.item(paint))
    assert later.state is ProposalState.BLOCKED
    assert "this device showed it as agreed" in later.notice
    assert "block made by its date arrived late" in later.notice
    assert later.blocks[0].note == "night workers sleep in the hall"
    assert ana.agreements() == []
    assert ana.outcome(ana.item(paint)).notice == later.notice  # said until it changes again
    # Bo, who never showed it as agreed, sees the outcome with no notice.
    copy_documents(ana, bo)
    assert bo.outcome(bo.item(paint)).notice == ""


def test_a_block_made_after_the_date_changes_nothing(apart: tuple[Board, Board, Clock]) -> None:
    ana, bo, clock = apart
    paint = ana.post(Kind.PROPOSAL, "Paint the hall green", decide_by=DATE)
    copy_documents(ana, bo)
    clock.now = DATE + HOUR
    assert ana.outcome(ana.item(paint)).state is ProposalState.AGREED
    bo.respond(paint, ResponseKind.BLOCK, "too late, I know")
    copy_documents(bo, ana)
    after = ana.outcome(ana.item(paint))
    assert after.state is ProposalState.AGREED and after.notice == ""
    assert [p.member for p in after.late] == [bo.me]
    assert [s.id for s in ana.agreements()] == [paint]


def test_a_block_taken_back_after_the_date_is_said_too(apart: tuple[Board, Board, Clock]) -> None:
    ana, bo, clock = apart
    paint = ana.post(Kind.PROPOSAL, "Paint the hall green", decide_by=DATE)
    copy_documents(ana, bo)
    bo.respond(paint, ResponseKind.BLOCK, "green is awful")
    copy_documents(bo, ana)
    clock.now = DATE + HOUR
    assert ana.outcome(ana.item(paint)).state is ProposalState.BLOCKED
    bo.withdraw(paint, ResponseKind.BLOCK)
    copy_documents(bo, ana)
    now = ana.outcome(ana.item(paint))
    assert now.state is ProposalState.AGREED and "taken back" in now.notice


def test_a_decision_date_is_only_for_proposals(apart: tuple[Board, Board, Clock]) -> None:
    ana, _, _ = apart
    from potluck.p2p import InvalidInput

    with pytest.raises(InvalidInput, match="only a proposal"):
        ana.post(Kind.NEED, "Salt", decide_by=DATE)
    paint = ana.post(Kind.PROPOSAL, "Paint the hall green")
    ana.edit(paint, decide_by=DATE)
    assert ana.item(paint).decide_by == DATE
