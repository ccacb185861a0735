"""A window smaller than 80 by 24 gets one plain sentence instead of cropped screens; the
invite screen is the exception (it shows the code as text when the QR does not fit)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from .. import display

MIN_WIDTH, MIN_HEIGHT = 80, 24
TOO_SMALL = "Make this window at least 80 by 24 to use the board."


class TooSmallScreen(Screen[None]):
    """Shown over everything while the window is too small; gone once it is big enough."""

    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; }
    TooSmallScreen Static { width: auto; max-width: 100%; }
    """

    def compose(self) -> ComposeResult:
        yield Static(display.text(TOO_SMALL), id="too-small")
        yield Static(display.text(""), id="size-now", classes="hint")

    def on_mount(self) -> None:
        self.say_size()

    def say_size(self) -> None:
        width, height = self.app.size
        self.query_one("#size-now", Static).update(
            display.text(f"(It is {width} by {height} now. q quits.)")
        )


def too_small(app: App[Any]) -> bool:
    width, height = app.size
    return width < MIN_WIDTH or height < MIN_HEIGHT


def keep_to_size(app: App[Any]) -> None:
    """Cover the screen with TooSmallScreen while the window is too small (unless the screen on
    top fits any size: `FITS_ANY_SIZE`), and take it away once the window is big enough."""
    top = app.screen
    small = too_small(app)
    if isinstance(top, TooSmallScreen):
        if small:
            top.say_size()
        else:
            app.pop_screen()
    elif small and not getattr(top, "FITS_ANY_SIZE", False):
        app.push_screen(TooSmallScreen())
