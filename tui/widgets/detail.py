"""The right-hand pane: one item in full, as tui/cli/render.py describes it."""

from __future__ import annotations

from potluck.p2p import Item
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from .. import display
from ..cli.people import People
from ..cli.render import item_lines


class ItemDetail(VerticalScroll):
    """Shows the item the list highlights; `item` is what is on screen now."""

    DEFAULT_CSS = """
    ItemDetail { padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.item: Item | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-body")

    def show(self, item: Item, people: People, now_ms: int) -> None:
        """Draw `item`, keeping the scroll if it is the same item as before."""
        same = self.item is not None and self.item.id == item.id
        self.item = item
        self.query_one("#detail-body", Static).update(
            display.described(item_lines(item, people, now_ms))
        )
        if not same:
            self.scroll_home(animate=False)

    def show_empty(self, why: display.Shown) -> None:
        """No item: say why, and what to do."""
        self.item = None
        self.query_one("#detail-body", Static).update(why)
        self.scroll_home(animate=False)
