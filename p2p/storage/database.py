"""The SQLite connection of a home: its tables, their migrations, write transactions, and what
went wrong with the file, in one line a person can act on.

Every SQLite error reaches the rest of the code as a HomeError that names the file and what to
do: a full disk, another process holding the database, a read-only home (it can still be read),
or damage. When SQLite's message leaves it open, `PRAGMA quick_check` tells damage from other
trouble. The first write of each connection is preceded by one `quick_check` (about 25 ms for a
board of 10,000 items), and so is the first write after CHECK_EVERY, because damage SQLite has
not stumbled on yet, in an index say, would otherwise go unnoticed while new posts are written
into the damaged file. Once damage is found, nothing more is written to the file.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import HomeError
from ..keys import OLD_HOME
from . import files
from .packing import pack

SCHEMA_VERSION = 5
"""3: every change is signed (protocol v2), and the index holds an event's start and end, a
proposal's decision date, and full text of replies, tags and people. A home of versions 1 and
2 holds unsigned boards that no peer would take, so it is refused with one line saying what
to do. 4: smaller: an item's tags are keyed by its number (no index beside), the full-text
index keeps no sizes of columns (no query ranks by them). 5: smaller again, about half:
every document has a number (`documents.num`) that its change rows, its history and its
index rows (`items.num`, the full-text rowid) are keyed by, in place of the board's and the
document's ids in each row and a unique index beside each table; a board is a small number
(`board_nums`) in each row; a 32-hex-digit id (every item's, every device's) is kept as its
16 bytes (`stored_id`); an item's kind and status are small numbers (`KINDS`, `STATUSES`);
and the full-text index keeps no copy of the text it indexes (contentless: an item's old
words are taken out with the values read from the document before it changed); a
document's snapshot and change rows are packed against a dictionary of typical items
(`packing.py`); a document's copy in memory is known fresh by its `changed_seq` (no version
column). A home of version 3 or 4 is migrated, in one transaction, then vacuumed."""
OLDEST_MIGRATED = 3
"""The oldest schema a home is migrated from."""

KINDS = ("need", "offer", "project", "event", "proposal", "note")
"""An item's kind as `items.kind` holds it: its place here (never reordered, only added to)."""
STATUSES = ("open", "met", "closed", "withdrawn")
"""An item's status as `items.status` holds it: its place here (never reordered)."""

BOARD = "(SELECT num FROM board_nums WHERE board_id=?)"
"""The number of a board in this home, from its id (NULL for a board it has never held)."""


HEX_ID = re.compile(r"[0-9a-f]{32}")
"""An id kept as its bytes: exactly 32 lower-case hex digits (no space, which `bytes.fromhex`
would skip)."""


def stored_id(text: str) -> str | bytes:
    """An id as the home keeps it: 16 bytes for 32 lower-case hex digits (an item's, a
    device's), the id itself otherwise (`board`, or whatever else a peer named a document).
    SQLite never takes a text for a blob, so two ids never become one."""
    return bytes.fromhex(text) if HEX_ID.fullmatch(text) else text


