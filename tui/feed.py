"""The change feed of the app: which documents of the open board were committed since last
asked (by the node, another window, a `potluck` command, or this app), read on the store thread.
"""

from __future__ import annotations

from potluck.p2p import Home


class ChangeFeed:
    """Follows a home's commits. Every method runs on the store thread."""

    def __init__(self, board_id: str) -> None:
        self.board_id = board_id
        self.cursor = 0
        self.version = (0, 0)

    def start(self, home: Home) -> None:
        """Start from now: what is on disk already is read by the screens."""
        self.version = self._version(home)
        self.cursor = home.store.documents.change_cursor()

    def _version(self, home: Home) -> tuple[int, int]:
        store = home.store
        return store.db.data_version(), store.documents.change_cursor()

    def read(self, home: Home) -> frozenset[str]:
        """The documents of the board committed since the last read (a cheap check first:
        SQLite's data_version moves when another connection commits, the cursor when we do)."""
        version = self._version(home)
        if version == self.version:
            return frozenset()
        self.version = version
        self.cursor, changed = home.store.documents.changed_since(self.cursor)
        return frozenset(doc for board, doc in changed if board == self.board_id)
