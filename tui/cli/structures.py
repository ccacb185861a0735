"""The lasting structures as the command line shows them: tasks with who took them and their
notes, shifts with their rule and the dates in view, a proposal's state, an event's date.

render.py describes an item and calls these for its tasks, shifts and decision; `agenda`,
the calendar file and the poster call them too. Names are shown on the task or
the shift they belong to, never counted per person.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from potluck.p2p import (
    Board,
    Item,
    ItemSummary,
    Kind,
    Occurrence,
    Outcome,
    ProposalState,
    Response,
    Shift,
    Task,
)

from .printable import printable
from .words import plural, when

if TYPE_CHECKING:
    from .people import People

STATE_WORDS = {
    ProposalState.OPEN: "open",
    ProposalState.AGREED: "agreed",
    ProposalState.BLOCKED: "blocked",
    ProposalState.WITHDRAWN: "withdrawn by its author",
    ProposalState.CLOSED: "closed without an outcome",
}
KIND_WORDS = {
    "help": "can help",
    "interested": "would like this",
    "going": "coming",
    "bring": "brings",
    "agree": "agrees",
    "concern": "has a concern",
    "stand-aside": "stands aside",
    "block": "blocks",
}


def people_of(board: Board) -> People:
    """The board's members' names, told apart where they look alike (loaded when first
    needed: the confusables table takes a while to import)."""
    from .people import People

    return People({d: m.name for d, m in board.members().items()})


def general(item: Item) -> tuple[Response, ...]:
    """Responses that are not about one task or shift (those are shown on it): 'I can help',
    'coming', a position…"""
    return tuple(r for r in item.responses if ":" not in r.kind)


def day(iso: str) -> str:
    """'Tue 8 Dec' for '2026-12-08'."""
    found = datetime.fromisoformat(iso)
    return f"{found:%a} {found.day} {found:%b}"


def hours(start: int, end: int | None) -> str:
    text = datetime.fromtimestamp(start / 1000).strftime("%H:%M")
    return text + (f"-{datetime.fromtimestamp(end / 1000):%H:%M}" if end else "")


def places_line(o: Occurrence) -> str:
    """'2 of 3 places open', 'full', 'over-full: 4 on it for 3 places'."""
    if o.over_full:
        return f"over-full: {len(o.people)} on it for {plural(o.places, 'place')}"
    if o.full:
        return f"full ({plural(o.places, 'place')})"
    return f"{o.open_places} of {plural(o.places, 'place')} open"


def on_it(o: Occurrence, people: People) -> str:
    """Who is on an occurrence, with 'every week' for standing commitments and notes."""
    names = []
    for p in o.people:
        text = people.name(p.member) + (" (every week)" if p.standing else "")
        if p.note:
            text += f": {printable(p.note)}"
        names.append(text)
    return ", ".join(names)


# ------------------------------------------------------------------ text


def task_lines(item: Item, people: People) -> list[str]:
    lines = []
    for n, t in enumerate(item.tasks, 1):
        takers = []
        for member in t.taken_by:
            note = next(
                (
                    r.note
                    for r in item.responses
                    if r.member == member and (r.kind == f"task:{t.id}")
                ),
                "",
            )
            takers.append(people.name(member) + (f": {printable(note)}" if note else ""))
        done_notes = [
            f"{people.name(r.member)}: {printable(r.note)}"
            for r in item.responses
            if r.kind == f"done:{t.id}" and r.note
        ]
        who = f"taken by {'; '.join(takers)}" if takers else "free"
        line = f"  {n}. {'[done] ' if t.done else ''}{printable(t.title)} ({who})"
        if done_notes:
            line += f" — done: {'; '.join(done_notes)}"
        lines.append(line)
    return lines


def shift_lines(item: Item, people: People, *, dates: int = 6) -> list[str]:
    """Each shift: its rule and places, standing commitments, the next `dates` dates."""
    lines = []
    for n, s in enumerate(item.shifts, 1):
        label = f"{printable(s.label)}: " if s.label and s.understood else ""
        lines.append(f"  {n}. {label}{printable(s.when)} · {plural(s.places, 'place')} each")
        if not s.understood:
            lines.append("     (a rule written by a newer Potluck: no dates shown here)")
        if s.standing:
            standing = ", ".join(
                people.name(p.member) + (f": {printable(p.note)}" if p.note else "")
                for p in s.standing
            )
            lines.append(f"     every week: {standing}")
        for o in s.occurrences[:dates]:
            who = on_it(o, people)
            skipped = (
                f" · not this time: {', '.join(people.name(m) for m in o.skipped)}"
                if o.skipped
                else ""
            )
            lines.append(
                f"     {day(o.date)} {hours(o.start, o.end)}  {places_line(o)}"
                + (f" — {who}" if who else "")
                + skipped
            )
        if len(s.occurrences) > dates:
            lines.append(f"     … {plural(len(s.occurrences) - dates, 'more date')} in view")
        for member, date_ in s.unplaced:
            lines.append(
                f"     {people.name(member)} signed up for {day(date_)}, "
                "a date this shift no longer has"
            )
    return lines


def proposal_lines(found: Outcome, people: People) -> list[str]:
    state = STATE_WORDS[found.state]
    if found.decide_by is not None:
        if found.decided:
            head = f"decision: {state} (its date was {when(found.decide_by, year=True)})"
        else:
            so_far = {ProposalState.BLOCKED: "blocked so far", ProposalState.OPEN: "open"}
            head = (
                f"decision: {so_far.get(found.state, state)} · decides "
                f"{when(found.decide_by, year=True)}"
            )
    else:
        head = f"decision: {state}" + ("" if found.decided else " (no decision date)")
    lines = [head]
    if found.notice:
        lines.append(f"  ! {found.notice}")
    for b in found.blocks:
        lines.append(f"  blocked by {people.name(b.member)}: {printable(b.note)}")
    for p in found.counted:
        if p.kind != "block":
            note = f": {printable(p.note)}" if p.note else ""
            lines.append(f"  {people.name(p.member)} {KIND_WORDS.get(p.kind, p.kind)}{note}")
    for p in found.late:
        note = f": {printable(p.note)}" if p.note else ""
        lines.append(
            f"  {people.name(p.member)} {KIND_WORDS.get(p.kind, p.kind)}{note} "
            f"(after the date: not counted)"
        )
    return lines


def event_title(s: ItemSummary, now_ms: int, title: str) -> str:
    """An event's `title` (printable) in a list, its date first: 'Fri 04 Dec 19:00 · Soup
    night'."""
    if s.start is None:
        return f"(no date) · {title}"
    past = " (past)" if (s.end or s.start) < now_ms else ""
    return f"{when(s.start)}{past} · {title}"


