"""A member's words are data, never code: hostile text, carried by real sync and by an export
file, shown by the real app at 80x24 through every screen and dialog, literally.

Mallory holds the board key. Her device writes every string of tests/hostile_text.py into
every field a member writes (write_corpus), calls itself by one of them, and answers Vic's
post. Vic's app gets it all, by its own node syncing with Mallory's on loopback, or through
`potluck export` and `potluck import`; then a person at Vic's laptop reads every item, opens
every dialog, clicks on the words. Nothing may run (the corpus holds `@click` actions that
would quit the app or overwrite /tmp/potluck.db with a screenshot), nothing may crash, no
escape or bidi control may reach the terminal, and each string must be on screen as
`printable` shows it.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from potluck.p2p.home import Home
from potluck.p2p.model import item_document as items
from potluck.p2p.model.measure import MAX_TITLE_SHOWN
from potluck.p2p.model.types import Kind
from potluck.tui import display
from potluck.tui.app import PotluckApp
from potluck.tui.cli.people import People, fingerprint
from potluck.tui.cli.printable import printable
from potluck.tui.dialogs.forms import EditDialog, ReplyDialog, TagDialog
from potluck.tui.dialogs.respond import RespondDialog
from potluck.tui.node_bridge import NodeBridge
from potluck.tui.screens.board import BoardScreen
from potluck.tui.screens.info import HelpScreen, InviteScreen, PeersScreen
from potluck.tui.widgets.detail import ItemDetail
from potluck.tui.widgets.item_list import ItemList
from rich.segment import Segment
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, Select, Static, TextArea

from tests.conftest import run_potluck
from tests.hostile_text import CORPUS, write_corpus
from tests.p2p_helpers import FAST, make_homes, running_node
from tests.tui.conftest import NOW, board_ready, wait_for

SIZE = (80, 24)
SCREENSHOT = Path("/tmp/potluck.db")
"""Where the corpus's `app.screenshot` action would write, if it ever ran."""
MALLORY = "[@click=app.quit]Mallory[/] \x1b]0;pwned\x07\u202e"
"""What Mallory's device calls itself in its hello (and in the end on the board)."""
TABS = [Kind.NEED, Kind.OFFER, Kind.PROJECT, Kind.EVENT, Kind.PROPOSAL, Kind.NOTE]
TITLES = [text[:MAX_TITLE_SHOWN] for text in CORPUS]
"""Each string of the corpus as an item's title (a title is read up to its first 200 chars)."""
SEEN = 16
"""Characters of a one-line string that must be on screen as `printable` shows them."""


def visible(text: str, n: int = SEEN) -> str:
    """The start of a one-line field as the screen shows it (titles are kept to 200 chars)."""
    return printable(text[:200])[:n]


def on_screen(app: PotluckApp) -> list[list[Segment]]:
    """What the terminal would be sent now, line by line, as segments."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return [[seg for strip in line for seg in strip] for line in update.strips]  # type: ignore[union-attr]


def screen_text(lines: list[list[Segment]]) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in lines)


def obeyed(lines: list[list[Segment]]) -> list[str]:
    """Anything on screen a terminal would act on: control, bidi and zero-width characters,
    hyperlinks, and click actions (the app draws none: Textual's footer keys take the mouse
    by their own handler, so any @click on screen came from markup)."""
    found = []
    for line in lines:
        for seg in line:
            for char in seg.text:
                if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
                    found.append(f"character U+{ord(char):04X} in {seg.text!r}")
            style = seg.style
            if style is not None and style.link:
                found.append(f"a link to {style.link}")
            action = (style.meta or {}).get("@click") if style is not None else None
            if action:
                found.append(f"a click action {action!r}")
    return found


@dataclass
class Victim:
    path: Path
    mallory: Path
    board_id: str
    mine: str
    """Vic's own need, which Mallory answers."""


