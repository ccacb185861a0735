"""Small read-mostly screens: invite (code and QR), peers, and key help."""

from __future__ import annotations

from typing import ClassVar

from potluck.p2p import PotluckError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

from .. import display
from ..cli.people import People
from ..messages import PeersChanged
from ..node_bridge import NodeBridge, PeerView, Presence
from ..widgets.qr import qr_text


class CloseableScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="screen.close", tooltip="Back to the board"),
    ]

    def action_close(self) -> None:
        self.dismiss(None)


class InviteScreen(CloseableScreen):
    """The board's invite code, and the same code as a QR to scan, side by side so both fit
    on an 80x24 terminal. In a smaller window the QR is never cropped (it could not be
    scanned): it is left out, and the screen says so; the code stays, as text to copy."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy the code", id="invite.copy", tooltip="Copy the invite code"),
    ]
    FITS_ANY_SIZE = True
    """Shown at any size (screens/small.py): the code as text fits where the board does not."""
    TEXT_WIDTH = 28
    """The text column beside the QR (invite-text in potluck.tcss)."""

    def __init__(self, board_name: str, code: str) -> None:
        super().__init__()
        self.board_name = board_name
        self.code = code
        # Scanners read either case; upper case makes a smaller square (QR alphanumeric).
        self.picture = qr_text(code.upper())

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="invite"), Horizontal(id="invite-row"):
            with Vertical(id="invite-text"):
                yield Static(
                    display.text("Invite someone to ", self.board_name), classes="dialog-title"
                )
                yield Static(
                    display.text(
                        "On their laptop: open potluck and paste this code, or run "
                        "potluck join CODE. A phone can scan the square."
                    )
                )
                yield Static(display.text(self.code), id="code")
                yield Static(
                    display.text(
                        "Anyone with the code can read and post here: share it in person."
                    ),
                    classes="hint",
                )
                yield Static(
                    display.text(
                        "This window is too small for the square: copy the code, or make "
                        "the window bigger to show it."
                    ),
                    id="no-picture",
                    classes="hint",
                )
                yield Static(display.text("c copy the code · Esc back"), classes="hint")
            yield Static(display.lines(self.picture), id="qr")

    def on_mount(self) -> None:
        self.fit_picture()

    def on_resize(self) -> None:
        self.fit_picture()

    def fit_picture(self) -> None:
        """The QR whole, or not at all (with a sentence saying why)."""
        rows = self.picture.splitlines()
        width, height = self.app.size
        border = 4  # the box's border and padding
        fits = width >= self.TEXT_WIDTH + 1 + len(rows[0]) + border and height >= len(rows) + 2
        self.query_one("#qr").display = fits
        self.query_one("#no-picture").display = not fits
        self.set_class(not fits, "-no-picture")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        display.notify(self, display.text("Invite code copied (where the terminal allows it)."))


CLIENT_ISOLATION = (
    "No one found yet. Laptops on the same network usually show up within seconds. If others "
    "are on the same Wi-Fi and still nothing shows, the router may keep laptops apart (client "
    "isolation): try a cable, a phone hotspot, or add an address below."
)


ELSEWHERE = "Another potluck on this laptop is syncing; this is what it sees."


def sync_cell(peer: PeerView) -> str:
    """'in sync', 'syncing, 3 waiting', 'not answering, 3 waiting' (since when is in the
    last heard column), 'getting 12%' during a long catch-up from the peer (the status line
    has the counts; a count here would push the cell out of an 80-column window): in sync
    only once the peer confirmed everything this laptop holds."""
    waiting = f", {peer.waiting} waiting" if peer.waiting else ""
    if not peer.answering:
        return "not answering" + waiting
    if peer.catching_up:
        return f"getting {peer.arrived * 100 // peer.expected}%"
    if peer.in_sync:
        return "in sync"
    return "syncing" + waiting


class PeersScreen(CloseableScreen):
    """Who is here now (each name with its device's fingerprint), and a way to add a laptop by
    address. Redrawn when presence posts `PeersChanged`."""

    def __init__(self, bridge: NodeBridge, board_id: str, presence: Presence) -> None:
        super().__init__()
        self.bridge = bridge
        self.board_id = board_id
        self.presence = presence
        self.rows: list[tuple[str, str, str, str]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="peers"):
            yield Label(display.text("People's laptops here"), classes="dialog-title")
            yield DataTable(id="peer-table", cursor_type="row")
            yield Static(display.text(""), id="peer-note")
            yield Static(display.text(""), id="unreachable", classes="error")
            yield Static(display.text("If a laptop does not show up, add it by its address:"))
            with Horizontal(classes="buttons"):
                yield Input(id="address", compact=True, placeholder="e.g. 192.168.1.20:7434")
                yield Button(display.text("Add"), id="add", compact=True)
            yield Static(display.text(""), id="error", classes="error")
            yield Static(display.text(""), id="me", classes="hint")
            yield Static(display.text("Esc to go back"), classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("Name", "Found by", "Last heard", "Sync"):
            table.add_column(display.cell(display.text(column)))
        self.show(self.presence)
        if not table.row_count:
            self.query_one("#address", Input).focus()

    @on(PeersChanged)
    def peers_changed(self, message: PeersChanged) -> None:
        self.show(message.presence)

    def show(self, presence: Presence) -> None:
        self.presence = presence
        table = self.query_one(DataTable)
        people = People({p.device_id: p.name for p in presence.peers})
        rows = [
            (
                people.name_and_fingerprint(p.device_id),
                p.found,
                p.last_heard,
                sync_cell(p),
            )
            for p in presence.peers
        ]
        if rows != self.rows:
            self.rows = rows
            cursor = table.cursor_row
            table.clear()
            for row in rows:
                table.add_row(*(display.cell(display.text(cell)) for cell in row))
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
        note = self.query_one("#peer-note", Static)
        if not presence.running:
            note.update(
                display.text(
                    "This laptop is working on its own (",
                    presence.problem or "sync is starting",
                    "). Everything you post is kept and will sync later.",
                )
            )
        elif not presence.peers:
            note.update(display.text(CLIENT_ISOLATION))
        elif presence.elsewhere:
            note.update(display.text(ELSEWHERE))
        else:
            note.update(display.text(""))
        unreachable = self.query_one("#unreachable", Static)
        unreachable.update(
            display.join(
                "\n",
                [
                    display.text(
                        u.address,
                        " (given by hand) does not answer: ",
                        u.error,
                        f" · since {u.since}",
                    )
                    for u in presence.unreachable
                ],
            )
        )
        unreachable.display = bool(presence.unreachable)
        where = ", ".join(f"{h}:{p}" for h, p in presence.hints[:4])
        self.query_one("#me", Static).update(
            display.text("This laptop can be reached at ", where) if where else display.text("")
        )

    @on(Input.Submitted, "#address")
    @on(Button.Pressed, "#add")
    def add_peer(self) -> None:
        self._add_peer(self.query_one("#address", Input).value)

    @work(group="add", description="add_peer")
    async def _add_peer(self, address: str) -> None:
        error = self.query_one("#error", Static)
        try:
            sentence = await self.bridge.add_peer(address)
        except PotluckError as exc:
            error.update(display.problem(exc))
            return
        error.update(display.text(""))
        self.query_one("#address", Input).value = ""
        display.notify(self, display.text(sentence))


HELP = display.text(
    ("Moving", "heading"),
    display.lines(
        """
  ↑ ↓        choose an item         1–6 / ← →  switch kind
  tab        list ⇄ details         PgUp PgDn  page
"""
    ),
    ("Doing", "heading"),
    display.lines(
        """
  n          post something new     r          reply
  space/⏎    respond or take it back (help, come, a task, a shift…)
  e          edit your own post     m          met or closed / reopen
  s          your project's tasks and shifts: add, change, remove
  /          search the whole board t          show one tag
  h          hide finished / past   u          the next two weeks
  a          agreements (Assembly)  i          invite someone
  p          people nearby          ctrl+p     every action
  ?          this help              q          quit

● marks news for you (a reply, an answer) not opened yet.
Everyone can post, reply, respond and mark met. Nobody keeps score."""
    ),
)


class HelpScreen(CloseableScreen):
    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(display.text("Keys"), classes="dialog-title")
            yield Static(HELP)
