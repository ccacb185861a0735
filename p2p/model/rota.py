"""Shifts that repeat: their occurrences derived from the rule, sign-ups read from responses.

Only the rule and what people said are stored (schema v2): `shift:<id>:<date>` for one
date, `shift:<id>:every` for a standing commitment, `skip:<id>:<date>` for "not this time",
each under the member's own key in `responses`. Every device derives the same occurrences and
the same people on them from those alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from .automerge import ROOT, Document, ObjectId, Writer
from .phrases import describe
from .reading import as_int, as_str, maps_in_list
from .rules import Rule, parse_day
from .types import Occurrence, Response, Shift, SignUp

LOOKAHEAD_DAYS = 28
"""How far ahead a shift's occurrences are shown (from today)."""
MAX_OCCURRENCES_READ = 400
"""Occurrences derived for one item, all its shifts together (ten daily shifts fit) …"""
MAX_PEOPLE_READ = 20_000
"""… and people placed on them: a member's device gone bad that writes a thousand shifts
and ten thousand standing commitments cannot make every read of the item slow."""
MAX_PLACES = 1000
EVERY = "every"


def shift_key(shift_id: str, day: str) -> str:
    """The response kind of a sign-up for one date (or for every date, day = 'every')."""
    return f"shift:{shift_id}:{day}"


def skip_key(shift_id: str, day: str) -> str:
    return f"skip:{shift_id}:{day}"


def is_rota_kind(kind: str) -> bool:
    return kind.startswith(("shift:", "skip:"))


def to_ms(when: datetime) -> int:
    """A local wall-clock time as milliseconds since the epoch."""
    return int(when.timestamp() * 1000)


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class ShiftFields:
    """What the document holds for one shift (schema v2), before anything is derived."""

    id: str
    label: str
    rule: Rule
    places: int


def read_shift_fields(doc: Document) -> list[ShiftFields]:
    """The shifts of an item document, as written; tolerant of anything a peer wrote."""
    found = []
    for s in maps_in_list(doc, doc.child(ROOT, "shifts")):
        places = doc.scalar(s, "places")
        found.append(
            ShiftFields(
                id=as_str(doc.scalar(s, "id")),
                label=as_str(doc.scalar(s, "label")),
                rule=Rule(
                    rrule=as_str(doc.scalar(s, "rrule")),
                    start=as_str(doc.scalar(s, "start")),
                    minutes=as_int(doc.scalar(s, "minutes")),
                    until=as_str(doc.scalar(s, "until")),
                ),
                places=max(1, min(MAX_PLACES, as_int(places, 1))),
            )
        )
    return found


def read_shifts(doc: Document, responses: Sequence[Response], now: datetime) -> tuple[Shift, ...]:
    """Every shift of an item as shown at `now` (what members said sorted out by shift once,
    so a thousand shifts and ten thousand sign-ups still read in one pass)."""
    by_shift: dict[str, list[Response]] = {}
    for r in responses:
        if is_rota_kind(r.kind):
            by_shift.setdefault(r.kind.split(":", 2)[1], []).append(r)
    budget = Budget()
    return tuple(
        derive_shift(f, by_shift.get(f.id, []), now, budget=budget) for f in read_shift_fields(doc)
    )


@dataclass
class Budget:
    """What is left to derive for one item (MAX_OCCURRENCES_READ, MAX_PEOPLE_READ)."""

    occurrences: int = MAX_OCCURRENCES_READ
    people: int = MAX_PEOPLE_READ


@dataclass
class _Said:
    """What members said about one shift, sorted out of the item's responses."""

    dated: dict[str, list[Response]]
    every: list[Response]
    skips: set[tuple[str, str]]

    @classmethod
    def of(cls, shift_id: str, responses: Iterable[Response]) -> _Said:
        said = cls({}, [], set())
        prefix, skip_prefix = shift_key(shift_id, ""), skip_key(shift_id, "")
        for r in responses:
            if r.kind.startswith(prefix):
                day = r.kind[len(prefix) :]
                if day == EVERY:
                    said.every.append(r)
                elif parse_day(day) is not None:
                    said.dated.setdefault(day, []).append(r)
            elif r.kind.startswith(skip_prefix):
                said.skips.add((r.member, r.kind[len(skip_prefix) :]))
        order = _in_order
        said.every.sort(key=order)
        for rows in said.dated.values():
            rows.sort(key=order)
        return said


def _in_order(r: Response) -> tuple[int, str]:
    return (r.time, r.member)


