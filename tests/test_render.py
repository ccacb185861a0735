"""`potluck ls` and `potluck show` print a member's words as text a terminal shows, never obeys;
names carry fingerprints where needed (always on `show`'s author); `--json` keeps the words raw
(JSON escapes what needs it) and gives each person's fingerprint."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from potluck.p2p import Kind, Status
from potluck.p2p.home import Home
from potluck.p2p.model.measure import MAX_TITLE_SHOWN
from potluck.tui.cli.people import fingerprint
from potluck.tui.cli.printable import printable

from tests.conftest import run_potluck
from tests.hostile_text import CORPUS, write_corpus
from tests.p2p_helpers import make_homes
from tests.test_merge import copy_documents


def obeyed(output: str) -> list[str]:
    """Characters a terminal would act on, or that reorder or hide what follows."""
    return [
        f"U+{ord(c):04X}"
        for c in output
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in "\n"
    ]


def hostile_board(tmp_path: Path) -> tuple[Path, str, str]:
    """Vic's home holding everything Mallory (who made the board) wrote; Mallory's device id."""
    (mallory, vic), board_id = make_homes(tmp_path, ["Mallory", "Vic"])
    write_corpus(mallory, board_id)
    export = tmp_path / "mallory.potluck"
    mallory.export_board(mallory.board(board_id), export)
    vic.import_board(export)
    device = mallory.device_id
    vic.close()
    mallory.close()
    return tmp_path / "vic", board_id, device


class TestHostileText:
    def test_ls_and_show_print_the_words_never_obey_them(self, tmp_path: Path) -> None:
        vic, _, mallory = hostile_board(tmp_path)
        listed = run_potluck(vic, "ls").stdout
        assert obeyed(listed) == []
        assert len(listed.splitlines()) == len(CORPUS) * 6
        for words in CORPUS:
            assert printable(words[:200])[:30] in listed
        with Home.open(vic) as home:
            ids = {(s.kind, s.title): s.id for s in home.board().items()}
        kinds = list(Kind)
        for n, words in enumerate(CORPUS):  # one item of each string, of every kind in turn
            item_id = ids[kinds[n % len(kinds)], words[:MAX_TITLE_SHOWN]]
            shown = run_potluck(vic, "show", item_id).stdout
            assert obeyed(shown) == [], item_id
            assert f"({fingerprint(mallory)})" in shown.splitlines()[1]  # by whom, always

    def test_json_keeps_the_words_and_gives_fingerprints(self, tmp_path: Path) -> None:
        vic, _, mallory = hostile_board(tmp_path)
        listed = json.loads(run_potluck(vic, "ls", "--json").stdout)
        assert {s["author_fingerprint"] for s in listed} == {fingerprint(mallory)}
        titles = {s["title"] for s in listed}
        assert "[@click=app.quit]Free bikes[/]" in titles
        assert "\x1b]0;window title\x07set" in titles  # raw: JSON escapes it on the way out
        raw = run_potluck(vic, "show", listed[0]["id"], "--json").stdout
        assert "\x1b" not in raw and "\x07" not in raw and "\u202e" not in raw
        shown = json.loads(raw)
        assert shown["author_fingerprint"] == fingerprint(mallory)
        assert all(r["author_fingerprint"] == fingerprint(mallory) for r in shown["replies"])
        assert all(r["member_fingerprint"] == fingerprint(mallory) for r in shown["responses"])


class TestLookAlikeNames:
    def test_two_members_called_alike_are_told_apart(self, tmp_path: Path) -> None:
        (ana, impostor), board_id = make_homes(tmp_path, ["Ana", "Аna"])  # Cyrillic А
        copy_documents(ana.board(board_id), impostor.board(board_id))
        impostor.board(board_id).introduce()
        export = tmp_path / "impostor.potluck"
        impostor.board(board_id).post(Kind.NEED, "Send me money")
        impostor.export_board(impostor.board(board_id), export)
        ana.import_board(export)
        ana.board(board_id).post(Kind.NEED, "Soup pots")
        real, fake = ana.device_id, impostor.device_id
        ana.close()
        impostor.close()
        listed = run_potluck(tmp_path / "ana", "ls").stdout
        assert f"Ana ({fingerprint(real)})" in listed
        assert f"Аna ({fingerprint(fake)})" in listed


class TestWhatHappened:
    def test_show_says_who_marked_it_met_from_the_signed_changes(self, tmp_path: Path) -> None:
        (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
        copy_documents(ana.board(board_id), bo.board(board_id))
        need = ana.board(board_id).post(Kind.NEED, "Blankets")
        copy_documents(ana.board(board_id), bo.board(board_id))
        bo.board(board_id).set_status(need, Status.MET)
        copy_documents(bo.board(board_id), ana.board(board_id))
        ana.close()
        bo.close()
        shown = run_potluck(tmp_path / "ana", "show", need).stdout
        assert "what happened:\n  Bo marked it met · " in shown
        assert shown.index("Blankets") < shown.index("what happened:")
