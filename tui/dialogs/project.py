"""A project's tasks and shifts changed after posting, by its author: add, rename or remove a
task; add, change or remove a shift (a new rule, or a new number of places). Changing a
shift keeps what people said, and the board says what moved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from potluck.p2p import Board, InvalidInput, Item
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from .. import display
from ..cli.rota import change_lines
from ..cli.structures import people_of
from .forms import (
    AskFirst,
    FormDialog,
    Job,
    Submit,
    field,
    fields_side_by_side,
    parse_places,
    parse_shifts,
)
from .respond import sentence

Choices = list[tuple[display.Shown, str]]


def project_choices(item: Item) -> Choices:
    """What can change, as (label, 'what:number')."""
    said: Choices = [(display.text("Add a task"), "add-task:0")]
    for n, task in enumerate(item.tasks, 1):
        said.append((display.text(f"Rename task {n} · ", task.title), f"rename-task:{n}"))
        said.append((display.text(f"Remove task {n} · ", task.title), f"remove-task:{n}"))
    said.append((display.text("Add a shift"), "add-shift:0"))
    for n, shift in enumerate(item.shifts, 1):
        said.append((display.text(f"Change shift {n} · ", shift.when), f"change-shift:{n}"))
        said.append((display.text(f"Remove shift {n} · ", shift.when), f"remove-shift:{n}"))
    return said


class ProjectDialog(FormDialog):
    """Choose what to change; the words field shows what it is now, to be edited."""

    ok_label = "Change"

    def __init__(self, item: Item, submit: Submit) -> None:
        super().__init__(submit)
        self.item = item
        self.title_text = display.text("Tasks and shifts of “", item.title, "”")

    def fields(self) -> ComposeResult:
        choices = project_choices(self.item)
        yield from field(
            "Change",
            Select(choices, value=choices[0][1], allow_blank=False, id="change", compact=True),
        )
        yield from fields_side_by_side(
            (
                "Words",
                Input(
                    id="words",
                    compact=True,
                    placeholder="a task's title, or when: every tue 18:00-21:00",
                ),
            ),
            ("Places", Input("2", id="places", compact=True, classes="number")),
        )

    @on(Select.Changed, "#change")
    def chosen(self, event: Select.Changed) -> None:
        """Show what the chosen task or shift says now, ready to be changed."""
        what, _, number = str(event.value).partition(":")
        words, places = self.query_one("#words", Input), self.query_one("#places", Input)
        n = int(number or 0)
        if what in ("rename-task", "remove-task") and 0 < n <= len(self.item.tasks):
            words.value = display.editable(self.item.tasks[n - 1].title)
        elif what in ("change-shift", "remove-shift") and 0 < n <= len(self.item.shifts):
            shift = self.item.shifts[n - 1]
            words.value = display.editable(shift.when)
            places.value = display.editable(str(shift.slots))
        else:
            words.value = ""


def project_job(board: Board, item: Item, values: dict[str, Any], now: datetime) -> Job:
    """The form's values → the change, to run on the store thread (what was typed is read
    here first, so a phrase that is not understood is refused with examples at once)."""
    what, _, number_text = str(values["change"]).partition(":")
    number = int(number_text or 0)
    words = values.get("words", "").strip()
    places = parse_places(values.get("places", ""))
    if what in ("add-task", "rename-task", "add-shift", "change-shift") and not words:
        thing = "the task's title" if "task" in what else "when the shift is"
        raise InvalidInput(f"write {thing} in Words")
    if what in ("add-shift", "change-shift"):
        parse_shifts(words, places, now)
    if what == "add-task":
        return lambda: sentence(board.add_task(item.id, words))
    if what == "rename-task":
        return lambda: sentence(board.rename_task(item.id, number, words))
    if what == "remove-task":
        task = item.tasks[number - 1]
        if task.taken_by and not values.get("confirmed"):
            raise AskFirst(
                display.text("Remove the task “", task.title, "”? Someone has taken it."),
                yes="Remove it",
            )
        return lambda: sentence(board.remove_task(item.id, number))
    if what == "add-shift":
        return lambda: sentence(board.add_shift(item.id, words, places))
    if what == "remove-shift":
        gone = item.shifts[number - 1]
        taken = gone.standing or any(o.people for o in gone.occurrences)
        if taken and not values.get("confirmed"):
            raise AskFirst(
                display.text("Remove the shift “", gone.when, "”? People have signed up for it."),
                yes="Remove it",
            )
        return lambda: sentence(board.remove_shift(item.id, number))
    shift = item.shifts[number - 1]
    new_when = None if words == display.editable(shift.when) else words
    new_places = None if places == shift.slots else places

    def change() -> str:
        if new_when is None and new_places is None:
            return "Nothing changed."
        found = board.change_shift(item.id, number, when=new_when, places=new_places)
        return " ".join(change_lines(found, people_of(board)))

    return change