def occurrences(
    fields: ShiftFields, responses: Iterable[Response], first: date, last: date
) -> list[Occurrence]:
    """The shift's occurrences whose local date is within [first, last], with who is on each."""
    recurrence = fields.rule.recurrence()
    if recurrence is None:
        return []
    said = _Said.of(fields.id, responses)
    return [
        _occurrence(fields, said, start, recurrence.minutes)
        for start in recurrence.starts(first, last)
    ]


def _occurrence(fields: ShiftFields, said: _Said, start: datetime, minutes: int) -> Occurrence:
    day = start.date().isoformat()
    people: dict[str, SignUp] = {}
    skipped = []
    for r in said.every:
        if (r.member, day) in said.skips:
            skipped.append(r.member)
        else:
            people[r.member] = SignUp(r.member, True, r.note, r.time)
    for r in said.dated.get(day, []):
        standing = people.get(r.member)
        note = r.note or (standing.note if standing else "")
        people[r.member] = SignUp(r.member, standing is not None, note, r.time)
    return Occurrence(
        id=f"{fields.id}:{day}",
        shift_id=fields.id,
        date=day,
        start=to_ms(start),
        end=to_ms(start + timedelta(minutes=minutes)) if minutes else None,
        places=fields.places,
        people=tuple(sorted(people.values(), key=lambda p: (not p.standing, p.time, p.member))),
        skipped=tuple(sorted(skipped)),
    )


def derive_shift(
    fields: ShiftFields,
    responses: Sequence[Response],
    now: datetime,
    days: int = LOOKAHEAD_DAYS,
    budget: Budget | None = None,
) -> Shift:
    """A shift as shown from `now`: the occurrences from today to `days` ahead, and any later
    one someone signed up for; standing commitments; sign-ups whose date the rule lost."""
    today = now.date()
    recurrence = fields.rule.recurrence()
    said = _Said.of(fields.id, responses)
    shown: list[Occurrence] = []
    unplaced: list[tuple[str, str]] = []
    if recurrence is not None:
        starts = recurrence.starts(today, today + timedelta(days=days))
        seen = {s.date() for s in starts}
        for day in sorted(d for d in said.dated if d >= today.isoformat()):
            found = parse_day(day)
            if found is None or found in seen:
                continue
            match = recurrence.starts(found, found)
            if match:
                starts += match
                seen.add(found)
            else:
                unplaced += [(r.member, day) for r in said.dated[day]]
        budget = budget or Budget()
        for start in sorted(starts):
            if budget.occurrences <= 0 or budget.people <= 0:
                break
            occurrence = _occurrence(fields, said, start, recurrence.minutes)
            budget.occurrences -= 1
            budget.people -= len(occurrence.people)
            shown.append(occurrence)
    now_ms = to_ms(now)
    upcoming = next((o for o in shown if (o.end or o.start) >= now_ms), None)
    return Shift(
        id=fields.id,
        when=describe(fields.rule, today) if recurrence is not None else fields.label,
        slots=fields.places,
        signed_up=tuple(p.member for p in upcoming.people) if upcoming else (),
        label=fields.label,
        rrule=fields.rule.rrule,
        start=fields.rule.start,
        minutes=fields.rule.minutes,
        until=fields.rule.until,
        understood=recurrence is not None,
        occurrences=tuple(shown),
        standing=tuple(SignUp(r.member, True, r.note, r.time) for r in said.every),
        unplaced=tuple(sorted(unplaced, key=lambda u: (u[1], u[0]))),
    )


def shift_rule(shift: Shift) -> Rule:
    return Rule(shift.rrule, shift.start, shift.minutes, shift.until)


def shift_fields(shift: Shift) -> ShiftFields:
    return ShiftFields(shift.id, shift.label, shift_rule(shift), shift.slots)


# ------------------------------------------------------------------ what a rule change moves


@dataclass(frozen=True)
class RotaChange:
    """What changing a shift's rule did to what people had said, for the person to read."""

    before: str
    after: str
    """The rule in words, before and after."""
    kept: tuple[str, ...]
    """Dates from today on that people signed up for and that the shift still has."""
    lost: tuple[tuple[str, str], ...]
    """(member, date) of sign-ups whose date the shift no longer has (kept in the document:
    they come back if the rule does)."""
    standing: tuple[str, ...]
    """Members whose standing commitment carries over to the new dates."""
    new_dates: tuple[str, ...]
    """Dates in view that the shift did not have before."""
    gone_dates: tuple[str, ...]
    """Dates in view that the shift no longer has."""
    times_changed: bool
    """The time of day or the length changed (for dates it keeps)."""
    places: tuple[int, int]
    """Places per occurrence, before and after."""
    over_full: tuple[str, ...]
    """Dates in view with more people on them than places now: everyone is kept."""

    def moved(self) -> bool:
        return bool(self.lost or self.new_dates or self.gone_dates or self.times_changed)


