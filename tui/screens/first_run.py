"""First run: the person's name, then start a board or join one with a code."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from potluck.p2p import Board, Home, PotluckError
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from .. import display
from ..messages import BoardChosen
from ..store import store_of

T = TypeVar("T")


def name_then_board(home: Home, name: str) -> Board | None:
    """Save the name; the board to open if the home has one already (joined on the command
    line), else None. On the store thread."""
    home.set_profile(name=name)
    return home.board() if home.boards() else None


class FirstRunScreen(Screen[None]):
    """Two small steps; nothing else is asked. Each step is written on the store thread; the
    screen says so while it waits, and says why if it fails."""

    def __init__(self, need_name: bool) -> None:
        super().__init__()
        self.need_name = need_name
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Label(display.text("Welcome to Potluck"), classes="dialog-title")
            yield Static(
                display.text(
                    "A board of needs, offers and plans, shared by the laptops of the people "
                    "here. No internet, no account."
                ),
                classes="hint",
                id="intro",
            )
            with Vertical(id="step-name"):
                yield Static(display.text("What should people here call you?"))
                yield Input(id="name", compact=True, placeholder="your name")
            with Vertical(id="step-board"):
                yield Static(display.text("Start a new board for your place:"))
                yield Input(id="board-name", compact=True, placeholder="e.g. Kitchen at No. 9")
                yield Button(
                    display.text("Start this board"), id="start", compact=True, variant="primary"
                )
                yield Static(display.lines("\nOr paste an invite code someone gave you:"))
                yield Input(id="code", compact=True, placeholder="potluck-…")
                yield Button(display.text("Join this board"), id="join", compact=True)
            yield Static(display.text(""), id="error", classes="error")

    def on_mount(self) -> None:
        self.query_one("#step-board").display = not self.need_name
        self.query_one("#step-name").display = self.need_name
        self.query_one("#name" if self.need_name else "#board-name", Input).focus()

    def say(self, line: display.Shown) -> None:
        self.query_one("#error", Static).update(line)

    def write(self, job: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run `job` on the store thread, then `then(result)` here; one step at a time."""
        if self.busy:
            return
        self.busy = True
        self.say(display.text(("Saving…", "hint")))
        self._write(job, then)

    @work(group="first-run", description="_write")
    async def _write(self, job: Callable[[], T], then: Callable[[T], None]) -> None:
        try:
            result = await store_of(self.app).run(job)
        except PotluckError as exc:
            self.say(display.problem(exc))
            return
        finally:
            self.busy = False
        self.say(display.text(""))
        then(result)

    @on(Input.Submitted, "#name")
    def save_name(self, event: Input.Submitted) -> None:
        home = store_of(self.app).home
        self.write(lambda: name_then_board(home, event.value), self.named)

    def named(self, board: Board | None) -> None:
        if board is not None:  # joined with the command line already: nothing more to ask
            self.post_message(BoardChosen(board))
            return
        self.query_one("#step-name").display = False
        self.query_one("#step-board").display = True
        self.query_one("#board-name", Input).focus()

    @on(Input.Submitted, "#board-name")
    @on(Button.Pressed, "#start")
    def start_board(self) -> None:
        home = store_of(self.app).home
        name = self.query_one("#board-name", Input).value
        self.write(lambda: home.new_board(name), self.chosen)

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#join")
    def join_board(self) -> None:
        home = store_of(self.app).home
        code = self.query_one("#code", Input).value.strip()
        self.write(lambda: home.join(code)[0], self.chosen)

    def chosen(self, board: Board) -> None:
        self.post_message(BoardChosen(board))