# ------------------------------------------------------------------ JSON


def occurrence_json(o: Occurrence, people: People) -> dict[str, Any]:
    return {
        "id": o.id,
        "date": o.date,
        "start": o.start,
        "end": o.end,
        "places": o.places,
        "open_places": o.open_places,
        "full": o.full,
        "over_full": o.over_full,
        "people": [
            {
                "member": p.member,
                "member_name": people.names.get(p.member, ""),
                "standing": p.standing,
                "note": p.note,
            }
            for p in o.people
        ],
        "skipped": list(o.skipped),
    }


def shift_json(s: Shift, people: People) -> dict[str, Any]:
    return {
        "id": s.id,
        "label": s.label,
        "when": s.when,
        "rule": {"rrule": s.rrule, "start": s.start, "minutes": s.minutes, "until": s.until},
        "understood": s.understood,
        "places": s.places,
        "slots": s.slots,
        "signed_up": list(s.signed_up),
        "standing": [
            {"member": p.member, "member_name": people.names.get(p.member, ""), "note": p.note}
            for p in s.standing
        ],
        "occurrences": [occurrence_json(o, people) for o in s.occurrences],
        "unplaced": [{"member": m, "date": d} for m, d in s.unplaced],
    }


def task_json(item: Item, t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "title": t.title,
        "taken_by": list(t.taken_by),
        "done": t.done,
        "notes": {r.member: r.note for r in item.responses if r.kind == f"task:{t.id}" and r.note},
    }


def outcome_json(found: Outcome, people: People) -> dict[str, Any]:
    def position(p: Response) -> dict[str, Any]:
        return {
            "member": p.member,
            "member_name": people.names.get(p.member, ""),
            "kind": p.kind,
            "note": p.note,
            "time": p.time,
        }

    return {
        "state": found.state.value,
        "decided": found.decided,
        "decide_by": found.decide_by,
        "blocks": [position(p) for p in found.blocks],
        "counted": [position(p) for p in found.counted],
        "late": [position(p) for p in found.late],
        "notice": found.notice,
    }


def structures_json(board: Board, item: Item, people: People | None = None) -> dict[str, Any]:
    """The parts of issues 11 and 13, to merge into an item's JSON."""
    people = people or people_of(board)
    data: dict[str, Any] = {}
    if item.kind is Kind.PROJECT:
        data["tasks"] = [task_json(item, t) for t in item.tasks]
        data["shifts"] = [shift_json(s, people) for s in item.shifts]
    if item.kind is Kind.PROPOSAL:
        data["decide_by"] = item.decide_by
        data["proposal"] = outcome_json(board.outcome(item), people)
    return data
