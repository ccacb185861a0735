"""The left-hand list: one two-line row per item, paged from the index."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from p2p.model import ItemSummary, Status
from tui.fmt import ago


def row(summary: ItemSummary, now_ms: int) -> Text:
    """Title on the first line; who, when, tags and thread sizes on the second."""
    done = summary.status is not Status.OPEN
    text = Text(no_wrap=True, overflow="ellipsis")
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
    return text


class ItemList(OptionList):
    """Item rows keyed by item id, so live updates keep the highlighted item."""

    def show(self, summaries: list[ItemSummary], now_ms: int, keep: str | None) -> None:
        """Replace the rows, keeping `keep` highlighted and the scroll where it was."""
        scroll_y = self.scroll_y
        self.set_options([Option(row(s, now_ms), id=s.id) for s in summaries])
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
        self.add_options([Option(row(s, now_ms), id=s.id) for s in summaries])

    @property
    def current_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None