def homes(tmp_path: Path) -> Victim:
    """Vic made the board and posted a need; Mallory joined and wrote the corpus everywhere."""
    (vic, mallory), board_id = make_homes(tmp_path, ["Vic", "Mallory"])
    mine = vic.board(board_id).post(Kind.NEED, "Soup pots for Thursday")
    vic.export_board(vic.board(board_id), tmp_path / "vic.potluck")  # Mallory has read it
    mallory.import_board(tmp_path / "vic.potluck")
    write_corpus(mallory, board_id)
    mallory.store.db.set_setting("name", MALLORY)  # her device's hello (not checked on input)
    vic.close()
    mallory.close()
    return Victim(vic.path, mallory.path, board_id, mine)


def answer(victim: Victim, words: str) -> None:
    """Mallory's news, once Vic's app is open: a reply to Vic's need and an item of each kind
    (few enough that each gets its own notification)."""
    with Home.open(victim.mallory) as mallory:
        mallory.store.documents.update(
            victim.board_id,
            victim.mine,
            lambda doc: items.add_reply(doc, text=words, now=NOW),
        )
        write_corpus(mallory, victim.board_id, [words])


@asynccontextmanager
async def vics_app(
    victim: Victim, carried_by: str
) -> AsyncIterator[tuple[PotluckApp, Pilot, Watch]]:
    """Vic's app, once everything Mallory wrote has reached it, and her news too."""
    if carried_by == "sync":
        async with running_node(victim.mallory) as node:
            bridge = NodeBridge(
                victim.path,
                [("127.0.0.1", node.port)],
                port=0,
                host="127.0.0.1",
                mdns=False,
                timing=FAST,
            )
            app = PotluckApp(victim.path, clock=lambda: NOW, bridge=bridge)
            watch = Watch(app)
            async with app.run_test(size=SIZE) as pilot:
                await everything_arrived(pilot, app, 1 + 6 * len(CORPUS))
                await all_announced(pilot, app, 1 + 6 * len(CORPUS))
                answer(victim, CORPUS[0])
                await everything_arrived(pilot, app, 1 + 6 * (len(CORPUS) + 1))
                yield app, pilot, watch
    else:
        app = PotluckApp(victim.path, clock=lambda: NOW, run_node=False)
        watch = Watch(app)
        export = victim.path.parent / "mallory.potluck"
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            await asyncio.to_thread(run_potluck, victim.mallory, "export", str(export))
            await asyncio.to_thread(run_potluck, victim.path, "import", str(export))
            await everything_arrived(pilot, app, 1 + 6 * len(CORPUS))
            await all_announced(pilot, app, 1 + 6 * len(CORPUS))
            answer(victim, CORPUS[0])
            await asyncio.to_thread(run_potluck, victim.mallory, "export", str(export))
            await asyncio.to_thread(run_potluck, victim.path, "import", str(export))
            await everything_arrived(pilot, app, 1 + 6 * (len(CORPUS) + 1))
            yield app, pilot, watch


async def all_announced(pilot: Pilot, app: PotluckApp, count: int) -> None:
    """The app has read what arrived for its notices: Mallory's news then comes alone, not
    counted in with the last of the first arrivals (past ANNOUNCE_AT_MOST it would be one line
    saying how many arrived)."""
    await wait_for(pilot, lambda: app.announcer is not None and len(app.announcer.known) >= count)


async def everything_arrived(pilot: Pilot, app: PotluckApp, count: int) -> None:
    def arrived() -> bool:
        board = next((s for s in app.screen_stack if isinstance(s, BoardScreen)), None)
        return board is not None and board.board_items == count

    await wait_for(pilot, arrived, 60)


def board_of(app: PotluckApp) -> BoardScreen:
    screen = app.screen
    assert isinstance(screen, BoardScreen), screen
    return screen


async def back_to_the_board(pilot: Pilot, app: PotluckApp) -> None:
    await pilot.press("escape")
    await wait_for(pilot, lambda: board_ready(app))


async def click_on(pilot: Pilot, widget: Any) -> None:
    """Click where hostile words are drawn, as a person with a mouse would."""
    if widget.region.area:
        await pilot.click(widget, offset=(min(2, widget.region.width - 1), 0))
        await pilot.pause()


