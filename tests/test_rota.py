"""Recurring shifts: the same occurrences and sign-ups on every device, whatever order their
changes meet in; standing commitments, skips and places given back; rule changes lose nothing."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from potluck.p2p import Board, InvalidInput, Kind, ResponseKind
from potluck.p2p.model import rota
from potluck.p2p.model.automerge import Document
from potluck.p2p.model.item_document import read_item

from tests.p2p_helpers import make_homes
from tests.test_merge import copy_documents

NOW = datetime(2026, 11, 30, 20, 44)
"""A Monday evening: every test here runs at this wall-clock time."""


@pytest.fixture(autouse=True)
def monday(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed(monkeypatch, NOW)


def fixed(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    from potluck.p2p import clock

    monkeypatch.setattr(clock, "now_ms", lambda: int(when.timestamp() * 1000))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Board, Board]]:
    homes, board_id = make_homes(tmp_path, ["Ana", "Bo"])
    try:
        yield homes[0].board(board_id), homes[1].board(board_id)
    finally:
        for home in homes:
            home.close()


def dates(board: Board, item: str, n: int = 0) -> list[str]:
    return [o.date for o in board.item(item).shifts[n].occurrences]


def people(board: Board, item: str, day: str, n: int = 0) -> list[str]:
    shift = board.item(item).shifts[n]
    return [p.member for o in shift.occurrences if o.date == day for p in o.people]


def test_a_weekly_shift_rolls_forward(pair: tuple[Board, Board]) -> None:
    ana, _ = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 3)])
    shift = ana.item(kitchen).shifts[0]
    assert shift.when == "every Tue 18:00-21:00" and shift.places == 3
    assert (shift.rrule, shift.start, shift.minutes) == (
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU",
        "2026-12-01T18:00",
        180,
    )
    assert dates(ana, kitchen) == ["2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22"]
    first = shift.occurrences[0]
    assert first.id == f"{shift.id}:2026-12-01"
    assert first.end is not None and first.end - first.start == 3 * 3600 * 1000


def test_signing_up_standing_skipping_and_giving_back(pair: tuple[Board, Board]) -> None:
    ana, bo = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 2)])
    copy_documents(ana, bo)
    assert "Tue 1 Dec" in bo.signup(kitchen)  # the next date
    assert "already" in bo.signup(kitchen)
    assert "every date" in ana.signup(kitchen, every=True, note="I bring bread")
    assert people(ana, kitchen, "2026-12-15") == [ana.me]
    assert "off Tue 8 Dec" in ana.signup(kitchen, skip=date(2026, 12, 8))
    assert people(ana, kitchen, "2026-12-08") == []
    skipped = next(o for o in ana.item(kitchen).shifts[0].occurrences if o.date == "2026-12-08")
    assert skipped.skipped == (ana.me,)
    ana.signup(kitchen, day=date(2026, 12, 8))  # after all: the skip is undone
    assert people(ana, kitchen, "2026-12-08") == [ana.me]
    assert "gave back" in bo.signup(kitchen, withdraw=True)
    assert people(bo, kitchen, "2026-12-01") == []
    assert "no longer" in ana.signup(kitchen, withdraw=True)
    assert ana.item(kitchen).shifts[0].standing == ()
    shown = ana.item(kitchen).shifts[0].occurrences
    assert all(o.people == () for o in shown)
    notes = [r for r in ana.item(kitchen).responses if r.kind.startswith("skip:")]
    assert notes == []  # withdrawing a standing commitment clears its skips too


def test_a_full_date_says_so_and_two_apart_are_both_kept(tmp_path: Path) -> None:
    homes, board_id = make_homes(tmp_path, ["Ana", "Bo", "Cy"])
    try:
        ana, bo, cy = (h.board(board_id) for h in homes)
        kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 1)])
        copy_documents(ana, bo)
        ana.signup(kitchen, day=date(2026, 12, 8))
        bo.signup(kitchen, day=date(2026, 12, 8))  # apart: Bo does not know Ana took it
        copy_documents(ana, cy)
        with pytest.raises(InvalidInput) as full:
            cy.signup(kitchen, day=date(2026, 12, 8))
        assert "full" in str(full.value) and "Tue 15 Dec" in str(full.value)
        copy_documents(ana, bo)
        copy_documents(bo, ana)
        for board in (ana, bo):
            over = next(
                o for o in board.item(kitchen).shifts[0].occurrences if o.date == "2026-12-08"
            )
            assert over.over_full and {p.member for p in over.people} == {ana.me, bo.me}
    finally:
        for home in homes:
            home.close()


def test_a_date_the_shift_does_not_have_lists_the_ones_it_has(pair: tuple[Board, Board]) -> None:
    ana, _ = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 2)])
    with pytest.raises(InvalidInput) as wrong:
        ana.signup(kitchen, day=date(2026, 12, 9))
    assert "no date on Wed 9 Dec" in str(wrong.value) and "Tue 1 Dec" in str(wrong.value)
    with pytest.raises(InvalidInput):
        ana.signup(kitchen, day=date(2026, 11, 24))  # past


def test_a_date_far_ahead_is_shown_once_someone_signs_up(pair: tuple[Board, Board]) -> None:
    ana, _ = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 2)])
    ana.signup(kitchen, day=date(2027, 2, 2))
    assert "2027-02-02" in dates(ana, kitchen)


def test_fewer_places_keeps_everyone_and_shows_it(pair: tuple[Board, Board]) -> None:
    ana, bo = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 2)])
    copy_documents(ana, bo)
    ana.signup(kitchen, every=True)
    bo.signup(kitchen, day=date(2026, 12, 1))
    copy_documents(bo, ana)
    change = ana.change_shift(kitchen, 1, places=1)
    assert change.places == (2, 1) and change.over_full == ("2026-12-01",)
    first = ana.item(kitchen).shifts[0].occurrences[0]
    assert first.over_full and len(first.people) == 2


def test_a_rule_change_keeps_what_people_said_and_says_what_moved(
    pair: tuple[Board, Board],
) -> None:
    ana, bo = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 3)])
    copy_documents(ana, bo)
    bo.signup(kitchen, every=True)
    bo.signup(kitchen, skip=date(2026, 12, 15))
    ana.signup(kitchen, day=date(2026, 12, 8))
    copy_documents(bo, ana)
    change = ana.change_shift(kitchen, 1, when="every tue,wed 19:00-22:00")
    assert change.before == "every Tue 18:00-21:00"
    assert change.after == "every Tue and Wed 19:00-22:00"
    assert change.times_changed and change.kept == ("2026-12-08",) and change.lost == ()
    assert change.standing == (bo.me,) and "2026-12-02" in change.new_dates
    assert people(ana, kitchen, "2026-12-08") == [bo.me, ana.me]
    assert people(ana, kitchen, "2026-12-09") == [bo.me]  # standing carries to new dates
    assert people(ana, kitchen, "2026-12-15") == []  # and the skip still holds
    moved = ana.change_shift(kitchen, 1, when="every thu 19:00-22:00")
    assert moved.lost == ((ana.me, "2026-12-08"),) and "2026-12-08" in moved.gone_dates
    assert ana.item(kitchen).shifts[0].unplaced == ((ana.me, "2026-12-08"),)
    back = ana.change_shift(kitchen, 1, when="every tue 18:00-21:00")
    assert back.kept == ("2026-12-08",) and ana.item(kitchen).shifts[0].unplaced == ()
    assert people(ana, kitchen, "2026-12-08") == [bo.me, ana.me]


def test_every_two_weeks_keeps_its_weeks_when_only_the_time_changes(
    pair: tuple[Board, Board],
) -> None:
    ana, _ = pair
    garden = ana.post(Kind.PROJECT, "Garden", shifts=[("every 2 weeks sat 10:00-13:00", 2)])
    before = dates(ana, garden)
    ana.change_shift(garden, 1, when="every 2 weeks sat 11:00-14:00")
    assert dates(ana, garden) == before


def test_monthly_and_once(pair: tuple[Board, Board]) -> None:
    ana, _ = pair
    repair = ana.post(
        Kind.PROJECT,
        "Repair café",
        shifts=[("first sat of the month 10:00-13:00", 2), ("12 dec 10:00-13:00", 4)],
    )
    assert dates(ana, repair, 0) == ["2026-12-05"]
    assert dates(ana, repair, 1) == ["2026-12-12"]
    with pytest.raises(InvalidInput, match="2 shifts"):
        ana.signup(repair)
    assert "Sat 12 Dec" in ana.signup(repair, day=date(2026, 12, 12))  # only shift 2 has it


def test_tasks_taken_back_done_and_taken_again(pair: tuple[Board, Board]) -> None:
    ana, bo = pair
    roof = ana.post(Kind.PROJECT, "Roof", tasks=["ladder", "tarp"])
    copy_documents(ana, bo)
    assert "took" in bo.task(roof, 1, note="I have one")
    assert "already" in bo.task(roof, 1)  # not "already taken or full"
    assert bo.item(roof).tasks[0].taken_by == (bo.me,)
    assert "gave back" in bo.task(roof, 1, "give-back")
    assert bo.item(roof).tasks[0].taken_by == ()
    bo.task(roof, 2, "done", note="on the roof now")
    assert bo.item(roof).tasks[1].done and bo.item(roof).tasks[1].taken_by == (bo.me,)
    assert "open again" in bo.task(roof, 2, "reopen")
    assert not bo.item(roof).tasks[1].done
    copy_documents(bo, ana)
    ana.rename_task(roof, 1, "long ladder")
    ana.add_task(roof, "rope")
    ana.remove_task(roof, 2)
    assert [t.title for t in ana.item(roof).tasks] == ["long ladder", "rope"]
    copy_documents(ana, bo)
    with pytest.raises(InvalidInput, match="only Ana"):
        bo.add_task(roof, "gloves")


def test_withdraw_a_response_and_notes_are_kept(pair: tuple[Board, Board]) -> None:
    ana, bo = pair
    soup = ana.post(Kind.EVENT, "Soup", start=int(NOW.timestamp() * 1000) + 86_400_000)
    copy_documents(ana, bo)
    bo.respond(soup, ResponseKind.GOING)
    bo.respond(soup, ResponseKind.BRING, "bread")
    assert {(r.kind, r.note) for r in bo.item(soup).responses} == {
        ("going", ""),
        ("bring", "bread"),
    }
    assert "'I'll bring'" in bo.withdraw(soup, ResponseKind.BRING)
    assert [r.kind for r in bo.item(soup).responses] == ["going"]
    bo.withdraw(soup)
    assert bo.item(soup).responses == ()
    with pytest.raises(InvalidInput, match="no response"):
        bo.withdraw(soup)


# ------------------------------------------------------------------ apart, in any order

RULES = [
    "every tue 18:00-21:00",
    "every tue,thu 18:00-21:00",
    "every 2 weeks sat 10:00-13:00",
    "first sat of the month 10:00-13:00",
    "last fri 19:00-22:00",
    "every day 22:00-06:00",
    "every mon 09:00 until 2027-01-31",
    "12 dec 10:00-13:00",
]
op = st.tuples(
    st.sampled_from(["date", "every", "skip", "give-back", "withdraw", "sync", "rule"]),
    st.integers(0, 2),  # who
    st.integers(0, 8),  # which date in view (or to whom, or which rule)
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rule=st.sampled_from(RULES),
    places=st.integers(1, 3),
    ops=st.lists(op, max_size=18),
    seed=st.integers(0, 2**32 - 1),
)
def test_devices_apart_agree_on_the_same_rota(
    monday: None, rule: str, places: int, ops: list[tuple[str, int, int]], seed: int
) -> None:
    """Random rules and random sign-ups, standing commitments, skips and withdrawals by three
    devices, synced in random orders: every device derives the same occurrences and the same
    people on them; each member's sign-ups are what their own device last wrote, whatever
    order the changes met in; and across rule changes every sign-up is either on a date or
    listed as one the shift no longer has."""
    with tempfile.TemporaryDirectory() as root:
        homes, board_id = make_homes(Path(root), ["Ana", "Bo", "Cy"])
        try:
            boards = [h.board(board_id) for h in homes]
            kitchen = boards[0].post(Kind.PROJECT, "Kitchen", shifts=[(rule, places)])
            for b in boards[1:]:
                copy_documents(boards[0], b)
            said: dict[str, dict[str, str]] = {}
            for action, who, k in ops:
                board = boards[who]
                if action == "sync":
                    if k % 3 != who:
                        copy_documents(board, boards[k % 3])
                    continue
                if action == "rule":
                    if who == 0:  # only the author changes the rule
                        boards[0].change_shift(kitchen, 1, when=RULES[k % len(RULES)])
                    continue
                shift = board.item(kitchen).shifts[0]
                view = shift.occurrences
                day = date.fromisoformat(view[k % len(view)].date) if view else None
                try:
                    if action == "date":
                        board.signup(kitchen, day=day)
                    elif action == "every":
                        board.signup(kitchen, every=True)
                    elif action == "skip":
                        board.signup(kitchen, skip=day)
                    elif action == "give-back":
                        board.signup(kitchen, day=day, withdraw=True)
                    else:
                        board.signup(kitchen, withdraw=True)
                except InvalidInput:
                    pass  # refused (full, not on it, no such date…): nothing was written
                mine = {
                    r.kind: r.note
                    for r in board.item(kitchen).responses
                    if r.member == board.me and rota.is_rota_kind(r.kind)
                }
                said[board.me] = mine
            order = [(x, y) for x in range(3) for y in range(3) if x != y]
            random.Random(seed).shuffle(order)
            for x, y in order + order:
                copy_documents(boards[x], boards[y])
            items = [b.item(kitchen) for b in boards]
            derived = [
                rota.derive_shift(rota.shift_fields(i.shifts[0]), i.responses, NOW) for i in items
            ]
            assert derived[0] == derived[1] == derived[2]
            shift = derived[0]
            for member, kinds in said.items():
                stored = {
                    r.kind: r.note
                    for r in items[0].responses
                    if r.member == member and rota.is_rota_kind(r.kind)
                }
                assert stored == kinds
            today = NOW.date().isoformat()
            on_dates = {(p.member, o.date) for o in shift.occurrences for p in o.people}
            for member, kinds in said.items():
                for kind in kinds:
                    _, _, day_ = kind.partition(":")[2].partition(":")
                    if kind.startswith("shift:") and day_ != "every" and day_ >= today:
                        assert (member, day_) in on_dates or (member, day_) in shift.unplaced
                if rota.shift_key(shift.id, "every") in kinds:
                    assert member in {p.member for p in shift.standing}
                    for o in shift.occurrences:
                        assert member in {p.member for p in o.people} or member in o.skipped
        finally:
            for home in homes:
                home.close()


def test_every_device_derives_the_same_dates_from_the_rule_alone() -> None:
    fields = rota.ShiftFields(
        "abcd1234", "", rota.Rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "2026-01-06T18:00", 90), 2
    )
    one = rota.occurrences(fields, [], date(2026, 12, 1), date(2026, 12, 31))
    two = rota.occurrences(fields, [], date(2026, 12, 1), date(2026, 12, 31))
    assert one == two
    assert [o.id for o in one] == [
        "abcd1234:2026-12-08",
        "abcd1234:2026-12-10",
        "abcd1234:2026-12-22",
        "abcd1234:2026-12-24",
    ]  # every other week counted from 6 January
    assert all(o.end is not None and o.end - o.start == 90 * 60_000 for o in one)
    assert rota.occurrences(fields, [], date(2026, 12, 1), date(2026, 12, 1) - timedelta(1)) == []


def flooded(board: Board, item_id: str, members: int, edit: Callable[[Document], None]) -> Document:
    """The item as `members` devices gone bad would make it, each writing `edit` under its own
    member key (the only place the rules let it write), merged in memory: a read-model test."""
    doc = board.home.store.documents.read_document(board.board_id, item_id)
    assert doc is not None
    saved = doc.save()
    merged = Document.load(saved, doc.actor)
    for member in range(members):
        theirs = Document.load(saved, bytes.fromhex(f"{member + 1:032x}"))
        edit(theirs)
        merged.merge(theirs)
    return merged


def test_a_flood_of_sign_ups_from_a_device_gone_bad_is_read_in_part(
    pair: tuple[Board, Board],
) -> None:
    """Each member writes only under their own key, but a device gone bad can write many keys
    there: an item's reads stay bounded (1,000 per member, 10,000 in all)."""
    import time

    from potluck.p2p.model.automerge import ROOT
    from potluck.p2p.model.item_document import MAX_RESPONSES_READ

    ana, _ = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", shifts=[("every tue 18:00-21:00", 2)])
    shift_id = ana.item(kitchen).shifts[0].id

    def flood(doc: Document) -> None:
        member = doc.actor.hex()
        with doc.change() as w:
            mine = w.map_at(w.map_at(ROOT, "responses"), member)
            for n in range(1_100):
                entry = w.map_at(mine, rota.shift_key(shift_id, f"2027-{n:05d}"))
                w.put_int(entry, "time", n)

    doc = flooded(ana, kitchen, 12, flood)
    started = time.monotonic()
    item = read_item(doc, kitchen)
    assert len(item.responses) == MAX_RESPONSES_READ
    assert len({r.member for r in item.responses}) == 10  # 1,000 from each of the first ten
    assert item.shifts[0].occurrences and time.monotonic() - started < 10


