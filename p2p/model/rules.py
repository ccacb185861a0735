"""A shift's recurrence: the RFC 5545 rule of schema v2, read strictly, and its dates derived."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil import rrule as rr
from dateutil.relativedelta import relativedelta

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ORDINAL_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
MAX_INTERVAL = 52
"""Every N weeks (or months) at most: a rule from a peer past that is not understood."""
MAX_MINUTES = 24 * 60
"""How long an occurrence may last: a night watch, not a week."""
FIRST_YEAR, LAST_YEAR = 2000, 2200
"""Years a rule's start and last date may name; a peer's year 1 or 9999 is not understood."""
MAX_OCCURRENCES = 400
"""Occurrences derived for one shift in one window, whatever the window."""
_START = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_BYDAY = re.compile(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)")


@dataclass(frozen=True)
class Rule:
    """A shift's when, as schema v2 stores it: an RRULE without DTSTART (empty for a one-off),
    the first occurrence's local date and time, how long each lasts, and an optional last date."""

    rrule: str
    start: str
    """`YYYY-MM-DDTHH:MM`, local wall-clock time."""
    minutes: int = 0
    """0 when no end time was given."""
    until: str = ""
    """`YYYY-MM-DD` or empty."""

    def recurrence(self) -> Recurrence | None:
        """The rule read strictly, or None when this version does not understand it (a peer
        may write anything): such a shift is shown, with no dates."""
        return Recurrence.read(self)


@dataclass(frozen=True)
class Recurrence:
    """A rule this version understands: weekly on some weekdays every N weeks, monthly on
    the Nth (or last) weekdays, or once."""

    freq: str
    """'weekly', 'monthly' or 'once'."""
    interval: int
    days: tuple[tuple[int | None, int], ...]
    """(ordinal or None, weekday 0=Monday) pairs, sorted."""
    start: datetime
    minutes: int
    until: date | None

    @classmethod
    def read(cls, rule: Rule) -> Recurrence | None:
        start = parse_start(rule.start)
        if start is None or not 0 <= rule.minutes <= MAX_MINUTES:
            return None
        until = parse_day(rule.until) if rule.until else None
        if rule.until and until is None:
            return None
        if not rule.rrule:
            return cls("once", 1, (), start, rule.minutes, None)
        parts: dict[str, str] = {}
        for part in rule.rrule.split(";"):
            key, sep, value = part.partition("=")
            if not sep or key in parts or key not in ("FREQ", "INTERVAL", "BYDAY"):
                return None
            parts[key] = value
        freq = {"WEEKLY": "weekly", "MONTHLY": "monthly"}.get(parts.get("FREQ", ""))
        interval_text = parts.get("INTERVAL", "1")
        if freq is None or not interval_text.isdigit() or "BYDAY" not in parts:
            return None
        interval = int(interval_text)
        if not 1 <= interval <= MAX_INTERVAL:
            return None
        days: set[tuple[int | None, int]] = set()
        for code in parts["BYDAY"].split(","):
            match = _BYDAY.fullmatch(code)
            if match is None:
                return None
            ordinal = int(match[1]) if match[1] else None
            if (freq == "weekly") != (ordinal is None) or ordinal == 0:
                return None
            days.add((ordinal, WEEKDAY_CODES.index(match[2])))
        return cls(freq, interval, tuple(sorted(days, key=_day_order)), start, rule.minutes, until)

    def rrule_text(self) -> str:
        """The RRULE as schema v2 writes it (FREQ, INTERVAL, BYDAY; empty for a one-off)."""
        if self.freq == "once":
            return ""
        byday = ",".join(f"{o if o else ''}{WEEKDAY_CODES[d]}" for o, d in self.days)
        return f"FREQ={self.freq.upper()};INTERVAL={self.interval};BYDAY={byday}"

    def rule(self) -> Rule:
        return Rule(
            self.rrule_text(),
            self.start.strftime("%Y-%m-%dT%H:%M"),
            self.minutes,
            self.until.isoformat() if self.until else "",
        )

    def _dateutil(self, first: date) -> rr.rrule:
        """dateutil's rule, its start moved forward by whole periods to shortly before `first`
        (the same dates, without walking every week since a start years ago)."""
        start = self.start
        if self.freq == "weekly":
            periods = (first - start.date()).days // 7 // self.interval - 1
            if periods > 0:
                start += timedelta(weeks=periods * self.interval)
        else:
            months = (first.year - start.year) * 12 + first.month - start.month
            periods = months // self.interval - 1
            if periods > 0:
                start = start.replace(day=1) + relativedelta(months=periods * self.interval)
        return rr.rrule(
            rr.WEEKLY if self.freq == "weekly" else rr.MONTHLY,
            interval=self.interval,
            byweekday=[rr.weekday(d, o) for o, d in self.days],
            wkst=rr.MO,  # explicit: dateutil otherwise reads the calendar module's setting
            dtstart=start,
            until=datetime.combine(self.until, time(23, 59, 59)) if self.until else None,
            cache=False,
        )

    def starts(self, first: date, last: date) -> list[datetime]:
        """The start of every occurrence whose local date is within [first, last]."""
        if last < first:
            return []
        if self.freq == "once":
            return [self.start] if first <= self.start.date() <= last else []
        found = []
        for when in self._dateutil(first).xafter(
            datetime.combine(first, time(0, 0)), count=MAX_OCCURRENCES, inc=True
        ):
            if when.date() > last:
                break
            found.append(when)
        return found

    def has_date(self, day: date) -> bool:
        return bool(self.starts(day, day))

    def first_on_or_after(self, day: date) -> datetime | None:
        """The first occurrence on or after `day` (within about two years)."""
        found = self.starts(day, day + timedelta(days=800))
        return found[0] if found else None


def _day_order(day: tuple[int | None, int]) -> tuple[int, int]:
    ordinal, weekday = day
    return (99 if ordinal is not None and ordinal < 0 else ordinal or 0, weekday)


def parse_start(text: str) -> datetime | None:
    """`YYYY-MM-DDTHH:MM` as a naive local datetime, or None."""
    match = _START.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        when = datetime(year, month, day, hour, minute)
    except ValueError:
        return None
    return when if FIRST_YEAR <= when.year <= LAST_YEAR else None


def parse_day(text: str) -> date | None:
    """`YYYY-MM-DD` as a date, or None."""
    match = _DAY.fullmatch(text)
    if match is None:
        return None
    try:
        day = date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None
