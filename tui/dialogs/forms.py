"""Modal forms: post, reply, respond, edit, tag filter. Each shows its error inline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from potluck.p2p import InvalidInput, Item, Kind, PotluckError, ResponseKind
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from .. import display
from ..cli.words import TIME_EXAMPLE, as_input, parse_when
from ..store import store_of

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

    def compose(self) -> ComposeResult:
        # Not focusable itself: the first field gets the focus (and what is typed) at once.
        with VerticalScroll(classes="dialog", can_focus=False):
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
        result: dict[str, Any] = {}
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
        except PotluckError as exc:
            self.say(display.problem(exc))
            return
        self.saving = True
        self.set_class(True, "saving")
        self.query("Input, TextArea, Select, Button").set(disabled=True)
        self.say(display.text(("Saving…", "hint")))
        self.save(job)

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


def field(label: str, widget: Any) -> ComposeResult:
    yield Label(display.text(label), classes="field-label")
    yield widget


class NewItemDialog(FormDialog):
    """Post an item of one kind: the fields that kind has."""

    ok_label = "Post"

    def __init__(self, kind: Kind, submit: Submit) -> None:
        super().__init__(submit)
        self.kind = kind
        self.title_text = display.text(f"Post {KIND_WORDS[kind]}")

    def fields(self) -> ComposeResult:
        yield from field("Title", Input(id="title", compact=True, placeholder="a short line"))
        yield from field("More words (optional)", TextArea(id="body", compact=True))
        yield from field(
            "Tags (optional)", Input(id="tags", compact=True, placeholder="e.g. food tools")
        )
        if self.kind is Kind.EVENT:
            yield from field(
                "Starts",
                Input(id="start", compact=True, placeholder=display.editable(TIME_EXAMPLE)),
            )
            yield from field("Ends (optional)", Input(id="end", compact=True))
            yield from field(
                "Where", Input(id="place", compact=True, placeholder="the big kitchen")
            )
        if self.kind is Kind.PROJECT:
            yield from field(
                "Tasks, one per comma",
                Input(id="tasks", compact=True, placeholder="buy paint, fix door"),
            )
            yield from field(
                "Shifts: when x how many, by ;",
                Input(id="shifts", compact=True, placeholder="Tue 18:00 x3; Thu 18:00 x2"),
            )


def parse_shifts(text: str) -> list[tuple[str, int]]:
    """'Tue 18:00 x3; Thu 18:00' → [('Tue 18:00', 3), ('Thu 18:00', 1)]."""
    shifts = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        when, sep, count = part.rpartition(" x")
        if sep and count.strip().isdigit():
            shifts.append((when.strip(), int(count)))
        else:
            shifts.append((part, 1))
    return shifts


def post_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Form values → keyword arguments of Board.post."""
    kwargs: dict[str, Any] = {
        "body": values.get("body", ""),
        "tags": values.get("tags", "").replace(",", " ").split(),
    }
    if "start" in values:
        kwargs["start"] = parse_when(values["start"], "the start")
        kwargs["end"] = parse_when(values.get("end", ""), "the end")
        kwargs["place"] = values.get("place", "").strip()
        if kwargs["start"] is None:
            raise InvalidInput(f"an event needs a start time, like {TIME_EXAMPLE}")
    if "tasks" in values:
        kwargs["tasks"] = [t.strip() for t in values["tasks"].split(",") if t.strip()]
        kwargs["shifts"] = parse_shifts(values.get("shifts", ""))
    return kwargs


class ReplyDialog(FormDialog):
    ok_label = "Reply"

    def __init__(self, title: str, submit: Submit) -> None:
        super().__init__(submit)
        self.title_text = display.text("Reply to “", title, "”")

    def fields(self) -> ComposeResult:
        yield Input(id="text", compact=True, placeholder="write your reply, then Enter")


Choices = list[tuple[display.Shown, str]]


def response_choices(item: Item, me: str) -> Choices:
    """What this person can say to this item, as (label, 'kind:which')."""
    said: list[tuple[str | display.Shown, str]] = []
    if item.kind is Kind.NEED:
        said.append(("I can help", "help:"))
    elif item.kind is Kind.OFFER:
        said.append(("I'd like this", "interested:"))
    elif item.kind is Kind.EVENT:
        said += [("I'm coming", "going:"), ("I'll bring something (say what)", "bring:")]
    elif item.kind is Kind.PROPOSAL:
        said += [
            ("I agree", "agree:"),
            ("I have a concern", "concern:"),
            ("I stand aside", "stand-aside:"),
            ("I block (give a reason)", "block:"),
        ]
    elif item.kind is Kind.PROJECT:
        for n, task in enumerate(item.tasks, 1):
            if not task.taken_by and not task.done:
                said.append((display.text("Take the task: ", task.title), f"task:{n}"))
        for n, shift in enumerate(item.shifts, 1):
            if me not in shift.signed_up and len(shift.signed_up) < shift.slots:
                said.append((display.text("Sign up for: ", shift.when), f"shift:{n}"))
        said.append(("I can help", "help:"))
    return [(display.text(label), value) for label, value in said]


class RespondDialog(FormDialog):
    """The kind's main response first, others in a list, and an optional note."""

    ok_label = "Say it"

    def __init__(self, item: Item, choices: Choices, submit: Submit) -> None:
        super().__init__(submit)
        self.item = item
        self.choices: Choices = choices
        self.title_text = display.text("Respond to “", item.title, "”")

    def fields(self) -> ComposeResult:
        yield Select(
            self.choices, value=self.choices[0][1], allow_blank=False, id="choice", compact=True
        )
        yield from field("A note (optional)", Input(id="note", compact=True))


def parse_choice(value: str) -> tuple[ResponseKind, int | None]:
    kind, _, which = value.partition(":")
    return ResponseKind(kind), int(which) if which else None


class EditDialog(FormDialog):
    ok_label = "Save"

    def __init__(self, item: Item, submit: Submit) -> None:
        super().__init__(submit)
        self.item = item
        self.title_text = display.text("Edit your post")

    def fields(self) -> ComposeResult:
        item = self.item
        yield from field("Title", Input(display.editable(item.title), id="title", compact=True))
        yield from field(
            "More words",
            TextArea(display.editable(item.body, multiline=True), id="body", compact=True),
        )
        yield from field(
            "Tags", Input(display.editable(" ".join(item.tags)), id="tags", compact=True)
        )
        if self.item.kind is Kind.EVENT:
            yield from field(
                "Starts",
                Input(
                    display.editable(as_input(self.item.start)),
                    id="start",
                    compact=True,
                    placeholder=display.editable(TIME_EXAMPLE),
                ),
            )
            yield from field(
                "Ends (optional)",
                Input(display.editable(as_input(self.item.end)), id="end", compact=True),
            )
            yield from field(
                "Where", Input(display.editable(self.item.place), id="place", compact=True)
            )


def edit_fields(item: Item, values: dict[str, Any]) -> dict[str, Any]:
    """Edit form values → keyword arguments of Board.edit: only what changed (compared with
    what the form showed, so a field left alone is never rewritten)."""
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
        start = parse_when(values.get("start", ""), "the start")
        end = parse_when(values.get("end", ""), "the end")
        if start is None:
            raise InvalidInput(f"an event needs a start time, like {TIME_EXAMPLE}")
        place = values.get("place", "").strip()
        if place == display.editable(item.place).strip():
            place = item.place
        kwargs["start"] = start if start != item.start else None
        kwargs["end"] = end if end != item.end else None
        kwargs["clear_end"] = end is None and item.end is not None
        kwargs["place"] = place if place != item.place else None
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
