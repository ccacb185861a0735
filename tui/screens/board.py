"""The board: kind tabs, item list, item detail and a status line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from potluck.p2p import ALLOWED_RESPONSES, Board, Item, ItemSummary, Kind, PotluckError, Status
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static, Tab, Tabs

from .. import display
from ..cli.people import People
from ..cli.render import outcome_of
from ..cli.words import plural
from ..dialogs.confirm import ConfirmDialog
from ..dialogs.forms import (
    EditDialog,
    FormDialog,
    Job,
    NewItemDialog,
    ReplyDialog,
    TagDialog,
    edit_fields,
    now_of,
    post_fields,
)
from ..dialogs.project import ProjectDialog, project_job
from ..dialogs.respond import RespondDialog, respond_job, response_choices
from ..messages import BoardChanged, PeersChanged
from ..node_bridge import NodeBridge, Presence
from ..reads import Announcer, Page, Query, read_open_places, read_page, read_rows, read_tags
from ..status_line import status_line
from ..store import AppStore
from ..textual_fixes import Footer, forget_removed_widgets
from ..widgets.detail import ItemDetail, describe
from ..widgets.item_list import ItemList
from .info import HelpScreen, InviteScreen, PeersScreen
from .upcoming import UpcomingScreen

log = logging.getLogger(__name__)

PAGE = 200
WEEK_SECONDS = 5.0
"""The open places of the week are counted at most this often."""
LIVE_ROWS = 2 * PAGE
"""Past this many rows loaded, a live change re-reads only the first page and keeps the rest."""
TABS: list[tuple[Kind, str]] = [
    (Kind.NEED, "Needs"),
    (Kind.OFFER, "Offers"),
    (Kind.PROJECT, "Projects"),
    (Kind.EVENT, "Events"),
    (Kind.PROPOSAL, "Assembly"),
    (Kind.NOTE, "Notes"),
]
DONE_WORD = {Kind.NEED: Status.MET, Kind.OFFER: Status.MET}
EMPTY_BOARD = (
    "This board is empty on this laptop so far. Posts by others arrive as soon as one of "
    "their laptops is reachable (p shows who is here).\n\nPress n to post the first one."
)


def b(key: str, action: str, desc: str, bid: str, tip: str, show: bool = True) -> Binding:
    return Binding(
        key,
        action,
        desc,
        show=show,
        id=f"board.{bid}",
        tooltip=tip,
        # Run in the order typed, before the key reaches a widget: "2n" posts an offer, and
        # letters typed right after "r" land in the reply form (see check_action, on_key).
        priority=True,
    )


class KeyBuffer:
    """Keys typed after one that opens a form, while what the form needs is still being read:
    they are handed to the form once it is there (PotluckApp.on_event sends them here)."""

    ready = False

    def __init__(self) -> None:
        self.early: list[tuple[str, str | None]] = []

    def type_ahead(self, key: str, character: str | None) -> None:
        self.early.append((key, character))


class BoardScreen(Screen[None]):
    """One board. Everything it shows is read on the store thread by a worker, and every
    change is written there; the screen redraws when the worker answers, when the change feed
    posts `BoardChanged` and when presence posts `PeersChanged`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        b("n", "new", "New", "new", "Post something new in this tab"),
        b("r", "reply", "Reply", "reply", "Reply to this item"),
        b(
            "space",
            "respond",
            "Respond",
            "respond",
            "Say you can help, come, take a task or a shift; or take it back",
        ),
        b("e", "edit", "Edit", "edit", "Edit your own post", show=False),
        b("m", "mark", "Met", "mark", "Mark met or closed (or reopen)"),
        b("slash", "search", "Search", "search", "Search the whole board"),
        b("t", "tag", "Tag", "tag", "Show only one tag", show=False),
        b(
            "h",
            "toggle_done",
            "Hide done",
            "toggle_done",
            "Hide or show finished items",
            show=False,
        ),
        b("u", "upcoming", "Upcoming", "upcoming", "The next two weeks by date"),
        b(
            "a",
            "agreements",
            "Agreements",
            "agreements",
            "The house's agreements, or all",
            show=False,
        ),
        b("i", "invite", "Invite", "invite", "Invite someone with a code"),
        b("p", "peers", "Peers", "peers", "Laptops nearby", show=False),
        # ui-forms: a project's tasks and shifts, changed by its author.
        b("s", "project", "Tasks", "project", "Change your project's tasks and shifts", False),
        b("question_mark", "help", "Help", "help", "All the keys"),
        b("escape", "clear", "Clear", "clear", "Clear the search and tag filter", show=False),
        b("left", "tab(-1)", "", "prev_tab", "Previous kind", show=False),
        b("right", "tab(1)", "", "next_tab", "Next kind", show=False),
        *[
            b(str(n), f"goto({n - 1})", "", f"tab{n}", f"Show {label}", show=False)
            for n, (_, label) in enumerate(TABS, 1)
        ],
    ]

    def __init__(
        self,
        board: Board,
        store: AppStore,
        bridge: NodeBridge,
        presence: Presence,
        clock: Callable[[], int],
        announcer: Announcer | None = None,
    ) -> None:
        super().__init__()
        self.announcer = announcer
        self.board = board
        self.store = store
        self.bridge = bridge
        self.presence = presence
        self.clock = clock
        self.query_ = Query(Kind.NEED)
        self.loaded = 0
        self.exhausted = True
        self.loading_more = False
        self.people = People({})
        self.board_name = ""
        self.board_items = 0
        self.opening: FormDialog | KeyBuffer | None = None
        self.week_places: int | None = None
        """Open places of the next seven days' shifts, once read."""
        self.week_read = -WEEK_SECONDS
        self.week_timer: Timer | None = None
        self.agreements = 0

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Tabs(
            *[Tab(display.text(label), id=f"tab-{kind.value}") for kind, label in TABS],
            id="kinds",
        )
        yield Input(
            id="search",
            compact=True,
            placeholder="search the whole board, Enter to go, Esc to clear",
        )
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static(display.text(""), id="filters")
                yield ItemList(id="items")
            yield ItemDetail(id="detail")
        yield Static(display.text(""), id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.reload(keep=None)
        self.query_one(ItemList).focus()
        self.read_week()
        self.read_unread()
        self.set_interval(WEEK_SECONDS * 6, self.read_week)  # days roll on

    def on_resize(self) -> None:
        """The status line is cut to the terminal's width: cut it again."""
        self.update_status()

    def on_screen_resume(self) -> None:
        """A dialog closed: let go of what Textual keeps of its widgets (textual_fixes.py)."""
        forget_removed_widgets()

    def now(self) -> int:
        return int(self.clock())

    def alive(self) -> bool:
        """False while the screen is being built or torn down (an answer from the store
        thread can arrive then)."""
        return (
            self.is_attached and self.app.is_running and self.display and bool(self.query(ItemList))
        )

    def say(self, message: display.Shown, severity: SeverityLevel = "information") -> None:
        display.notify(self, message, severity=severity)

    # ------------------------------------------------------------ reading

    def reload(self, keep: str | None = "current") -> None:
        """Re-read counts and the visible rows (as many as are loaded, at least a page); the
        highlighted item stays highlighted."""
        if keep == "current":
            keep = self.query_one(ItemList).current_id
        want = max(PAGE, self.loaded)
        self._reload(self.query_, want, keep)

    @work(group="list", exclusive=True, description="reload")
    async def _reload(self, query: Query, want: int, keep: str | None) -> None:
        page = await self.store.run(read_page, self.board, query, want, self.now())
        if not self.alive() or query != self.query_:
            return
        items = self.query_one(ItemList)
        if keep == "current":
            keep = items.current_id
        self.loaded = len(page.rows)
        self.exhausted = len(page.rows) < want
        items.show(
            page.rows, page.people, self.now(), keep, tabs=query.whole_board, states=page.states
        )
        self.took(page)
        self.show_current()

    def took(self, page: Page) -> None:
        """What was read around the rows: names, the board's name, tab counts."""
        self.people = page.people
        self.board_name = page.board_name
        self.agreements = page.agreements
        self.board_items = sum(page.counts.values())
        for kind, label in TABS:
            n = page.counts.get((kind, Status.OPEN), 0)
            self.query_one(f"#tab-{kind.value}", Tab).label = display.text(
                f"{label} {n}" if n else label
            )
        self.update_filters()
        self.update_status()

    def load_more(self) -> None:
        if self.exhausted or self.loading_more:
            return
        self.loading_more = True
        self._load_more(self.query_, self.loaded)

    @work(group="more", description="_load_more")
    async def _load_more(self, query: Query, offset: int) -> None:
        try:
            rows = await self.store.run(read_rows, self.board, query, PAGE, offset, self.now())
        finally:
            self.loading_more = False
        if not self.alive() or query != self.query_:
            return
        self.exhausted = len(rows) < PAGE
        items = self.query_one(ItemList)
        items.append(rows)
        self.loaded = items.option_count

    def update_filters(self) -> None:
        query = self.query_
        bits = []
        if query.agreements:
            bits.append("the house's agreements · a: all")
        elif query.kind is Kind.PROPOSAL and self.agreements:
            bits.append(f"{plural(self.agreements, 'agreement')} · a shows them")
        if query.search:
            where = "all tabs" if query.whole_board else "this tab"
            bits.append(f"“{query.search}” in {where}")
        if query.tag:
            bits.append(f"#{query.tag}")
        if query.open_only:
            bits.append("upcoming only" if query.kind is Kind.EVENT else "open only")
        label = self.query_one("#filters", Static)
        clears = " · Esc clears" if query.search or query.tag else ""
        label.update(display.text(" · ".join(bits), clears))
        label.display = bool(bits)

    def update_status(self) -> None:
        if not self.alive():
            return
        status = self.query_one("#status", Static)
        line = status_line(
            self.board_name,
            self.presence,
            self.week_places,
            self.people,
            self.board.me,
            status.size.width,
        )
        status.update(display.text(line))

    def read_week(self) -> None:
        """Count the open places of the week ahead, for the status line: at once, or, if
        counted less than WEEK_SECONDS ago, once that much time has passed (it loads every
        open project, and changes can arrive many times a second)."""
        if self.week_timer is not None:
            return
        wait = self.week_read + WEEK_SECONDS - time.monotonic()
        if wait > 0:
            self.week_timer = self.set_timer(wait, self._week_due)
            return
        self.week_read = time.monotonic()
        self._read_week()

    def _week_due(self) -> None:
        self.week_timer = None
        self.read_week()

    @work(group="week", exclusive=True, description="read_week")
    async def _read_week(self) -> None:
        try:
            places = await self.store.run(read_open_places, self.board)
        except PotluckError as exc:
            log.warning("could not read the week's open places: %s", exc)
            return
        if places != self.week_places:
            self.week_places = places
            self.update_status()

    def read_unread(self) -> None:
        """The marks of items with news not opened yet (kept in the home)."""
        if self.announcer is not None:
            self._read_unread(self.announcer)

    @work(group="unread", description="read_unread")
    async def _read_unread(self, announcer: Announcer) -> None:
        unread = await self.store.run(announcer.unread_ids)
        self.show_unread(unread)

    def show_unread(self, unread: frozenset[str]) -> None:
        """Mark the items with news; the one on screen in full is opened, so it is read."""
        if not self.alive():
            return
        shown = self.query_one(ItemDetail).item
        if shown is not None and shown.id in unread and self.announcer is not None:
            self._seen(self.announcer, shown.id)
            unread = unread - {shown.id}
        self.query_one(ItemList).mark(unread)

    @work(group="unread", description="seen")
    async def _seen(self, announcer: Announcer, item_id: str) -> None:
        await self.store.run(announcer.seen, item_id)

    def show_current(self) -> None:
        item_id = self.query_one(ItemList).current_id
        detail = self.query_one(ItemDetail)
        if item_id is None:
            query = self.query_
            if query.agreements:
                empty = (
                    "No agreements yet: a proposal becomes one when its date passes with no "
                    "block standing. Press a to see every proposal."
                )
            elif query.search or query.tag:
                empty = "Nothing matches."
            elif self.board_items == 0:
                empty = EMPTY_BOARD
            else:
                empty = "Nothing here yet. Press n to post the first one."
            detail.show_empty(display.lines(empty, "hint"))
            return
        self._load_detail(item_id)

    @work(group="detail", exclusive=True, description="_load_detail")
    async def _load_detail(self, item_id: str) -> None:
        """Load one document, and lay out its text, on the store thread: automerge can take
        tens of ms, and a member can make an item long."""
        board, people, now = self.board, self.people, self.now()

        def read() -> tuple[Item, display.Shown]:
            item = board.item(item_id)
            return item, describe(item, people, now, outcome_of(board, item))

        try:
            item, shown = await self.store.run(read)
        except PotluckError as exc:
            self.say(display.problem(exc), "warning")
            return
        if self.alive() and self.query_one(ItemList).current_id == item.id:
            self.query_one(ItemDetail).show(item, shown)
            items = self.query_one(ItemList)
            if item.id in items.unread and self.announcer is not None:
                items.mark(items.unread - {item.id})
                self._seen(self.announcer, item.id)

    @on(ItemList.OptionHighlighted)
    def highlighted(self, event: ItemList.OptionHighlighted) -> None:
        items = self.query_one(ItemList)
        if event.option_index >= items.option_count - 20:
            self.load_more()
        self.show_current()

    @on(ItemList.OptionSelected)
    def selected(self) -> None:
        self.action_respond()

    @on(Tabs.TabActivated)
    def tab_changed(self, event: Tabs.TabActivated) -> None:
        """A tab clicked with the mouse (keys switch in action_goto). Tabs announces every
        change of its active tab, ours too: one that is no longer active by the time it is
        handled is stale (two switches in quick succession would otherwise chase each other)."""
        if event.tab is None or event.tab.id is None or event.tab.id != event.tabs.active:
            return
        self.switch_kind(Kind(event.tab.id.removeprefix("tab-")))

    def requery(self, query: Query, keep: str | None = None) -> None:
        self.query_ = query
        self.loaded = 0
        self.reload(keep=keep)

    def switch_kind(self, kind: Kind) -> None:
        """Show `kind` now, so a key pressed right after (n) already acts on it; during a
        search of the whole board, a tab narrows it to that tab."""
        query = self.query_
        if kind is not query.kind or query.whole_board:
            self.requery(Query(kind, query.open_only, query.tag, query.search, everywhere=False))
        self.query_one(Tabs).active = f"tab-{kind.value}"

    def action_tab(self, step: int) -> None:
        index = [k for k, _ in TABS].index(self.query_.kind)
        self.action_goto((index + step) % len(TABS))

    def action_goto(self, index: int) -> None:
        self.switch_kind(TABS[index][0])

    # ------------------------------------------------------------ live changes

    @on(BoardChanged)
    def board_changed(self, message: BoardChanged) -> None:
        """Documents changed on disk: refresh what is visible, keep the cursor."""
        if not self.alive():
            return
        if self.loaded <= LIVE_ROWS:
            self.reload()
        else:
            self.reload_top()
        self.read_week()

    @on(PeersChanged)
    def peers_changed(self, message: PeersChanged) -> None:
        self.presence = message.presence
        self.update_status()

    def reload_top(self) -> None:
        """Someone scrolled deep: re-read the first page only (changed items come first)
        and keep the rows below as they are, so a live change never re-reads thousands."""
        self._reload_top(self.query_)

    @work(group="list", exclusive=True, description="_reload_top")
    async def _reload_top(self, query: Query) -> None:
        page = await self.store.run(read_page, self.board, query, PAGE, self.now())
        if not self.alive() or query != self.query_:
            return
        items = self.query_one(ItemList)
        items.merge_top(page.rows, page.people, self.now(), page.states)
        self.loaded = items.option_count
        self.took(page)
        self.show_current()

    # ------------------------------------------------------------ acting

    def open_form(self, form: FormDialog, done: Callable[[str | None], None]) -> None:
        """Show a form; until it is ready, keys typed after the one that opened it are handed
        to it (PotluckApp.on_event), with those typed while it was being prepared."""
        if isinstance(self.opening, KeyBuffer):
            form.early = self.opening.early + form.early
        self.opening = form

        def closed(result: str | None) -> None:
            self.opening = None
            done(result)

        self.app.push_screen(form, closed)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys are letters while the search box has the focus (Esc still clears it); the
        agreements are the Assembly tab's only."""
        if action == "agreements" and self.query_.kind is not Kind.PROPOSAL:
            return False
        return action == "clear" or not isinstance(self.focused, Input)

    def current_summary(self) -> ItemSummary | None:
        summary = self.query_one(ItemList).current
        if summary is None:
            self.say(display.text("Choose an item first."))
        return summary

    def with_item(self, then: Callable[[Item], None]) -> None:
        """Call `then` with the highlighted item in full: at once if the detail pane shows it,
        else once it is read (keys typed meanwhile wait for the form `then` opens)."""
        current = self.current_summary()
        if current is None:
            return
        shown = self.query_one(ItemDetail).item
        if shown is not None and shown.id == current.id:
            then(shown)
            return
        buffer = self.opening = KeyBuffer()
        self._with_item(current.id, then, buffer)

    @work(group="open", exclusive=True, description="with_item")
    async def _with_item(self, item_id: str, then: Callable[[Item], None], buf: KeyBuffer) -> None:
        try:
            item = await self.store.run(self.board.item, item_id)
            if self.opening is buf and self.alive():
                then(item)  # opens a form, which takes the keys typed meanwhile
        except PotluckError as exc:
            self.say(display.problem(exc), "error")
        finally:
            if self.opening is buf:
                self.opening = None  # no form opened: the keys go back to the board

    def done(self, item_id: str | None = None) -> None:
        self.reload(keep=item_id or "current")

    def action_new(self) -> None:
        kind, board = self.query_.kind, self.board

        def submit(values: dict[str, Any]) -> Job:
            fields = post_fields(values, now_of(self.clock))
            return lambda: board.post(kind, values["title"], **fields)

        self.open_form(NewItemDialog(kind, submit, now_of(self.clock)), self.posted)

    def posted(self, item_id: str | None) -> None:
        if item_id:
            here = any(p.answering for p in self.presence.peers)
            self.say(
                display.text(
                    "Posted. Everyone here will see it."
                    if here
                    else "Posted. The others get it when their laptops are here."
                )
            )
            self.done(item_id)

    def action_reply(self) -> None:
        summary = self.current_summary()
        if summary is None:
            return
        board, item_id = self.board, summary.id

        def submit(values: dict[str, Any]) -> Job:
            text = values["text"]

            def reply() -> str:
                board.reply(item_id, text)
                return "Reply sent."

            return reply

        self.open_form(ReplyDialog(summary.title, submit), self.acted)

    def acted(self, sentence: str | None) -> None:
        if sentence:
            self.say(display.text(sentence))
            self.done()

    def action_respond(self) -> None:
        summary = self.current_summary()
        if summary is None:
            return
        if not ALLOWED_RESPONSES[summary.kind]:
            self.say(display.text("Notes take replies: press r."))
            return
        self.with_item(self.respond_to)

    def respond_to(self, item: Item) -> None:
        board = self.board
        choices = response_choices(item, board.me)
        self.open_form(
            RespondDialog(item, choices, lambda values: respond_job(board, item, values)),
            self.acted,
        )

    def action_edit(self) -> None:
        summary = self.current_summary()
        if summary is None:
            return
        if summary.author != self.board.me and summary.kind is not Kind.NOTE:
            self.say(
                display.text(
                    "Only ",
                    display.name(self.people, summary.author),
                    " can edit this; you can reply instead.",
                )
            )
            return
        self.with_item(self.edit)

    def edit(self, item: Item) -> None:
        board = self.board

        def submit(values: dict[str, Any]) -> Job:
            fields = edit_fields(item, values, now_of(self.clock))

            def save() -> str:
                board.edit(item.id, **fields)
                return "Saved."

            return save

        self.open_form(EditDialog(item, submit), self.acted)

    def action_mark(self) -> None:
        summary = self.current_summary()
        if summary is None:
            return
        status = (
            Status.OPEN
            if summary.status is not Status.OPEN
            else DONE_WORD.get(summary.kind, Status.CLOSED)
        )
        if status is Status.OPEN or summary.author == self.board.me:
            self._mark(summary.id, status)
            return
        self.confirm_mark(summary, status)

    @work(group="mark", description="_mark")
    async def _mark(self, item_id: str, status: Status) -> None:
        try:
            await self.store.run(self.board.set_status, item_id, status)
        except PotluckError as exc:
            self.say(display.problem(exc), "error")
            return
        self.say(
            display.text(
                "Open again." if status is Status.OPEN else f"Marked {status.value}. Thank you."
            )
        )
        self.done()

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#search")
    def searched(self, event: Input.Submitted) -> None:
        search = event.value.strip()
        event.input.display = bool(search)
        query = self.query_
        self.requery(Query(query.kind, query.open_only, query.tag, search))
        self.query_one(ItemList).focus()
        if search:
            self.say(
                display.text(
                    "Searched the whole board: titles, texts, replies, tags and names "
                    "(1-6 narrows it to one tab)."
                )
            )

    def action_tag(self) -> None:
        board, kind = self.board, self.query_.kind

        def submit(values: dict[str, Any]) -> Job:
            tag = values["tag"].strip().lstrip("#").lower()
            return lambda: tag or "-"

        def chosen(result: str | None) -> None:
            if result is not None:
                query = self.query_
                tag = "" if result == "-" else result
                self.requery(Query(query.kind, query.open_only, tag, query.search))

        self.open_form(TagDialog(self.query_.tag, lambda: read_tags(board, kind), submit), chosen)

    def action_clear(self) -> None:
        query = self.query_
        if query.search or query.tag or query.agreements:
            box = self.query_one("#search", Input)
            box.value = ""
            box.display = False
            self.requery(Query(query.kind, query.open_only))
        self.query_one(ItemList).focus()

    def action_toggle_done(self) -> None:
        query = self.query_
        self.query_ = replace(query, open_only=not query.open_only)
        self.reload()
        if query.kind is Kind.EVENT and not query.whole_board:
            words = "upcoming events only" if self.query_.open_only else "past events too"
        else:
            words = "open items only" if self.query_.open_only else "finished items too"
        self.say(display.text(f"Showing {words}."))

    def action_agreements(self) -> None:
        """In the Assembly tab: the house's agreements (agreed proposals, with their date),
        or every proposal again."""
        self.requery(Query(Kind.PROPOSAL, agreements=not self.query_.agreements))

    def show_agreements(self) -> None:
        """The Assembly tab, showing the house's agreements (from the command palette)."""
        self.requery(Query(Kind.PROPOSAL, agreements=True))
        self.query_one(Tabs).active = f"tab-{Kind.PROPOSAL.value}"

    def action_upcoming(self) -> None:
        today = datetime.fromtimestamp(self.now() / 1000)
        self.app.push_screen(UpcomingScreen(self.board, self.store, today), self.go_to)

    def go_to(self, chosen: tuple[Kind, str] | None) -> None:
        """Show an item chosen elsewhere (the Upcoming view) in its tab."""
        if chosen is None or not self.alive():
            return
        kind, item_id = chosen
        self.requery(Query(kind), keep=item_id)
        self.query_one(Tabs).active = f"tab-{kind.value}"

    def action_invite(self) -> None:
        self._invite()

    @work(group="invite", exclusive=True, description="_invite")
    async def _invite(self) -> None:
        hints = await self.bridge.hints()
        board = self.board
        try:
            name, code = await self.store.run(lambda: (board.name, board.invite(hints)))
        except PotluckError as exc:
            self.say(display.problem(exc), "error")
            return
        if self.alive():
            self.app.push_screen(InviteScreen(name, code))

    def action_peers(self) -> None:
        self.app.push_screen(PeersScreen(self.bridge, self.board.board_id, self.presence))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    # ------------------------------------------------------------ ui-forms: asking, changing

    def confirm_mark(self, summary: ItemSummary, status: Status) -> None:
        """Someone else's item marked met, or their proposal closed: asked first."""
        who = display.name(self.people, summary.author)
        if summary.kind is Kind.PROPOSAL:
            question = display.text(
                "Close “", summary.title, "” without an outcome? ", who, " proposed it."
            )
        else:
            question = display.text(
                "Mark “",
                summary.title,
                f"” {status.value}? ",
                who,
                " posted it; everyone will see that you marked it.",
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._mark(summary.id, status)

        self.app.push_screen(
            ConfirmDialog(question, yes=f"Mark it {status.value}", no="Leave it"), answered
        )

    def action_project(self) -> None:
        summary = self.current_summary()
        if summary is None:
            return
        if summary.kind is not Kind.PROJECT:
            self.say(display.text("Only a project has tasks and shifts."))
            return
        if summary.author != self.board.me:
            self.say(
                display.text(
                    "Only ",
                    display.name(self.people, summary.author),
                    " can change this project's tasks and shifts; you can reply instead.",
                )
            )
            return
        self.with_item(self.change_project)

    def change_project(self, item: Item) -> None:
        board = self.board

        def submit(values: dict[str, Any]) -> Job:
            return project_job(board, item, values, now_of(self.clock))

        self.open_form(ProjectDialog(item, submit), self.acted)
