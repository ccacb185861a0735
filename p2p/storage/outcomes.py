"""What this device last showed as a proposal's outcome: local, never in a document, so that
an outcome changed by a position that arrived late is said, not changed silently."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import HomeError
from .database import Database


@dataclass(frozen=True)
class Shown:
    """The outcome shown here, since when, and the one shown before it changed (if it did)."""

    state: str
    since: int
    earlier: str
    changed: int


class OutcomesShown:
    """The `outcomes_shown` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, board_id: str, item_id: str) -> Shown | None:
        row = self.db.connection.execute(
            "SELECT state, since, earlier, changed FROM outcomes_shown "
            "WHERE board_id=? AND item_id=?",
            (board_id, item_id),
        ).fetchone()
        return None if row is None else Shown(row[0], row[1], row[2], row[3])

    def show(self, board_id: str, item_id: str, state: str, now: int) -> Shown:
        """Record that `state` is shown now; returns the record, with `earlier` set when it
        differs from what was shown before. A home that cannot write (a full disk) still
        shows the outcome: only the record is skipped."""
        before = self.get(board_id, item_id)
        if before is not None and before.state == state:
            return before
        shown = Shown(state, now, "", 0) if before is None else Shown(state, now, before.state, now)
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO outcomes_shown VALUES (?, ?, ?, ?, ?, ?)",
                    (board_id, item_id, shown.state, shown.since, shown.earlier, shown.changed),
                )
        except HomeError:
            pass
        return shown
