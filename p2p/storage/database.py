"""The SQLite connection of a home: its tables, their migrations, and write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import HomeError
from ..keys import OLD_HOME

SCHEMA_VERSION = 3
"""3: every change is signed (protocol v2); a home of versions 1 and 2 holds unsigned boards
that no peer would take, so it is refused with one line saying what to do."""

META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
SCHEMA = """
CREATE TABLE IF NOT EXISTS boards (
    board_id TEXT PRIMARY KEY,
    key BLOB NOT NULL,
    name TEXT NOT NULL,
    hints TEXT NOT NULL DEFAULT '[]',
    joined INTEGER NOT NULL,
    last_used INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    board_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    digest BLOB NOT NULL,
    version INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL,
    signatures BLOB NOT NULL,
    signers BLOB NOT NULL,
    PRIMARY KEY (board_id, doc_id)
);
CREATE TABLE IF NOT EXISTS signers (
    actor BLOB PRIMARY KEY,
    key BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS documents_changed ON documents (changed_seq);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    board_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (board_id, doc_id, hash)
);
CREATE TABLE IF NOT EXISTS items (
    num INTEGER PRIMARY KEY,
    board_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    author TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    replies INTEGER NOT NULL,
    responses INTEGER NOT NULL,
    sort_time INTEGER NOT NULL,
    UNIQUE (board_id, id)
);
CREATE INDEX IF NOT EXISTS items_list ON items (board_id, kind, status, sort_time);
CREATE TABLE IF NOT EXISTS item_tags (
    board_id TEXT NOT NULL, id TEXT NOT NULL, tag TEXT NOT NULL,
    PRIMARY KEY (board_id, tag, id)
);
CREATE INDEX IF NOT EXISTS item_tags_item ON item_tags (board_id, id);
CREATE TABLE IF NOT EXISTS history (
    board_id TEXT NOT NULL, id TEXT NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL,
    time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_item ON history (board_id, id);
CREATE TABLE IF NOT EXISTS members (
    board_id TEXT NOT NULL, device_id TEXT NOT NULL, name TEXT NOT NULL, about TEXT NOT NULL,
    PRIMARY KEY (board_id, device_id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5 (
    title, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS remembered_peers (
    board_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (board_id, device_id)
);
"""


class Database:
    """One SQLite connection to a home's database, in WAL mode with full fsync.

    Every write goes through `write()`: BEGIN IMMEDIATE … COMMIT, one writer at a time across
    the processes that share the home, committed before the caller reports it done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.connection = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self.connection.execute("PRAGMA busy_timeout = 30000")
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA synchronous = FULL")
            self.connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise self.damaged(exc) from None

    def damaged(self, exc: sqlite3.DatabaseError) -> HomeError:
        return HomeError(f"the database {self.path} is damaged or not a Potluck database ({exc})")

    def migrate(self) -> int:
        """Create the tables; returns the schema version found (SCHEMA_VERSION for a new
        database). HomeError for a database of another version."""
        with self.write() as conn:
            conn.execute(META)
            row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            found = int(row[0]) if row else SCHEMA_VERSION
            if found > SCHEMA_VERSION:
                raise HomeError(
                    f"the database {self.path} was written by a newer Potluck; upgrade to open it"
                )
            if found < SCHEMA_VERSION:
                raise HomeError(OLD_HOME.format(path=self.path.parent))
            for statement in SCHEMA.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            if row is None or found != SCHEMA_VERSION:
                # Only then: opening a home writes nothing, so it opens on a full disk.
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
        return found

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: one writer at a time across processes."""
        conn = self.connection
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._write_error(exc) from None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One consistent snapshot for several reads (or the write already open)."""
        conn = self.connection
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def _write_error(self, exc: sqlite3.OperationalError) -> HomeError:
        """One sentence a person can act on for a write SQLite refused; nothing was saved."""
        text = str(exc)
        if "full" in text:
            return HomeError(
                f"the disk holding {self.path} is full: nothing was saved. "
                "Free some space and try again."
            )
        if "locked" in text or "busy" in text:
            return HomeError(
                f"{self.path} stayed busy with another potluck process: nothing was saved. "
                "Try again."
            )
        return HomeError(f"could not write to {self.path} ({text}): nothing was saved")

    def setting(self, key: str, default: str = "") -> str:
        row = self.connection.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def data_version(self) -> int:
        """Changes when another connection commits (SQLite's PRAGMA data_version)."""
        return int(self.connection.execute("PRAGMA data_version").fetchone()[0])
