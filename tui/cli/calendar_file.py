"""`potluck calendar FILE`: the board's events and shift dates as an iCalendar file (RFC 5545,
written with the `icalendar` library), so a phone's calendar can show the rota."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from potluck.p2p import Board, InvalidInput, Kind, Occurrence, Status

from .printable import printable
from .structures import people_of, places_line
from .words import plural

if TYPE_CHECKING:
    import icalendar

    from .people import People

PRODID = "-//Potluck//mutual-aid board//EN"


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def build(board: Board, days: int) -> icalendar.Calendar:
    """Every event with a start (not closed or withdrawn), and each shift's dates from now to
    `days` ahead with their open places and who is on them (names on the shift, no tally)."""
    import icalendar  # here, not at the top: every other command starts without it

    people = people_of(board)
    stamp = datetime.now(tz=UTC)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", printable(board.name))
    for s in board.items(kind=Kind.EVENT):
        if s.start is None or s.status not in (Status.OPEN, Status.MET):
            continue
        item = board.item(s.id)
        event = icalendar.Event()
        event.add("uid", f"{item.id}@potluck")
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(s.start))
        if s.end is not None and s.end > s.start:
            event.add("dtend", _utc(s.end))
        event.add("summary", printable(item.title))
        if item.place:
            event.add("location", printable(item.place))
        if item.body:
            event.add("description", printable(item.body, multiline=True))
        calendar.add_component(event)
    for entry in board.agenda(days):
        o = entry.occurrence
        if o is None:
            continue
        event = icalendar.Event()
        event.add("uid", f"{o.id.replace(':', '-')}-{entry.item_id}@potluck")
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(o.start))
        if o.end is not None:
            event.add("dtend", _utc(o.end))
        event.add("summary", f"{printable(entry.title)} ({_open(o.open_places, o.full)})")
        event.add("description", _who(o, people, entry.shift_when))
        calendar.add_component(event)
    return calendar


def _open(open_places: int, full: bool) -> str:
    return "full" if full else f"{plural(open_places, 'place')} open"


def _who(o: Occurrence, people: People, when: str) -> str:
    names = ", ".join(
        people.name(p.member) + (" (every week)" if p.standing else "") for p in o.people
    )
    return f"{printable(when)}. {places_line(o)}." + (f" On it: {names}." if names else "")


def write(board: Board, path: Path, days: int) -> int:
    """Write the file (private to this user, like everything from a board); returns how many
    calendar entries it holds."""
    if not 1 <= days <= 366:
        raise InvalidInput("--days: 1 to 366")
    calendar = build(board, days)
    data = calendar.to_ical()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    return len(calendar.walk("VEVENT"))
