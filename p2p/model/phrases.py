"""Dates and shifts as people type them ("fri 19:00", "every tue 18:00-21:00"), and back.

A small grammar of our own rather than a general date parser: it has to be predictable
offline ("fri 19:00" is always the coming Friday, never the last one; "19:00" is the next
19:00), and what it does not understand it refuses with examples instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..errors import InvalidInput
from .rules import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_INTERVAL,
    ORDINAL_NAMES,
    WEEKDAY_NAMES,
    Recurrence,
    Rule,
)

WHEN_EXAMPLES = "'fri 19:00', 'tomorrow 18:30', '19:00', '5 dec 19:00' or '2026-12-05 19:00'"
DAY_EXAMPLES = "'tue', 'tomorrow', '8 dec' or '2026-12-08'"
SHIFT_EXAMPLES = (
    "'every tue 18:00-21:00', 'every tue,thu 18:00-21:00', 'every 2 weeks sat 10:00-13:00', "
    "'first sat of the month 10:00-13:00', 'last fri 19:00-22:00', "
    "'every tue 18:00-21:00 from 2026-12-01 until 2027-03-31' or '12 dec 10:00-13:00' (once)"
)

_WEEKDAYS = {
    name: n
    for n, names in enumerate(
        (
            "mon monday",
            "tue tues tuesday",
            "wed weds wednesday",
            "thu thur thurs thursday",
            "fri friday",
            "sat saturday",
            "sun sunday",
        )
    )
    for name in names.split()
}
_PLURAL_WEEKDAYS = {
    name + "s": n for name, n in _WEEKDAYS.items() if len(name) > 4 or name in ("mon", "sun")
}
_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        ),
        start=1,
    )
    for name in names.split()
}
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
}
_FILLERS = {"at", "on", "the", "this", "of", "in"}
_TOKEN = re.compile(
    r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})(?:t(?P<isotime>\d{1,2}:\d{2}))?"
    r"|(?P<time>\d{1,2}(?::\d{2}\s*(?:am|pm)?|h\d{2}|h|\s*(?:am|pm)))(?![a-z0-9])"
    r"|(?P<ord>\d{1,2}(?:st|nd|rd|th))(?![a-z0-9])"
    r"|(?P<num>\d+)(?![a-z])"
    r"|(?P<word>[a-z]+)"
    r"|(?P<sep>[,&+/-])"
    r"|(?P<space>\s+)"
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    extra: str = ""


def _tokens(text: str) -> list[_Token]:
    """The words, numbers, times and dates of what was typed; InvalidInput on anything else."""
    text = text.strip().lower().replace("–", "-").replace("—", "-")
    found: list[_Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise ValueError(f"'{text[at]}' is not understood")
        at = match.end()
        kind = match.lastgroup or ""
        if kind == "isotime":
            kind = "iso"
        if kind == "space":
            continue
        if kind == "iso":
            found.append(_Token("iso", match["iso"], match["isotime"] or ""))
        else:
            found.append(_Token(kind, match[kind]))
    return found


def _time(token: _Token) -> time:
    """'19:00', '7pm', '7:30 pm', '19h', '19h30' as a time of day."""
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2})|h(\d{2})?)?\s*(am|pm)?", token.text)
    if match is None:
        raise ValueError(f"'{token.text}' is not a time")
    hour, minute = int(match[1]), int(match[2] or match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise ValueError(f"'{token.text}' is not a time")
        hour = hour % 12 + (12 if match[4] == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"'{token.text}' is not a time of day")
    return time(hour, minute)


def _iso_day(text: str) -> date:
    try:
        day = date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        raise ValueError(f"'{text}' is not a date") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"'{text}' is too far away")
    return day


def _next_weekday(weekday: int, today: date) -> date:
    """The first day on or after `today` that is this weekday."""
    return today + timedelta(days=(weekday - today.weekday()) % 7)


@dataclass
class _DaySpec:
    """A day as typed: a weekday, a date with or without its year, today or tomorrow."""

    weekday: int | None = None
    day: date | None = None
    month_day: tuple[int, int] | None = None
    """(month, day) typed without a year."""
    relative: int | None = None
    """0 today, 1 tomorrow."""

    def empty(self) -> bool:
        return (
            self.weekday is None
            and self.day is None
            and not self.month_day
            and (self.relative is None)
        )

    def dated(self) -> bool:
        """Whether it names one day (not only a weekday)."""
        return self.day is not None or self.month_day is not None or self.relative is not None

    def resolve(self, today: date) -> date:
        """The day meant, seen from `today`: never a day already past unless its year is given."""
        if self.relative is not None:
            found = today + timedelta(days=self.relative)
        elif self.day is not None:
            found = self.day
        elif self.month_day is not None:
            month, day_ = self.month_day
            found = _month_day(today.year, month, day_)
            if found < today:
                found = _month_day(today.year + 1, month, day_)
        elif self.weekday is not None:
            return _next_weekday(self.weekday, today)
        else:
            return today
        if self.weekday is not None and found.weekday() != self.weekday:
            raise ValueError(
                f"{found.day} {found.strftime('%b %Y')} is a {found.strftime('%A')}, "
                f"not a {date(2024, 1, 1 + self.weekday).strftime('%A')}"
            )
        return found


def _month_day(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if month == 2 and day == 29:  # 29 Feb typed in a year without one: the next that has it
            return _month_day(year + 1, month, day)
        raise ValueError(f"{day} {date(2000, month, 1).strftime('%b')} is not a date") from None


def _day_spec(tokens: list[_Token]) -> _DaySpec:
    """The day named by tokens (without times): ValueError if they name none, or two."""
    spec = _DaySpec()
    words = [t for t in tokens if not (t.kind == "word" and t.text in _FILLERS)]
    numbers: list[int] = []
    month: int | None = None
    for token in words:
        if token.kind == "iso":
            if spec.day is not None:
                raise ValueError("two dates")
            spec.day = _iso_day(token.text)
        elif token.kind == "word" and token.text in ("today", "tonight", "tomorrow"):
            spec.relative = 1 if token.text == "tomorrow" else 0
        elif token.kind == "word" and token.text in _WEEKDAYS:
            if spec.weekday is not None:
                raise ValueError("two weekdays")
            spec.weekday = _WEEKDAYS[token.text]
        elif token.kind == "word" and token.text in _MONTHS:
            if month is not None:
                raise ValueError("two months")
            month = _MONTHS[token.text]
        elif token.kind in ("num", "ord"):
            numbers.append(int(token.text.rstrip("stndrh")))
        elif token.kind == "word" and token.text in ("next", "last"):
            raise ValueError(
                f"'{token.text}' can be read two ways: say 'fri' for the coming Friday, "
                "or give the date"
            )
        else:
            raise ValueError(f"'{token.text}' is not understood")
    if month is not None:
        if not numbers or len(numbers) > 2:
            raise ValueError("a month needs its day, like '5 dec'")
        day_ = numbers[0]
        if len(numbers) == 2:
            year = numbers[1]
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValueError(f"{year} is not a year")
            spec.day = _month_day(year, month, day_)
        else:
            _month_day(2024, month, day_)  # a day that no year has (31 Nov) is refused now
            spec.month_day = (month, day_)
    elif numbers:
        raise ValueError(f"'{numbers[0]}' needs a month, like '{numbers[0]} dec'")
    if sum(x is not None for x in (spec.day, spec.month_day, spec.relative)) > 1:
        raise ValueError("two dates")
    return spec


def _split_time(tokens: list[_Token]) -> tuple[list[_Token], time | None]:
    """The one time among the tokens (an ISO date may carry it), and the other tokens."""
    times = [t for t in tokens if t.kind == "time"]
    iso_times = [t.extra for t in tokens if t.kind == "iso" and t.extra]
    if len(times) + len(iso_times) > 1:
        raise ValueError("two times")
    rest = [t for t in tokens if t.kind != "time"]
    if times:
        return rest, _time(times[0])
    if iso_times:
        return rest, _time(_Token("time", iso_times[0]))
    return rest, None


def parse_when(text: str, now: datetime) -> datetime:
    """A date and time as people say it, seen from `now` (naive local): 'fri 19:00' is the
    coming Friday (today if it is Friday before 19:00), '19:00' the next 19:00, '5 dec 19:00'
    the coming 5 December. A time in the past comes back only when the day was given as a
    date ('today', '2026-11-01 19:00'): the caller decides whether to allow it."""
    try:
        rest, at = _split_time(_tokens(text))
        spec = _day_spec(rest)
        if at is None:
            raise ValueError("it needs a time of day")
        if spec.empty():
            found = datetime.combine(now.date(), at)
            return found if found >= now else found + timedelta(days=1)
        if not spec.dated() and spec.weekday is not None:
            found = datetime.combine(_next_weekday(spec.weekday, now.date()), at)
            return found if found >= now else found + timedelta(days=7)
        return datetime.combine(spec.resolve(now.date()), at)
    except ValueError as exc:
        raise InvalidInput(
            f"'{text.strip()}' is not a time this understands ({exc}); write e.g. {WHEN_EXAMPLES}"
        ) from None


def parse_day(text: str, today: date) -> date:
    """A day as people say it, seen from `today`: 'tue' (the coming one, today included),
    'tomorrow', '8 dec', '2026-12-08'."""
    try:
        rest, at = _split_time(_tokens(text))
        if at is not None:
            raise ValueError("give a day without a time")
        spec = _day_spec(rest)
        if spec.empty():
            raise ValueError("it names no day")
        return spec.resolve(today)
    except ValueError as exc:
        raise InvalidInput(
            f"'{text.strip()}' is not a day this understands ({exc}); write e.g. {DAY_EXAMPLES}"
        ) from None


def parse_deadline(text: str, now: datetime) -> datetime:
    """A decision date: a day (its end: 23:59) or a day and time."""
    try:
        has_time = any(t.kind == "time" or t.extra for t in _tokens(text))
    except ValueError:
        has_time = True  # let parse_when say what is wrong
    if has_time:
        return parse_when(text, now)
    try:
        return datetime.combine(parse_day(text, now.date()), time(23, 59))
    except InvalidInput:
        raise InvalidInput(
            f"'{text.strip()}' is not a date this understands; write e.g. 'fri', '12 dec' "
            "or '12 dec 19:00'"
        ) from None


# ------------------------------------------------------------------ shifts


def parse_shift(text: str, now: datetime) -> Rule:
    """A shift's when, as people say it, to a rule (see SHIFT_EXAMPLES); InvalidInput with
    examples when it is not understood."""
    try:
        return _parse_shift(_tokens(text), now).rule()
    except ValueError as exc:
        raise InvalidInput(
            f"'{text.strip()}' is not a shift this understands ({exc}); write e.g. {SHIFT_EXAMPLES}"
        ) from None


def _parse_shift(tokens: list[_Token], now: datetime) -> Recurrence:
    today = now.date()
    # The last date and the first: "from X", "until X" (also "till", "to" before a day).
    first: date | None = None
    last: date | None = None
    body: list[_Token] = []
    target: str | None = None
    clause: list[_Token] = []

    def close() -> None:
        nonlocal first, last
        if target is None:
            return
        day = _day_spec(clause).resolve(today) if clause else None
        if day is None:
            raise ValueError(f"'{target}' needs a date")
        if target == "from":
            first = day
        else:
            last = day

    for n, token in enumerate(tokens):
        word = token.text if token.kind == "word" else ""
        following = tokens[n + 1] if n + 1 < len(tokens) else None
        starts_until = word in ("until", "till", "through", "thru") or (
            word == "to" and following is not None and following.kind != "time"
        )
        if word in ("from", "starting") or starts_until:
            close()
            target = "from" if word in ("from", "starting") else "until"
            clause = []
        elif target is not None:
            clause.append(token)
        else:
            body.append(token)
    close()

    # The time range: one time, or two joined by '-' or 'to'.
    times = [n for n, t in enumerate(body) if t.kind == "time"]
    if not times:
        raise ValueError("it needs a start time, like 18:00-21:00")
    if len(times) > 2 or (len(times) == 2 and times[1] - times[0] != 2):
        raise ValueError("give one time range, like 18:00-21:00")
    begin = _time(body[times[0]])
    minutes = 0
    if len(times) == 2:
        joiner = body[times[0] + 1]
        if joiner.text not in ("-", "to"):
            raise ValueError("join the two times with '-', like 18:00-21:00")
        end = _time(body[times[1]])
        minutes = (end.hour * 60 + end.minute - begin.hour * 60 - begin.minute) % (24 * 60)
        if minutes == 0:
            raise ValueError("it ends when it starts")
        words = body[: times[0]] + body[times[1] + 1 :]
    else:
        words = body[: times[0]] + body[times[0] + 1 :]
    words = [t for t in words if not (t.kind == "sep" and t.text == "-")]
    return _recurrence(words, begin, minutes, first, last, today)


def _recurrence(
    words: list[_Token],
    at: time,
    minutes: int,
    first: date | None,
    last: date | None,
    today: date,
) -> Recurrence:
    tokens = [
        t
        for t in words
        if not (t.kind == "word" and t.text in (*_FILLERS, "and")) and t.kind != "sep"
    ]
    texts = [t.text for t in tokens]
    interval = 1
    every = False
    monthly = False
    days: list[tuple[int | None, int]] = []
    pending: list[int] = []
    rest: list[_Token] = []
    for n, word in enumerate(texts):
        following = texts[n + 1] if n + 1 < len(texts) else ""
        if word in ("every", "weekly", "each"):
            every = True
        elif word == "fortnightly":
            every, interval = True, 2
        elif word == "other" and every:
            interval = 2
        elif word.isdigit() and following in ("weeks", "week"):
            interval = int(word)
        elif word in ("week", "weeks") and every:
            pass
        elif word in ("month", "monthly", "months"):
            monthly = True
        elif word in ("day", "days", "daily", "night", "nights", "nightly"):
            every = True
            days += [(None, d) for d in range(7)]
        elif word in ("weekday", "weekdays"):
            every = True
            days += [(None, d) for d in range(5)]
        elif word in _ORDINALS and (
            following in _ORDINALS or following in _WEEKDAYS or following in _PLURAL_WEEKDAYS
        ):
            pending.append(_ORDINALS[word])
        elif word in _WEEKDAYS or word in _PLURAL_WEEKDAYS:
            weekday = _WEEKDAYS.get(word, _PLURAL_WEEKDAYS.get(word, 0))
            if pending:
                days += [(o, weekday) for o in pending]
                pending = []
            else:
                days.append((None, weekday))
        else:
            rest.append(tokens[n])
    if pending:
        raise ValueError("say which weekday, like 'first sat of the month'")
    ordinals = [d for d in days if d[0] is not None]
    if ordinals and every and not monthly:
        raise ValueError(
            "'every second sat' can be read two ways: say 'every 2 weeks sat' "
            "or 'second sat of the month'"
        )
    if rest:
        # A date: the shift happens once ("sat 6 dec 10:00-13:00", "tomorrow 18:00").
        said = " ".join(t.text for t in rest)
        if first or last:
            raise ValueError("a shift on one date takes no 'from' or 'until'")
        if every or monthly or ordinals or interval != 1:
            raise ValueError(f"'{said}' is not understood")
        weekdays = {d for _, d in days}
        if len(weekdays) > 1:
            raise ValueError("a shift on one date names one weekday")
        spec = _day_spec(rest)
        spec.weekday = weekdays.pop() if weekdays else None
        if not spec.dated():
            raise ValueError(f"'{said}' is not understood")
        day = spec.resolve(today)
        return Recurrence("once", 1, (), datetime.combine(day, at), minutes, None)
    if not days:
        raise ValueError("say which day, like 'every tue'")
    if not 1 <= interval <= MAX_INTERVAL:
        raise ValueError(f"every {interval} weeks is not a rota this keeps")
    if ordinals:
        if len(ordinals) != len(days) or interval != 1:
            raise ValueError("a monthly shift is like 'first sat of the month'")
        freq = "monthly"
    else:
        if monthly:
            raise ValueError("say which one in the month, like 'first sat of the month'")
        freq = "weekly"
    unique = tuple(sorted(set(days), key=lambda d: (99 if (d[0] or 0) < 0 else d[0] or 0, d[1])))
    anchor = first or today
    if last is not None and last < anchor:
        raise ValueError("its last date is before its first")
    draft = Recurrence(freq, interval, unique, datetime.combine(anchor, at), minutes, last)
    if freq == "weekly":
        start_day = min(_next_weekday(d, anchor) for _, d in unique)
        starts = datetime.combine(start_day, at)
    else:
        found = draft.first_on_or_after(anchor)
        if found is None:
            raise ValueError("it has no date")
        starts = found
    if last is not None and starts.date() > last:
        raise ValueError("it has no date before its last date")
    return Recurrence(freq, interval, unique, starts, minutes, last)


def describe(rule: Rule, today: date | None = None) -> str:
    """A rule in the words parse_shift reads back: 'every Tue and Thu 18:00-21:00'. With
    `today`, a first date is said only when the rule does not simply start on its next date."""
    found = rule.recurrence()
    if found is None:
        return "(a rule this version does not understand)"
    hours = found.start.strftime("%H:%M")
    if found.minutes:
        hours += "-" + (found.start + timedelta(minutes=found.minutes)).strftime("%H:%M")
    if found.freq == "once":
        return f"{found.start.strftime('%a')} {found.start.day} {found.start:%b %Y} {hours}"
    weekdays = [d for _, d in found.days]
    if found.freq == "weekly":
        if weekdays == list(range(7)):
            names = "day"
        elif weekdays == list(range(5)):
            names = "weekday"
        else:
            names = _and([WEEKDAY_NAMES[d] for d in weekdays])
        every = "every " + (f"{found.interval} weeks " if found.interval > 1 else "")
        phrase = f"{every}{names} {hours}"
    else:
        phrase = (
            _and([f"{ORDINAL_NAMES.get(o or 1, str(o))} {WEEKDAY_NAMES[d]}" for o, d in found.days])
            + f" of the month {hours}"
        )
    if today is not None and found.start.date() > today:
        plain = Recurrence(
            found.freq,
            found.interval,
            found.days,
            datetime.combine(today, found.start.time()),
            found.minutes,
            found.until,
        )
        if found.freq == "weekly":
            natural = min(_next_weekday(d, today) for d in weekdays)
        else:
            first_found = plain.first_on_or_after(today)
            natural = first_found.date() if first_found else today
        if natural != found.start.date():
            phrase += f" from {found.start.date().isoformat()}"
    elif today is None:
        phrase += f" from {found.start.date().isoformat()}"
    if found.until:
        phrase += f" until {found.until.isoformat()}"
    return phrase


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
