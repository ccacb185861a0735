"""The Potluck terminal app: opens a home, shows the board, runs the node, follows changes.

The screen's event loop never waits on disk: the home lives on the app's store thread
(tui/store.py), which every read and write goes through from a worker; the change feed and
presence post `BoardChanged` and `PeersChanged` to the screens (tui/messages.py).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import ClassVar

from potluck.p2p import Board, Home, HomeError, Kind, PotluckError, ready_workers
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import WorkerFailed

from . import display
from .cli.printable import printable
from .cli.words import Clock, plural, wall_clock
from .feed import ChangeFeed
from .messages import BoardChanged, BoardChosen, PeersChanged
from .node_bridge import NodeBridge, Presence
from .reads import Announcer, News
from .screens.board import BoardScreen
from .screens.first_run import FirstRunScreen
from .screens.small import keep_to_size
from .store import AppStore

log = logging.getLogger(__name__)

FEED_SECONDS = 0.2
"""How often the change feed asks the store thread whether anything was committed."""
BUSY_SECONDS = 1.0
"""While changes keep arriving (a big sync, a flooding peer), the board redraws at most this
often, so that redrawing never crowds out the keys a person presses."""
PRESENCE_SECONDS = 0.5
"""How often presence is read: the node's memory when it runs here, else node.json."""


@dataclass(frozen=True)
class FirstLook:
    """What the app needs to know to show its first screen."""

    need_name: bool
    board: Board | None
    problem: str = ""
    """Why the board asked for on the command line is not the one shown."""


def first_look(home: Home, wanted: str | None) -> FirstLook:
    """On the store thread: the board to open, or what the first-run screen must ask."""
    name = home.display_name()
    if not name or not home.boards():
        return FirstLook(need_name=not name, board=None)
    try:
        return FirstLook(need_name=False, board=home.board(wanted))
    except PotluckError as exc:
        return FirstLook(need_name=False, board=home.board(), problem=str(exc))


def touch(home: Home, board: Board) -> None:
    """On the store thread: remember `board` as the one used last (if it is not already)."""
    boards = home.boards()
    if boards and boards[0].board_id != board.board_id:
        home.store.boards.touch(board.board_id)


