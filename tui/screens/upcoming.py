"""Upcoming: the next two weeks by date - events, each shift's dates with their open places, and
proposals reaching their decision date. Enter goes to the item on the board."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from potluck.p2p import AgendaEntry, Board, Kind, PotluckError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from .. import display
from ..cli.structures import hours, places_line
from ..cli.words import plural
from ..messages import BoardChanged
from ..reads import UPCOMING_DAYS, Agenda, read_agenda
from ..store import AppStore
from ..textual_fixes import Footer

KIND_OF = {"event": Kind.EVENT, "shift": Kind.PROJECT, "proposal": Kind.PROPOSAL}
SO_FAR = {"open": "open so far", "blocked": "blocked so far", "agreed": "agreed"}


def day_heading(ms: int, today: datetime) -> str:
    """'Today, Tue 1 Dec', 'Tomorrow, Wed 2 Dec', 'Fri 4 Dec'."""
    day = datetime.fromtimestamp(ms / 1000)
    words = f"{day:%a} {day.day} {day:%b}"
    offset = (day.date() - today.date()).days
    if offset <= 0:
        return f"Today, {words}"
    if offset == 1:
        return f"Tomorrow, {words}"
    return words


def entry_line(e: AgendaEntry) -> display.Shown:
    """One thing on one day: its hours, what it is, and its open places or state."""
    if e.what == "shift" and e.occurrence is not None:
        o = e.occurrence
        look: display.Look = "hint" if o.full and not o.over_full else ""
        return display.text(
            f"  {hours(o.start, o.end):<11}  ",
            (e.title, "title"),
            ("  shift · ", "meta"),
            (places_line(o), look or "status"),
        )
    if e.what == "event":
        place = display.text(" · ", e.place) if e.place else display.text("")
        return display.text(
            f"  {hours(e.start, e.end):<11}  ", (e.title, "title"), ("  event", "meta"), place
        )
    return display.text(
        f"  {hours(e.start, None):<11}  ",
        (e.title, "title"),
        ("  decision date · ", "meta"),
        (SO_FAR.get(e.state, e.state), "status"),
    )


def agenda_options(agenda: Agenda, today: datetime) -> list[Option]:
    """Day headings (not selectable) and one option per entry, its id the entry's number."""
    options: list[Option] = []
    current = ""
    for n, e in enumerate(agenda.entries):
        heading = day_heading(e.start, today)
        if heading != current:
            current = heading
            options.append(Option(display.text((heading, "heading")), disabled=True))
        options.append(Option(entry_line(e), id=str(n)))
    return options


def summary(agenda: Agenda) -> str:
    """What the two weeks hold, in one line of places (never people)."""
    places = sum(e.occurrence.open_places for e in agenda.entries if e.occurrence)
    events = sum(1 for e in agenda.entries if e.what == "event")
    decisions = sum(1 for e in agenda.entries if e.what == "proposal")
    bits = [plural(events, "event"), plural(places, "open place")]
    if decisions:
        bits.append(plural(decisions, "decision"))
    return f"The next {agenda.days} days: " + ", ".join(bits)


class UpcomingScreen(Screen[tuple[Kind, str] | None]):
    """The days ahead, read on the store thread, redrawn when the board changes. Dismissed
    with the chosen entry's kind and item, for the board to show it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,u", "close", "Back", id="upcoming.close", tooltip="Back to the board"),
        Binding("enter", "open", "Show", id="upcoming.open", tooltip="Show it on the board"),
    ]

    def __init__(self, board: Board, store: AppStore, now: datetime) -> None:
        super().__init__()
        self.board = board
        self.store = store
        self.today = now
        self.agenda: Agenda | None = None

    def compose(self) -> ComposeResult:
        yield Static(display.text(("Upcoming", "heading")), id="upcoming-title")
        yield OptionList(id="agenda")
        yield Static(display.text(""), id="upcoming-note", classes="hint")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#agenda", OptionList).focus()
        self.refresh_agenda()

    @on(BoardChanged)
    def board_changed(self) -> None:
        self.refresh_agenda()

    def refresh_agenda(self) -> None:
        self._refresh_agenda()

    @work(group="agenda", exclusive=True, description="refresh_agenda")
    async def _refresh_agenda(self) -> None:
        try:
            agenda = await self.store.run(read_agenda, self.board, UPCOMING_DAYS)
        except PotluckError as exc:
            display.notify(self, display.problem(exc), severity="warning")
            return
        if not self.is_attached:
            return
        self.show(agenda)

    def show(self, agenda: Agenda) -> None:
        self.agenda = agenda
        listing = self.query_one("#agenda", OptionList)
        kept = listing.highlighted_option.id if listing.highlighted_option else None
        listing.set_options(agenda_options(agenda, self.today))
        try:
            listing.highlighted = listing.get_option_index(kept or "0")
        except OptionDoesNotExist:
            listing.action_first()
        title = self.query_one("#upcoming-title", Static)
        title.update(display.text(("Upcoming", "heading"), ("  " + summary(agenda), "meta")))
        note = self.query_one("#upcoming-note", Static)
        if agenda.entries:
            note.update(display.text("Enter shows it on the board · Esc back"))
        else:
            note.update(
                display.text(
                    f"Nothing in the next {agenda.days} days: no events, shifts or decisions. "
                    "Esc back"
                )
            )

    @on(OptionList.OptionSelected, "#agenda")
    def chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        listing = self.query_one("#agenda", OptionList)
        option = listing.highlighted_option
        if option is None or option.id is None or self.agenda is None:
            return
        entry = self.agenda.entries[int(option.id)]
        self.dismiss((KIND_OF[entry.what], entry.item_id))

    def action_close(self) -> None:
        self.dismiss(None)
