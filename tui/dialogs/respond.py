"""Answering an item, and taking it back: "I can help", "I'd like this", coming, bringing, a
position; a project's tasks (take, done, give back, reopen) and shifts (one date, every date,
not on one date, give a place back). What a person can say depends on what they said already,
so the choices are made from the item as it is, each with a note that is kept and shown."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from potluck.p2p import (
    ALLOWED_RESPONSES,
    POSITIONS,
    Board,
    InvalidInput,
    Item,
    Kind,
    ResponseKind,
    Shift,
    Task,
)
from textual.app import ComposeResult
from textual.widgets import Input, Select

from .. import display
from ..cli.dates import day_of
from .forms import FormDialog, Job, Submit, field

Choices = list[tuple[display.Shown, str]]

SAY = {
    ResponseKind.HELP: "I can help",
    ResponseKind.INTERESTED: "I'd like this",
    ResponseKind.GOING: "I'm coming",
    ResponseKind.BRING: "I'll bring something (say what in the note)",
    ResponseKind.AGREE: "I agree",
    ResponseKind.CONCERN: "I have a concern",
    ResponseKind.STAND_ASIDE: "I stand aside",
    ResponseKind.BLOCK: "I block (give a reason in the note)",
}
BACK = {
    ResponseKind.HELP: "Take back “I can help”",
    ResponseKind.INTERESTED: "Take back “I'd like this”",
    ResponseKind.GOING: "Take back “I'm coming”",
    ResponseKind.BRING: "Take back “I'll bring something”",
    ResponseKind.AGREE: "Take back my position (I agree)",
    ResponseKind.CONCERN: "Take back my position (a concern)",
    ResponseKind.STAND_ASIDE: "Take back my position (I stand aside)",
    ResponseKind.BLOCK: "Take back my block",
}


def task_choices(n: int, task: Task, me: str) -> list[tuple[str | display.Shown, str]]:
    """What this person can do with task `n`: take it (or change their note on it), say it
    is done, give it back, reopen it."""
    if task.done:
        return [(display.text("Reopen the task · ", task.title), f"task:{n}:reopen")]
    if me in task.taken_by:
        return [
            (display.text("Mark done · ", task.title), f"task:{n}:done"),
            (display.text("Give the task back · ", task.title), f"task:{n}:give-back"),
            (display.text("Change my note on the task · ", task.title), f"task:{n}:note"),
        ]
    return [(display.text("Take the task · ", task.title), f"task:{n}:take")]


def shift_choices(n: int, shift: Shift, me: str) -> list[tuple[str | display.Shown, str]]:
    """What this person can do with shift `n`: one date, every date (a standing commitment),
    not on one date, stop, give a place back."""
    standing = any(p.member == me for p in shift.standing)
    dated = any(p.member == me and not p.standing for o in shift.occurrences for p in o.people)
    said: list[tuple[str | display.Shown, str]] = [
        (display.text("Sign up for one date · ", shift.when), f"shift:{n}:date")
    ]
    if standing:
        said += [
            (display.text("Not on one date, the others stay · ", shift.when), f"shift:{n}:off"),
            (display.text("Stop signing up for every date · ", shift.when), f"shift:{n}:stop"),
        ]
    else:
        said.append(
            (
                display.text("Sign up for every date, until I stop · ", shift.when),
                f"shift:{n}:every",
            )
        )
    if dated:
        said.append(
            (display.text("Give back my place on one date · ", shift.when), f"shift:{n}:off")
        )
    return said


def response_choices(item: Item, me: str) -> Choices:
    """What this person can say to this item, as (label, what): the kind's answers first, then
    what they can take back."""
    said: list[tuple[str | display.Shown, str]] = []
    mine = {r.kind for r in item.responses if r.member == me}
    if item.kind is Kind.PROJECT:
        for n, task in enumerate(item.tasks, 1):
            said += task_choices(n, task, me)
        for n, shift in enumerate(item.shifts, 1):
            if shift.understood:
                said += shift_choices(n, shift, me)
        kinds: tuple[ResponseKind, ...] = (ResponseKind.HELP,)
    elif item.kind is Kind.PROPOSAL:
        kinds = POSITIONS
    else:
        kinds = tuple(k for k in SAY if k in ALLOWED_RESPONSES[item.kind])
    said += [(SAY[k], f"say:{k.value}") for k in kinds]
    said += [(BACK[k], f"back:{k.value}") for k in kinds if k.value in mine]
    # What is new comes first, so that space and Enter in a hurry never take anything back
    # nor mark a task done.
    said.sort(key=lambda choice: changes_what_was_said(choice[1]))
    return [
        (label if isinstance(label, display.Shown) else display.text(label), value)
        for label, value in said
    ]


LATER = ("back:", ":done", ":give-back", ":reopen", ":off", ":stop", ":note")


def changes_what_was_said(value: str) -> bool:
    """A choice that takes back or changes what was said, or marks a task done."""
    return value.startswith(LATER[0]) or value.endswith(LATER[1:])


class RespondDialog(FormDialog):
    """What to say (the kind's main answer first), an optional note, and for a project with
    shifts, which date."""

    ok_label = "Say it"

    def __init__(self, item: Item, choices: Choices, submit: Submit) -> None:
        super().__init__(submit)
        self.item = item
        self.choices: Choices = choices
        self.title_text = display.text("Respond to “", item.title, "”")

    def fields(self) -> ComposeResult:
        yield from field(
            "What",
            Select(
                self.choices, value=self.choices[0][1], allow_blank=False, id="choice", compact=True
            ),
        )
        yield from field("Note", Input(id="note", compact=True, placeholder="optional"))
        if self.item.shifts:
            yield from field(
                "Date",
                Input(
                    id="date",
                    compact=True,
                    placeholder="for a shift: tue, 8 dec (empty: the next date)",
                ),
            )


def sentence(words: str) -> str:
    """What the board said, as a sentence: its first letter upper case, the rest as written
    (never re-cased: it can hold a person's words)."""
    words = words.strip()
    if not words:
        return words
    return words[0].upper() + words[1:] + ("" if words.endswith((".", "!", "?")) else ".")


def respond_job(board: Board, item: Item, values: dict[str, Any]) -> Job:
    """The form's values → the write, to run on the store thread. Reading what was typed (a
    date) happens here, on the screen's loop, so a mistake is said before anything is saved."""
    what, _, rest = str(values["choice"]).partition(":")
    note = values.get("note", "")
    typed_day = day_of(values.get("date", ""), "the date")
    if what == "say":
        kind = ResponseKind(rest)
        return lambda: sentence(board.respond(item.id, kind, note))
    if what == "back":
        back = ResponseKind(rest)
        return lambda: sentence(board.withdraw(item.id, back))
    number_text, _, action = rest.partition(":")
    number = int(number_text)
    if what == "task":
        task_action = "take" if action == "note" else action  # a new note: taken again
        return lambda: sentence(board.task(item.id, number, task_action, note))
    if action == "date":
        return lambda: sentence(board.signup(item.id, number, day=typed_day, note=note))
    if action == "every":
        return lambda: sentence(board.signup(item.id, number, every=True, note=note))
    if action == "stop":
        return lambda: sentence(board.signup(item.id, number, withdraw=True))

    def off() -> str:
        day = typed_day or next_date_on(board, item.id, number)
        return sentence(board.signup(item.id, number, day=day, withdraw=True))

    return off


def next_date_on(board: Board, item_id: str, number: int) -> date:
    """The next date of shift `number` this person is on (for "not on one date" with no date
    typed); InvalidInput if there is none in view."""
    shift = board.item(item_id).shifts[number - 1]
    now = int(datetime.now().timestamp() * 1000)
    for o in shift.occurrences:
        if (o.end or o.start) >= now and any(p.member == board.me for p in o.people):
            return datetime.fromisoformat(o.date).date()
    raise InvalidInput(f"you are on no coming date of {shift.when}")
