"""A note written together through the real edit form: Ana's app edits it, Bo's home edits
it, Ana edits twice more (once from a form opened before Bo's words arrived): no crash, no
error, every word kept (issue 11)."""

from __future__ import annotations

from pathlib import Path

from potluck.p2p.home import Board, Home
from potluck.p2p.model.types import Kind
from potluck.tui.dialogs.forms import EditDialog
from potluck.tui.screens.board import BoardScreen
from potluck.tui.widgets.detail import ItemDetail
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from tests.test_merge import copy_documents
from tests.tui.conftest import board_ready, wait_for

WORDS = ["Be kind.", "Ana one.", "Bo one.", "Ana two.", "Ana three."]


def detail(pilot: Pilot[None]) -> str:
    screen = pilot.app.screen
    return screen.query_one(ItemDetail).shown.plain if isinstance(screen, BoardScreen) else ""


def carry(src_home: Path, dst_home: Path) -> None:
    """What a sync would do: every document of the board from one home into the other."""
    with Home.open(src_home) as src, Home.open(dst_home) as dst:
        copy_documents(src.board(), dst.board())


def bo_edits(bo_home: Path, note_id: str, words: str) -> None:
    with Home.open(bo_home) as home:
        bo: Board = home.board()
        note = bo.item(note_id)
        bo.edit(note_id, body=note.body + " " + words, body_from=note.heads)


async def open_edit(pilot: Pilot[None]) -> EditDialog:
    app = pilot.app
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, EditDialog) and app.screen.ready)
    assert isinstance(app.screen, EditDialog)
    return app.screen


async def save(pilot: Pilot[None], form: EditDialog, words: str) -> None:
    body = form.query_one("#body", TextArea)
    body.text = body.text + " " + words
    await pilot.press("ctrl+s")
    await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, BoardScreen)
            or str(form.query_one("#error", Static).render()).strip()
        ),
    )
    assert isinstance(pilot.app.screen, BoardScreen), str(form.query_one("#error", Static).render())


class TestNoteWrittenTogether:
    async def test_alternating_edits_through_the_form(
        self, home_path: Path, make_app, tmp_path: Path
    ) -> None:  # type: ignore[no-untyped-def]
        bo_home = tmp_path / "bo"
        with Home.open(home_path) as ana, Home.open(bo_home) as bo:
            bo.set_profile(name="Bo")
            board = ana.board()
            bo.join(board.invite())
            note_id = board.post(Kind.NOTE, "House agreements", body=WORDS[0])
        carry(home_path, bo_home)
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            await pilot.press("6")
            await wait_for(pilot, lambda: "Be kind." in detail(pilot))
            form = await open_edit(pilot)
            assert "everyone writes it together" in str(form.title_text)
            await save(pilot, form, WORDS[1])
            await wait_for(pilot, lambda: WORDS[1] in detail(pilot))
            carry(home_path, bo_home)
            # Ana opens the form; meanwhile Bo's edit arrives; Ana saves from what she opened.
            form = await open_edit(pilot)
            bo_edits(bo_home, note_id, WORDS[2])
            carry(bo_home, home_path)
            await save(pilot, form, WORDS[3])
            await wait_for(pilot, lambda: all(w in detail(pilot) for w in WORDS[:4]))
            form = await open_edit(pilot)
            await save(pilot, form, WORDS[4])
            await wait_for(pilot, lambda: all(w in detail(pilot) for w in WORDS))
            assert app.is_running and not app.crashed
        with Home.open(home_path) as ana:
            body = ana.board().item(note_id).body
        assert all(w in body for w in WORDS), body
        carry(home_path, bo_home)
        with Home.open(bo_home) as bo:
            assert bo.board().item(note_id).body == body
