"""The left-hand list: one two-line row per item, paged from the index."""

from __future__ import annotations

from potluck.p2p import ItemSummary, Kind
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from .. import display
from ..cli.people import People
from ..cli.render import summary_lines

TAB_OF = {
    Kind.NEED: "Needs",
    Kind.OFFER: "Offers",
    Kind.PROJECT: "Projects",
    Kind.EVENT: "Events",
    Kind.PROPOSAL: "Assembly",
    Kind.NOTE: "Notes",
}
"""The tab each kind is listed in (a whole-board search says where each result lives)."""
UNREAD = "● "
"""Before the title of an item with news (a reply, an answer) not opened yet."""


def row(
    summary: ItemSummary,
    people: People,
    now_ms: int,
    width: int = 0,
    *,
    unread: bool = False,
    tab: bool = False,
    state: str = "",
) -> display.Shown:
    """Title on the first line (marked when it has news not opened yet); a proposal's
    decision, who, when, tags and thread sizes on the second (after the item's tab, in a
    whole-board search), each cropped to the list's width. `state` replaces a proposal's
    decision date ("agreed Tue 1 Dec")."""
    head, meta = summary_lines(summary, people, now_ms, state)
    title = display.described([head])
    if unread:
        title = display.text((UNREAD, "status"), title)
    where = display.text((f"{TAB_OF[summary.kind]} · ", "tag")) if tab else display.text("")
    about = display.text("  ", where, display.described([meta]))
    if width > 4:
        title, about = (display.cropped(line, width) for line in (title, about))
    return display.join("\n", [title, about])


ROW_LINES = 2
"""Every row is two lines: the title, then who, when, replies and tags."""


class ItemList(OptionList):
    """Item rows keyed by item id, so live updates keep the highlighted item."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.summaries: list[ItemSummary] = []
        self.now_ms = 0
        self.people = People({})
        self.unread: frozenset[str] = frozenset()
        """Items with news not opened yet: marked."""
        self.tabs = False
        """Rows say which tab their item is in (a search of the whole board)."""
        self.states: dict[str, str] = {}
        """A proposal's outcome where it is known from the index ("agreed Tue 1 Dec")."""

    @property
    def row_width(self) -> int:
        return max(0, self.scrollable_content_region.width - 1)

    def on_resize(self) -> None:
        if self.summaries:
            self.show(self.summaries, self.people, self.now_ms, self.current_id)  # new width

    def option(self, summary: ItemSummary) -> Option:
        return Option(
            row(
                summary,
                self.people,
                self.now_ms,
                self.row_width,
                unread=summary.id in self.unread,
                tab=self.tabs,
                state=self.states.get(summary.id, ""),
            ),
            id=summary.id,
        )

    def mark(self, unread: frozenset[str]) -> None:
        """Mark the items with news not opened yet (redrawing only the rows that change)."""
        changed = unread ^ self.unread
        self.unread = unread
        for summary in self.summaries:
            if summary.id in changed and summary.id in self._id_to_option:
                self.replace_option_prompt(summary.id, self.option(summary).prompt)

    def show(
        self,
        summaries: list[ItemSummary],
        people: People,
        now_ms: int,
        keep: str | None,
        *,
        tabs: bool | None = None,
        states: dict[str, str] | None = None,
    ) -> None:
        """Replace the rows, keeping `keep` highlighted where it was on screen; `tabs` and
        `states` as the attributes of the same names (unchanged when None)."""
        self.now_ms = now_ms
        self.people = people
        if tabs is not None:
            self.tabs = tabs
        if states is not None:
            self.states = states
        self._replace(list(summaries), [self.option(s) for s in summaries], keep)

    def append(self, summaries: list[ItemSummary]) -> None:
        """Add rows at the end; ids already shown (moved up by a live change) are skipped."""
        fresh = [s for s in summaries if s.id not in self._id_to_option]
        self.summaries += fresh
        self.add_options([self.option(s) for s in fresh])

    def merge_top(
        self,
        top: list[ItemSummary],
        people: People,
        now_ms: int,
        states: dict[str, str] | None = None,
    ) -> None:
        """Replace the first rows with `top` (freshly read) and keep every other row as it
        was, reusing its drawn option; the highlighted item stays where it was on screen."""
        in_top = {s.id for s in top}
        states = self.states if states is None else states
        same_look = (
            people.names == self.people.names and now_ms == self.now_ms and states == self.states
        )
        self.states = states
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
