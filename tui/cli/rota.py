"""The commands of lasting structures: `task`, `signup`, `agenda`, `calendar`, `poster`, and
`edit`'s options for a project's tasks and shifts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from potluck.p2p import (
    TASK_ACTIONS,
    AgendaEntry,
    Board,
    InvalidInput,
    RotaChange,
)

from .dates import day_of
from .output import say
from .printable import printable
from .structures import day, hours, occurrence_json, on_it, people_of, places_line
from .words import number, plural, when

if TYPE_CHECKING:
    from .commands import Cli
    from .people import People


def add_edit_arguments(p: Any) -> None:
    """`edit`'s options for a project's tasks and shifts (numbered as `show` lists them)."""
    p.add_argument("--add-task", action="append", default=[], metavar="TITLE")
    p.add_argument("--rename-task", action="append", default=[], nargs=2, metavar=("N", "TITLE"))
    p.add_argument(
        "--remove-task", action="append", default=[], type=number(1, 1000, "N"), metavar="N"
    )
    p.add_argument(
        "--add-shift",
        action="append",
        default=[],
        metavar="WHEN",
        help="add a shift, e.g. 'every tue 18:00-21:00' (with --places)",
    )
    p.add_argument(
        "--change-shift",
        action="append",
        default=[],
        nargs=2,
        metavar=("N", "WHEN"),
        help="give shift N a new rule; says what moved",
    )
    p.add_argument(
        "--remove-shift", action="append", default=[], type=number(1, 1000, "N"), metavar="N"
    )
    p.add_argument(
        "--places",
        type=number(1, 1000, "--places"),
        help="people needed each time: for the shifts added, else for shift --shift N "
        "(or the only one)",
    )
    p.add_argument(
        "--shift", type=number(1, 1000, "--shift"), metavar="N", help="which shift --places changes"
    )


def add_parsers(sub: Any) -> None:
    """Add `task`, `signup`, `agenda`, `calendar` and `poster` to the subparsers."""
    p = sub.add_parser(
        "task",
        help="take a project's task, mark it done, give it back or reopen it",
        description="Tasks are numbered as 'show' lists them. Anyone can take a task (two "
        "people who take it are both kept), say it is done, or give it back.",
    )
    p.add_argument("id")
    p.add_argument("number", type=number(1, 1000, "N"), metavar="N", help="the task's number")
    p.add_argument("action", choices=TASK_ACTIONS, nargs="?", default="take")
    p.add_argument("--note", default="", help="a note, e.g. 'I have the paint'")

    p = sub.add_parser(
        "signup",
        help="sign up for a project's shift: one date, every date, skip one, or give back",
        description="Without options, signs you up for the shift's next date. --every is a "
        "standing commitment: you are on every date until you withdraw it, except the dates "
        "you --skip. --withdraw alone gives back your standing commitment (or your one date); "
        "with --date, that date only. Dates as people say them: 'tue', 'tomorrow', '8 dec', "
        "'2026-12-08'. A full date says so; two who take its last place while apart are both "
        "kept.",
    )
    p.add_argument("id")
    p.add_argument(
        "shift",
        type=number(1, 1000, "SHIFT"),
        nargs="?",
        metavar="SHIFT",
        help="its number (if the project has several)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--date", metavar="DATE", help="that date only")
    which.add_argument("--every", action="store_true", help="every date, until withdrawn")
    which.add_argument("--skip", metavar="DATE", help="not this date (a standing commitment)")
    p.add_argument("--withdraw", action="store_true", help="give your place back")
    p.add_argument("--note", default="", help="a note, e.g. 'I bring the bread'")

    p = sub.add_parser(
        "agenda",
        help="the days ahead: events, shifts with open places, proposals reaching their date",
    )
    p.add_argument(
        "--days", type=number(1, 366, "--days"), default=14, help="how many days ahead (default 14)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser(
        "calendar",
        help="write events and shift dates to an iCalendar file (for a phone's calendar)",
    )
    p.add_argument("file", type=Path)
    p.add_argument(
        "--days",
        type=number(1, 366, "--days"),
        default=56,
        help="shift dates this many days ahead (default 56)",
    )

    p = sub.add_parser(
        "poster",
        help="write the coming week as one printable HTML page, for the kitchen wall",
        description="The rota with its open places, the events, and the open needs and offers "
        "of the coming days, in large print: open the file in a browser and print it.",
    )
    p.add_argument("file", type=Path)
    p.add_argument(
        "--days", type=number(1, 31, "--days"), default=7, help="how many days (default 7)"
    )


def cmd_task(cli: Cli) -> None:
    a = cli.args
    sentence = cli.board().task(a.id, a.number, a.action, a.note)
    say(_sentence(sentence))


def cmd_signup(cli: Cli) -> None:
    a = cli.args
    sentence = cli.board().signup(
        a.id,
        a.shift,
        day=day_of(a.date, "--date"),
        every=a.every,
        skip=day_of(a.skip, "--skip"),
        withdraw=a.withdraw,
        note=a.note,
    )
    say(_sentence(sentence))


def cmd_agenda(cli: Cli) -> None:
    a = cli.args
    board = cli.board()
    entries = board.agenda(a.days)
    people = people_of(board)
    cli.out(
        [agenda_json(e, people) for e in entries],
        agenda_text(entries, people) or f"Nothing in the next {plural(a.days, 'day')}.",
    )


def cmd_calendar(cli: Cli) -> None:
    a = cli.args
    from . import calendar_file

    board = cli.board()
    count = calendar_file.write(board, a.file, a.days)
    say(f"Wrote {plural(count, 'event')} to {printable(str(a.file))}: open it with a calendar app.")


def cmd_poster(cli: Cli) -> None:
    a = cli.args
    from . import poster

    board = cli.board()
    poster.write(board, a.file, a.days)
    say(
        f"Wrote the coming {plural(a.days, 'day')} to {printable(str(a.file))}: "
        "open it in a browser to print."
    )


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


# ------------------------------------------------------------------ edit


def has_project_edits(a: Any) -> bool:
    return bool(
        a.add_task
        or a.rename_task
        or a.remove_task
        or a.add_shift
        or a.change_shift
        or a.remove_shift
        or a.places is not None
    )


def edit_project(board: Board, a: Any) -> list[str]:
    """Apply `edit`'s task and shift options, in order; returns what to print."""
    said: list[str] = []
    people = people_of(board)
    for title in a.add_task:
        said.append(board.add_task(a.id, title))
    for n, title in a.rename_task:
        said.append(board.rename_task(a.id, _number(n, "--rename-task"), title))
    for n in sorted(a.remove_task, reverse=True):
        said.append(board.remove_task(a.id, n))
    places = a.places
    for phrase in a.add_shift:
        said.append(board.add_shift(a.id, phrase, places if places is not None else 2))
    for n, phrase in a.change_shift:
        change = board.change_shift(a.id, _number(n, "--change-shift"), when=phrase)
        said += change_lines(change, people)
    if places is not None and not a.add_shift:
        item = board.item(a.id)
        shift = a.shift or (1 if len(item.shifts) == 1 else None)
        if shift is None:
            raise InvalidInput(
                f"this project has {len(item.shifts)} shifts: say which with --shift N"
                if item.shifts
                else "this project has no shifts: add one with --add-shift"
            )
        said += change_lines(board.change_shift(a.id, shift, places=places), people)
    for n in sorted(a.remove_shift, reverse=True):
        said.append(board.remove_shift(a.id, n))
    return said


