"""The left-hand list: one two-line row per item, paged from the index."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from p2p.model import ItemSummary, Status
from tui.fmt import ago


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
        """Replace the rows, keeping `keep` highlighted and the scroll where it was."""
        scroll_y = self.scroll_y
        self.summaries = list(summaries)
        self.now_ms = now_ms
        width = self.row_width
        self.set_options([Option(row(s, now_ms, width), id=s.id) for s in summaries])
        index = None
        if keep is not None:
            try:
                index = self.get_option_index(keep)
            except Exception:
                index = None
        if index is None and summaries:
            index = 0
        self.highlighted = index
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
        if index is not None:
            self.scroll_to_highlight()

    def append(self, summaries: list[ItemSummary], now_ms: int) -> None:
        """Add the next page; rows already shown (pushed down by new items) are skipped."""
        shown = {s.id for s in self.summaries}
        summaries = [s for s in summaries if s.id not in shown]
        self.summaries += summaries
        width = self.row_width
        self.add_options([Option(row(s, now_ms, width), id=s.id) for s in summaries])

    @property
    def current_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None
