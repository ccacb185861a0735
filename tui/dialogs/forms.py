"""Modal forms: post, reply, edit, tag filter (respond.py answers, project.py changes tasks and
shifts). Each shows its message and its button at 80x24, and asks before a date in the past."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from potluck.p2p import InvalidInput, Item, Kind, PotluckError, parse_shift
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from .. import display
from ..cli.dates import InPast, deadline_ms, end_ms, example, shown, start_ms
from ..cli.parser import MAX_PLACES
from ..cli.words import TIME_EXAMPLE, as_input
from ..store import store_of
from .confirm import ConfirmDialog

log = logging.getLogger(__name__)

KIND_WORDS = {
    Kind.NEED: "a need",
    Kind.OFFER: "an offer",
    Kind.PROJECT: "a project",
    Kind.EVENT: "an event",
    Kind.PROPOSAL: "a proposal",
    Kind.NOTE: "a note",
}

Job = Callable[[], str]
"""What a form saves: run on the store thread; returns the sentence to say once committed."""
Submit = Callable[[dict[str, Any]], Job]
"""Reads a form's values on the screen's loop (InvalidInput if they will not do) and returns
the job that writes them."""


class AskFirst(InvalidInput):
    """Raised by a form's submit for something easy to regret (removing a task someone took):
    the form asks `question`, and submits again with `values["confirmed"]` if the answer is
    yes."""

    def __init__(self, question: display.Shown, yes: str) -> None:
        super().__init__(question.plain)
        self.question = question
        self.yes = yes


class FormDialog(ModalScreen[str | None]):
    """A titled form. On submit its values become a job for the store thread; the form says it
    is saving, and closes once the write has committed, with the job's sentence. If the write
    fails, it stays open with everything typed and a one-line reason."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without saving"),
        Binding("ctrl+s", "submit", "Save", id="form.submit", tooltip="Save this form"),
    ]
    title_text: display.Shown = display.text("")
    ok_label = "Save"

    def __init__(self, submit: Submit) -> None:
        super().__init__()
        self.submit = submit
        self.early: list[tuple[str, str | None]] = []
        self.ready = False
        self.closed = False
        self.saving = False
        self.closing: tuple[str | None] | None = None
        """The result of a save that finished while another screen covered the form."""
        self.confirmed = False
        """The person said yes to the form's question (AskFirst), for the next submit only."""
        self.past_ok = False
        """The person said to post a date already past anyway (for the next submit only)."""

    def compose(self) -> ComposeResult:
        # Not focusable itself: the first field gets the focus (and what is typed) at once.
        with VerticalScroll(classes="dialog form", can_focus=False):
            yield Label(self.title_text, classes="dialog-title")
            yield from self.fields()
            yield Static(display.text(""), classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button(display.text(self.ok_label), variant="primary", id="ok", compact=True)
                yield Button(display.text("Cancel"), id="cancel", compact=True)
                yield Static(
                    display.text(f"ctrl+s {self.ok_label.lower()} · Esc cancel"), classes="hint"
                )

    def fields(self) -> ComposeResult:
        yield from ()

    def type_ahead(self, key: str, character: str | None) -> None:
        """A key typed after the one that opened this form but before the form was ready
        (keys sent in one burst): kept, and played into the form once it is."""
        self.early.append((key, character))

    def on_mount(self) -> None:
        self.query(Input).first().focus()  # every form starts with a one-line field
        box = self.query_one(".dialog", VerticalScroll)
        self.call_after_refresh(box.scroll_home, animate=False)  # show the form's title too
        self.ready = True
        early, self.early = self.early, []
        for key, character in early:
            if not self.play(key, character):
                return

    def play(self, key: str, character: str | None) -> bool:
        """One early key, as the form would have taken it; False once the form is closed or
        saving (what follows would not belong to it)."""
        focused = self.focused
        if key == "escape":
            self.action_cancel()
            return False
        if key in ("ctrl+s", "enter") and not (key == "enter" and isinstance(focused, TextArea)):
            self.action_submit()
            return not (self.closed or self.saving)
        if key == "tab":
            self.focus_next()
        elif key == "shift+tab":
            self.focus_previous()
        elif key == "enter" and isinstance(focused, TextArea):
            focused.insert("\n")
        elif character and character.isprintable():
            if isinstance(focused, Input):
                focused.insert_text_at_cursor(character)
            elif isinstance(focused, TextArea):
                focused.insert(character)
        return True

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {"past_ok": self.past_ok, "confirmed": self.confirmed}
        for widget in self.query("Input, TextArea, Select"):
            if widget.id is None:
                continue
            if isinstance(widget, TextArea):
                result[widget.id] = widget.text
            elif isinstance(widget, Select):
                result[widget.id] = widget.value
            else:
                result[widget.id] = widget.value  # type: ignore[attr-defined]
        return result

    def close(self, result: str | None) -> None:
        self.closed = True
        if self.app.screen is self:
            self.dismiss(result)
        else:  # covered (a window made too small): closed once it is on top again
            self.closing = (result,)

    def on_screen_resume(self) -> None:
        if self.closing is not None:
            result, self.closing = self.closing[0], None
            self.dismiss(result)

    def action_cancel(self) -> None:
        if self.saving:
            self.say(display.text(("Saving… the form closes once it is written.", "hint")))
            return
        self.close(None)

    def say(self, line: display.Shown) -> None:
        self.query_one("#error", Static).update(line)

    def action_submit(self) -> None:
        if self.saving:
            return
        try:
            job = self.submit(self.values())
        except InPast as exc:
            self.ask_past(exc.ms)
            return
        except AskFirst as exc:
            self.ask(exc)
            return
        except PotluckError as exc:
            self.say(display.problem(exc))
            return
        finally:
            self.past_ok = self.confirmed = False
        self.saving = True
        self.set_class(True, "saving")
        self.query("Input, TextArea, Select, Button").set(disabled=True)
        self.say(display.text(("Saving…", "hint")))
        self.save(job)

    def ask_past(self, ms: int) -> None:
        """A date already past: asked about, never taken silently (nor refused outright: an
        event can be posted after it happened)."""
        verb = self.ok_label.lower()
        self.say(display.text(f"{shown(ms)} is in the past."))

        def answered(yes: bool | None) -> None:
            if yes:
                self.past_ok = True
                self.action_submit()

        self.app.push_screen(
            ConfirmDialog(
                display.text(f"That is in the past ({shown(ms)}): {verb} anyway?"),
                yes=f"{self.ok_label} anyway",
                no="Change it",
            ),
            answered,
        )

    def ask(self, question: AskFirst) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.confirmed = True
                self.action_submit()

        self.app.push_screen(ConfirmDialog(question.question, yes=question.yes), answered)

    @work(group="save", description="save")
    async def save(self, job: Job) -> None:
        """Write on the store thread; close once committed, or stay open with the reason."""
        try:
            sentence = await store_of(self.app).run(job)
        except PotluckError as exc:
            self.failed(display.problem(exc))
        except Exception:  # a bug below: the words stay, the traceback goes to the log
            log.exception("saving a form failed")
            self.failed(
                display.text("Could not save (an unexpected error): details are in potluck.log")
            )
        else:
            self.close(sentence)

    def failed(self, reason: display.Shown) -> None:
        self.saving = False
        self.set_class(False, "saving")
        self.query("Input, TextArea, Select, Button").set(disabled=False)
        self.say(reason)
        self.query(Input).first().focus()

    @on(Button.Pressed, "#ok")
    def pressed_ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def pressed_cancel(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_submit()


def field(label: str, widget: Widget) -> ComposeResult:
    """A field on one line: its label on the left, what is typed on the right."""
    yield Horizontal(Label(display.text(label), classes="field-label"), widget, classes="field")


def fields_side_by_side(*pairs: tuple[str, Widget]) -> ComposeResult:
    """Two or three short fields on one line (a start and an end), so a form fits 80x24."""
    parts: list[Widget] = []
    for n, (label, widget) in enumerate(pairs):
        parts.append(Label(display.text(label), classes="field-label" + (" next" if n else "")))
        parts.append(widget)
    yield Horizontal(*parts, classes="field")


def now_of(clock: Callable[[], int]) -> datetime:
    """The app's clock as local wall-clock time (typed dates are read from it)."""
    return datetime.fromtimestamp(clock() / 1000)


def deadline_example(now: datetime) -> str:
    """A decision date to show as an example: two weeks from now, as people write it."""
    day = now.date() + timedelta(days=14)
    return f"{day.day} {day:%b}".lower()


class NewItemDialog(FormDialog):
    """Post an item of one kind: the fields that kind has, at most one line each (the text
    three), so that the message and the Post button show at 80x24."""

    ok_label = "Post"

    def __init__(self, kind: Kind, submit: Submit, now: datetime | None = None) -> None:
        super().__init__(submit)
        self.kind = kind
        self.now = now or datetime.now()
        self.title_text = display.text(f"Post {KIND_WORDS[kind]}")

    def fields(self) -> ComposeResult:
        yield from field("Title", Input(id="title", compact=True, placeholder="a short line"))
        yield from field(
            "Text", TextArea(id="body", compact=True, placeholder="more words (optional)")
        )
        yield from field(
            "Tags", Input(id="tags", compact=True, placeholder="optional, e.g. food tools")
        )
        if self.kind is Kind.EVENT:
            yield from fields_side_by_side(
                (
                    "Starts",
                    Input(
                        id="start", compact=True, placeholder=display.editable(example(self.now))
                    ),
                ),
                (
                    "Ends",
                    Input(id="end", compact=True, classes="time", placeholder="optional: 22:00"),
                ),
            )
            yield from field(
                "Where", Input(id="place", compact=True, placeholder="the big kitchen")
            )
        if self.kind is Kind.PROJECT:
            yield from field(
                "Tasks",
                Input(id="tasks", compact=True, placeholder="optional, by commas: paint, fix door"),
            )
            yield from fields_side_by_side(
                (
                    "Shifts",
                    Input(
                        id="shifts",
                        compact=True,
                        placeholder="optional: every tue 18:00-21:00; every sat 10:00",
                    ),
                ),
                ("Places", Input("2", id="places", compact=True, classes="number")),
            )
        if self.kind is Kind.PROPOSAL:
            yield from field(
                "Decide by",
                Input(
                    id="decide_by",
                    compact=True,
                    placeholder=display.editable(f"optional, e.g. {deadline_example(self.now)}"),
                ),
            )


SHORT_SHIFT_EXAMPLES = (
    "every tue 18:00-21:00, every 2 weeks sat 10:00-13:00, first sat of the month 10:00, "
    "12 dec 10:00-13:00"
)


def parse_places(text: str) -> int:
    """How many people a shift needs each time, as typed."""
    digits = text.strip() or "2"
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 4):
        raise InvalidInput(f"places: give a whole number from 1 to {MAX_PLACES}")
    if not 1 <= int(digits) <= MAX_PLACES:
        raise InvalidInput(f"places: give a whole number from 1 to {MAX_PLACES}")
    return int(digits)


def parse_shifts(text: str, places: int, now: datetime) -> list[tuple[str, int]]:
    """'every tue 18:00-21:00; every sat 10:00' → each with its places; a phrase that is not
    understood is refused with examples (the same phrases as `potluck post --shift`)."""
    shifts = []
    for part in text.split(";"):
        phrase = part.strip()
        if not phrase:
            continue
        try:
            parse_shift(phrase, now)
        except InvalidInput:
            raise InvalidInput(
                f"'{phrase}' is not a shift this understands: write e.g. {SHORT_SHIFT_EXAMPLES}"
            ) from None
        shifts.append((phrase, places))
    return shifts


def post_fields(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Form values → keyword arguments of Board.post; dates are read as the command line reads
    them, seen from `now` (InPast for a start or a decision date already past, unless the
    person said to post it anyway: `values["past_ok"]`)."""
    past_ok = bool(values.get("past_ok"))
    kwargs: dict[str, Any] = {
        "body": values.get("body", ""),
        "tags": values.get("tags", "").replace(",", " ").split(),
    }
    if "start" in values:
        if not values["start"].strip():
            raise InvalidInput(f"an event needs a start, like {TIME_EXAMPLE}")
        kwargs["start"] = start_ms(values["start"], "the start", past_ok=past_ok, now=now)
        kwargs["end"] = end_ms(values.get("end", ""), kwargs["start"], "the end")
        kwargs["place"] = values.get("place", "").strip()
    if "tasks" in values:
        kwargs["tasks"] = [t.strip() for t in values["tasks"].split(",") if t.strip()]
        places = parse_places(values.get("places", ""))
        kwargs["shifts"] = parse_shifts(values.get("shifts", ""), places, now)
    if "decide_by" in values:
        kwargs["decide_by"] = deadline_ms(
            values["decide_by"], "the decision date", past_ok=past_ok, now=now
        )
    return kwargs


class ReplyDialog(FormDialog):
    ok_label = "Reply"

    def __init__(self, title: str, submit: Submit) -> None:
        super().__init__(submit)
        self.title_text = display.text("Reply to “", title, "”")

    def fields(self) -> ComposeResult:
        yield Input(id="text", compact=True, placeholder="write your reply, then Enter")


class EditDialog(FormDialog):
    """Edit an item's own text (and an event's time and place, a proposal's date)."""

    ok_label = "Save"

    def __init__(self, item: Item, submit: Submit) -> None:
        super().__init__(submit)
        self.item = item
        self.title_text = display.text(
            "Edit this note (everyone writes it together)"
            if item.kind is Kind.NOTE
            else "Edit your post"
        )

    def fields(self) -> ComposeResult:
        item = self.item
        yield from field("Title", Input(display.editable(item.title), id="title", compact=True))
        yield from field(
            "Text",
            TextArea(display.editable(item.body, multiline=True), id="body", compact=True),
        )
        yield from field(
            "Tags", Input(display.editable(" ".join(item.tags)), id="tags", compact=True)
        )
        if item.kind is Kind.EVENT:
            yield from fields_side_by_side(
                (
                    "Starts",
                    Input(
                        display.editable(as_input(item.start)),
                        id="start",
                        compact=True,
                        placeholder=display.editable(TIME_EXAMPLE),
                    ),
                ),
                (
                    "Ends",
                    Input(
                        display.editable(as_input(item.end)), id="end", compact=True, classes="time"
                    ),
                ),
            )
            yield from field("Where", Input(display.editable(item.place), id="place", compact=True))
        if item.kind is Kind.PROPOSAL:
            yield from field(
                "Decide by",
                Input(display.editable(as_input(item.decide_by)), id="decide_by", compact=True),
            )
        if item.kind is Kind.PROJECT:
            yield Static(
                display.text("Its tasks and shifts: press s on the board."), classes="hint"
            )


def edit_fields(item: Item, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Edit form values → keyword arguments of Board.edit: only what changed (compared with
    what the form showed, so a field left alone is never rewritten)."""
    past_ok = bool(values.get("past_ok"))
    tags = [t.lstrip("#").lower() for t in values.get("tags", "").replace(",", " ").split()]
    title, body = display.editable(item.title), display.editable(item.body, multiline=True)
    kwargs: dict[str, Any] = {
        "title": values["title"] if values["title"] != title else None,
        "body": values["body"] if values["body"] != body else None,
        "body_from": item.heads,
        "add_tags": [t for t in tags if t not in item.tags],
        "remove_tags": [t for t in item.tags if t not in tags],
    }
    if item.kind is Kind.EVENT:
        typed = values.get("start", "")
        if not typed.strip():
            raise InvalidInput(f"an event needs a start, like {TIME_EXAMPLE}")
        unchanged = typed.strip() == as_input(item.start)
        start = start_ms(typed, "the start", past_ok=past_ok or unchanged, now=now)
        end = end_ms(values.get("end", ""), start, "the end")
        place = values.get("place", "").strip()
        if place == display.editable(item.place).strip():
            place = item.place
        kwargs["start"] = start if start != item.start else None
        kwargs["end"] = end if end != item.end else None
        kwargs["clear_end"] = end is None and item.end is not None
        kwargs["place"] = place if place != item.place else None
    if item.kind is Kind.PROPOSAL:
        typed = values.get("decide_by", "").strip()
        if typed and typed != as_input(item.decide_by):
            kwargs["decide_by"] = deadline_ms(typed, "the decision date", past_ok=past_ok, now=now)
    return kwargs


class TagDialog(FormDialog):
    """Show one tag only; the tags in use are read (on the store thread) once the form is up."""

    ok_label = "Show"
    title_text = display.text("Show only items with the tag")

    def __init__(self, current: str, load_tags: Callable[[], list[str]], submit: Submit) -> None:
        super().__init__(submit)
        self.current = current
        self.load_tags = load_tags

    def fields(self) -> ComposeResult:
        yield Input(
            display.editable(self.current),
            id="tag",
            compact=True,
            placeholder="a tag; empty shows everything",
        )
        yield Static(display.text(""), classes="hint", id="tags-here")

    def on_mount(self) -> None:
        super().on_mount()
        self.show_tags()

    @work(group="tags", description="show_tags")
    async def show_tags(self) -> None:
        try:
            tags = await store_of(self.app).run(self.load_tags)
        except PotluckError:
            return  # only a hint: the filter works without it
        if tags:
            hint = display.text("Tags here: ", " ".join(f"#{t}" for t in tags[:30]))
            self.query_one("#tags-here", Static).update(hint)