def _number(text: str, what: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit() and len(text.strip()) <= 6):
        raise InvalidInput(f"{what} takes the number as 'show' lists it, not '{text}'")
    return int(text)


def change_lines(change: RotaChange, people: People) -> list[str]:
    """What a change of a shift did, in words: the dates gained and lost, who was on a date
    that is gone (their sign-up is kept, not shown), whose standing commitment carries over."""
    lines = []
    if change.before != change.after:
        lines.append(
            f"The shift is now {printable(change.after)} (was {printable(change.before)})."
        )
    if change.places[0] != change.places[1]:
        lines.append(f"{plural(change.places[1], 'place')} each time (was {change.places[0]}).")
    if change.times_changed:
        lines.append("The dates it keeps have a new time.")
    if change.gone_dates:
        lines.append("No longer on: " + ", ".join(day(d) for d in change.gone_dates) + ".")
    if change.new_dates:
        lines.append("New dates: " + ", ".join(day(d) for d in change.new_dates) + ".")
    for member, date_ in change.lost:
        lines.append(
            f"{people.name(member)} had signed up for {day(date_)}, which the shift no longer "
            "has: tell them (their sign-up comes back if the date does)."
        )
    if change.kept:
        lines.append("Sign-ups kept on: " + ", ".join(day(d) for d in change.kept) + ".")
    if change.standing and (change.before != change.after):
        names = ", ".join(people.name(m) for m in change.standing)
        lines.append(f"Standing commitments carry over to the new dates: {names}.")
    for date_ in change.over_full:
        lines.append(f"{day(date_)} has more people than places: everyone stays on it.")
    return lines or ["Nothing changed."]


# ------------------------------------------------------------------ the agenda


def agenda_json(e: AgendaEntry, people: People) -> dict[str, Any]:
    data: dict[str, Any] = {
        "what": e.what,
        "start": e.start,
        "end": e.end,
        "item": e.item_id,
        "title": e.title,
    }
    if e.what == "event":
        data["place"] = e.place
    if e.occurrence is not None:
        data["shift"] = e.shift_when
        data["occurrence"] = occurrence_json(e.occurrence, people)
    if e.what == "proposal":
        data["state"] = e.state
    return data


def agenda_text(entries: list[AgendaEntry], people: People) -> str:
    lines: list[str] = []
    current = ""
    for e in entries:
        heading = when(e.start).rsplit(" ", 1)[0]
        if heading != current:
            if lines:
                lines.append("")
            lines.append(heading)
            current = heading
        ref = e.item_id[:8]
        if e.what == "event":
            where = f" · {printable(e.place)}" if e.place else ""
            lines.append(
                f"  {hours(e.start, e.end):<11}  event     {printable(e.title)}{where}  {ref}"
            )
        elif e.what == "shift" and e.occurrence is not None:
            o = e.occurrence
            who = on_it(o, people)
            lines.append(
                f"  {hours(o.start, o.end):<11}  shift     {printable(e.title)}: "
                f"{places_line(o)}" + (f" — {who}" if who else "") + f"  {ref}"
            )
        else:
            lines.append(
                f"  {hours(e.start, None):<11}  decision  {printable(e.title)}: "
                f"its decision date ({e.state} so far)  {ref}"
            )
    return "\n".join(lines)
