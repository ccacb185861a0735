"""Every command through the installed `potluck` console script, as a person or script uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from potluck.p2p.invite import decode_invite

from tests.conftest import run_json, run_potluck


@pytest.fixture
def board_home(tmp_path: Path) -> Path:
    home = tmp_path / "ana"
    run_potluck(home, "whoami", "--name", "Ana", "--about", "cooks on Tuesdays")
    run_potluck(home, "new-board", "Kitchen at No. 12")
    return home


class TestBoards:
    def test_new_board_prints_an_invite_that_names_it(self, tmp_path: Path) -> None:
        created = run_json(tmp_path / "h", "new-board", "Kitchen")
        assert set(created) == {"board", "name", "invite"}
        assert created["name"] == "Kitchen"
        assert decode_invite(created["invite"]).name == "Kitchen"
        people = run_potluck(tmp_path / "h2", "new-board", "Camp").stdout
        assert "potluck-" in people and "Camp" in people

    def test_join_with_a_code_from_another_home(self, board_home: Path, tmp_path: Path) -> None:
        code = run_json(board_home, "invite")["invite"]
        joined = run_json(tmp_path / "bo", "join", code)
        assert joined["name"] == "Kitchen at No. 12" and joined["added"] is True
        again = run_json(tmp_path / "bo", "join", code)
        assert again["added"] is False
        boards = run_json(tmp_path / "bo", "boards")
        assert [b["name"] for b in boards] == ["Kitchen at No. 12"]
        assert boards[0]["board"] == run_json(board_home, "boards")[0]["board"]

    def test_a_mistyped_code_is_refused_with_one_line(
        self, board_home: Path, tmp_path: Path
    ) -> None:
        code = run_json(board_home, "invite")["invite"]
        typo = code[:20] + ("a" if code[20] != "a" else "b") + code[21:]
        for bad in (typo, code[:-6], "hello"):
            result = run_potluck(tmp_path / "bo", "join", bad, check=False)
            assert result.returncode == 1
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("potluck: ")
        assert run_json(tmp_path / "bo", "boards") == []

    def test_several_boards_and_the_board_option(self, board_home: Path) -> None:
        run_potluck(board_home, "new-board", "Night watch")
        run_potluck(board_home, "--board", "Kitchen at No. 12", "post", "need", "Onions")
        run_potluck(board_home, "post", "offer", "Thermos")
        assert [i["title"] for i in run_json(board_home, "--board", "Kitchen at No. 12", "ls")] == [
            "Onions"
        ]
        assert [i["title"] for i in run_json(board_home, "ls")] == ["Thermos"]
        wrong = run_potluck(board_home, "--board", "Nope", "ls", check=False)
        assert wrong.returncode == 1 and "Nope" in wrong.stderr

    def test_no_board_yet_is_a_clear_mistake(self, tmp_path: Path) -> None:
        result = run_potluck(tmp_path / "empty", "ls", check=False)
        assert result.returncode == 1
        assert "new-board" in result.stderr and "join" in result.stderr


class TestWhoami:
    def test_show_and_set(self, board_home: Path) -> None:
        me = run_json(board_home, "whoami")
        assert me["name"] == "Ana" and me["about"] == "cooks on Tuesdays"
        assert len(me["device"]) == 32
        run_potluck(board_home, "whoami", "--name", "Ana B.")
        assert run_json(board_home, "whoami")["name"] == "Ana B."
        item = run_json(board_home, "post", "need", "Salt")["id"]
        assert run_json(board_home, "show", item)["author_name"] == "Ana B."

    def test_an_empty_name_is_refused(self, board_home: Path) -> None:
        result = run_potluck(board_home, "whoami", "--name", "  ", check=False)
        assert result.returncode == 1 and "name" in result.stderr


class TestItems:
    def test_post_each_kind_and_list_as_json(self, board_home: Path) -> None:
        ids = {}
        for kind in ("need", "offer", "project", "event", "proposal", "note"):
            when = ("--start", "fri 19:00") if kind == "event" else ()
            ids[kind] = run_json(board_home, "post", kind, f"A {kind}", "--tag", kind, *when)["id"]
        listed = run_json(board_home, "ls")
        assert {i["id"] for i in listed} == set(ids.values())
        for entry in listed:
            assert {
                "id",
                "kind",
                "title",
                "status",
                "tags",
                "author",
                "author_name",
                "created",
                "updated",
                "replies",
                "responses",
            } <= set(entry)
            assert entry["author_name"] == "Ana" and entry["status"] == "open"
            assert entry["tags"] == [entry["kind"]]
        assert [i["kind"] for i in run_json(board_home, "ls", "--kind", "event")] == ["event"]
        assert [i["id"] for i in run_json(board_home, "ls", "--tag", "offer")] == [ids["offer"]]

    def test_event_and_project_details(self, board_home: Path) -> None:
        event = run_json(
            board_home,
            "post",
            "event",
            "Soup night",
            "--start",
            "2026-12-01 19:00",
            "--end",
            "2026-12-01 22:00",
            "--place",
            "the yard",
            "--past",
        )["id"]
        shown = run_json(board_home, "show", event)
        assert shown["place"] == "the yard" and shown["end"] - shown["start"] == 3 * 3600 * 1000
        project = run_json(
            board_home,
            "post",
            "project",
            "Roof garden",
            "--task",
            "dig",
            "--task",
            "seeds",
            "--shift",
            "Saturdays 10:00",
            "--slots",
            "3",
        )["id"]
        run_potluck(board_home, "respond", project, "--as", "task", "--which", "2")
        run_potluck(board_home, "respond", project, "--as", "shift")
        shown = run_json(board_home, "show", project)
        assert [bool(t["taken_by"]) for t in shown["tasks"]] == [False, True]
        assert shown["shifts"][0]["slots"] == 3 and len(shown["shifts"][0]["signed_up"]) == 1
        people = run_potluck(board_home, "show", project).stdout
        assert "every Sat 10:00 · 3 places each" in people and "2 of 3 places open — Ana" in people
        assert "seeds (taken by Ana)" in people

    def test_reply_respond_status_edit_show(self, board_home: Path) -> None:
        item = run_json(board_home, "post", "need", "Ladder", "--body", "for the roof")["id"]
        prefix = item[:6]
        run_potluck(board_home, "reply", prefix, "there is one in the cellar")
        run_potluck(board_home, "respond", prefix, "--note", "Tuesday")
        run_potluck(board_home, "edit", prefix, "--title", "Long ladder", "--tag", "tools")
        run_potluck(board_home, "status", prefix, "met")
        shown = run_json(board_home, "show", prefix)
        assert shown["title"] == "Long ladder" and shown["tags"] == ["tools"]
        assert shown["status"] == "met"
        assert [r["text"] for r in shown["replies"]] == ["there is one in the cellar"]
        assert [(r["kind"], r["note"]) for r in shown["responses"]] == [("help", "Tuesday")]
        assert [h["what"] for h in shown["history"]] == ["posted", "edited", "marked met"]
        listed = run_json(board_home, "ls", "--status", "met")
        assert listed[0]["replies"] == 1 and listed[0]["responses"] == 1
        assert run_json(board_home, "ls", "--status", "open") == []
        people = run_potluck(board_home, "show", prefix).stdout
        assert "Long ladder" in people and "Ana — help: Tuesday" in people

    def test_edit_an_event_time_and_place(self, board_home: Path) -> None:
        item = run_json(
            board_home, "post", "event", "Soup night", "--start", "2026-12-01 19:00",
            "--end", "2026-12-01 22:00", "--place", "the yard", "--past",
        )["id"]  # fmt: skip
        late = run_potluck(
            board_home, "edit", item, "--start", "2026-12-02 18:00", "--past", check=False
        )
        assert late.returncode == 1 and "cannot end before it starts" in late.stderr
        run_potluck(
            board_home, "edit", item, "--start", "2026-12-01 18:00", "--place", "hall", "--past"
        )
        shown = run_potluck(board_home, "show", item).stdout
        assert "Tue 01 Dec 2026 18:00 – Tue 01 Dec 2026 22:00 · where: hall" in shown
        run_potluck(board_home, "edit", item, "--no-end")
        assert run_json(board_home, "show", item)["end"] is None
        early = run_potluck(board_home, "edit", item, "--end", "2026-12-01 08:00", check=False)
        assert early.returncode == 1 and "cannot end before it starts" in early.stderr
        need = run_json(board_home, "post", "need", "Ladder")["id"]
        wrong = run_potluck(board_home, "edit", need, "--place", "yard", check=False)
        assert wrong.returncode == 1 and "only events" in wrong.stderr
        after = run_json(board_home, "show", item)
        assert (after["place"], after["end"], after["history"][-1]["what"]) == (
            "hall",
            None,
            "edited",
        )

    def test_proposal_positions(self, board_home: Path) -> None:
        item = run_json(board_home, "post", "proposal", "Quiet after 23:00")["id"]
        blocked = run_potluck(board_home, "respond", item, "--as", "block", check=False)
        assert blocked.returncode == 1 and "reason" in blocked.stderr
        run_potluck(board_home, "respond", item, "--as", "concern", "--note", "weekends?")
        run_potluck(board_home, "respond", item, "--as", "agree")
        responses = run_json(board_home, "show", item)["responses"]
        assert [r["kind"] for r in responses] == ["agree"]
        wrong = run_potluck(board_home, "respond", item, "--as", "going", check=False)
        assert wrong.returncode == 1 and "agree" in wrong.stderr

    def test_search(self, board_home: Path) -> None:
        run_potluck(board_home, "post", "offer", "Sourdough starter", "--body", "Rye, very lively")
        run_potluck(board_home, "post", "need", "Bike pump")
        assert [i["title"] for i in run_json(board_home, "ls", "--search", "rye")] == [
            "Sourdough starter"
        ]
        assert [i["title"] for i in run_json(board_home, "ls", "--search", "bik")] == ["Bike pump"]
        assert run_json(board_home, "ls", "--search", 'weird "quote (AND') == []

    def test_mistakes_are_one_clear_line(self, board_home: Path) -> None:
        first = run_json(board_home, "post", "need", "One")["id"]
        cases = [
            (("show", "ffffffff"), "no item"),
            (("show", "zz"), "not an item id"),
            (("reply", first, "  "), "empty"),
            (("post", "need", "  "), "title"),
            (("post", "event", "x", "--start", "tomorrow"), "needs a time of day"),
            (("post", "event", "x", "--start", "soonish"), "not a time"),
            (("post", "event", "x"), "needs a start"),
            (("post", "need", "x", "--start", "2026-12-01"), "for events"),
            (("post", "event", "x", "--task", "a"), "projects"),
            (("respond", first, "--as", "task"), "need takes"),
            (("edit", first), "nothing to change"),
        ]
        for args, words in cases:
            result = run_potluck(board_home, *args, check=False)
            assert result.returncode == 1, args
            assert words in result.stderr, (args, result.stderr)
            assert "Traceback" not in result.stderr

    def test_ambiguous_prefix(self, board_home: Path) -> None:
        firsts: set[str] = set()
        for n in range(17):  # 16 hex digits: two of 17 ids share a first one
            shared = run_json(board_home, "post", "note", f"n{n}")["id"][:1]
            if shared in firsts:
                break
            firsts.add(shared)
        result = run_potluck(board_home, "show", shared, check=False)
        assert result.returncode == 1 and "several" in result.stderr

    def test_someone_elses_item_cannot_be_edited_but_can_be_answered(
        self, board_home: Path, tmp_path: Path
    ) -> None:
        item = run_json(board_home, "post", "need", "Ladder")["id"]
        bo = second_home_with_the_board(board_home, tmp_path)
        refused = run_potluck(bo, "edit", item, "--title", "Mine now", check=False)
        assert refused.returncode == 1 and "Ana" in refused.stderr
        assert run_json(bo, "show", item)["title"] == "Ladder"
        run_potluck(bo, "reply", item, "I have one")
        run_potluck(bo, "status", item, "met")
        assert run_json(bo, "show", item)["status"] == "met"

    def test_a_note_is_written_together(self, board_home: Path, tmp_path: Path) -> None:
        note = run_json(board_home, "post", "note", "House agreements", "--body", "Be kind.")["id"]
        bo = second_home_with_the_board(board_home, tmp_path)
        run_potluck(bo, "edit", note, "--body", "Be kind.\nWash your cup.")
        assert run_json(bo, "show", note)["body"] == "Be kind.\nWash your cup."


class TestUsage:
    def test_usage_errors_exit_2(self, board_home: Path) -> None:
        for args in (("post", "cake", "x"), ("frobnicate",), ("status", "abc", "done")):
            assert run_potluck(board_home, *args, check=False).returncode == 2

    def test_help_answers_the_question(self, tmp_path: Path) -> None:
        text = run_potluck(tmp_path, "--help").stdout
        for command in ("new-board", "join", "post", "ls", "respond", "export", "import"):
            assert command in text
        assert "events" in run_potluck(tmp_path, "post", "--help").stdout.lower()


class TestExportImport:
    def test_export_carries_the_board_to_another_home(
        self, board_home: Path, tmp_path: Path
    ) -> None:
        item = run_json(
            board_home, "post", "event", "Soup night", "--body", "bring bowls", "--start", "19:00"
        )["id"]
        run_potluck(board_home, "reply", item, "I'll bring bread")
        export = tmp_path / "stick" / "kitchen.potluck"
        export.parent.mkdir()
        run_potluck(board_home, "export", str(export))
        assert b"Soup night" not in export.read_bytes()
        assert b"Kitchen" not in export.read_bytes()

        bo = tmp_path / "bo"
        run_potluck(bo, "join", run_json(board_home, "invite")["invite"])
        run_potluck(bo, "post", "need", "Bowls")
        first = run_potluck(bo, "import", str(export)).stdout
        assert "Merged" in first
        ana_items = {i["id"]: i for i in run_json(board_home, "ls")}
        bo_items = {i["id"]: i for i in run_json(bo, "ls")}
        assert set(ana_items) < set(bo_items)
        assert bo_items[item] == ana_items[item]
        assert run_json(bo, "show", item)["replies"][0]["text"] == "I'll bring bread"

        before = run_json(bo, "ls")
        again = run_potluck(bo, "import", str(export)).stdout
        assert "Nothing new" in again
        assert run_json(bo, "ls") == before

    def test_import_elsewhere_or_damaged_fails_and_changes_nothing(
        self, board_home: Path, tmp_path: Path
    ) -> None:
        export = tmp_path / "kitchen.potluck"
        run_potluck(board_home, "export", str(export))
        stranger = tmp_path / "stranger"
        run_potluck(stranger, "new-board", "Other place")
        result = run_potluck(stranger, "import", str(export), check=False)
        assert result.returncode == 1 and "not joined" in result.stderr
        assert run_json(stranger, "ls") == []

        damaged = tmp_path / "damaged.potluck"
        data = export.read_bytes()
        damaged.write_bytes(data[:-10])
        result = run_potluck(board_home, "import", str(damaged), check=False)
        assert result.returncode == 1 and "damaged" in result.stderr
        flipped = bytearray(data)
        flipped[-40] ^= 1
        damaged.write_bytes(bytes(flipped))
        assert run_potluck(board_home, "import", str(damaged), check=False).returncode == 1
        (tmp_path / "notes.txt").write_text("hello")
        result = run_potluck(board_home, "import", str(tmp_path / "notes.txt"), check=False)
        assert result.returncode == 1 and "not a Potluck export" in result.stderr
        result = run_potluck(board_home, "import", str(tmp_path / "missing"), check=False)
        assert result.returncode == 1 and "cannot read" in result.stderr


def test_json_output_is_one_document(board_home: Path) -> None:
    run_potluck(board_home, "post", "note", "Agreements", "--body", "line one\nline two")
    out = run_potluck(board_home, "ls", "--json").stdout
    assert len(out.strip().splitlines()) == 1
    assert json.loads(out)[0]["title"] == "Agreements"


def second_home_with_the_board(board_home: Path, tmp_path: Path) -> Path:
    """Bo's home, joined to the board of `board_home` and holding its items (by a file)."""
    bo = tmp_path / "bo"
    run_potluck(bo, "whoami", "--name", "Bo")
    run_potluck(bo, "join", run_json(board_home, "invite")["invite"])
    export = tmp_path / "board.potluck"
    run_potluck(board_home, "export", str(export))
    run_potluck(bo, "import", str(export))
    return bo