def test_a_one_off_shift_moved_to_another_day(pair: tuple[Board, Board]) -> None:
    ana, _ = pair
    fair = ana.post(Kind.PROJECT, "Fair", shifts=[("12 dec 10:00-13:00", 2)])
    ana.signup(fair)
    moved = ana.change_shift(fair, 1, when="13 dec 10:00-13:00")
    assert dates(ana, fair) == ["2026-12-13"] and moved.lost == ((ana.me, "2026-12-12"),)


def test_reopening_a_task_someone_else_marked_done(pair: tuple[Board, Board]) -> None:
    ana, bo = pair
    roof = ana.post(Kind.PROJECT, "Roof", tasks=["ladder"])
    copy_documents(ana, bo)
    bo.task(roof, 1, "done")
    copy_documents(bo, ana)
    assert "Bo marked 'ladder' done" in ana.task(roof, 1, "reopen")
    assert ana.item(roof).tasks[0].done


def test_a_thousand_daily_shifts_with_standing_members_are_read_in_part(
    pair: tuple[Board, Board],
) -> None:
    import time

    from potluck.p2p.model.automerge import ROOT

    ana, _ = pair
    kitchen = ana.post(Kind.PROJECT, "Kitchen", tasks=["mop"])

    def shifts(doc: Document) -> None:
        with doc.change() as w:
            shifts = w.list_at(ROOT, "shifts")
            for n in range(1_000):
                shift = w.append_map(shifts)
                w.put_str(shift, "id", f"{n:08x}")
                w.put_str(shift, "rrule", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU")
                w.put_str(shift, "start", "2001-01-01T18:00")
                w.put_int(shift, "places", 2)

    def standing(doc: Document) -> None:
        member = doc.actor.hex()
        with doc.change() as w:
            mine = w.map_at(w.map_at(ROOT, "responses"), member)
            for n in range(1_000):
                w.put_int(w.map_at(mine, rota.shift_key(f"{n:08x}", "every")), "time", n)

    ana.home.store.documents.update(ana.board_id, kitchen, shifts)
    doc = flooded(ana, kitchen, 10, standing)
    started = time.monotonic()
    item = read_item(doc, kitchen)
    shown = [o for s in item.shifts for o in s.occurrences]
    assert len(item.shifts) == 1_000 and len(shown) <= rota.MAX_OCCURRENCES_READ
    assert sum(len(o.people) for o in shown) <= rota.MAX_PEOPLE_READ + 1_000
    assert time.monotonic() - started < 10
