"""Documents at rest are packed against a dictionary and come back byte for byte; a packed
snapshot that is damaged is named as damaged, never loaded as something else; an id is kept as
its 16 bytes only when they give it back."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from potluck.p2p.errors import DamagedDocument
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.p2p.storage.database import shown_id, stored_id
from potluck.p2p.storage.packing import PACKED, pack, unpack


def test_packing_gives_back_the_same_bytes_and_never_grows_them() -> None:
    for data in (b"", b"\x85oJ\x83" + os.urandom(300), b"\x85oJ\x83" + b"title body tags " * 40):
        stored = pack(data)
        assert len(stored) <= len(data)
        assert unpack(stored, "document x") == data
    assert pack(b"\x85oJ\x83" + os.urandom(300))[:1] != PACKED  # random bytes: kept as they are
    large = b"\x85oJ\x83" + b"title body tags " * 5000
    assert pack(large) == large  # past LARGEST: kept as it is


def test_a_home_keeps_an_item_packed_and_sends_it_as_automerge_wrote_it(tmp_path: Path) -> None:
    with Home.open(tmp_path / "ana") as home:
        board = home.new_board("Kitchen")
        item = board.post(Kind.OFFER, "Soup", body="lentil soup on Friday", tags=["food"])
        home.store.documents.compact(board.board_id, item)
        saved = home.store.documents.saved_document(board.board_id, item)
        conn = home.store.db.connection
        stored = bytes(
            conn.execute(
                "SELECT snapshot FROM documents WHERE doc_id=?", (stored_id(item),)
            ).fetchone()[0]
        )
        assert stored[:1] == PACKED and len(stored) < len(saved.data)
        assert saved.data[:4] == b"\x85oJ\x83"  # a peer gets automerge's bytes
        with Home.open(tmp_path / "bo") as other:
            other.join(board.invite())
            other.store.documents.apply_saved_document(board.board_id, item, saved)
            assert other.board(board.board_id).item(item).body == "lentil soup on Friday"


def test_a_damaged_packed_snapshot_is_named(tmp_path: Path) -> None:
    with Home.open(tmp_path / "ana") as home:
        board = home.new_board("Kitchen")
        item = board.post(Kind.NEED, "Blankets", body="two warm blankets")
        home.store.documents.compact(board.board_id, item)
    conn = sqlite3.connect(tmp_path / "ana" / "potluck.db")
    key = (stored_id(item),)
    stored = conn.execute("SELECT snapshot FROM documents WHERE doc_id=?", key).fetchone()[0]
    assert stored[:1] == PACKED
    conn.execute(
        "UPDATE documents SET snapshot=? WHERE doc_id=?", (stored[: len(stored) // 2], *key)
    )
    conn.commit()
    conn.close()
    with Home.open(tmp_path / "ana") as home, pytest.raises(DamagedDocument, match=item):
        home.board().item(item)


def test_a_change_row_is_kept_packed_too(tmp_path: Path) -> None:
    with Home.open(tmp_path / "ana") as home:
        board = home.new_board("Kitchen")
        item = board.post(Kind.OFFER, "Soup", body="lentil soup on Friday", tags=["food"])
        board.reply(item, "two bowls please")
        rows = home.store.db.connection.execute(
            "SELECT data FROM changes JOIN documents USING (num) WHERE doc_id=?",
            (stored_id(item),),
        ).fetchall()
        assert len(rows) == 2 and all(bytes(r[0])[:1] == PACKED for r in rows)
    with Home.open(tmp_path / "ana") as home:
        shown = home.board().item(item)
        assert (shown.body, [r.text for r in shown.replies]) == (
            "lentil soup on Friday",
            ["two bowls please"],
        )


def test_an_id_is_kept_as_bytes_only_when_it_comes_back_the_same() -> None:
    hex_id = "0123456789abcdef0123456789abcdef"
    assert stored_id(hex_id) == bytes.fromhex(hex_id) and shown_id(stored_id(hex_id)) == hex_id
    spaced = hex_id[:4] + " " + hex_id[5:]  # 32 characters, which bytes.fromhex would take
    for other in ("board", hex_id.upper(), spaced, hex_id + "0"):
        assert stored_id(other) == other and shown_id(stored_id(other)) == other
