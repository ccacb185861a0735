"""The right-hand pane: one item in full, as tui/cli/render.py describes it.

Drawn with Textual's line API: the item's text is wrapped once for the pane's width, and only
the lines on screen are turned into segments. An item can hold a hundred thousand characters
(a member may write that much, on purpose or not); drawn as one Static, every repaint of the
pane rendered all of it, tens of ms on the screen's loop.
"""

from __future__ import annotations

from potluck.p2p import Item, Outcome
from rich.segment import Segment
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .. import display
from ..cli.people import People
from ..cli.render import item_lines


def describe(
    item: Item, people: People, now_ms: int, outcome: Outcome | None = None
) -> display.Shown:
    """An item's text for the pane; pure work, so the store thread can do it with the read."""
    return display.described(item_lines(item, people, now_ms, outcome))


class ItemDetail(ScrollView, can_focus=True):
    """Shows the item the list highlights; `item` is what is on screen now, `shown` its text."""

    DEFAULT_CSS = """
    ItemDetail { padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.item: Item | None = None
        self.shown: display.Shown = display.text("")
        self._lines: list[Content] = []
        self._width = 0
        self._strips: dict[int, Strip] = {}

    def show(self, item: Item, shown: display.Shown) -> None:
        """Draw `item` (`shown`, from `describe`), keeping the scroll if it is the same item
        as before."""
        same = self.item is not None and self.item.id == item.id
        self.item = item
        self._draw(shown, keep_scroll=same)

    def show_empty(self, why: display.Shown) -> None:
        """No item: say why, and what to do."""
        self.item = None
        self._draw(why, keep_scroll=False)

    def _draw(self, shown: display.Shown, keep_scroll: bool) -> None:
        if shown.plain == self.shown.plain and shown.spans == self.shown.spans:
            return  # the same words again (a live change elsewhere): nothing to redraw
        self.shown = shown
        self._wrap()
        if not keep_scroll:
            self.scroll_home(animate=False)
        self.refresh()

    def _wrap(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        self._width = width
        self._lines = self.shown.wrap(width)
        self._strips.clear()
        self.virtual_size = Size(width, len(self._lines))

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._wrap()

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self.visual_style
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base.rich_style)
        strip = self._strips.get(index)
        if strip is None:
            parts = self._lines[index].render(base, end="", parse_style=self._get_style)
            segments = [Segment(text, style.rich_style) for text, style in parts]
            strip = self._strips[index] = Strip(segments).adjust_cell_length(width, base.rich_style)
        return strip
