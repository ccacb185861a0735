"""A home of schema 3 or 4 (made by the code before schema 4 or 5: tests/homes/v3, v4) opens
with everything it held: items, replies, responses, history, members, signatures that verify,
and search, which still forgets the words an edit takes away."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import NamedTuple

import pytest
from potluck.p2p.errors import HomeError
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind, ResponseKind, Status
from potluck.p2p.storage.database import SCHEMA_VERSION
from potluck.p2p.storage.documents import Documents

from tests.conftest import run_potluck
from tests.test_damaged_home import read_only_view

HOMES = Path(__file__).parent / "homes"


class Ids(NamedTuple):
    """The items of a home made for these tests (tests/homes/*/README.md)."""

    ladder: str
    soup: str
    quiet: str
    party: str


IDS = {
    "v3": Ids(
        "10dcbce2cc9ce6afd6eab714832394b5",
        "6c80a4819da221d9fd13fe11dab3030d",
        "57013c316fbcb687cdf0a330bba8e38a",
        "2c415e5a9578ee6172a53d63fc7bd956",
    ),
    "v4": Ids(
        "a66e4673169cd92f33eb1e68a3faa434",
        "f070b87f1ff7a848a5c1f61328844019",
        "3ae997b4ededa01a8dc4c1ea82984b02",
        "ff87e8f5b308057abcc6f364a4ee4f4a",
    ),
}


@pytest.fixture(params=sorted(IDS))
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ids(version: str) -> Ids:
    return IDS[version]


@pytest.fixture
def migrated(version: str, tmp_path: Path) -> Home:
    shutil.copytree(HOMES / version, tmp_path / "ana", ignore=shutil.ignore_patterns("*.md"))
    home = Home.open(tmp_path / "ana")
    yield home
    home.close()


def _titles(home: Home, **query: object) -> set[str]:
    return {s.title for s in home.board().items(**query)}  # type: ignore[arg-type]


def test_the_home_is_at_the_new_schema_with_no_page_left_over(migrated: Home) -> None:
    db = migrated.store.db
    assert db.setting("schema") == str(SCHEMA_VERSION) == "5"
    conn = db.connection
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # vacuumed
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")


def test_items_replies_responses_and_history_are_all_there(migrated: Home, ids: Ids) -> None:
    board = migrated.board()
    assert board.name == "Kitchen"
    summaries = {s.id: s for s in board.items()}
    assert set(summaries) == {ids.ladder, ids.soup, ids.quiet, ids.party}
    ladder = board.item(ids.ladder)
    assert (ladder.kind, ladder.status, ladder.tags) == (Kind.NEED, Status.MET, ("roof", "tools"))
    assert [r.text for r in ladder.replies] == ["I have an aluminium one"]
    bo = ladder.replies[0].author
    assert board.member_name(bo) == "Bo" and board.member_name(ladder.author) == "Ana Lúcia"
    assert [(h.who, h.what) for h in ladder.history] == [
        (ladder.author, "posted"),
        (bo, "marked met"),
    ]
    soup = board.item(ids.soup)
    assert [(r.member, r.kind, r.note) for r in soup.responses] == [
        (bo, ResponseKind.INTERESTED.value, "two bowls please")
    ]
    assert [r.text for r in soup.replies] == ["Ready at seven"]
    assert summaries[ids.soup].replies == 1 and summaries[ids.soup].responses == 1
    assert summaries[ids.party].start == 1_800_000_000_000
    assert summaries[ids.quiet].decide_by == 1_900_000_000_000
    assert board.agreements() == []  # Bo's block still counts


def test_search_and_tags_find_what_they_found_before(migrated: Home) -> None:
    assert _titles(migrated, tag="tools") == {"A ladder"}
    assert _titles(migrated, tag="food") == {"Soup on Friday"}
    assert _titles(migrated, search="gutters") == {"A ladder"}  # a body
    assert _titles(migrated, search="aluminium") == {"A ladder"}  # a reply
    assert _titles(migrated, search="bowls") == {"Soup on Friday"}  # a response's note
    assert _titles(migrated, search="roof") == {"A ladder"}  # a tag and a body
    assert _titles(migrated, search="lucia") == {  # a name: what Ana posted or said
        "A ladder",
        "Soup on Friday",
        "Quiet hours",
        "Garden party",
    }
    assert _titles(migrated, search="bo soup") == {"Soup on Friday"}


def test_an_edit_after_the_migration_takes_the_old_words_out_of_search(
    migrated: Home, ids: Ids
) -> None:
    board = migrated.board()
    board.edit(ids.ladder, title="A long ladder", body="for the shed", remove_tags=["roof"])
    assert _titles(migrated, search="gutters") == set()  # the old body
    assert _titles(migrated, search="roof") == set()  # the old tag
    assert _titles(migrated, search="shed") == {"A long ladder"}
    assert _titles(migrated, search="aluminium") == {"A long ladder"}  # the reply stays
    board.reply(ids.soup, "Made with leeks")
    assert _titles(migrated, search="leeks") == {"Soup on Friday"}
    assert _titles(migrated, search="bowls") == {"Soup on Friday"}
    board.set_status(ids.soup, Status.WITHDRAWN)
    assert _titles(migrated, search="lentil", status=Status.WITHDRAWN) == {"Soup on Friday"}
    conn = migrated.store.db.connection
    conn.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")


def test_signatures_still_verify_and_the_board_still_takes_changes(
    migrated: Home, ids: Ids, tmp_path: Path
) -> None:
    board = migrated.board()
    newcomer = Home.open(tmp_path / "new")
    try:
        newcomer.join(board.invite())
        documents = migrated.store.documents
        for doc_id in documents.digests(board.board_id):
            # Every change checked again, against the signatures the old home kept.
            newcomer.store.documents.apply_saved_document(
                board.board_id, doc_id, documents.saved_document(board.board_id, doc_id)
            )
        theirs = newcomer.board(board.board_id)
        assert {s.title for s in theirs.items()} == _titles(migrated)
        assert [r.text for r in theirs.item(ids.ladder).replies] == ["I have an aluminium one"]
    finally:
        newcomer.close()
    board.edit(ids.ladder, remove_tags=["roof"], add_tags=["wood"])
    assert _titles(migrated, tag="roof") == set() and _titles(migrated, tag="wood") == {"A ladder"}
    assert _titles(migrated, tag="tools") == {"A ladder"}
    board.post(Kind.OFFER, "Spare bricks", tags=["wood"])
    assert _titles(migrated, tag="wood") == {"A ladder", "Spare bricks"}


@pytest.mark.parametrize("version", ["3", "4"])
def test_a_read_only_home_of_an_older_schema_says_to_open_it_where_it_can_be_written(
    version: str, tmp_path: Path
) -> None:
    home = tmp_path / "ana"
    shutil.copytree(HOMES / f"v{version}", home, ignore=shutil.ignore_patterns("*.md"))
    with read_only_view(home, tmp_path / "stick") as stick:
        said = run_potluck(stick, "ls", check=False).stderr.strip()
        assert "earlier Potluck" in said and "where it can be written" in said, said
        assert len(said.splitlines()) == 1 and "Traceback" not in said
    with sqlite3.connect(home / "potluck.db") as conn:  # untouched, and opens once writable
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == version
    assert {i["title"] for i in json.loads(run_potluck(home, "ls", "--json").stdout)} == {
        "A ladder",
        "Soup on Friday",
        "Quiet hours",
        "Garden party",
    }


def test_a_migration_that_fails_midway_leaves_the_old_home_as_it_was(
    version: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "ana"
    shutil.copytree(HOMES / version, home, ignore=shutil.ignore_patterns("*.md"))

    def fail(self: Documents) -> None:  # the last step, after every table was rewritten
        assert self.db.connection.execute("SELECT count(*) FROM board_nums").fetchone()[0] == 1
        raise HomeError("the process died here")

    monkeypatch.setattr(Documents, "index_text_again", fail)
    with pytest.raises(HomeError, match="died here"):
        Home.open(home)
    monkeypatch.undo()
    with sqlite3.connect(home / "potluck.db") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == version[1]
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 4
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Home.open(home) as opened:  # and it migrates when opened again
        assert _titles(opened, search="gutters") == {"A ladder"}
        assert opened.store.db.setting("schema") == "5"
