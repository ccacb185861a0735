"""The right-hand pane: one item in full, with its parts, responses and replies."""

from __future__ import annotations

from collections.abc import Callable

from potluck.p2p import Item, Kind, ResponseKind, Status
from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..cli.words import ago, when

RESPONSE_WORDS = {
    ResponseKind.HELP: "can help",
    ResponseKind.INTERESTED: "would like this",
    ResponseKind.GOING: "is coming",
    ResponseKind.BRING: "will bring",
    ResponseKind.AGREE: "agrees",
    ResponseKind.CONCERN: "has a concern",
    ResponseKind.STAND_ASIDE: "stands aside",
    ResponseKind.BLOCK: "blocks",
}


def render_item(item: Item, name: Callable[[str], str], now_ms: int) -> Group:
    """Everything about one item, in reading order."""
    parts: list[Text] = []
    head = Text(item.title, style="bold")
    if item.status is not Status.OPEN:
        head.append(f"  ({item.status.value})", style="yellow")
    parts.append(head)
    meta = Text(f"{item.kind.value} by {name(item.author)} · {ago(item.created, now_ms)}", "dim")
    if item.tags:
        meta.append("  " + " ".join(f"#{t}" for t in item.tags), style="cyan")
    parts.append(meta)
    if item.body:
        parts.append(Text("\n" + item.body))
    if item.kind is Kind.EVENT and (item.start or item.place):
        line = Text("\nWhen: ", style="bold")
        line.append(when(item.start) + (f" – {when(item.end)}" if item.end else ""))
        if item.place:
            line.append("\nWhere: ", style="bold")
            line.append(item.place)
        parts.append(line)
    if item.tasks:
        parts.append(Text("\nTasks", style="bold"))
        for n, task in enumerate(item.tasks, 1):
            takers = ", ".join(name(m) for m in task.taken_by) or "free"
            who = "done" if task.done else takers
            parts.append(Text(f" {n}. {task.title} — {who}"))
    if item.shifts:
        parts.append(Text("\nShifts", style="bold"))
        for n, shift in enumerate(item.shifts, 1):
            people = ", ".join(name(m) for m in shift.signed_up) or "nobody yet"
            parts.append(
                Text(f" {n}. {shift.when} ({len(shift.signed_up)}/{shift.slots}): {people}")
            )
    if item.responses:
        title = "Positions" if item.kind is Kind.PROPOSAL else "Responses"
        parts.append(Text(f"\n{title}", style="bold"))
        for response in item.responses:
            words = (
                RESPONSE_WORDS.get(ResponseKind(response.kind), response.kind)
                if response.kind in ResponseKind._value2member_map_
                else response.kind
            )
            line = Text(f" {name(response.member)} {words}")
            if response.note:
                line.append(f": {response.note}", style="italic")
            parts.append(line)
    parts.append(
        Text(
            f"\nReplies ({len(item.replies)})" if item.replies else "\nNo replies yet.",
            style="bold" if item.replies else "dim",
        )
    )
    for reply in item.replies:
        line = Text(" ")
        line.append(name(reply.author), style="bold")
        line.append(f" · {ago(reply.time, now_ms)}\n", style="dim")
        line.append("  " + reply.text.replace("\n", "\n  "))
        parts.append(line)
    return Group(*parts)


class ItemDetail(VerticalScroll):
    """Shows the item the list highlights; `item` is what is on screen now."""

    DEFAULT_CSS = """
    ItemDetail { padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.item: Item | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Nothing here yet. Press n to post the first one.", id="detail-body")

    def show(self, item: Item | None, name: Callable[[str], str], now_ms: int, empty: str) -> None:
        """Draw `item`, keeping the scroll if it is the same item as before."""
        same = item is not None and self.item is not None and self.item.id == item.id
        self.item = item
        body = self.query_one("#detail-body", Static)
        body.update(render_item(item, name, now_ms) if item is not None else Text(empty, "dim"))
        if not same:
            self.scroll_home(animate=False)
