"""`potluck poster FILE`: the coming week on one printable HTML page for the kitchen wall —
the rota with its open places (a line to write a name on for each), the events, the open needs
and offers — in print large enough to read at arm's length. No tally of anyone."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from potluck.p2p import AgendaEntry, Board, InvalidInput, ItemSummary, Kind, Status

from .dates import local_now
from .printable import printable
from .structures import hours, people_of
from .words import plural

if TYPE_CHECKING:
    from .people import People

MAX_BLANKS = 6
"""Lines to write a name on, per date, at most."""
MAX_LISTED = 12
"""Needs and offers listed each (the newest activity first)."""
STYLE = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 16pt;
       line-height: 1.3; color: #000; background: #fff; margin: 0; }
h1 { font-size: 30pt; margin: 0 0 2pt 0; }
.week { font-size: 16pt; margin: 0 0 10pt 0; }
h2 { font-size: 22pt; border-bottom: 3pt solid #000; margin: 14pt 0 6pt 0; }
h3 { font-size: 17pt; margin: 10pt 0 3pt 0; }
ul { list-style: none; padding: 0; margin: 0; }
li { margin: 0 0 5pt 0; page-break-inside: avoid; }
.time { font-weight: bold; display: inline-block; min-width: 7.5em; }
.open { font-weight: bold; border: 2pt solid #000; padding: 0 4pt; }
.full { font-style: italic; }
.blank { display: inline-block; width: 9em; border-bottom: 1.5pt solid #000; margin-left: 6pt; }
.names { margin-left: 7.5em; }
.small { font-size: 12pt; }
"""


def _e(text: str) -> str:
    """Member text for the page: escaped, with controls shown rather than obeyed."""
    return escape(printable(text), quote=True)


def render(board: Board, days: int = 7, now: datetime | None = None) -> str:
    """The page, as one HTML document."""
    now = now or local_now()
    people = people_of(board)
    last = now.date() + timedelta(days=days - 1)
    entries = [e for e in board.agenda(days) if e.what in ("shift", "event")]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_e(board.name)} — the coming week</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(board.name)}</h1>",
        f'<p class="week">{now:%A} {now.day} {now:%B} to {last:%A} {last.day} {last:%B}</p>',
        "<h2>Rota: who is on, and places still open</h2>",
    ]
    out += _rota(entries, people)
    out.append("<h2>Events</h2>")
    out += _events(entries)
    for kind, heading in ((Kind.NEED, "Needed"), (Kind.OFFER, "On offer")):
        out.append(f"<h2>{heading}</h2>")
        out += _listed(board.items(kind=kind, status=Status.OPEN, limit=MAX_LISTED + 1), people)
    out += [
        '<p class="small">Write your name on an open line, and tell someone with the board '
        "open (or type <code>potluck signup</code>). Printed "
        f"{now:%a} {now.day} {now:%b} {now:%H:%M}.</p>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


def _rota(entries: list[AgendaEntry], people: People) -> list[str]:
    shifts = [e for e in entries if e.occurrence is not None]
    if not shifts:
        return ["<p>No shifts this week.</p>"]
    out: list[str] = []
    current = ""
    for e in shifts:
        o = e.occurrence
        assert o is not None
        heading = _day(o.start)
        if heading != current:
            if current:
                out.append("</ul>")
            out += [f"<h3>{heading}</h3>", "<ul>"]
            current = heading
        if o.over_full:
            status = f'<span class="full">over-full: {len(o.people)} for {o.places}</span>'
        elif o.full:
            status = '<span class="full">full</span>'
        else:
            status = f'<span class="open">{plural(o.open_places, "place")} open</span>'
        names = ", ".join(
            _e(people.name(p.member)) + (" (every week)" if p.standing else "") for p in o.people
        )
        blanks = '<span class="blank"></span>' * min(o.open_places, MAX_BLANKS)
        if o.open_places > MAX_BLANKS:
            blanks += f" and {o.open_places - MAX_BLANKS} more"
        out.append(
            f'<li><span class="time">{hours(o.start, o.end)}</span> {_e(e.title)} — {status}'
            + (f'<br><span class="names">{names}</span>' if names else "")
            + (f'<br><span class="names">{blanks}</span>' if blanks else "")
            + "</li>"
        )
    out.append("</ul>")
    return out


def _events(entries: list[AgendaEntry]) -> list[str]:
    events = [e for e in entries if e.what == "event"]
    if not events:
        return ["<p>No events this week.</p>"]
    out = ["<ul>"]
    for e in events:
        where = f" — {_e(e.place)}" if e.place else ""
        out.append(
            f'<li><span class="time">{_day(e.start)} {hours(e.start, None)}</span> '
            f"{_e(e.title)}{where}</li>"
        )
    out.append("</ul>")
    return out


def _listed(summaries: list[ItemSummary], people: People) -> list[str]:
    if not summaries:
        return ["<p>Nothing open.</p>"]
    out = ["<ul>"]
    for s in summaries[:MAX_LISTED]:
        who = people.name(s.author)
        out.append(f'<li>{_e(s.title)} <span class="small">({_e(who)})</span></li>')
    if len(summaries) > MAX_LISTED:
        out.append('<li class="small">… and more on the board</li>')
    out.append("</ul>")
    return out


def _day(ms: int) -> str:
    found = datetime.fromtimestamp(ms / 1000)
    return f"{found:%A} {found.day} {found:%B}"


def write(board: Board, path: Path, days: int) -> None:
    if not 1 <= days <= 31:
        raise InvalidInput("--days: 1 to 31")
    page = render(board, days)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