class PotluckApp(App[None]):
    """One home, one open board."""

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
        self.store = AppStore(self.home_path)
        self.bridge = bridge or NodeBridge(self.home_path, peers)
        self.run_node = run_node
        self.board: Board | None = None
        self.board_screen: BoardScreen | None = None
        self.feed: ChangeFeed | None = None
        self.announcer: Announcer | None = None
        self.presence = Presence()
        self.following = False
        self.sensing = False
        self.last_change = 0.0
        self.failure = ""
        """Why the app could not go on (a home that cannot be used), said once it has ended."""
        self.crashed = False
        """An unexpected error ended the app (its traceback is in potluck.log)."""

    # ------------------------------------------------------------ opening

    def compose(self) -> ComposeResult:
        yield Static(display.text(("Opening the board…", "hint")), id="opening")

    def on_mount(self) -> None:
        # Below 80x24 one sentence instead of cropped screens (screens/small.py).
        self.screen_change_signal.subscribe(self, lambda _: self.call_later(keep_to_size, self))
        self.call_later(keep_to_size, self)
        self.open_home()
        self.set_interval(FEED_SECONDS, self.follow_changes)
        self.set_interval(PRESENCE_SECONDS, self.follow_presence)

    def on_resize(self) -> None:
        self.call_later(keep_to_size, self)

    @work(group="open", description="open_home")
    async def open_home(self) -> None:
        try:
            home = await self.store.open()
            look = await self.store.run(first_look, home, self.board_wanted)
        except HomeError as exc:
            self.fail(str(exc))
            return
        if home.privacy_notice:
            display.notify(self, display.text(home.privacy_notice), severity="warning", timeout=20)
        if home.read_only:
            display.notify(
                self,
                display.text(
                    f"This home cannot be written ({home.read_only}): you can read the board, "
                    "but nothing can be posted or synced from here."
                ),
                severity="error",
                timeout=60,
            )
        if look.board is None:
            await self.push_screen(FirstRunScreen(need_name=look.need_name))
            return
        if look.problem:
            display.notify(self, display.text(look.problem), severity="error")
        self.open_board(look.board)

    def fail(self, why: str) -> None:
        """End the app with one line (run_app says it once the terminal is back)."""
        self.failure = why
        self.exit(return_code=1)

    def _handle_exception(self, error: Exception) -> None:
        """Whatever no handler caught ends the app with status 1. A home that cannot be used
        (HomeError) is said in its one line; anything else is a bug: its traceback goes to
        potluck.log, never to the screen, and run_app says where to look."""
        cause = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(cause, HomeError):
            log.warning("the home cannot be used: %s", cause)
            self.fail(str(cause))
            return
        log.error("the board stopped on an unexpected error", exc_info=cause)
        self.crashed = True
        super()._handle_exception(error)  # ends the app (and lets a test see the error)
        self._exit_renderables.clear()  # the traceback it would print on exit is in the log

    @on(BoardChosen)
    def board_chosen(self, message: BoardChosen) -> None:
        self.open_board(message.board)

    def open_board(self, board: Board) -> None:
        """Show `board`, start following its changes and, once it shows, start the node."""
        self._open_board(board)

    @work(group="open", description="_open_board")
    async def _open_board(self, board: Board) -> None:
        feed, announcer = ChangeFeed(board.board_id), Announcer(board)
        home = self.store.home

        def start() -> None:
            feed.start(home)
            announcer.start()

        try:
            await self.store.run(start)
        except HomeError as exc:
            self.fail(str(exc))
            return
        self.board, self.feed, self.announcer = board, feed, announcer
        self.presence = await self.bridge.presence(board.board_id)
        screen = self.board_screen = BoardScreen(
            board, self.store, self.bridge, self.presence, self.clock, announcer
        )
        if isinstance(self.screen, FirstRunScreen):
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)
        # What start-up made (modules, stylesheets, the first screen) lives as long as the app:
        # out of the collector's way, a full collection no longer holds the screen ~50 ms.
        gc.freeze()
        if self.run_node and not self.bridge.running:
            self.start_node()
        try:
            await self.store.run(touch, home, board)
        except PotluckError as exc:  # only the order boards are offered in: not worth a word
            log.warning("could not remember the board as the last used: %s", exc)

    @work(group="node", exclusive=True, description="start_node")
    async def start_node(self) -> None:
        await self.bridge.start()

    async def on_unmount(self) -> None:
        await self.bridge.aclose()
        await self.store.aclose()

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

    def follow_changes(self) -> None:
        """Ask the store thread, every FEED_SECONDS, what was committed (at most once a second
        while changes keep coming; none is lost meanwhile, the feed's cursor stays)."""
        if self.feed is None or self.following:
            return
        if time.monotonic() - self.last_change < BUSY_SECONDS:
            return
        self.following = True
        self._follow_changes(self.feed)

    @work(group="feed", description="_follow_changes")
    async def _follow_changes(self, feed: ChangeFeed) -> None:
        try:
            doc_ids = await self.store.run(feed.read, self.store.home)
        except PotluckError as exc:
            log.warning("could not read the board's changes: %s", exc)
            return
        finally:
            self.following = False
        if not doc_ids:
            return
        self.last_change = time.monotonic()
        self.tell_screens(lambda: BoardChanged(doc_ids))
        self.announce(doc_ids)

    def tell_screens(self, make: Callable[[], Message]) -> None:
        """Post to every screen on the stack (a message each: a message has one recipient);
        a screen that does not handle it ignores it."""
        for screen in self.screen_stack:
            screen.post_message(make())

    def follow_presence(self) -> None:
        if self.board is None or self.sensing:
            return
        self.sensing = True
        self._follow_presence(self.board.board_id)

    @work(group="presence", description="_follow_presence")
    async def _follow_presence(self, board_id: str) -> None:
        try:
            presence = await self.bridge.presence(board_id)
        finally:
            self.sensing = False
        if presence != self.presence:
            self.presence = presence
            self.tell_screens(lambda: PeersChanged(presence))

    def announce(self, doc_ids: frozenset[str]) -> None:
        """Briefly say what is new: items from others; replies and answers to what this person
        posted or answered (which also mark those items unread)."""
        if self.announcer is not None:
            self._announce(self.announcer, doc_ids)

    @work(group="announce", description="_announce")
    async def _announce(self, announcer: Announcer, doc_ids: frozenset[str]) -> None:
        try:
            news = await self.store.run(announcer.read, doc_ids, int(self.clock()))
        except PotluckError as exc:
            log.warning("could not read what is new: %s", exc)
            return
        for one in news:
            display.notify(self, said(one), timeout=6 if one.what == "answer" else 4)
        if any(one.what in ("reply", "answer", "answers") for one in news):
            unread = await self.store.run(announcer.unread_ids)
            if self.board_screen is not None:
                self.board_screen.show_unread(unread)

    # ------------------------------------------------------------ the command palette

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, BoardScreen):
            return
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Item: post something new", "Post in the current tab", screen.action_new),
            ("Item: reply", "Reply to the chosen item", screen.action_reply),
            (
                "Item: respond",
                "Help, come, a task, a shift, a position; or take it back",
                screen.action_respond,
            ),
            ("Item: edit", "Edit your own post", screen.action_edit),
            (
                "Item: tasks and shifts",
                "Add, rename, change or remove your project's tasks and shifts",
                screen.action_project,
            ),
            ("Item: mark met or closed", "Or open it again", screen.action_mark),
            ("Board: search", "Search the whole board", screen.action_search),
            ("Board: upcoming", "The next two weeks by date", screen.action_upcoming),
            ("Board: agreements", "The house's agreements", screen.show_agreements),
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


