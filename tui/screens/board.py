"""The board: kind tabs, item list, item detail and a status line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from potluck.p2p import ALLOWED_RESPONSES, Board, Item, ItemSummary, Kind, PotluckError, Status
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, Tab, Tabs

from ..dialogs.forms import (
    EditDialog,
    FormDialog,
    NewItemDialog,
    ReplyDialog,
    RespondDialog,
    TagDialog,
    edit_fields,
    parse_choice,
    post_fields,
    response_choices,
)
from ..widgets.detail import ItemDetail
from ..widgets.item_list import ItemList
from .info import HelpScreen, InviteScreen, PeersScreen

PAGE = 200
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


class BoardScreen(Screen[None]):
    """One board. Reads come from the index; a document loads only when its item is shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        b("n", "new", "New", "new", "Post something new in this tab"),
        b("r", "reply", "Reply", "reply", "Reply to this item"),
        b("space", "respond", "Respond", "respond", "Say you can help, come, take a task…"),
        b("e", "edit", "Edit", "edit", "Edit your own post", show=False),
        b("m", "mark", "Met", "mark", "Mark met or closed (or reopen)"),
        b("slash", "search", "Search", "search", "Search the whole board"),
        b("t", "tag", "Tag", "tag", "Show only one tag"),
        b(
            "h",
            "toggle_done",
            "Hide done",
            "toggle_done",
            "Hide or show finished items",
            show=False,
        ),
        b("i", "invite", "Invite", "invite", "Invite someone with a code"),
        b("p", "peers", "Peers", "peers", "Laptops nearby", show=False),
        b("question_mark", "help", "Help", "help", "All the keys"),
        b("escape", "clear", "Clear", "clear", "Clear the search and tag filter", show=False),
        b("left", "tab(-1)", "", "prev_tab", "Previous kind", show=False),
        b("right", "tab(1)", "", "next_tab", "Next kind", show=False),
        *[
            b(str(n), f"goto({n - 1})", "", f"tab{n}", f"Show {label}", show=False)
            for n, (_, label) in enumerate(TABS, 1)
        ],
    ]

    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board
        self.kind = Kind.NEED
        self.search = ""
        self.tag = ""
        self.hide_done = False
        self.loaded = 0
        self.exhausted = False
        self.names: dict[str, str] = {}
        self.opening: FormDialog | None = None
        self.board_items = 0

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Tabs(*[Tab(label, id=f"tab-{kind.value}") for kind, label in TABS], id="kinds")
        yield Input(
            id="search", compact=True, placeholder="search the board, Enter to go, Esc to clear"
        )
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static("", id="filters")
                yield ItemList(id="items")
            yield ItemDetail(id="detail")
        yield Static("", id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.refresh_names()
        self.reload(keep=None)
        self.query_one(ItemList).focus()
        self.set_interval(1.0, self.update_status)

    @property
    def app_(self) -> Any:
        return self.app

    def now(self) -> int:
        return int(self.app_.clock())

    def who(self, device_id: str | None) -> str:
        if not device_id:
            return "someone"
        return self.names.get(device_id) or f"device {device_id[:6]}"

    def refresh_names(self) -> None:
        with self.app_.db_lock:
            self.names = {d: m.name for d, m in self.board.members().items() if m.name}

    # ------------------------------------------------------------ reading

    def query_items(self, offset: int) -> list[ItemSummary]:
        with self.app_.db_lock:
            return self.board.items(
                kind=self.kind,
                status=Status.OPEN if self.hide_done else None,
                tag=self.tag or None,
                search=self.search or None,
                limit=PAGE,
                offset=offset,
            )

    def reload(self, keep: str | None = "current") -> None:
        """Re-read counts and the visible rows; the highlighted item stays highlighted."""
        items = self.query_one(ItemList)
        if keep == "current":
            keep = items.current_id
        want = max(PAGE, self.loaded)
        with self.app_.db_lock:
            rows = self.board.items(
                kind=self.kind,
                status=Status.OPEN if self.hide_done else None,
                tag=self.tag or None,
                search=self.search or None,
                limit=want,
            )
            counts = self.app_.home.store.index.count_items(self.board.board_id)
        self.loaded = len(rows)
        self.exhausted = len(rows) < want
        items.show(rows, self.now(), keep)
        self.update_counts(counts)
        self.update_filters()
        self.update_status()
        self.show_current()

    def update_counts(self, counts: dict[tuple[Kind, Status], int]) -> None:
        self.board_items = sum(counts.values())
        for kind, label in TABS:
            n = counts.get((kind, Status.OPEN), 0)
            self.query_one(f"#tab-{kind.value}", Tab).label = f"{label} {n}" if n else label

    def load_more(self) -> None:
        if self.exhausted:
            return
        rows = self.query_items(self.loaded)
        self.exhausted = len(rows) < PAGE
        items = self.query_one(ItemList)
        items.append(rows, self.now())
        self.loaded = items.option_count

    def update_filters(self) -> None:
        bits = []
        if self.search:
            bits.append(f"search: {self.search}")
        if self.tag:
            bits.append(f"#{self.tag}")
        if self.hide_done:
            bits.append("open only")
        label = self.query_one("#filters", Static)
        label.update(" · ".join(bits) + ("  (Esc clears)" if self.search or self.tag else ""))
        label.display = bool(bits)

    def update_status(self) -> None:
        if not self.alive():
            return
        bridge = self.app_.bridge
        board_id = self.board.board_id
        peers = len(bridge.peers(board_id))
        if not bridge.running:
            net = "on this laptop only (p: why)" if bridge.problem else "starting sync…"
        elif peers == 0:
            net = "no one else here yet (p: peers)"
        else:
            net = f"{peers} {'person' if peers == 1 else 'people'} here · " + (
                "all in sync" if bridge.in_sync(board_id) else "syncing…"
            )
        me = self.names.get(self.board.me, "")
        with self.app_.db_lock:
            if self.app_.closed:
                return
            board_name = self.board.name
        self.query_one("#status", Static).update(
            f" {board_name} · {net}" + (f" · you are {me}" if me else "")
        )

    def show_current(self) -> None:
        item_id = self.query_one(ItemList).current_id
        detail = self.query_one(ItemDetail)
        if item_id is None:
            if self.search or self.tag:
                empty = "Nothing matches."
            elif self.board_items == 0:
                empty = (
                    "This board is empty on this laptop so far. Posts by others arrive as soon "
                    "as one of their laptops is reachable (p shows who is here).\n\n"
                    "Press n to post the first one."
                )
            else:
                empty = "Nothing here yet. Press n to post the first one."
            detail.show(None, self.who, self.now(), empty)
            return
        self.load_detail(item_id)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load_detail(self, item_id: str) -> None:
        """Load one document off the event loop; automerge can take tens of ms."""
        try:
            with self.app_.db_lock:
                if self.app_.closed:
                    return
                item = self.board.item(item_id)
        except PotluckError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="warning")
            return
        self.app.call_from_thread(self.detail_loaded, item)

    def detail_loaded(self, item: Item) -> None:
        if not self.alive():
            return
        if self.query_one(ItemList).current_id == item.id:
            self.query_one(ItemDetail).show(item, self.who, self.now(), "")

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
        """A tab clicked with the mouse (keys switch in action_goto)."""
        if event.tab is None or event.tab.id is None:
            return
        self.switch_kind(Kind(event.tab.id.removeprefix("tab-")))

    def switch_kind(self, kind: Kind) -> None:
        """Show `kind` now, so a key pressed right after (n) already acts on it."""
        if kind is not self.kind:
            self.kind = kind
            self.loaded = 0
            self.reload(keep=None)
        self.query_one(Tabs).active = f"tab-{kind.value}"

    def action_tab(self, step: int) -> None:
        index = [k for k, _ in TABS].index(self.kind)
        self.action_goto((index + step) % len(TABS))

    def action_goto(self, index: int) -> None:
        self.switch_kind(TABS[index][0])

    # ------------------------------------------------------------ live changes

    def alive(self) -> bool:
        """False while the screen is being built or torn down (timers can still fire then)."""
        return self.is_attached and bool(self.query(ItemList))

    def changed(self, doc_ids: set[str]) -> None:
        """Documents changed on disk: refresh what is visible, keep the cursor."""
        if not self.alive():
            return
        self.refresh_names()
        if self.loaded <= LIVE_ROWS:
            self.reload()
        else:
            self.reload_top()

    def reload_top(self) -> None:
        """Someone scrolled deep: re-read the first page only (changed items come first)
        and keep the rows below as they are, so a live change never re-reads thousands."""
        items = self.query_one(ItemList)
        with self.app_.db_lock:
            if self.app_.closed:
                return
            top = self.query_items(0)
            counts = self.app_.home.store.index.count_items(self.board.board_id)
        items.merge_top(top, self.now())
        self.loaded = items.option_count
        self.update_counts(counts)
        self.update_status()
        self.show_current()

    # ------------------------------------------------------------ acting

    def open_form(self, form: FormDialog, done: Callable[[str | None], None]) -> None:
        """Show a form; until it is ready, keys typed after the one that opened it are handed
        to it (PotluckApp.on_event)."""
        self.opening = form

        def closed(result: str | None) -> None:
            self.opening = None
            done(result)

        self.app.push_screen(form, closed)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys are letters while the search box has the focus (Esc still clears it)."""
        return action == "clear" or not isinstance(self.focused, Input)

    def current_item(self) -> Item | None:
        detail = self.query_one(ItemDetail)
        current = self.query_one(ItemList).current_id
        if current is None:
            self.notify("Choose an item first.")
            return None
        if detail.item is None or detail.item.id != current:
            with self.app_.db_lock:
                detail.item = self.board.item(current)
        return detail.item

    def done(self, item_id: str | None = None) -> None:
        self.refresh_names()
        self.reload(keep=item_id or "current")

    def locked(self, action: Any) -> Any:
        with self.app_.db_lock:
            return action()

    def action_new(self) -> None:
        kind = self.kind

        def submit(values: dict[str, Any]) -> str:
            fields = post_fields(values)
            return str(self.locked(lambda: self.board.post(kind, values["title"], **fields)))

        self.open_form(NewItemDialog(kind, submit), self.posted)

    def posted(self, item_id: str | None) -> None:
        if item_id:
            self.notify("Posted. Everyone here will see it.")
            self.done(item_id)

    def action_reply(self) -> None:
        item = self.current_item()
        if item is None:
            return

        def submit(values: dict[str, Any]) -> str:
            self.locked(lambda: self.board.reply(item.id, values["text"]))
            return "Reply sent."

        self.open_form(ReplyDialog(item.title, submit), self.acted)

    def acted(self, sentence: str | None) -> None:
        if sentence:
            self.notify(sentence)
            self.done()

    def action_respond(self) -> None:
        item = self.current_item()
        if item is None:
            return
        if not ALLOWED_RESPONSES[item.kind]:
            self.notify("Notes take replies: press r.")
            return
        choices = response_choices(item, self.board.me, self.who)

        def submit(values: dict[str, Any]) -> str:
            kind, which = parse_choice(values["choice"])
            sentence = self.locked(
                lambda: self.board.respond(item.id, kind, values.get("note", ""), which)
            )
            return str(sentence).capitalize() + "."

        self.open_form(RespondDialog(item, choices, submit), self.acted)

    def action_edit(self) -> None:
        item = self.current_item()
        if item is None:
            return
        if item.author != self.board.me and item.kind is not Kind.NOTE:
            self.notify(f"Only {self.who(item.author)} can edit this; you can reply instead.")
            return

        def submit(values: dict[str, Any]) -> str:
            fields = edit_fields(item, values)
            self.locked(lambda: self.board.edit(item.id, **fields))
            return "Saved."

        self.open_form(EditDialog(item, submit), self.acted)

    def action_mark(self) -> None:
        item = self.current_item()
        if item is None:
            return
        status = (
            Status.OPEN
            if item.status is not Status.OPEN
            else DONE_WORD.get(item.kind, Status.CLOSED)
        )
        try:
            self.locked(lambda: self.board.set_status(item.id, status))
        except PotluckError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(
            "Open again." if status is Status.OPEN else f"Marked {status.value}. Thank you."
        )
        self.done()

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#search")
    def searched(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        event.input.display = bool(self.search)
        self.loaded = 0
        self.reload(keep=None)
        self.query_one(ItemList).focus()

    def action_tag(self) -> None:
        with self.app_.db_lock:
            tags = sorted({t for s in self.board.items(kind=self.kind, limit=500) for t in s.tags})

        def submit(values: dict[str, Any]) -> str:
            self.tag = values["tag"].strip().lstrip("#").lower()
            return self.tag or "-"

        def chosen(result: str | None) -> None:
            if result is not None:
                self.loaded = 0
                self.reload(keep=None)

        self.open_form(TagDialog(self.tag, tags, submit), chosen)

    def action_clear(self) -> None:
        if self.search or self.tag:
            self.search = ""
            self.tag = ""
            box = self.query_one("#search", Input)
            box.value = ""
            box.display = False
            self.loaded = 0
            self.reload(keep=None)
        self.query_one(ItemList).focus()

    def action_toggle_done(self) -> None:
        self.hide_done = not self.hide_done
        self.reload()
        self.notify("Showing open items only." if self.hide_done else "Showing finished items too.")

    def action_invite(self) -> None:
        with self.app_.db_lock:
            code = self.board.invite(self.app_.bridge.hints())
            name = self.board.name
        self.app.push_screen(InviteScreen(name, code))

    def action_peers(self) -> None:
        self.app.push_screen(PeersScreen(self.board.board_id))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())
