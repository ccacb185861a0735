"""The boards a home has joined, with their keys, and the peers it met on each."""

from __future__ import annotations

import json

from .. import clock
from ..errors import BoardNotFound
from ..model.types import BoardInfo
from .database import Database

MAX_REMEMBERED = 32
"""Remembered peers kept per board (most recently seen first)."""


class Boards:
    """The `boards` and `remembered_peers` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, board_id: str, key: bytes, name: str, hints: list[tuple[str, int]]) -> bool:
        """Record a board; False if this home already had it (its hints are then merged)."""
        with self.db.write() as conn:
            row = conn.execute("SELECT hints FROM boards WHERE board_id=?", (board_id,)).fetchone()
            now = clock.now_ms()
            if row is None:
                conn.execute(
                    "INSERT INTO boards VALUES (?, ?, ?, ?, ?, ?)",
                    (board_id, key, name, json.dumps(hints), now, now),
                )
                return True
            merged = [tuple(h) for h in json.loads(row[0])]
            merged += [tuple(h) for h in hints if tuple(h) not in merged]
            conn.execute(
                "UPDATE boards SET hints=?, last_used=? WHERE board_id=?",
                (json.dumps(merged), now, board_id),
            )
            return False

    def all(self) -> list[BoardInfo]:
        """Every board of the home, the one used last first."""
        rows = self.db.connection.execute(
            "SELECT board_id, name, key, hints FROM boards ORDER BY last_used DESC, joined DESC"
        ).fetchall()
        return [
            BoardInfo(
                board_id=r[0],
                name=r[1],
                key=bytes(r[2]),
                hints=tuple((str(h), int(p)) for h, p in json.loads(r[3])),
            )
            for r in rows
        ]

    def touch(self, board_id: str) -> None:
        """Make `board_id` the one used last."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE boards SET last_used=? WHERE board_id=?", (clock.now_ms(), board_id)
            )

    def info(self, board_id: str) -> BoardInfo:
        for board in self.all():
            if board.board_id == board_id:
                return board
        raise BoardNotFound(f"this home has no board {board_id}")

    def remember_peer(self, board_id: str, device_id: str, host: str, port: int) -> None:
        """Record where a peer listens, in one write; HomeError if refused (a full disk)."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO remembered_peers VALUES (?, ?, ?, ?, ?)",
                (board_id, device_id, host, port, clock.now_ms()),
            )
            conn.execute(
                "DELETE FROM remembered_peers WHERE board_id=? AND device_id NOT IN ("
                " SELECT device_id FROM remembered_peers WHERE board_id=?"
                " ORDER BY last_seen DESC LIMIT ?)",
                (board_id, board_id, MAX_REMEMBERED),
            )

    def remembered_peers(self, board_id: str) -> list[tuple[str, int]]:
        """Where the peers met on this board listened, the most recently seen first."""
        rows = self.db.connection.execute(
            "SELECT host, port FROM remembered_peers WHERE board_id=? ORDER BY last_seen DESC",
            (board_id,),
        ).fetchall()
        return [(str(h), int(p)) for h, p in rows]