def rule_change(
    before: ShiftFields, after: ShiftFields, responses: Sequence[Response], now: datetime
) -> RotaChange:
    """What moves when `before` becomes `after` (from today, LOOKAHEAD_DAYS ahead)."""
    old, new = derive_shift(before, responses, now), derive_shift(after, responses, now)
    old_dates = {o.date: o for o in old.occurrences}
    new_dates = {o.date: o for o in new.occurrences}
    window_end = (now.date() + timedelta(days=LOOKAHEAD_DAYS)).isoformat()
    said = _Said.of(before.id, responses)
    today = now.date().isoformat()
    dated = {d for d in said.dated if d >= today}
    return RotaChange(
        before=old.when,
        after=new.when,
        kept=tuple(sorted(d for d in dated if d in new_dates)),
        lost=new.unplaced,
        standing=tuple(r.member for r in said.every),
        new_dates=tuple(sorted(d for d in new_dates if d not in old_dates and d <= window_end)),
        gone_dates=tuple(sorted(d for d in old_dates if d not in new_dates and d <= window_end)),
        times_changed=any(
            (old_dates[d].start, old_dates[d].end) != (new_dates[d].start, new_dates[d].end)
            for d in old_dates.keys() & new_dates.keys()
        ),
        places=(before.places, after.places),
        over_full=tuple(o.date for o in new.occurrences if o.over_full),
    )


# ------------------------------------------------------------------ writing


def write_shift(w: Writer, shift: ObjectId, fields: ShiftFields) -> None:
    """The fields of schema v2 for one shift (its id is written once, by add_shift)."""
    w.put_str(shift, "label", fields.label)
    w.put_str(shift, "rrule", fields.rule.rrule)
    w.put_str(shift, "start", fields.rule.start)
    w.put_int(shift, "minutes", fields.rule.minutes)
    w.put_str(shift, "until", fields.rule.until)
    w.put_int(shift, "places", fields.places)


def add_shift(w: Writer, fields: ShiftFields) -> None:
    shift = w.append_map(w.list_at(ROOT, "shifts"))
    w.put_str(shift, "id", fields.id)
    write_shift(w, shift, fields)


def _shift_object(doc: Document, shift_id: str) -> ObjectId:
    for s in maps_in_list(doc, doc.child(ROOT, "shifts")):
        if doc.scalar(s, "id") == shift_id:
            return s
    raise KeyError(shift_id)


def change_shift(doc: Document, fields: ShiftFields, now: int) -> None:
    """Write a shift's new rule, label and places (the author does this)."""
    shift = _shift_object(doc, fields.id)
    with doc.change() as w:
        write_shift(w, shift, fields)
        w.put_int(ROOT, "updated", now)


def remove_shift(doc: Document, shift_id: str, now: int) -> None:
    """Remove a shift from the list; what people said about it stays under their keys."""
    shifts = doc.child(ROOT, "shifts")
    for index, s in enumerate(maps_in_list(doc, shifts)):
        if doc.scalar(s, "id") == shift_id and shifts is not None:
            with doc.change() as w:
                w.delete_at(shifts, index)
                w.put_int(ROOT, "updated", now)
            return
    raise KeyError(shift_id)


def say(
    doc: Document,
    member: str,
    now: int,
    put: Sequence[tuple[str, str]] = (),
    remove: Sequence[str] = (),
) -> None:
    """One change under `responses[member]`: entries (kind, note) written, kinds removed."""
    mine = doc.child(doc.child(ROOT, "responses"), member)
    with doc.change() as w:
        for kind in remove:
            if mine is not None and doc.child(mine, kind) is not None:
                w.delete(mine, kind)
        if put:
            target = w.map_at(w.map_at(ROOT, "responses"), member)
            for kind, note in put:
                entry = w.map_at(target, kind)
                w.put_str(entry, "note", note)
                w.put_int(entry, "time", now)
        w.put_int(ROOT, "updated", now)


def with_places(fields: ShiftFields, places: int) -> ShiftFields:
    return replace(fields, places=places)
