"""A home's storage opened as one: the database, its documents, its index and its boards."""

from __future__ import annotations

from pathlib import Path

from ..keys import DeviceIdentity
from .boards import Boards
from .database import Database
from .documents import Documents
from .index import ItemIndex
from .outcomes import OutcomesShown
from .wake import send_wake, wake_address


class Store:
    """One SQLite database per home. Every public write is committed before it returns."""

    def __init__(self, path: Path, identity: DeviceIdentity) -> None:
        self.path = path
        self.db = Database(path)
        self.index = ItemIndex(self.db)
        self.documents = Documents(self.db, self.index, identity)
        self.boards = Boards(self.db)
        self.outcomes = OutcomesShown(self.db)
        address = wake_address(path.parent)
        self.db.on_commit = lambda: send_wake(address)
        try:
            self.db.migrate(self.documents.index_text_again)
            self.db.connection.execute("SELECT count(*) FROM documents").fetchone()
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()
