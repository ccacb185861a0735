"""A question with two answers, asked before something that is easy to regret: a date in the
past, closing someone else's proposal, marking someone else's item met."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from .. import display


class ConfirmDialog(ModalScreen[bool]):
    """Answers True (y, Enter on the first button) or False (n, Esc, the second button)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No", id="confirm.no", tooltip="Do not do it"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Do it"),
    ]

    def __init__(self, question: display.Shown, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Static(display.text(self.question), id="question")
            with Horizontal(classes="buttons"):
                yield Button(display.text(self.yes), variant="primary", id="yes", compact=True)
                yield Button(display.text(self.no), id="no", compact=True)
            yield Static(
                display.text(f"y or Enter: {self.yes.lower()} · n or Esc: {self.no.lower()}"),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed, "#yes")
    def pressed_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def pressed_no(self) -> None:
        self.dismiss(False)