def said(news: News) -> display.Shown:
    """A notification's words for something new."""
    if news.what == "arrived":
        return display.text(f"{news.count} new items arrived")
    if news.what == "answers":
        return display.text(f"New answers on {plural(news.count, 'item')} of yours (marked ●)")
    if news.what == "reply":
        return display.text(display.name(news.people, news.who), " replied to “", news.title, "”")
    if news.what == "answer":
        return display.text(
            display.name(news.people, news.who), f" {news.verb} “", news.title, "”", news.tail
        )
    return display.text(f"New {news.kind.value}: ", news.title)


LOG_NAME = "potluck.log"
LOG_BYTES = 1_000_000


def run_app(
    home_path: Path, board: str | None = None, peers: list[tuple[str, int]] | None = None
) -> None:
    """Open the board in the terminal (what `potluck` with no command does). What the node
    says (who joined, refused connections) goes to potluck.log in the home, not the screen.

    A home that cannot be used ends it with HomeError, its one line. An unexpected error ends it
    with SystemExit: status 1 and one line saying where its traceback is."""
    home_path = Path(home_path).expanduser()
    home_path.mkdir(parents=True, exist_ok=True)
    log_path = home_path / LOG_NAME
    handler = RotatingFileHandler(log_path, maxBytes=LOG_BYTES, backupCount=1)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("zeroconf", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ready_workers()  # while stderr is still the terminal's: a catch-up gets both cores
    app = PotluckApp(home_path, board, peers)
    try:
        app.run()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # automerge's PanicException is a BaseException
        log.exception("the board stopped on an unexpected error")
        app.crashed = True
    finally:
        root.removeHandler(handler)
        handler.close()
    if app.crashed:
        raise SystemExit(
            f"potluck: the board stopped on an unexpected error; what happened is in {log_path}"
        )
    if app.failure:
        raise HomeError(app.failure)


class PrintableFormatter(logging.Formatter):
    """Log lines as a terminal may show them: what a member wrote (a name, a title in an error)
    can reach the log, and `cat potluck.log` must not obey its escape sequences."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), multiline=True)
