"""Dates and shifts as people type them: what each phrase means, and what is refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from potluck.p2p import InvalidInput, parse_day, parse_deadline, parse_shift, parse_when
from potluck.p2p.model.phrases import describe
from potluck.p2p.model.rules import Recurrence, Rule

MONDAY_EVENING = datetime(2026, 11, 30, 20, 44)
FRIDAY_EVENING = datetime(2026, 12, 4, 20, 0)


@pytest.mark.parametrize(
    ("typed", "now", "meant"),
    [
        ("fri 19:00", MONDAY_EVENING, datetime(2026, 12, 4, 19, 0)),
        ("Friday 7pm", MONDAY_EVENING, datetime(2026, 12, 4, 19, 0)),
        ("fri at 7:30pm", MONDAY_EVENING, datetime(2026, 12, 4, 19, 30)),
        # Friday after 19:00: the coming Friday, never the one just gone.
        ("fri 19:00", FRIDAY_EVENING, datetime(2026, 12, 11, 19, 0)),
        ("fri 21:00", FRIDAY_EVENING, datetime(2026, 12, 4, 21, 0)),
        ("mon 21:00", MONDAY_EVENING, datetime(2026, 11, 30, 21, 0)),
        ("mon 19:00", MONDAY_EVENING, datetime(2026, 12, 7, 19, 0)),
        ("tomorrow 18:30", MONDAY_EVENING, datetime(2026, 12, 1, 18, 30)),
        ("19:00", MONDAY_EVENING, datetime(2026, 12, 1, 19, 0)),
        ("21:00", MONDAY_EVENING, datetime(2026, 11, 30, 21, 0)),
        ("19h30", MONDAY_EVENING, datetime(2026, 12, 1, 19, 30)),
        ("2026-12-05 19:00", MONDAY_EVENING, datetime(2026, 12, 5, 19, 0)),
        ("2026-12-05T19:00", MONDAY_EVENING, datetime(2026, 12, 5, 19, 0)),
        ("5 dec 19:00", MONDAY_EVENING, datetime(2026, 12, 5, 19, 0)),
        ("dec 5 19:00", MONDAY_EVENING, datetime(2026, 12, 5, 19, 0)),
        ("sat 5 dec 10:00", MONDAY_EVENING, datetime(2026, 12, 5, 10, 0)),
        ("5th december at 10am", MONDAY_EVENING, datetime(2026, 12, 5, 10, 0)),
        # A date without its year is the coming one: 1 Nov typed in December is next year's.
        ("1 nov 19:00", MONDAY_EVENING, datetime(2027, 11, 1, 19, 0)),
        ("5 dec 2027 19:00", MONDAY_EVENING, datetime(2027, 12, 5, 19, 0)),
        # Given as a date, a time already past stays past: the caller refuses or asks.
        ("today 10:00", MONDAY_EVENING, datetime(2026, 11, 30, 10, 0)),
        ("2026-11-01 19:00", MONDAY_EVENING, datetime(2026, 11, 1, 19, 0)),
    ],
)
def test_when(typed: str, now: datetime, meant: datetime) -> None:
    assert parse_when(typed, now) == meant


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("fri", "needs a time"),
        ("2026-12-05", "needs a time"),
        ("next fri 19:00", "two ways"),
        ("last fri 19:00", "two ways"),
        ("sun 5 dec 19:00", "is a Saturday"),
        ("31 nov 19:00", "not a date"),
        ("25:00", "not a time"),
        ("5 19:00", "needs a month"),
        ("soonish", "not understood"),
        ("19:00 20:00", "two times"),
        ("12/05 19:00", "not understood"),
    ],
)
def test_when_refused_with_examples(typed: str, why: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_when(typed, MONDAY_EVENING)
    assert why in str(refused.value) and "fri 19:00" in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("tue", date(2026, 12, 1)),
        ("mon", date(2026, 11, 30)),
        ("tomorrow", date(2026, 12, 1)),
        ("8 dec", date(2026, 12, 8)),
        ("2026-12-08", date(2026, 12, 8)),
    ],
)
def test_day(typed: str, meant: date) -> None:
    assert parse_day(typed, MONDAY_EVENING.date()) == meant


def test_deadline_is_the_end_of_a_day_or_the_time_given() -> None:
    assert parse_deadline("fri", MONDAY_EVENING) == datetime(2026, 12, 4, 23, 59)
    assert parse_deadline("fri 12:00", MONDAY_EVENING) == datetime(2026, 12, 4, 12, 0)


@pytest.mark.parametrize(
    ("typed", "rrule", "start", "minutes", "until"),
    [
        ("every tue 18:00-21:00", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU", "2026-12-01T18:00", 180, ""),
        (
            "every tue,thu 18:00-21:00",
            "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU,TH",
            "2026-12-01T18:00",
            180,
            "",
        ),
        (
            "tuesdays and thursdays 6pm-9pm",
            "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU,TH",
            "2026-12-01T18:00",
            180,
            "",
        ),
        (
            "every 2 weeks sat 10:00-13:00",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA",
            "2026-12-05T10:00",
            180,
            "",
        ),
        ("every other wed 19:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "2026-12-02T19:00", 0, ""),
        (
            "first sat of the month 10:00-13:00",
            "FREQ=MONTHLY;INTERVAL=1;BYDAY=1SA",
            "2026-12-05T10:00",
            180,
            "",
        ),
        ("last fri 19:00-22:00", "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR", "2026-12-25T19:00", 180, ""),
        (
            "every tue 18:00-21:00 from 2026-12-01 until 2027-03-31",
            "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU",
            "2026-12-01T18:00",
            180,
            "2027-03-31",
        ),
        ("12 dec 10:00-13:00", "", "2026-12-12T10:00", 180, ""),
        ("sat 5 dec 10:00-13:00", "", "2026-12-05T10:00", 180, ""),
        # The night watch crosses midnight; a bare weekday repeats (as the form always meant).
        (
            "every day 22:00-06:00",
            "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR,SA,SU",
            "2026-11-30T22:00",
            480,
            "",
        ),
        ("Sat 10:00", "FREQ=WEEKLY;INTERVAL=1;BYDAY=SA", "2026-12-05T10:00", 0, ""),
        ("Saturdays 10:00", "FREQ=WEEKLY;INTERVAL=1;BYDAY=SA", "2026-12-05T10:00", 0, ""),
    ],
)
def test_shift(typed: str, rrule: str, start: str, minutes: int, until: str) -> None:
    assert parse_shift(typed, MONDAY_EVENING) == Rule(rrule, start, minutes, until)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("Sat", "start time"),
        ("every tue", "start time"),
        ("every second sat 10:00", "two ways"),
        ("blah 10:00", "'blah' is not understood"),
        ("every 99 weeks tue 10:00", "not a rota"),
        ("12 dec 10:00 until 2027-01-01", "no 'from' or 'until'"),
        ("every tue 10:00-10:00", "ends when it starts"),
        ("every tue 18:00 until 2026-01-01", "before its first"),
        ("first of the month 10:00", "'first' is not understood"),
    ],
)
def test_shift_refused_with_examples(typed: str, why: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_shift(typed, MONDAY_EVENING)
    assert why in str(refused.value), refused.value
    assert "every tue 18:00-21:00" in str(refused.value)


weekly = st.builds(
    lambda days, interval: ("weekly", interval, tuple((None, d) for d in sorted(days))),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(1, 4),
)
monthly = st.builds(
    lambda days: ("monthly", 1, tuple(sorted(days, key=lambda d: (d[0] % 99, d[1])))),
    st.sets(st.tuples(st.sampled_from([1, 2, 3, 4, -1]), st.integers(0, 6)), min_size=1),
)


@settings(max_examples=200, deadline=None)
@given(
    kind=st.one_of(weekly, monthly, st.just(("once", 1, ()))),
    start=st.dates(date(2026, 11, 30), date(2027, 6, 1)),
    hour=st.integers(0, 23),
    minutes=st.sampled_from([0, 30, 90, 180, 600]),
    until=st.one_of(st.none(), st.integers(0, 400)),
    today=st.dates(date(2026, 11, 1), date(2026, 11, 30)),
)
def test_a_rule_said_in_words_reads_back_to_the_same_dates(
    kind: tuple[str, int, tuple[tuple[int | None, int], ...]],
    start: date,
    hour: int,
    minutes: int,
    until: int | None,
    today: date,
) -> None:
    freq, interval, days = kind
    last = start + timedelta(days=until) if until is not None and freq != "once" else None
    first = Recurrence(freq, interval, days, datetime.combine(start, datetime.min.time()), 0, last)
    if freq == "weekly":  # rules as parse_shift makes them start on one of their dates
        begin = min(start + timedelta(days=(d - start.weekday()) % 7) for _, d in days)
    elif freq == "monthly":
        found = first.first_on_or_after(start)
        if found is None:
            return
        begin = found.date()
    else:
        begin = start
    rule = Recurrence(
        freq, interval, days, datetime.combine(begin, datetime.min.time()).replace(hour=hour),
        minutes, last,
    ).rule()  # fmt: skip
    if last is not None and begin > last:
        return
    words = describe(rule, today)
    again = parse_shift(words, datetime.combine(today, datetime.min.time()))
    window = (today, today + timedelta(days=800))
    original = rule.recurrence()
    assert original is not None
    read_back = again.recurrence()
    assert read_back is not None, words
    assert read_back.starts(*window) == original.starts(*window), words
    assert read_back.minutes == original.minutes


@settings(max_examples=200, deadline=None)
@given(
    kind=st.one_of(weekly, monthly),
    start=st.dates(date(2000, 1, 1), date(2026, 1, 1)),
    first=st.dates(date(2026, 1, 1), date(2027, 1, 1)),
)
def test_dates_far_from_the_start_are_those_of_the_whole_rule(
    kind: tuple[str, int, tuple[tuple[int | None, int], ...]], start: date, first: date
) -> None:
    """Occurrences are derived from a start moved forward by whole periods: the same dates as
    walking dateutil's rule from the rule's own start."""
    from dateutil import rrule as rr

    freq, interval, days = kind
    when = datetime.combine(start, datetime.min.time()).replace(hour=18)
    found = Recurrence(freq, interval, days, when, 60, None)
    whole = rr.rrule(
        rr.WEEKLY if freq == "weekly" else rr.MONTHLY,
        interval=interval,
        byweekday=[rr.weekday(d, o) for o, d in days],
        dtstart=when,
    )
    last = first + timedelta(days=70)
    expected = whole.between(
        datetime.combine(first, datetime.min.time()),
        datetime.combine(last, datetime.max.time()),
        inc=True,
    )
    assert found.starts(first, last) == expected


def test_rules_a_peer_may_write_that_are_not_understood() -> None:
    for rrule in (
        "FREQ=SECONDLY;BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;INTERVAL=0;BYDAY=MO",
        "FREQ=WEEKLY;INTERVAL=999;BYDAY=MO",
        "FREQ=WEEKLY;COUNT=3;BYDAY=MO",
        "FREQ=MONTHLY;BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=1MO",
        "garbage",
    ):
        assert Rule(rrule, "2026-12-01T18:00", 60).recurrence() is None, rrule
    for start in ("", "2026-13-01T18:00", "0001-01-01T00:00", "tomorrow"):
        assert Rule("FREQ=WEEKLY;BYDAY=MO", start, 60).recurrence() is None
    assert Rule("FREQ=WEEKLY;BYDAY=MO", "2026-12-01T18:00", 60 * 24 * 30).recurrence() is None
