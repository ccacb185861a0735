"""A home of schema 3 (made by the code before schema 4, tests/homes/v3) opens with everything
it held: items, replies, responses, history, members, signatures that verify, and search."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind, ResponseKind, Status
from potluck.p2p.storage.database import SCHEMA_VERSION

from tests.conftest import run_potluck
from tests.test_damaged_home import read_only_view

V3 = Path(__file__).parent / "homes" / "v3"
LADDER, SOUP, QUIET, PARTY = (
    "10dcbce2cc9ce6afd6eab714832394b5",
    "6c80a4819da221d9fd13fe11dab3030d",
    "57013c316fbcb687cdf0a330bba8e38a",
    "2c415e5a9578ee6172a53d63fc7bd956",
)


@pytest.fixture
def migrated(tmp_path: Path) -> Home:
    shutil.copytree(V3, tmp_path / "ana", ignore=shutil.ignore_patterns("*.md"))
    home = Home.open(tmp_path / "ana")
    yield home
    home.close()


def _titles(home: Home, **query: object) -> set[str]:
    return {s.title for s in home.board().items(**query)}  # type: ignore[arg-type]


def test_the_home_is_at_the_new_schema_with_no_page_left_over(migrated: Home) -> None:
    db = migrated.store.db
    assert db.setting("schema") == str(SCHEMA_VERSION) == "4"
    conn = db.connection
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # vacuumed
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")


def test_items_replies_responses_and_history_are_all_there(migrated: Home) -> None:
    board = migrated.board()
    assert board.name == "Kitchen"
    summaries = {s.id: s for s in board.items()}
    assert set(summaries) == {LADDER, SOUP, QUIET, PARTY}
    ladder = board.item(LADDER)
    assert (ladder.kind, ladder.status, ladder.tags) == (Kind.NEED, Status.MET, ("roof", "tools"))
    assert [r.text for r in ladder.replies] == ["I have an aluminium one"]
    bo = ladder.replies[0].author
    assert board.member_name(bo) == "Bo" and board.member_name(ladder.author) == "Ana Lúcia"
    assert [(h.who, h.what) for h in ladder.history] == [
        (ladder.author, "posted"),
        (bo, "marked met"),
    ]
    soup = board.item(SOUP)
    assert [(r.member, r.kind, r.note) for r in soup.responses] == [
        (bo, ResponseKind.INTERESTED.value, "two bowls please")
    ]
    assert [r.text for r in soup.replies] == ["Ready at seven"]
    assert summaries[SOUP].replies == 1 and summaries[SOUP].responses == 1
    assert summaries[PARTY].start == 1_800_000_000_000
    assert summaries[QUIET].decide_by == 1_900_000_000_000
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


def test_signatures_still_verify_and_the_board_still_takes_changes(
    migrated: Home, tmp_path: Path
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
        assert [r.text for r in theirs.item(LADDER).replies] == ["I have an aluminium one"]
    finally:
        newcomer.close()
    board.edit(LADDER, remove_tags=["roof"], add_tags=["wood"])
    assert _titles(migrated, tag="roof") == set() and _titles(migrated, tag="wood") == {"A ladder"}
    assert _titles(migrated, tag="tools") == {"A ladder"}
    board.post(Kind.OFFER, "Spare bricks", tags=["wood"])
    assert _titles(migrated, tag="wood") == {"A ladder", "Spare bricks"}


def test_a_read_only_home_of_schema_3_says_to_open_it_where_it_can_be_written(
    tmp_path: Path,
) -> None:
    home = tmp_path / "ana"
    shutil.copytree(V3, home, ignore=shutil.ignore_patterns("*.md"))
    with read_only_view(home, tmp_path / "stick") as stick:
        said = run_potluck(stick, "ls", check=False).stderr.strip()
        assert "earlier Potluck" in said and "where it can be written" in said, said
        assert len(said.splitlines()) == 1 and "Traceback" not in said
    with sqlite3.connect(home / "potluck.db") as conn:  # untouched, and opens once writable
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "3"
    assert {i["title"] for i in json.loads(run_potluck(home, "ls", "--json").stdout)} == {
        "A ladder",
        "Soup on Friday",
        "Quiet hours",
        "Garden party",
    }
