"""The left-hand list: one two-line row per item, paged from the index."""

from __future__ import annotations

from potluck.p2p import ItemSummary
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from .. import display
from ..cli.people import People
from ..cli.render import summary_lines


def row(summary: ItemSummary, people: People, now_ms: int, width: int = 0) -> display.Shown:
    """Title on the first line; who, when, tags and thread sizes on the second, each cropped
    to the list's width."""
    head, meta = (display.described([line]) for line in summary_lines(summary, people, now_ms))
    meta = display.text("  ", meta)
    if width > 4:
        head, meta = (display.cropped(line, width) for line in (head, meta))
    return display.join("\n", [head, meta])


ROW_LINES = 2
"""Every row is two lines: the title, then who, when, replies and tags."""


class ItemList(OptionList):
    """Item rows keyed by item id, so live updates keep the highlighted item."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.summaries: list[ItemSummary] = []
        self.now_ms = 0
        self.people = People({})

    @property
    def row_width(self) -> int:
        return max(0, self.scrollable_content_region.width - 1)

    def on_resize(self) -> None:
        if self.summaries:
            self.show(self.summaries, self.people, self.now_ms, self.current_id)

    def option(self, summary: ItemSummary) -> Option:
        return Option(row(summary, self.people, self.now_ms, self.row_width), id=summary.id)

    def show(
        self, summaries: list[ItemSummary], people: People, now_ms: int, keep: str | None
    ) -> None:
        """Replace the rows, keeping `keep` highlighted where it was on screen."""
        self.now_ms = now_ms
        self.people = people
        self._replace(list(summaries), [self.option(s) for s in summaries], keep)

    def append(self, summaries: list[ItemSummary]) -> None:
        """Add rows at the end; ids already shown (moved up by a live change) are skipped."""
        fresh = [s for s in summaries if s.id not in self._id_to_option]
        self.summaries += fresh
        self.add_options([self.option(s) for s in fresh])

    def merge_top(self, top: list[ItemSummary], people: People, now_ms: int) -> None:
        """Replace the first rows with `top` (freshly read) and keep every other row as it
        was, reusing its drawn option; the highlighted item stays where it was on screen."""
        in_top = {s.id for s in top}
        same_look = people.names == self.people.names and now_ms == self.now_ms
        self.people, self.now_ms = people, now_ms
        shown = {s.id: s for s in self.summaries}
        tail = [s for s in self.summaries if s.id not in in_top]
        options = [
            self._id_to_option[s.id] if same_look and shown.get(s.id) == s else self.option(s)
            for s in top
        ]
        options += [self._id_to_option[s.id] for s in tail]
        self._replace(top + tail, options, self.current_id)

    def _replace(
        self, summaries: list[ItemSummary], options: list[Option], keep: str | None
    ) -> None:
        before = self.highlighted if keep is not None and keep == self.current_id else None
        scroll_y = self.scroll_y
        self.summaries = summaries
        self.set_options(options)
        index = self.get_option_index(keep) if keep in self._id_to_option else None
        if index is None and summaries:
            index = 0
        self.highlighted = index
        if before is not None and index is not None:
            # Rows that arrived above (or left) would push the item; move the view with it.
            scroll_y += (index - before) * ROW_LINES
        self.scroll_to(y=max(0, scroll_y), animate=False, immediate=True)
        if index is not None:
            self.scroll_to_highlight()

    @property
    def current_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None

    @property
    def current(self) -> ItemSummary | None:
        """The highlighted item's row, as read from the index."""
        index = self.highlighted
        if index is None or not 0 <= index < len(self.summaries):
            return None
        return self.summaries[index]
