"""What a person types: one-line fields fold line breaks and tabs, control characters are refused
by name, the same for the command line and the app's forms (both call Board and Home)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from potluck.p2p import Home, InvalidInput, Kind, ResponseKind
from potluck.p2p.model import text
from potluck.tui.cli.printable import TAB, printable

from tests.conftest import POTLUCK, run_json, run_potluck

ESC_TITLE = "\x1b]0;pwned\x07Free bikes"
KNOWN = st.characters(blacklist_categories=("Cn", "Co"))
"""Characters this Python's Unicode assigns: unassigned ones (emoji newer than it) and
private-use ones are accepted but shown as `<U+…>`, being harmless to a terminal."""


class TestOneLine:
    def test_line_breaks_and_tabs_fold_to_one_space(self) -> None:
        assert (
            text.one_line(" Soup\r\n night\t\tat\u2028six ", "a title", 200) == "Soup night at six"
        )

    @pytest.mark.parametrize(
        ("typed", "named"),
        [
            ("\x1b]0;x\x07", "^[ (escape, U+001B)"),
            ("bell\x07", "^G (bell, U+0007)"),
            ("c1 \x9b31m", "U+009B"),
            ("del\x7f", "^? (U+007F)"),
            ("file\x1cseparator", "^\\ (U+001C)"),
            ("\u202eevil", "U+202E (RIGHT-TO-LEFT OVERRIDE), which reorders"),
            ("iso\u2066late", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
            ("zero\u200bwidth", "U+200B (ZERO WIDTH SPACE), an invisible character"),
            ("stray\u200djoiner", "U+200D"),
            ("not utf-8 \udcff", "bytes that are not UTF-8 text"),
        ],
    )
    def test_what_a_terminal_would_obey_is_refused_by_name(self, typed: str, named: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            text.one_line(typed, "a title", 200)
        said = str(refused.value)
        assert said.startswith("a title cannot hold ") and named in said, said
        assert printable(said) == said  # the message itself is safe to print

    def test_what_people_write_is_kept(self) -> None:
        for kept in ["Café à 6 h", "👩‍🍳 cooking", "خبز", "面包", "no\u00a0break", "🫨 new emoji"]:
            assert text.one_line(kept, "a title", 200) == " ".join(kept.split())

    def test_already_there_does_not_stop_an_edit(self) -> None:
        assert text.one_line("\x1b old, new", "a title", 200, already="\x1b old") == "\x1b old, new"
        with pytest.raises(InvalidInput):
            text.one_line("\x1b old, \x07 new", "a title", 200, already="\x1b old")

    def test_several_lines_keep_their_line_ends_as_newlines(self) -> None:
        assert text.lines("one\r\ntwo\rthree\u2028four\tfive", "a reply") == (
            "one\ntwo\nthree\nfour\tfive"
        )
        with pytest.raises(InvalidInput, match="escape"):
            text.lines("one\n\x1b[2J", "a reply")

    @given(st.text(KNOWN, max_size=60))
    def test_a_line_accepted_is_shown_exactly_as_typed(self, typed: str) -> None:
        try:
            kept = text.one_line(typed, "a title", 200)
        except InvalidInput:
            return
        assert printable(kept) == kept

    @given(st.text(KNOWN, max_size=60))
    def test_lines_accepted_are_shown_exactly_as_typed(self, typed: str) -> None:
        try:
            kept = text.lines(typed, "a reply")
        except InvalidInput:
            return
        assert printable(kept, multiline=True) == kept.replace("\t", TAB)


class TestEveryField:
    def test_board_fields(self, home: Home) -> None:
        board = home.new_board("Kitchen")
        item = board.post(
            Kind.PROJECT,
            "Roof\ngarden",
            body="dig\r\nplant",
            tags=["food"],
            tasks=["dig\tbeds"],
            shifts=[("Saturdays\n10:00", 3)],
        )
        got = board.item(item)
        assert (got.title, got.body, got.tasks[0].title, got.shifts[0].when) == (
            "Roof garden",
            "dig\nplant",
            "dig beds",
            "every Sat 10:00",
        )
        bad = "\x1b[2J"
        attempts = {
            "a title": lambda: board.post(Kind.NEED, bad),
            "the text": lambda: board.post(Kind.NEED, "ok", body=bad),
            "a tag": lambda: board.post(Kind.NEED, "ok", tags=[bad]),
            "a place": lambda: board.post(Kind.EVENT, "ok", start=1, place=bad),
            "a task": lambda: board.post(Kind.PROJECT, "ok", tasks=[bad]),
            "a shift": lambda: board.post(Kind.PROJECT, "ok", shifts=[(bad, 2)]),
            "a reply": lambda: board.reply(item, bad),
            "a note": lambda: board.respond(item, ResponseKind.HELP, note=bad),
            "a display name": lambda: home.set_profile(name=bad),
            "the line about you": lambda: home.set_profile(about=bad),
            "a board name": lambda: home.new_board(bad),
        }
        for what, attempt in attempts.items():
            with pytest.raises(InvalidInput, match=f"^{what} cannot hold the control"):
                attempt()
        with pytest.raises(InvalidInput, match="1 to 1000"):
            board.post(Kind.PROJECT, "ok", shifts=[("every sat 10:00", 10**20)])
        assert [i.id for i in board.items()] == [item]

    def test_editing_a_note_is_not_stopped_by_what_someone_else_wrote(self, home: Home) -> None:
        board = home.new_board("Kitchen")
        note = board.post(Kind.NOTE, "House rules", body="be kind")
        # A member's device gone bad wrote control characters into the shared note.
        from potluck.p2p.model import item_document as items

        home.store.documents.update(
            board.board_id,
            note,
            lambda doc: items.edit_item(doc, now=1, title=ESC_TITLE, body="be kind\x1b[2J"),
        )
        before = board.item(note)
        board.edit(note, title=ESC_TITLE + " (fixed)", body="be kind\x1b[2J, always")
        after = board.item(note)
        assert after.title == ESC_TITLE + " (fixed)" and after.body.endswith("always")
        with pytest.raises(InvalidInput, match="bell"):
            board.edit(note, body=before.body + "\x07")


class TestCommandLine:
    def test_a_control_character_is_refused_in_one_line_and_a_newline_folded(
        self, tmp_path: Path
    ) -> None:
        home = tmp_path / "home"
        run_potluck(home, "new-board", "Kitchen")
        refused = run_potluck(home, "post", "need", ESC_TITLE, check=False)
        assert refused.returncode == 1
        [line] = refused.stderr.splitlines()
        assert line.startswith("potluck: a title cannot hold the control character ^[")
        assert "\x1b" not in refused.stderr
        run_potluck(home, "whoami", "--name", "Ana\nB.")
        assert run_json(home, "whoami")["name"] == "Ana B."
        assert run_json(home, "ls") == []

    def test_bytes_that_are_not_utf8_are_refused_not_a_traceback(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        run_potluck(home, "new-board", "Kitchen")
        result = subprocess.run(
            [POTLUCK, "--home", str(home), "post", "need", b"caf\xe9"],
            capture_output=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert b"not UTF-8" in result.stderr and b"Traceback" not in result.stderr
