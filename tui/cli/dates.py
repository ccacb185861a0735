"""Dates as people type them, for the command line and the app's forms alike: one place that
accepts and refuses the same things everywhere ("fri 19:00", "tomorrow 18:30", "19:00",
"5 dec 19:00", "2026-12-05 19:00"; see WHEN_EXAMPLES)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from potluck.p2p import InvalidInput, parse_day, parse_deadline, parse_when


def shown(ms: int) -> str:
    """'Fri 04 Dec 2026 19:00'."""
    return datetime.fromtimestamp(ms / 1000).strftime("%a %d %b %Y %H:%M")


class InPast(InvalidInput):
    """A start typed for a time already past: the command line refuses it without --past,
    the app asks. `ms` is the time that was meant."""

    def __init__(self, message: str, ms: int) -> None:
        super().__init__(message)
        self.ms = ms


def local_now() -> datetime:
    """This device's local wall-clock time, now (naive)."""
    return datetime.fromtimestamp(time.time())


def to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def when_ms(text: str | None, what: str, now: datetime | None = None) -> int | None:
    """A time as typed, to milliseconds; None when nothing was typed."""
    if text is None or not text.strip():
        return None
    try:
        return to_ms(parse_when(text, now or local_now()))
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def start_ms(
    text: str | None, what: str, *, past_ok: bool = False, now: datetime | None = None
) -> int | None:
    """An event's start: a time in the past raises InPast unless `past_ok`."""
    now = now or local_now()
    found = when_ms(text, what, now)
    if found is not None and not past_ok and found < to_ms(now) - 60_000:
        raise InPast(
            f"{what} {shown(found)} is in the past: give --past to post it anyway",
            found,
        )
    return found


def end_ms(text: str | None, start: int | None, what: str) -> int | None:
    """An end as typed, seen from the start: '22:00' is the 22:00 after it."""
    if start is None:
        return when_ms(text, what)
    return when_ms(text, what, datetime.fromtimestamp(start / 1000))


def day_of(text: str | None, what: str, today: date | None = None) -> date | None:
    """A day as typed ('tue', 'tomorrow', '8 dec', '2026-12-08'); None when nothing was typed."""
    if text is None or not text.strip():
        return None
    try:
        return parse_day(text, today or local_now().date())
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def deadline_ms(
    text: str | None, what: str, *, past_ok: bool = False, now: datetime | None = None
) -> int | None:
    """A decision date: a day (until its end) or a day and time; not in the past."""
    if text is None or not text.strip():
        return None
    now = now or local_now()
    try:
        found = to_ms(parse_deadline(text, now))
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None
    if not past_ok and found < to_ms(now):
        raise InPast(f"{what} {shown(found)} is in the past", found)
    return found


def example(now: datetime | None = None) -> str:
    """A start to show as an example: always in the future (the coming Friday, 19:00)."""
    now = now or local_now()
    friday = now.date() + timedelta(days=(4 - now.weekday()) % 7)
    if datetime.combine(friday, datetime.min.time()).replace(hour=19) <= now:
        friday += timedelta(days=7)
    return f"fri 19:00 (that is {friday:%a} {friday.day} {friday:%b})"
