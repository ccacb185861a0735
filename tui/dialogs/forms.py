"""Modal forms: post, reply, respond, edit, tag filter. Each shows its error inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from potluck.p2p import InvalidInput, Item, Kind, PotluckError, ResponseKind
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ..cli.words import TIME_EXAMPLE, as_input, parse_when

KIND_WORDS = {
    Kind.NEED: "a need",
    Kind.OFFER: "an offer",
    Kind.PROJECT: "a project",
    Kind.EVENT: "an event",
    Kind.PROPOSAL: "a proposal",
    Kind.NOTE: "a note",
}


class FormDialog(ModalScreen[str | None]):
    """A titled form; `submit` does the work and returns a sentence, or raises with one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without saving"),
        Binding("ctrl+s", "submit", "Save", id="form.submit", tooltip="Save this form"),
    ]
    title_text = ""
    ok_label = "Save"

    def __init__(self, submit: Callable[[dict[str, Any]], str]) -> None:
        super().__init__()
        self.submit = submit
        self.early: list[tuple[str, str | None]] = []
        self.ready = False
        self.closed = False

    def compose(self) -> ComposeResult:
        # Not focusable itself: the first field gets the focus (and what is typed) at once.
        with VerticalScroll(classes="dialog", can_focus=False):
            yield Label(self.title_text, classes="dialog-title")
            yield from self.fields()
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button(self.ok_label, variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
                yield Static(f"ctrl+s {self.ok_label.lower()} · Esc cancel", classes="hint")

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
        """One early key, as the form would have taken it; False once the form is closed."""
        focused = self.focused
        if key == "escape":
            self.action_cancel()
            return False
        if key in ("ctrl+s", "enter") and not (key == "enter" and isinstance(focused, TextArea)):
            self.action_submit()
            return not self.closed
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
        self.close(None)

    def action_submit(self) -> None:
        error = self.query_one("#error", Static)
        try:
            sentence = self.submit(self.values())
        except PotluckError as exc:
            error.update(str(exc))
            return
        self.close(sentence)

    @on(Button.Pressed, "#ok")
    def pressed_ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def pressed_cancel(self) -> None:
        self.close(None)

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_submit()


def field(label: str, widget: Any) -> ComposeResult:
    yield Label(label, classes="field-label")
    yield widget


class NewItemDialog(FormDialog):
    """Post an item of one kind: the fields that kind has."""

    ok_label = "Post"

    def __init__(self, kind: Kind, submit: Callable[[dict[str, Any]], str]) -> None:
        super().__init__(submit)
        self.kind = kind
        self.title_text = f"Post {KIND_WORDS[kind]}"

    def fields(self) -> ComposeResult:
        yield from field("Title", Input(id="title", compact=True, placeholder="a short line"))
        yield from field("More words (optional)", TextArea(id="body", compact=True))
        yield from field(
            "Tags (optional)", Input(id="tags", compact=True, placeholder="e.g. food tools")
        )
        if self.kind is Kind.EVENT:
            yield from field("Starts", Input(id="start", compact=True, placeholder=TIME_EXAMPLE))
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

    def __init__(self, title: str, submit: Callable[[dict[str, Any]], str]) -> None:
        super().__init__(submit)
        self.title_text = f"Reply to “{title}”"

    def fields(self) -> ComposeResult:
        yield Input(id="text", compact=True, placeholder="write your reply, then Enter")


def response_choices(item: Item, me: str, name: Callable[[str], str]) -> list[tuple[str, str]]:
    """What this person can say to this item, as (label, 'kind:which')."""
    choices: list[tuple[str, str]] = []
    if item.kind is Kind.NEED:
        choices.append(("I can help", "help:"))
    elif item.kind is Kind.OFFER:
        choices.append(("I'd like this", "interested:"))
    elif item.kind is Kind.EVENT:
        choices += [("I'm coming", "going:"), ("I'll bring something (say what)", "bring:")]
    elif item.kind is Kind.PROPOSAL:
        choices += [
            ("I agree", "agree:"),
            ("I have a concern", "concern:"),
            ("I stand aside", "stand-aside:"),
            ("I block (give a reason)", "block:"),
        ]
    elif item.kind is Kind.PROJECT:
        for n, task in enumerate(item.tasks, 1):
            if not task.taken_by and not task.done:
                choices.append((f"Take the task: {task.title}", f"task:{n}"))
        for n, shift in enumerate(item.shifts, 1):
            if me not in shift.signed_up and len(shift.signed_up) < shift.slots:
                choices.append((f"Sign up for: {shift.when}", f"shift:{n}"))
        choices.append(("I can help", "help:"))
    return choices


class RespondDialog(FormDialog):
    """The kind's main response first, others in a list, and an optional note."""

    ok_label = "Say it"

    def __init__(
        self, item: Item, choices: list[tuple[str, str]], submit: Callable[[dict[str, Any]], str]
    ) -> None:
        super().__init__(submit)
        self.item = item
        self.choices = choices
        self.title_text = f"Respond to “{item.title}”"

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

    def __init__(self, item: Item, submit: Callable[[dict[str, Any]], str]) -> None:
        super().__init__(submit)
        self.item = item
        self.title_text = "Edit your post"

    def fields(self) -> ComposeResult:
        yield from field("Title", Input(self.item.title, id="title", compact=True))
        yield from field("More words", TextArea(self.item.body, id="body", compact=True))
        yield from field("Tags", Input(" ".join(self.item.tags), id="tags", compact=True))
        if self.item.kind is Kind.EVENT:
            yield from field(
                "Starts",
                Input(
                    as_input(self.item.start), id="start", compact=True, placeholder=TIME_EXAMPLE
                ),
            )
            yield from field(
                "Ends (optional)", Input(as_input(self.item.end), id="end", compact=True)
            )
            yield from field("Where", Input(self.item.place, id="place", compact=True))


def edit_fields(item: Item, values: dict[str, Any]) -> dict[str, Any]:
    """Edit form values → keyword arguments of Board.edit: only what changed."""
    tags = [t.lstrip("#").lower() for t in values.get("tags", "").replace(",", " ").split()]
    kwargs: dict[str, Any] = {
        "title": values["title"] if values["title"] != item.title else None,
        "body": values["body"] if values["body"] != item.body else None,
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
        kwargs["start"] = start if start != item.start else None
        kwargs["end"] = end if end != item.end else None
        kwargs["clear_end"] = end is None and item.end is not None
        kwargs["place"] = place if place != item.place else None
    return kwargs


class TagDialog(FormDialog):
    ok_label = "Show"
    title_text = "Show only items with the tag"

    def __init__(
        self, current: str, tags: list[str], submit: Callable[[dict[str, Any]], str]
    ) -> None:
        super().__init__(submit)
        self.current = current
        self.tags = tags

    def fields(self) -> ComposeResult:
        yield Input(
            self.current, id="tag", compact=True, placeholder="a tag; empty shows everything"
        )
        if self.tags:
            yield Static("Tags here: " + " ".join(f"#{t}" for t in self.tags[:30]), classes="hint")
