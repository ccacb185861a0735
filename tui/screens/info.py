"""Small read-mostly screens: invite (code and QR), peers, and key help."""

from __future__ import annotations

from typing import ClassVar

from potluck.p2p import PotluckError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

from ..widgets.qr import qr_text


class CloseableScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="screen.close", tooltip="Back to the board"),
    ]

    def action_close(self) -> None:
        self.dismiss(None)


class InviteScreen(CloseableScreen):
    """The board's invite code, and the same code as a QR to scan, side by side so both fit
    on an 80x24 terminal."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy the code", id="invite.copy", tooltip="Copy the invite code"),
    ]

    def __init__(self, board_name: str, code: str) -> None:
        super().__init__()
        self.board_name = board_name
        self.code = code

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="invite"), Horizontal(id="invite-row"):
            with Vertical(id="invite-text"):
                yield Static(f"Invite someone to {self.board_name}", classes="dialog-title")
                yield Static(
                    "On their laptop: open potluck and paste this code, or run "
                    "potluck join CODE. A phone can scan the square."
                )
                yield Static(self.code, id="code")
                yield Static(
                    "Anyone with the code can read and post here: share it in person.",
                    classes="hint",
                )
                yield Static("c copy the code · Esc back", classes="hint")
            # Scanners read either case; upper case makes a smaller square (QR alphanumeric).
            yield Static(qr_text(self.code.upper()), id="qr")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("Invite code copied (where the terminal allows it).")


class PeersScreen(CloseableScreen):
    """Who is here now, and a way to add a laptop by address."""

    def __init__(self, board_id: str) -> None:
        super().__init__()
        self.board_id = board_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="peers"):
            yield Label("People's laptops here", classes="dialog-title")
            yield DataTable(id="peer-table", cursor_type="row")
            yield Static("", id="peer-note")
            yield Static("If a laptop does not show up, add it by its address:")
            with Horizontal(classes="buttons"):
                yield Input(id="address", compact=True, placeholder="e.g. 192.168.1.20:7434")
                yield Button("Add", id="add", compact=True)
            yield Static("", id="error", classes="error")
            yield Static("", id="me", classes="hint")
            yield Static("Esc to go back", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Found by", "Here", "Last sync", "Pending")
        self.refresh_peers()
        self.set_interval(1.0, self.refresh_peers)
        if not table.row_count:
            self.query_one("#address", Input).focus()

    def refresh_peers(self) -> None:
        bridge = self.app.bridge  # type: ignore[attr-defined]
        table = self.query_one(DataTable)
        peers = bridge.peers(self.board_id)
        rows = [(p.name, p.found, p.since, p.last_sync, p.pending) for p in peers]
        if [table.get_row_at(n) for n in range(table.row_count)] != [list(r) for r in rows]:
            cursor = table.cursor_row
            table.clear()
            for r in rows:
                table.add_row(*r)
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
        note = self.query_one("#peer-note", Static)
        if not bridge.running:
            note.update(
                f"This laptop is working on its own ({bridge.problem or 'sync is starting'}). "
                "Everything you post is kept and will sync later."
            )
        elif not peers:
            note.update(
                "No one found yet. Laptops on the same network usually show up within "
                "seconds. If others are on the same Wi-Fi and still nothing shows, the router "
                "may keep laptops apart (client isolation): try a cable, a phone hotspot, or "
                "add an address below."
            )
        elif bridge.elsewhere:
            note.update("Another potluck on this laptop is syncing; this is what it sees.")
        else:
            note.update("")
        hints = bridge.hints() if bridge.running else []
        self.query_one("#me", Static).update(
            "This laptop can be reached at " + ", ".join(f"{h}:{p}" for h, p in hints[:4])
            if hints
            else ""
        )

    @on(Input.Submitted, "#address")
    @on(Button.Pressed, "#add")
    async def add_peer(self) -> None:
        box = self.query_one("#address", Input)
        error = self.query_one("#error", Static)
        try:
            sentence = await self.app.bridge.add_peer(box.value)  # type: ignore[attr-defined]
        except PotluckError as exc:
            error.update(str(exc))
            return
        error.update("")
        box.value = ""
        self.notify(sentence)


HELP = """\
[b]Moving[/b]
  ↑ ↓        choose an item         1–6 / ← →  switch kind
  tab        list ⇄ details         PgUp PgDn  page

[b]Doing[/b]
  n          post something new     r          reply
  space/⏎    respond (help, come, take a task, a position…)
  e          edit your own post     m          met or closed / reopen
  /          search the board       t          show one tag
  h          hide / show finished   i          invite someone
  p          people nearby          ctrl+p     every action
  ?          this help              q          quit

Everyone can post, reply, respond and mark things met.
Nobody here keeps score."""


class HelpScreen(CloseableScreen):
    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label("Keys", classes="dialog-title")
            yield Static(HELP)
