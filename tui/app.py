"""The Potluck terminal app: opens a home, shows the board, runs the node, follows changes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import ClassVar

from potluck.p2p import BOARD_DOC_ID, Board, Home, Kind, PotluckError
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from .cli.words import Clock, wall_clock
from .node_bridge import NodeBridge
from .screens.board import BoardScreen
from .screens.first_run import FirstRunScreen

POLL_SECONDS = 0.2
BUSY_SECONDS = 1.0
"""While changes keep arriving (a big sync, a flooding peer), the board redraws at most this
often, so that redrawing never crowds out the keys a person presses."""

ANNOUNCE_AT_MOST = 8


class PotluckApp(App[None]):
    """One home, one open board; every home call holds `db_lock` (one SQLite connection)."""

    CSS_PATH = "potluck.tcss"
    TITLE = "Potluck"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "q", "quit", "Quit", id="app.quit", tooltip="Close Potluck (the board stays on disk)"
        ),
    ]

    def __init__(
        self,
        home_path: Path,
        board: str | None = None,
        peers: list[tuple[str, int]] | None = None,
        *,
        clock: Clock = wall_clock,
        run_node: bool = True,
        bridge: NodeBridge | None = None,
    ) -> None:
        super().__init__()
        self.home_path = Path(home_path)
        self.board_wanted = board
        self.clock = clock
        self.db_lock = threading.RLock()
        self.closed = False  # set under db_lock when the home is closed; workers check it
        self.home = Home.open(self.home_path)
        self.bridge = bridge or NodeBridge(self.home_path, peers)
        self.run_node = run_node
        self.board: Board | None = None
        self.board_screen: BoardScreen | None = None
        self.seen: tuple[int, int] = (0, 0)
        self.last_change = 0.0
        self.cursor = 0
        self.known_ids: set[str] = set()
        self.reply_counts: dict[str, int] = {}

    # ------------------------------------------------------------ opening

    def on_mount(self) -> None:
        if not self.home.display_name() or not self.home.boards():
            self.push_screen(FirstRunScreen(need_name=not self.home.display_name()))
        else:
            try:
                board = self.home.board(self.board_wanted)
            except PotluckError as exc:
                self.notify(str(exc), severity="error")
                board = self.home.board()
            self.open_board(board)
        self.set_interval(POLL_SECONDS, self.poll)

    def open_board(self, board: Board) -> None:
        """Show `board`, remember it as the last used, and start following changes."""
        with self.db_lock:
            self.home.store.boards.touch(board.board_id)
            self.seen = self.version()
            self.cursor = self.home.store.documents.change_cursor()
            self.known_ids = set(self.home.store.documents.item_ids(board.board_id))
        self.board = board
        self.sub_title = board.name
        screen = self.board_screen = BoardScreen(board)
        if isinstance(self.screen, FirstRunScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        if self.run_node:
            self.start_node()

    @work(exclusive=True, group="node", exit_on_error=False)
    async def start_node(self) -> None:
        if not self.bridge.running:
            await self.bridge.start()

    async def on_unmount(self) -> None:
        await self.bridge.aclose()
        with self.db_lock:  # a worker thread may be mid-read on this connection
            self.closed = True
            self.home.close()

    async def on_event(self, event: events.Event) -> None:
        """Keys arrive here first, in the order typed. While a form opened by a key is not yet
        on screen, the keys after it belong to that form, not to the list under it."""
        if isinstance(event, events.Key):
            board = self.board_screen
            form = board.opening if board is not None else None
            if form is not None and not form.ready:
                form.type_ahead(event.key, event.character)
                event.stop()
                return
        await super().on_event(event)

    # ------------------------------------------------------------ following changes

    def version(self) -> tuple[int, int]:
        store = self.home.store
        return store.db.data_version(), store.documents.change_cursor()

    def poll(self) -> None:
        """Cheap check (~every 200 ms): did another connection, or the node, commit?"""
        if time.monotonic() - self.last_change < BUSY_SECONDS:
            return  # the changes wait for the next poll; none is lost (the cursor stays)
        if self.board is None or not self.db_lock.acquire(blocking=False):
            return
        try:
            if self.closed:
                return
            version = self.version()
            if version == self.seen:
                return
            self.seen = version
            self.cursor, changed = self.home.store.documents.changed_since(self.cursor)
        finally:
            self.db_lock.release()
        doc_ids = {d for b, d in changed if b == self.board.board_id}
        if not doc_ids:
            return
        self.last_change = time.monotonic()
        for screen in self.screen_stack:
            if isinstance(screen, BoardScreen):
                screen.changed(doc_ids)
        self.announce(doc_ids)

    @work(thread=True, group="announce", exit_on_error=False)
    def announce(self, doc_ids: set[str]) -> None:
        """Briefly say what is new: items from others, replies to this person's items."""
        board = self.board
        if board is None:
            return
        doc_ids = doc_ids - {BOARD_DOC_ID}
        arrived = doc_ids - self.known_ids
        if len(doc_ids) > ANNOUNCE_AT_MOST:
            # A big catch-up sync: one line, and no document loads for announcements.
            self.known_ids |= doc_ids
            if arrived:
                self.call_from_thread(self.notify, f"{len(arrived)} new items arrived", timeout=4)
            return
        for doc_id in doc_ids:
            try:
                with self.db_lock:
                    if self.closed:
                        return
                    item = board.item(doc_id)
                    who = board.member_name(
                        item.replies[-1].author if item.replies else item.author
                    )
            except (PotluckError, IndexError):
                continue
            new = doc_id not in self.known_ids
            self.known_ids.add(doc_id)
            if new and item.author != board.me:
                self.call_from_thread(
                    self.notify, f"New {item.kind.value}: {item.title}", timeout=4
                )
            elif item.author == board.me:
                before = self.reply_counts.get(doc_id)
                self.reply_counts[doc_id] = len(item.replies)
                if (
                    before is not None
                    and len(item.replies) > before
                    and item.replies[-1].author != board.me
                ) or (
                    before is None
                    and item.replies
                    and item.replies[-1].author != board.me
                    and item.replies[-1].time > self.clock() - 60_000
                ):
                    self.call_from_thread(
                        self.notify, f"{who} replied to “{item.title}”", timeout=4
                    )

    # ------------------------------------------------------------ the command palette

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, BoardScreen):
            return
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Item: post something new", "Post in the current tab", screen.action_new),
            ("Item: reply", "Reply to the chosen item", screen.action_reply),
            ("Item: respond", "Help, come, take a task, take a position", screen.action_respond),
            ("Item: edit", "Edit your own post", screen.action_edit),
            ("Item: mark met or closed", "Or open it again", screen.action_mark),
            ("Board: search", "Search every item", screen.action_search),
            ("Board: show one tag", "Filter by tag", screen.action_tag),
            (
                "Board: hide or show finished items",
                "Met and closed items",
                screen.action_toggle_done,
            ),
            ("Board: clear search and tag", "Show everything again", screen.action_clear),
            ("Board: invite someone", "Show the invite code and QR", screen.action_invite),
            ("Board: people nearby", "Peers, and add one by address", screen.action_peers),
            ("Help: keys", "Every key", screen.action_help),
        ]
        for n, (kind, label) in enumerate(
            [
                (Kind.NEED, "Needs"),
                (Kind.OFFER, "Offers"),
                (Kind.PROJECT, "Projects"),
                (Kind.EVENT, "Events"),
                (Kind.PROPOSAL, "Assembly"),
                (Kind.NOTE, "Notes"),
            ]
        ):
            commands.append((f"Go: {label}", f"Show {kind.value}s", partial(screen.action_goto, n)))
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)


LOG_NAME = "potluck.log"
LOG_BYTES = 1_000_000


def run_app(
    home_path: Path, board: str | None = None, peers: list[tuple[str, int]] | None = None
) -> None:
    """Open the board in the terminal (what `potluck` with no command does). What the node
    says (who joined, refused connections) goes to potluck.log in the home, not the screen."""
    home_path = Path(home_path).expanduser()
    home_path.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(home_path / LOG_NAME, maxBytes=LOG_BYTES, backupCount=1)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("zeroconf", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        PotluckApp(home_path, board, peers).run()
    finally:
        root.removeHandler(handler)
        handler.close()
