"""The one way text reaches a widget: `Shown`, plain text that is never parsed as markup, with
every string made printable on the way in.

Whoever holds a board's key can write any string into it, so a title may be `[@click=app.quit]`
markup, an unbalanced `[/]`, an escape sequence or a right-to-left override. Textual parses
plain `str` given to most widgets as markup; here every `str` becomes text instead, through
`printable` (control and bidi characters shown, not obeyed), and names go through `People`.
The app's sinks (labels, notifications, tabs, options, cells, dialog titles, the status line)
take `Shown`; tests/tui/test_display.py fails if a module of the app hands one anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from potluck.p2p import PotluckError
from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.widget import Widget

from .cli.people import People
from .cli.printable import printable
from .cli.render import Line

Look = Literal[
    "", "title", "done", "status", "meta", "tag", "heading", "note", "who", "hint", "key"
]
"""What a part of the text is; STYLES says how each looks."""
STYLES: dict[str, str] = {
    "": "",
    "title": "bold",
    "done": "dim strike",
    "status": "$text-warning",
    "meta": "dim",
    "tag": "dim $text-accent",
    "heading": "bold",
    "note": "italic",
    "who": "bold",
    "hint": "dim",
    "key": "bold",
}
ONE_LINE_MAX = 240
"""Characters of one part of a one-line text kept (a 10,000-character title shows its start)."""


class Shown(Content):
    """Text made by this module only: safe to give any widget, and shown exactly as written."""


def text(*parts: str | Shown | tuple[str, Look]) -> Shown:
    """One line (or our own words) from parts; every `str` made printable and kept to one
    line, never read as markup; `(str, look)` styles a part."""
    pieces: list[str | Content | tuple[str, str]] = []
    for part in parts:
        if isinstance(part, Shown):
            pieces.append(part)
        elif isinstance(part, tuple):
            words, look = part
            pieces.append((_one(words), STYLES[look]))
        else:
            pieces.append(_one(part))
    return _shown(Content.assemble(*pieces))


def lines(words: str, look: Look = "") -> Shown:
    """Several lines (a body, a reply, our own paragraphs): line breaks kept, the rest
    printable."""
    return _shown(Content.styled(printable(words, multiline=True), STYLES[look]))


def join(separator: str, parts: Iterable[Shown]) -> Shown:
    return _shown(Content(printable(separator, multiline=True)).join(parts))


def cropped(shown: Shown, width: int) -> Shown:
    """`shown` cut to `width` cells, with an ellipsis where it was cut."""
    return _shown(shown.truncate(width, ellipsis=True))


def name(people: People, device_id: str) -> Shown:
    """A member's name, with a fingerprint where it could be taken for another's."""
    return _shown(Content(people.name(device_id)))


def name_and_fingerprint(people: People, device_id: str) -> Shown:
    """A member's name, always with the device's fingerprint."""
    return _shown(Content(people.name_and_fingerprint(device_id)))


def described(description: Sequence[Line]) -> Shown:
    """An item as tui/cli/render.py describes it (its text already printable), styled."""
    rows = [
        Content.assemble(*((words, STYLES[look]) for words, look in line)) for line in description
    ]
    return _shown(Content("\n").join(rows))


def cell(shown: Shown) -> Text:
    """A table cell (Textual's DataTable measures and draws Rich text, and parses a `str` as
    markup)."""
    return Text(shown.plain, no_wrap=True, end="")


def problem(exc: PotluckError) -> Shown:
    """A failure's one-line reason, as a person reads it."""
    return text(str(exc))


def editable(words: str, *, multiline: bool = False) -> str:
    """Member text put in an input field to be edited: printable, so the field shows what the
    terminal would otherwise obey."""
    return printable(words, multiline=multiline)


def notify(
    where: Widget | App[Any],
    message: Shown,
    *,
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """A notification (Textual's take a `str` and parse it as markup unless told not to)."""
    where.notify(message.plain, severity=severity, timeout=timeout, markup=False)


def _one(words: str) -> str:
    shown = printable(words)
    return shown if len(shown) <= ONE_LINE_MAX else shown[: ONE_LINE_MAX - 1] + "…"


def _shown(content: Content) -> Shown:
    return Shown(content.plain, list(content.spans), strip_control_codes=False)
