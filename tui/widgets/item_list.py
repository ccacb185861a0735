"""The left-hand list: one two-line row per item, paged from the index."""

from __future__ import annotations

from potluck.p2p import ItemSummary, Status
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..cli.words import ago


def row(summary: ItemSummary, now_ms: int, width: int = 0) -> Text:
    """Title on the first line; who, when, tags and thread sizes on the second, each cropped."""
    done = summary.status is not Status.OPEN
    text = Text()
    text.append(summary.title, style="dim strike" if done else "bold")
    if done:
        text.append(f"  ({summary.status.value})", style="dim")
    text.append("\n")
    bits = [summary.author_name or "someone", ago(summary.updated, now_ms)]
    if summary.replies:
        bits.append(f"{summary.replies} repl{'y' if summary.replies == 1 else 'ies'}")
    if summary.responses:
        bits.append(f"{summary.responses} response{'s' if summary.responses > 1 else ''}")
    text.append("  " + " · ".join(bits), style="dim")
    if summary.tags:
        text.append("  " + " ".join(f"#{t}" for t in summary.tags), style="dim cyan")
    if width > 4:
        lines = text.split("\n")
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        text = Text("\n").join(lines)
    return text


ROW_LINES = 2
"""Every row is two lines: the title, then who, when, replies and tags."""


class ItemList(OptionList):
    """Item rows keyed by item id, so live updates keep the highlighted item."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.summaries: list[ItemSummary] = []
        self.now_ms = 0

    @property
    def row_width(self) -> int:
        return max(0, self.scrollable_content_region.width - 1)

    def on_resize(self) -> None:
        if self.summaries:
            self.show(self.summaries, self.now_ms, self.current_id)

    def show(self, summaries: list[ItemSummary], now_ms: int, keep: str | None) -> None:
        """Replace the rows, keeping `keep` highlighted where it was on screen."""
        self.now_ms = now_ms
        width = self.row_width
        self._replace(
            list(summaries), [Option(row(s, now_ms, width), id=s.id) for s in summaries], keep
        )

    def append(self, summaries: list[ItemSummary], now_ms: int) -> None:
        """Add rows at the end; ids already shown (moved up by a live change) are skipped."""
        fresh = [s for s in summaries if s.id not in self._id_to_option]
        self.summaries += fresh
        width = self.row_width
        self.add_options([Option(row(s, now_ms, width), id=s.id) for s in fresh])

    def merge_top(self, top: list[ItemSummary], now_ms: int) -> None:
        """Replace the first rows with `top` (freshly read) and keep every other row as it
        was, reusing its drawn option; the highlighted item stays where it was on screen."""
        in_top = {s.id for s in top}
        width = self.row_width
        shown = {s.id: s for s in self.summaries}
        tail = [s for s in self.summaries if s.id not in in_top]
        options = [
            self._id_to_option[s.id]
            if shown.get(s.id) == s
            else Option(row(s, now_ms, width), id=s.id)
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