def shown_id(value: str | bytes) -> str:
    """An id as `stored_id` kept it, as the rest of the code knows it."""
    return value.hex() if isinstance(value, bytes) else value


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
CREATE TABLE IF NOT EXISTS board_nums (
    num INTEGER PRIMARY KEY,
    board_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS documents (
    num INTEGER PRIMARY KEY,
    board INTEGER NOT NULL,
    doc_id BLOB NOT NULL,
    snapshot BLOB NOT NULL,
    digest BLOB NOT NULL,
    changed_seq INTEGER NOT NULL,
    signatures BLOB NOT NULL,
    signers BLOB NOT NULL,
    UNIQUE (board, doc_id)
);
CREATE TABLE IF NOT EXISTS signers (
    actor BLOB PRIMARY KEY,
    key BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS documents_changed ON documents (changed_seq);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    num INTEGER NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (num, hash)
);
CREATE TABLE IF NOT EXISTS items (
    num INTEGER PRIMARY KEY,
    board INTEGER NOT NULL,
    id BLOB NOT NULL,
    kind INTEGER NOT NULL,
    status INTEGER NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    author BLOB NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    replies INTEGER NOT NULL,
    responses INTEGER NOT NULL,
    sort_time INTEGER NOT NULL,
    starts INTEGER,
    ends INTEGER,
    decide_by INTEGER,
    blocked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS items_list ON items (board, kind, status, sort_time);
CREATE TABLE IF NOT EXISTS item_tags (
    tag TEXT NOT NULL, num INTEGER NOT NULL,
    PRIMARY KEY (tag, num)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    num INTEGER NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL, time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_item ON history (num);
CREATE TABLE IF NOT EXISTS members (
    board_id TEXT NOT NULL, device_id TEXT NOT NULL, name TEXT NOT NULL, about TEXT NOT NULL,
    PRIMARY KEY (board_id, device_id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5 (
    title, body, replies, tags, people, tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0, content = ''
);
CREATE TABLE IF NOT EXISTS outcomes_shown (
    board_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    state TEXT NOT NULL,
    since INTEGER NOT NULL,
    earlier TEXT NOT NULL DEFAULT '',
    changed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (board_id, item_id)
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
SCHEMA_NAMES = frozenset(
    re.findall(r"CREATE (?:VIRTUAL )?(?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA)
)
"""Every table and index the schema makes: a database that has them all is not written to
when opened."""
MIGRATE_3 = """
CREATE TABLE item_tags_4 (
    tag TEXT NOT NULL, num INTEGER NOT NULL,
    PRIMARY KEY (tag, num)
) WITHOUT ROWID;
INSERT OR IGNORE INTO item_tags_4
    SELECT t.tag, i.num FROM item_tags t JOIN items i ON i.board_id = t.board_id AND i.id = t.id;
DROP TABLE item_tags;
ALTER TABLE item_tags_4 RENAME TO item_tags;
CREATE VIRTUAL TABLE items_fts_4 USING fts5 (
    title, body, replies, tags, people, tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0
);
INSERT INTO items_fts_4 (rowid, title, body, replies, tags, people)
    SELECT rowid, title, body, replies, tags, people FROM items_fts;
DROP TABLE items_fts;
ALTER TABLE items_fts_4 RENAME TO items_fts
"""
"""Schema 3 to 4, in one transaction: the same rows, in the smaller tables."""
_CODE = "CASE {column} {cases} END"
MIGRATE_4 = """
CREATE TABLE board_nums (num INTEGER PRIMARY KEY, board_id TEXT NOT NULL UNIQUE);
INSERT INTO board_nums (board_id)
    SELECT board_id FROM boards UNION SELECT board_id FROM documents ORDER BY 1;
CREATE TABLE documents_5 (
    num INTEGER PRIMARY KEY,
    board INTEGER NOT NULL,
    doc_id BLOB NOT NULL,
    snapshot BLOB NOT NULL,
    digest BLOB NOT NULL,
    changed_seq INTEGER NOT NULL,
    signatures BLOB NOT NULL,
    signers BLOB NOT NULL,
    UNIQUE (board, doc_id)
);
INSERT INTO documents_5
    (board, doc_id, snapshot, digest, changed_seq, signatures, signers)
    SELECT b.num, stored_id(d.doc_id), pack(d.snapshot), d.digest, d.changed_seq,
        d.signatures, d.signers
    FROM documents d JOIN board_nums b ON b.board_id = d.board_id ORDER BY d.rowid;
CREATE TEMP TABLE renumbered (
    board_id TEXT, doc_id BLOB, num INTEGER, PRIMARY KEY (board_id, doc_id)
);
INSERT INTO temp.renumbered
    SELECT b.board_id, d.doc_id, d.num FROM documents_5 d JOIN board_nums b ON b.num = d.board;
CREATE TABLE changes_5 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    num INTEGER NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (num, hash)
);
INSERT INTO changes_5 (seq, num, hash, data)
    SELECT c.seq, r.num, c.hash, pack(c.data) FROM changes c
    JOIN temp.renumbered r ON r.board_id = c.board_id AND r.doc_id = stored_id(c.doc_id)
    ORDER BY c.seq;
CREATE TABLE history_5 (
    num INTEGER NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL, time INTEGER NOT NULL
);
INSERT INTO history_5
    SELECT r.num, h.who, h.what, h.time FROM history h
    JOIN temp.renumbered r ON r.board_id = h.board_id AND r.doc_id = stored_id(h.id)
    ORDER BY h.rowid;
CREATE TABLE items_5 (
    num INTEGER PRIMARY KEY,
    board INTEGER NOT NULL,
    id BLOB NOT NULL,
    kind INTEGER NOT NULL,
    status INTEGER NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    author BLOB NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    replies INTEGER NOT NULL,
    responses INTEGER NOT NULL,
    sort_time INTEGER NOT NULL,
    starts INTEGER,
    ends INTEGER,
    decide_by INTEGER,
    blocked INTEGER NOT NULL DEFAULT 0
);
INSERT INTO items_5
    SELECT r.num, b.num, stored_id(i.id), {kind}, {status}, i.title, i.tags,
        stored_id(i.author), i.created, i.updated, i.replies, i.responses, i.sort_time,
        i.starts, i.ends, i.decide_by, i.blocked
    FROM items i JOIN board_nums b ON b.board_id = i.board_id
    JOIN temp.renumbered r ON r.board_id = i.board_id AND r.doc_id = stored_id(i.id)
    ORDER BY r.num;
CREATE TABLE item_tags_5 (
    tag TEXT NOT NULL, num INTEGER NOT NULL,
    PRIMARY KEY (tag, num)
) WITHOUT ROWID;
INSERT OR IGNORE INTO item_tags_5
    SELECT t.tag, r.num FROM item_tags t JOIN items i ON i.num = t.num
    JOIN temp.renumbered r ON r.board_id = i.board_id AND r.doc_id = stored_id(i.id);
CREATE VIRTUAL TABLE items_fts_5 USING fts5 (
    title, body, replies, tags, people, tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0, content = ''
);
DROP TABLE temp.renumbered;
DROP TABLE items_fts;
DROP TABLE item_tags;
DROP TABLE items;
DROP TABLE history;
DROP TABLE changes;
DROP TABLE documents;
ALTER TABLE documents_5 RENAME TO documents;
ALTER TABLE changes_5 RENAME TO changes;
ALTER TABLE history_5 RENAME TO history;
ALTER TABLE items_5 RENAME TO items;
ALTER TABLE item_tags_5 RENAME TO item_tags;
ALTER TABLE items_fts_5 RENAME TO items_fts
""".format(
    kind=_CODE.format(
        column="i.kind", cases=" ".join(f"WHEN '{k}' THEN {n}" for n, k in enumerate(KINDS))
    ),
    status=_CODE.format(
        column="i.status",
        cases=" ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(STATUSES)),
    ),
)
"""Schema 4 to 5, in the same transaction: every row numbered by its document, its ids as
`stored_id` keeps them, each snapshot and change row packed; the full-text index is made anew,
empty, and filled from the documents themselves by `migrate`'s `index_again` (not from the old
copy of the text, which an older version may have read otherwise: the words an edit takes out
must be exactly those `index.item_row` reads)."""
CHECK_EVERY = 15 * 60
"""Seconds after which a long-running process (a node on a Pi for weeks) checks its file
again before its next write."""


class Database:
    """One SQLite connection to a home's database, in WAL mode with full fsync.

    Every write goes through `write()`: BEGIN IMMEDIATE … COMMIT, one writer at a time across
    the processes that share the home, committed before the caller reports it done. A home
    that cannot be written (a read-only disk or folder) opens read-only: reads work, and every
    write is refused with a HomeError that says so."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read_only: str | None = None
        """Why the home cannot be written (None when it can)."""
        self.damage: HomeError | None = None
        """Set once the file is known to be damaged: every later write is refused with it."""
        self._checked_at: float | None = None
        self._writing = False
        self.on_commit: Callable[[], None] | None = None
        """Called after every commit (to wake the home's node); None for the node itself."""
        with suppress(OSError):  # a read-only home: found out below
            files.create_private(path)  # SQLite gives its -wal and -shm files this mode
        self.connection = Connection(self, self._connect())

    # ------------------------------------------------------------ opening

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.create_function("stored_id", 1, stored_id, deterministic=True)
            conn.create_function("pack", 1, pack, deterministic=True)
            return conn
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            why = self._why_read_only()
            if why is None:
                raise self.trouble(exc) from None
            self.read_only = why
            return self._connect_read_only(exc)

    def _connect_read_only(self, first: sqlite3.Error) -> sqlite3.Connection:
        """Open a home that cannot be written for reading: through its WAL index if one is
        there, else as an immutable file (only when no WAL holds changes it would not see)."""
        if not self.path.exists():
            raise HomeError(
                f"cannot make a home in {self.path.parent}: it is read-only ({self.read_only})"
            )
        uri = "file:" + quote(str(self.path))
        wal = Path(f"{self.path}-wal")
        waiting = wal.exists() and wal.stat().st_size > 0
        attempts = [f"{uri}?mode=ro"]
        if not waiting:
            attempts.append(f"{uri}?mode=ro&immutable=1")
        error: sqlite3.Error = first
        for attempt in attempts:
            try:
                conn = sqlite3.connect(
                    attempt, uri=True, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as exc:
                error = exc
                continue
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.Error as exc:
                conn.close()
                error = exc
        if isinstance(error, sqlite3.DatabaseError) and _code(error) in (_CORRUPT, _NOTADB):
            raise self.trouble(error) from None
        if waiting:
            raise HomeError(
                f"the home {self.path.parent} is read-only ({self.read_only}) and its last "
                f"changes are still waiting in {wal.name}, which cannot be read from there: "
                "open the home once where it can be written"
            ) from None
        raise HomeError(
            f"the home {self.path.parent} is read-only ({self.read_only}) and {self.path} "
            f"cannot be read either ({error})"
        ) from None

    def _why_read_only(self) -> str | None:
        """Why the home cannot be written, in plain words, or None if it can be."""
        folder = self.path.parent
        try:
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                return "its disk is mounted read-only"
        except OSError:
            return None
        if not os.access(folder, os.W_OK):
            return "no permission to write in its folder"
        if self.path.exists() and not os.access(self.path, os.W_OK):
            return "no permission to write potluck.db"
        return None

    # ------------------------------------------------------------ what went wrong

    def trouble(self, exc: sqlite3.Error) -> HomeError:
        """One line a person can act on for an error SQLite raised on this database."""
        code = _code(exc)
        text = str(exc)
        saved = ": nothing was saved" if self._writing else ""
        if code == _FULL or "full" in text:
            return HomeError(
                f"the disk holding {self.path} is full{saved}. Free some space and try again."
            )
        if code in (_BUSY, _LOCKED) or "locked" in text:
            return HomeError(
                f"{self.path} stayed busy with another potluck process{saved}. Try again."
            )
        if code == _READONLY or (code == _CANTOPEN and self._why_read_only()):
            self.read_only = self.read_only or self._why_read_only() or "it cannot be written"
            return self.read_only_error()
        if code == _NOTADB:
            return self._found_damage(text, "is damaged or not a Potluck database")
        if code == _CORRUPT:
            return self._found_damage(text)
        found = self._damaged()
        if found is not None:
            return self._found_damage(found)
        doing = "write to" if self._writing else "read"
        return HomeError(f"could not {doing} {self.path} ({text}){saved}")

    def read_only_error(self) -> HomeError:
        return HomeError(
            f"the home {self.path.parent} is read-only ({self.read_only}): potluck can show its "
            "boards but not save anything there; nothing was saved. Make it writable, or copy "
            "the folder somewhere writable and use that copy"
        )

    def _damaged(self) -> str | None:
        """What PRAGMA quick_check finds wrong with the file (its first complaint), or None."""
        raw = self.connection.raw if hasattr(self, "connection") else None
        if raw is None:
            return None
        try:
            rows = raw.execute("PRAGMA quick_check(4)").fetchall()
        except sqlite3.Error as exc:
            return str(exc)
        found = [str(r[0]) for r in rows]
        return None if found == ["ok"] else found[0]

    def _found_damage(self, detail: str, what: str = "is damaged") -> HomeError:
        first = " ".join(detail.replace("*** in database main ***", "").split())[:120]
        self.damage = HomeError(
            f"the database {self.path} {what} ({first}); nothing "
            "more is written to it. Rename it to potluck.db.damaged (keep it: it may hold posts "
            "no other laptop has yet), then join your boards again with invite codes from the "
            "others: everything they hold comes back"
        )
        return self.damage

    def check(self) -> None:
        """Run PRAGMA quick_check now; HomeError (and no more writes) if the file is damaged.
        The connection's page cache is emptied first, so the check reads what is on disk."""
        self._checked_at = time.monotonic()
        with suppress(sqlite3.Error):
            self.connection.raw.execute("PRAGMA shrink_memory")
        found = self._damaged()
        if found is not None:
            raise self._found_damage(found)

    # ------------------------------------------------------------ tables

    def migrate(self, index_again: Callable[[], None]) -> int:
        """Create the tables; returns the schema version found (SCHEMA_VERSION for a new
        database); HomeError for a database of another version. Opening a home that is up to
        date writes nothing (so it opens on a full disk, or from a read-only one). A home of
        schema 3 or 4 is migrated in one transaction, `index_again` (which fills the full-text
        index from the documents) included, then vacuumed."""
        found = self._schema_version()
        if found == SCHEMA_VERSION and self._has_every_table():
            return found
        if found is not None and found > SCHEMA_VERSION:
            raise HomeError(
                f"the database {self.path} was written by a newer Potluck; upgrade to open it"
            )
        if found is not None and found < OLDEST_MIGRATED:
            raise HomeError(OLD_HOME.format(path=self.path.parent))
        if found is not None and found < SCHEMA_VERSION and self.read_only is not None:
            raise HomeError(
                f"the home {self.path.parent} was written by an earlier Potluck and is "
                f"read-only ({self.read_only}): open it once where it can be written"
            )
        with self.write() as conn:
            conn.execute(META)
            row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            found = int(row[0]) if row else SCHEMA_VERSION
            if found > SCHEMA_VERSION:
                raise HomeError(
                    f"the database {self.path} was written by a newer Potluck; upgrade to open it"
                )
            if found < OLDEST_MIGRATED:
                raise HomeError(OLD_HOME.format(path=self.path.parent))
            if found == 3:
                for statement in MIGRATE_3.split(";\n"):
                    conn.execute(statement)
            if found in (3, 4):
                for statement in MIGRATE_4.split(";\n"):
                    conn.execute(statement)
                index_again()
            for statement in SCHEMA.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            if row is None or found != SCHEMA_VERSION:
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
        if found < SCHEMA_VERSION:
            self.compact_file()
        return found

    def compact_file(self) -> None:
        """Give the pages freed by a migration back to the disk (VACUUM): the home is only
        as big as its rows. Skipped, as it may be, when another process is reading the home
        or the disk has no room for the copy VACUUM makes."""
        with suppress(HomeError):
            self.connection.execute("VACUUM")

    def _has_every_table(self) -> bool:
        rows = self.connection.execute("SELECT name FROM sqlite_master").fetchall()
        return {str(r[0]) for r in rows} >= SCHEMA_NAMES

    def _schema_version(self) -> int | None:
        """The version the database says it has, None for a new (empty) database."""
        conn = self.connection
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone() is None:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        try:
            return int(row[0]) if row else None
        except ValueError:
            raise self._found_damage(f"schema version {str(row[0])[:20]!r}") from None

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """BEGIN IMMEDIATE … COMMIT: one writer at a time across processes. Refused at once in
        a read-only or damaged home; the first write of a connection checks the file first."""
        if self.read_only is not None:
            raise self.read_only_error()
        if self.damage is not None:
            raise self.damage
        if self._checked_at is None or time.monotonic() - self._checked_at > CHECK_EVERY:
            self.check()
        conn = self.connection
        self._writing = True
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    with suppress(HomeError):
                        conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except HomeError:
                if conn.in_transaction:
                    with suppress(HomeError):
                        conn.execute("ROLLBACK")
                raise
        finally:
            self._writing = False
        if self.on_commit is not None:
            self.on_commit()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One consistent snapshot for several reads (or the write already open)."""
        conn = self.connection
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            with suppress(HomeError):
                conn.execute("COMMIT")

    def setting(self, key: str, default: str = "") -> str:
        row = self.connection.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def data_version(self) -> int:
        """Changes when another connection commits (SQLite's PRAGMA data_version)."""
        return int(self.connection.execute("PRAGMA data_version").fetchone()[0])


_BUSY, _LOCKED, _READONLY, _CORRUPT, _CANTOPEN, _FULL, _NOTADB = 5, 6, 8, 11, 14, 13, 26
"""SQLite's primary result codes that decide what a person is told."""


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def _translated(exc: sqlite3.Error) -> bool:
    """SQLite's own errors; a ProgrammingError (a closed connection, a bad statement) is a
    mistake in the code and is left as it is."""
    return not isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError)


class Cursor:
    """The rows of one statement; reading them raises HomeError, never a sqlite3 error."""

    __slots__ = ("_cursor", "_db")

    def __init__(self, db: Database, cursor: sqlite3.Cursor) -> None:
        self._db = db
        self._cursor = cursor

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except sqlite3.Error as exc:
            if not _translated(exc):
                raise
            raise self._db.trouble(exc) from None

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except sqlite3.Error as exc:
            if not _translated(exc):
                raise
            raise self._db.trouble(exc) from None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Connection:
    """The database connection as the storage uses it: `execute` and `executemany` raise
    HomeError (see `Database.trouble`) instead of SQLite's errors."""

    __slots__ = ("_db", "raw")

    def __init__(self, db: Database, raw: sqlite3.Connection) -> None:
        self._db = db
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def execute(self, sql: str, args: Iterable[Any] = ()) -> Cursor:
        try:
            return Cursor(self._db, self.raw.execute(sql, tuple(args)))
        except sqlite3.Error as exc:
            if not _translated(exc):
                raise
            raise self._db.trouble(exc) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        try:
            return Cursor(self._db, self.raw.executemany(sql, rows))
        except sqlite3.Error as exc:
            if not _translated(exc):
                raise
            raise self._db.trouble(exc) from None

    def close(self) -> None:
        self.raw.close()