async def opened(pilot: Pilot, app: PotluckApp, key: str, kind: type) -> Any:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, kind))
    await pilot.pause()
    return app.screen


class Watch:
    """What the person is shown, checked after every step."""

    def __init__(self, app: PotluckApp) -> None:
        self.app = app
        self.notices: list[tuple[str, bool]] = []
        real = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            self.notices.append((message, kwargs.get("markup", True)))
            real(message, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    def check(self, where: str) -> str:
        app = self.app
        assert app.is_running and app.return_code is None, f"the app stopped at {where}"
        lines = on_screen(app)
        assert not obeyed(lines), (where, obeyed(lines)[:5])
        return screen_text(lines)


def detail_text(app: PotluckApp) -> str:
    return app.screen.query_one(ItemDetail).shown.plain


def in_full(kind: Kind, title: str) -> bool:
    """Whether an item is clicked on and opened in every dialog its kind has, besides being
    read. The dialogs show a need's and a project's words alike: needs take the strings at even
    places in the corpus, projects those at odd places, so each string goes through them once;
    every note goes through the edit form. Items of the other kinds show the same words in the
    same detail pane as needs."""
    place = TITLES.index(title) if title in TITLES else 0
    return kind is Kind.NOTE or (kind, place % 2) in ((Kind.NEED, 0), (Kind.PROJECT, 1))


async def read_item(
    pilot: Pilot, app: PotluckApp, watch: Watch, kind: Kind, index: int, every: bool = False
) -> str | None:
    """The row at `index` of the tab shown: its detail; a click on it and the dialogs a person
    opens on it, for `every` item or as `in_full` says. Returns the title of an item opened in
    full."""
    board = board_of(app)
    rows = board.query_one(ItemList)
    detail = board.query_one(ItemDetail)
    try:
        await wait_for(pilot, lambda: rows.highlighted == index)
    except AssertionError:
        raise AssertionError(
            f"row {index} of {kind.value}: at {rows.highlighted}, {app.focused}, {app.screen}"
        ) from None
    current = rows.current_id
    await wait_for(pilot, lambda: detail.item is not None and detail.item.id == current)
    item = detail.item
    assert item is not None
    names = board.people
    shown = watch.check(f"{kind.value} {index}")
    assert visible(item.title, 10) in shown, (item.title[:40], shown)
    body = detail_text(app)
    assert printable(item.title) in body
    assert printable(item.body, multiline=True) in body
    for reply in item.replies:
        assert printable(reply.text, multiline=True).replace("\n", "\n    ") in body
    for tag in item.tags:
        assert "#" + printable(tag) in body
    for task in item.tasks:
        assert printable(task.title) in body
    for shift in item.shifts:
        assert printable(shift.when) in body
    if item.place:
        assert printable(item.place) in body
    assert names.name_and_fingerprint(item.author) in body
    if not (every or in_full(kind, item.title)):
        return None
    await click_on(pilot, board.query_one(ItemDetail))
    watch.check(f"clicked {kind.value} {index}")
    await pilot.press("escape")  # back to the list (the click focused the detail pane)

    if kind in (Kind.NEED, Kind.PROJECT):  # replies and every kind of response choice
        form = await opened(pilot, app, "r", ReplyDialog)
        title = form.query_one(".dialog-title", Label)
        assert visible(item.title) in str(title.content)
        await click_on(pilot, title)
        watch.check(f"reply to {kind.value} {index}")
        await back_to_the_board(pilot, app)

        form = await opened(pilot, app, "space", RespondDialog)
        title = form.query_one(".dialog-title", Label)
        assert visible(item.title) in str(title.content)
        choices = [str(label) for label, _ in form.choices]
        for task in item.tasks:
            assert "Take the task · " + visible(task.title) in " ".join(choices)
        for shift in item.shifts:
            if shift.understood:  # a rule this version cannot read has no dates to sign up for
                assert "Sign up for one date · " + visible(shift.when) in " ".join(choices)
        select = form.query_one(Select)
        select.focus()
        await pilot.press("enter")  # the choices drawn in their overlay
        await pilot.pause()
        watch.check(f"respond to {kind.value} {index}")
        await pilot.press("escape")
        await back_to_the_board(pilot, app)

    if kind is Kind.NOTE:  # anyone may edit a note: Mallory's words in the fields
        form = await opened(pilot, app, "e", EditDialog)
        assert form.query_one("#title", Input).value == printable(item.title)
        text = form.query_one("#body", TextArea).text
        assert text == printable(item.body, multiline=True)
        watch.check(f"edit note {index}")
        await back_to_the_board(pilot, app)
    return item.title


@pytest.mark.parametrize("carried_by", ["sync", "export"])
async def test_a_members_words_are_shown_never_obeyed(tmp_path: Path, carried_by: str) -> None:
    victim = homes(tmp_path)
    screenshot_before = SCREENSHOT.stat() if SCREENSHOT.exists() else None
    async with vics_app(victim, carried_by) as (app, pilot, watch):
        board = board_of(app)

        # Notices of what arrived: Mallory's reply and posts, her words shown as written (the
        # reply and the posts may come in either order, in two batches).
        await wait_for(
            pilot,
            lambda: (
                any("replied to" in m for m, _ in watch.notices)
                and any(m.startswith("New need: ") for m, _ in watch.notices)
            ),
        )
        assert all(markup is False for _, markup in watch.notices), watch.notices
        said = "\n".join(m for m, _ in watch.notices)
        assert f"{visible(CORPUS[0])}" in said and "replied to “Soup pots for Thursday”" in said
        assert f"New need: {visible(CORPUS[0])}" in said
        assert " new items arrived" in said  # the corpus, in one batch or a few
        watch.check("the notices")
        for toast in app.screen.query("Toast"):
            await click_on(pilot, toast)
        watch.check("clicked the notices")

        through_dialogs: set[str] = set()
        # Every item of every kind: its row and its detail show each string literally, and
        # each string is clicked on and goes through every dialog (`in_full`). The screens
        # cannot tell how a document came; the export run opens one item of each kind in full
        # (and the rows on screen), the sync run every item.
        for number, kind in enumerate(TABS, 1):
            await pilot.press(str(number))
            expected = len(CORPUS) + 1 + (1 if kind is Kind.NEED else 0)
            rows = board.query_one(ItemList)
            await wait_for(pilot, lambda: rows.option_count == expected)  # noqa: B023
            await pilot.press("home")
            watch.check(f"the {kind.value} rows")
            for index in range(expected if carried_by == "sync" else 1):
                title = await read_item(pilot, app, watch, kind, index, carried_by == "export")
                if kind in (Kind.NEED, Kind.PROJECT) and title is not None:
                    through_dialogs.add(title)
                await pilot.press("down")
        if carried_by == "sync":
            assert through_dialogs >= set(TITLES)

        # The tag filter lists the tags in use; searching for markup is only words.
        await pilot.press("1")
        form = await opened(pilot, app, "t", TagDialog)
        hint = form.query_one("#tags-here", Static)
        await wait_for(pilot, lambda: "Tags here" in str(hint.content))
        assert "#" + visible(CORPUS[0][:40].lower(), 10) in str(hint.content).lower()
        watch.check("tags")
        await back_to_the_board(pilot, app)
        await pilot.press("slash", *"[/]", "enter")
        await wait_for(
            pilot, lambda: "“[/]” in all tabs" in str(board.query_one("#filters").content)
        )
        watch.check("search")
        await pilot.press("escape")

        # Help, the invite (with the board's name, last written by Mallory), and who is here.
        await opened(pilot, app, "question_mark", HelpScreen)
        watch.check("help")
        await back_to_the_board(pilot, app)
        invite = await opened(pilot, app, "i", InviteScreen)
        title = invite.query_one(".dialog-title", Static)
        assert visible(CORPUS[0]) in str(title.content)  # the last name Mallory wrote
        await click_on(pilot, title)
        watch.check("invite")
        await back_to_the_board(pilot, app)
        assert visible(CORPUS[0]) in str(board.query_one("#status", Static).content)
        await click_on(pilot, board.query_one("#status", Static))
        if carried_by == "sync":
            peers = await opened(pilot, app, "p", PeersScreen)
            table = peers.query_one(DataTable)
            await wait_for(pilot, lambda: table.row_count == 1)
            mallory = f"{printable(MALLORY)} ("
            assert str(table.get_row_at(0)[0]).startswith(mallory)
            await click_on(pilot, table)
            watch.check("peers")
            await back_to_the_board(pilot, app)
        watch.check("the end")
    # Nothing ran: the app ended only when the test closed it, and no screenshot was written.
    assert app.return_code in (None, 0)
    assert (SCREENSHOT.stat() if SCREENSHOT.exists() else None) == screenshot_before
    with open(victim.path / "potluck.db", "rb") as db:
        assert db.read(16) == b"SQLite format 3\x00"


class StubNode:
    """Stands in for the node on the peers screen: one peer calling itself `name`."""

    def __init__(self, board_id: str, device_id: str, name: str) -> None:
        self.board_id, self.device_id, self.name = board_id, device_id, name

    def peers(self) -> list[dict[str, object]]:
        now = NOW / 1000
        return [
            {
                "device_id": self.device_id,
                "name": self.name,
                "board_id": self.board_id,
                "address": "127.0.0.1:7434",
                "found": "manual",
                "since": now - 60,
                "last_sync": now - 5,
                "pending": 0,
            }
        ]

    def in_sync(self) -> bool:
        return True

    def unreachable(self) -> list[dict[str, object]]:
        return []

    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", 7434)]

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("words", CORPUS, ids=[f"corpus{n}" for n in range(len(CORPUS))])
async def test_a_board_and_a_member_named_anything(tmp_path: Path, words: str) -> None:
    """The board's name and a member's name are shown as written, on every start (a board
    named `Kitchen [/]` once crashed the app each time it opened)."""
    (mallory, vic), board_id = make_homes(tmp_path, ["Mallory", "Vic"])  # she made the board
    write_corpus(mallory, board_id, [words])
    export = tmp_path / "mallory.potluck"
    mallory.export_board(mallory.board(board_id), export)
    vic.import_board(export)
    device = mallory.device_id
    vic.close()
    mallory.close()
    for _ in range(2):  # and again: a name that crashed it would crash every start
        await one_start(tmp_path / "vic", board_id, device, words)


async def one_start(path: Path, board_id: str, device: str, words: str) -> None:
    """Vic opens the board: its name, Mallory's name and her laptop's, as written."""
    bridge = NodeBridge(path, clock=lambda: NOW / 1000)
    bridge.node = StubNode(board_id, device, words)  # type: ignore[assignment]
    app = PotluckApp(path, clock=lambda: NOW, run_node=False, bridge=bridge)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        board = board_of(app)
        status = board.query_one("#status", Static)
        await wait_for(pilot, lambda: visible(words) in str(status.content))
        rows = board.query_one(ItemList)
        await wait_for(pilot, lambda: rows.option_count == 1)
        detail = board.query_one(ItemDetail)
        await wait_for(pilot, lambda: detail.item is not None)
        name = board.people.name_and_fingerprint(device)  # as read (names are kept to 200)
        assert name in detail_text(app) and visible(words, 8) in name
        assert fingerprint(device) in str(rows.options[0].prompt) or visible(words, 8) in str(
            rows.options[0].prompt
        )
        assert not obeyed(on_screen(app))
        invite = await opened(pilot, app, "i", InviteScreen)
        assert visible(words) in str(invite.query_one(".dialog-title", Static).content)
        assert not obeyed(on_screen(app))
        await back_to_the_board(pilot, app)
        peers = await opened(pilot, app, "p", PeersScreen)
        table = peers.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        said = display.text(People({device: words}).name_and_fingerprint(device)).plain
        assert str(table.get_row_at(0)[0]) == said and fingerprint(device) in said[-20:]
        assert not obeyed(on_screen(app))
        await back_to_the_board(pilot, app)
        assert app.is_running
    assert app.return_code in (None, 0)
