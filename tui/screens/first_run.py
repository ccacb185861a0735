"""First run: the person's name, then start a board or join one with a code."""

from __future__ import annotations

from potluck.p2p import PotluckError
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static


class FirstRunScreen(Screen[None]):
    """Two small steps; nothing else is asked."""

    def __init__(self, need_name: bool) -> None:
        super().__init__()
        self.need_name = need_name

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Label("Welcome to Potluck", classes="dialog-title")
            yield Static(
                "A board of needs, offers and plans, shared by the laptops of the people "
                "here. No internet, no account.",
                classes="hint",
                id="intro",
            )
            with Vertical(id="step-name"):
                yield Static("What should people here call you?")
                yield Input(id="name", compact=True, placeholder="your name")
            with Vertical(id="step-board"):
                yield Static("Start a new board for your place:")
                yield Input(id="board-name", compact=True, placeholder="e.g. Kitchen at No. 9")
                yield Button("Start this board", id="start", compact=True, variant="primary")
                yield Static("\nOr paste an invite code someone gave you:")
                yield Input(id="code", compact=True, placeholder="potluck-…")
                yield Button("Join this board", id="join", compact=True)
            yield Static("", id="error", classes="error")

    def on_mount(self) -> None:
        self.query_one("#step-board").display = not self.need_name
        self.query_one("#step-name").display = self.need_name
        self.query_one("#name" if self.need_name else "#board-name", Input).focus()

    def fail(self, exc: Exception) -> None:
        self.query_one("#error", Static).update(str(exc))

    @on(Input.Submitted, "#name")
    def save_name(self, event: Input.Submitted) -> None:
        try:
            self.app.home.set_profile(name=event.value)  # type: ignore[attr-defined]
        except PotluckError as exc:
            self.fail(exc)
            return
        self.query_one("#error", Static).update("")
        home = self.app.home  # type: ignore[attr-defined]
        if home.boards():  # joined with the command line already: nothing more to ask
            self.app.open_board(home.board())  # type: ignore[attr-defined]
            return
        self.query_one("#step-name").display = False
        self.query_one("#step-board").display = True
        self.query_one("#board-name", Input).focus()

    @on(Input.Submitted, "#board-name")
    @on(Button.Pressed, "#start")
    def start_board(self) -> None:
        try:
            board = self.app.home.new_board(self.query_one("#board-name", Input).value)  # type: ignore[attr-defined]
        except PotluckError as exc:
            self.fail(exc)
            return
        self.app.open_board(board)  # type: ignore[attr-defined]

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#join")
    def join_board(self) -> None:
        try:
            board, _added = self.app.home.join(self.query_one("#code", Input).value.strip())  # type: ignore[attr-defined]
        except PotluckError as exc:
            self.fail(exc)
            return
        self.app.open_board(board)  # type: ignore[attr-defined]
