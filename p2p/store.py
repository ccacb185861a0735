"""SQLite storage: documents as snapshots plus changes, and the query index of items."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from p2p import docs, limits
from p2p.docs import BOARD_DOC_ID, Doc, SyncState
from p2p.errors import BoardNotFound, DamagedDocument, HomeError, InvalidInput, ItemNotFound
from p2p.model import BoardInfo, Item, ItemSummary, Kind, Member, Status

T = TypeVar("T")

SCHEMA_VERSION = 2
"""2: items are numbered and the full-text index is keyed by that number; a version 1
database has its index rebuilt from the documents when opened."""
COMPACT_AFTER = 64
"""A document with more change rows than this is compacted in the same transaction."""
COMPACT_OPS = 10_000
"""… and so is one that took more operations than this at once: automerge loads a snapshot
with a tenth of the memory it needs to apply the same operations as changes."""
CACHE_SIZE = 256
"""Documents kept loaded per process; the rest are read from SQLite when needed."""
CACHE_OPS = 2_000_000
"""Operations kept loaded per process (a few of the largest documents peers may send) …"""
CACHE_BYTES = 32 * 1024 * 1024
"""… and bytes of their values."""

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
    PRIMARY KEY (board_id, doc_id)
);
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
CREATE TABLE IF NOT EXISTS members (
    board_id TEXT NOT NULL, device_id TEXT NOT NULL, name TEXT NOT NULL, about TEXT NOT NULL,
    PRIMARY KEY (board_id, device_id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5 (
    title, body, tokenize = 'unicode61 remove_diacritics 2'
);
"""


def now_ms() -> int:
    return int(time.time() * 1000)


class Store:
    """One SQLite database per home. Every public write is committed before it returns."""

    def __init__(self, path: Path, actor: bytes) -> None:
        self.path = path
        self.actor = actor
        self._cache: OrderedDict[tuple[str, str], tuple[int, Doc, limits.Size]] = OrderedDict()
        self._cached = limits.Size()
        try:
            self.connection = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self.connection.execute("PRAGMA busy_timeout = 30000")
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA synchronous = FULL")
            self.connection.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self.connection.execute("SELECT count(*) FROM documents").fetchone()
        except sqlite3.DatabaseError as exc:
            raise HomeError(
                f"the database {path} is damaged or not a Potluck database ({exc})"
            ) from None

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute(META)
            row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            found = int(row[0]) if row else SCHEMA_VERSION
            if found > SCHEMA_VERSION:
                raise HomeError(
                    f"the database {self.path} was written by a newer Potluck; upgrade to open it"
                )
            if found == 1:
                for table in ("items", "item_tags", "items_fts", "members"):
                    conn.execute(f"DROP TABLE {table}")
            for statement in SCHEMA.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            if found == 1:
                for board_id, doc_id in conn.execute(
                    "SELECT board_id, doc_id FROM documents"
                ).fetchall():
                    with contextlib.suppress(DamagedDocument):  # reported when read
                        doc = self._load(board_id, doc_id)
                        if doc is not None:
                            self._reindex(board_id, doc_id, doc)
            if row is None or found != SCHEMA_VERSION:
                # Only then: opening a home writes nothing, so it opens on a full disk.
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
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

    # ------------------------------------------------------------ settings and boards

    def get_setting(self, key: str, default: str = "") -> str:
        row = self.connection.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def add_board(self, board_id: str, key: bytes, name: str, hints: list[tuple[str, int]]) -> bool:
        """Record a board; False if this home already had it (its hints are then merged)."""
        with self._write() as conn:
            row = conn.execute("SELECT hints FROM boards WHERE board_id=?", (board_id,)).fetchone()
            now = now_ms()
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

    def boards(self) -> list[BoardInfo]:
        rows = self.connection.execute(
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

    def touch_board(self, board_id: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE boards SET last_used=? WHERE board_id=?", (now_ms(), board_id))

    def board_info(self, board_id: str) -> BoardInfo:
        for board in self.boards():
            if board.board_id == board_id:
                return board
        raise BoardNotFound(f"this home has no board {board_id}")

    # ------------------------------------------------------------ documents

    def _load(self, board_id: str, doc_id: str) -> Doc | None:
        """The current document, from the cache when no other writer has touched it since."""
        if self.connection.in_transaction:
            return self._load_in_transaction(board_id, doc_id)
        self.connection.execute("BEGIN")
        try:
            return self._load_in_transaction(board_id, doc_id)
        finally:
            self.connection.execute("COMMIT")

    def _load_in_transaction(self, board_id: str, doc_id: str) -> Doc | None:
        row = self.connection.execute(
            "SELECT version, snapshot FROM documents WHERE board_id=? AND doc_id=?",
            (board_id, doc_id),
        ).fetchone()
        if row is None:
            return None
        version, snapshot = row
        cached = self._cache.get((board_id, doc_id))
        if cached is not None and cached[0] == version:
            self._cache.move_to_end((board_id, doc_id))
            return cached[1]
        data = self._stored(board_id, doc_id, snapshot)
        doc = docs.load_document(data, self.actor, f"document {doc_id} in {self.path}")
        self._remember(board_id, doc_id, version, doc, limits.stored_size(data))
        return doc

    def _stored(self, board_id: str, doc_id: str, snapshot: bytes) -> bytes:
        """A document's snapshot followed by its change rows: automerge loads them as one."""
        changes = self.connection.execute(
            "SELECT data FROM changes WHERE board_id=? AND doc_id=? ORDER BY seq",
            (board_id, doc_id),
        ).fetchall()
        return bytes(snapshot) + b"".join(bytes(c[0]) for c in changes)

    def _size(self, board_id: str, doc_id: str) -> limits.Size:
        """The size of a document just loaded by `_load` (zero if there is none)."""
        cached = self._cache.get((board_id, doc_id))
        return limits.Size() if cached is None else cached[2]

    def _remember(
        self, board_id: str, doc_id: str, version: int, doc: Doc, size: limits.Size
    ) -> None:
        """Keep recently used documents in memory: at most CACHE_SIZE, CACHE_OPS, CACHE_BYTES."""
        self._forget(board_id, doc_id)
        self._cache[(board_id, doc_id)] = (version, doc, size)
        self._cached.ops += size.ops
        self._cached.bytes += size.bytes
        while len(self._cache) > 1 and (
            len(self._cache) > CACHE_SIZE
            or self._cached.ops > CACHE_OPS
            or self._cached.bytes > CACHE_BYTES
        ):
            self._drop(self._cache.popitem(last=False)[1][2])

    def _forget(self, board_id: str, doc_id: str) -> None:
        dropped = self._cache.pop((board_id, doc_id), None)
        if dropped is not None:
            self._drop(dropped[2])

    def _drop(self, size: limits.Size) -> None:
        self._cached.ops -= size.ops
        self._cached.bytes -= size.bytes

    def read_document(self, board_id: str, doc_id: str) -> Doc | None:
        """A document for reading; do not mutate it (use `update`)."""
        return self._load(board_id, doc_id)

    def update(
        self, board_id: str, doc_id: str, mutate: Callable[[Doc], T], create: bool = False
    ) -> T:
        """Load the latest document under the write lock, mutate it, commit its new changes."""
        key = (board_id, doc_id)
        try:
            with self._write():
                doc = self._load(board_id, doc_id)
                if doc is None:
                    if not create:
                        raise ItemNotFound(f"no document {doc_id} on this board")
                    doc = docs.new_document(self.actor)
                    before: list[bytes] = []
                else:
                    before = docs.heads(doc)
                result = mutate(doc)
                self._persist(board_id, doc_id, doc, before, self._size(board_id, doc_id))
        except limits.TooLarge:
            self._forget(*key)
            raise InvalidInput(
                "this item would grow too large to share (an item holds at most about "
                "half a million characters and edits); nothing was saved, start a new one"
            ) from None
        except BaseException:
            self._forget(*key)
            raise
        return result

    def _persist(
        self, board_id: str, doc_id: str, doc: Doc, before: list[bytes], size: limits.Size
    ) -> bool:
        """Write the document's changes since `before` and reindex it, inside the open write.

        `size` is the document's size before; TooLarge (nothing written) past the limits."""
        new_changes = docs.changes_since(doc, before)
        if not new_changes:
            return False
        added = limits.stored_size(b"".join(data for _, data in new_changes))
        size = limits.check_growth(size, added)
        conn = self.connection
        seq = self._next_seq()
        row = conn.execute(
            "SELECT version FROM documents WHERE board_id=? AND doc_id=?", (board_id, doc_id)
        ).fetchone()
        digest = docs.heads_digest(docs.heads(doc))
        if row is None:
            version = 1
            conn.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
                (board_id, doc_id, b"", digest, version, seq),
            )
        else:
            version = row[0] + 1
            conn.execute(
                "UPDATE documents SET digest=?, version=?, changed_seq=? "
                "WHERE board_id=? AND doc_id=?",
                (digest, version, seq, board_id, doc_id),
            )
        conn.executemany(
            "INSERT OR IGNORE INTO changes (board_id, doc_id, hash, data) VALUES (?, ?, ?, ?)",
            [(board_id, doc_id, h, data) for h, data in new_changes],
        )
        count = conn.execute(
            "SELECT count(*) FROM changes WHERE board_id=? AND doc_id=?", (board_id, doc_id)
        ).fetchone()[0]
        if count > COMPACT_AFTER or added.ops > COMPACT_OPS:
            self._compact_locked(board_id, doc_id, doc)
        self._reindex(board_id, doc_id, doc)
        self._remember(board_id, doc_id, version, doc, size)
        return True

    def _persist_new(
        self, board_id: str, doc_id: str, doc: Doc, data: bytes, size: limits.Size
    ) -> bool:
        """Write a document this home did not have as the bytes it arrived in (they loaded,
        and measure `size`), so a newcomer's catch-up does not take every document apart into
        change rows."""
        heads = docs.heads(doc)
        if not heads:
            return False
        self.connection.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (board_id, doc_id, data, docs.heads_digest(heads), 1, self._next_seq()),
        )
        self._reindex(board_id, doc_id, doc)
        self._remember(board_id, doc_id, 1, doc, size)
        return True

    def _next_seq(self) -> int:
        conn = self.connection
        row = conn.execute("SELECT value FROM meta WHERE key='change_seq'").fetchone()
        seq = (int(row[0]) if row else 0) + 1
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('change_seq', ?)", (str(seq),))
        return seq

    def _compact_locked(self, board_id: str, doc_id: str, doc: Doc) -> None:
        """Replace the change rows with one snapshot: written first, then the rows removed."""
        conn = self.connection
        conn.execute(
            "UPDATE documents SET snapshot=? WHERE board_id=? AND doc_id=?",
            (docs.save(doc), board_id, doc_id),
        )
        conn.execute("DELETE FROM changes WHERE board_id=? AND doc_id=?", (board_id, doc_id))

    def compact(self, board_id: str, doc_id: str) -> None:
        with self._write():
            doc = self._load(board_id, doc_id)
            if doc is None:
                raise ItemNotFound(f"no document {doc_id} on this board")
            self._compact_locked(board_id, doc_id, doc)

    # ------------------------------------------------------------ the sync contract

    def document_digests(self, board_id: str) -> dict[str, bytes]:
        rows = self.connection.execute(
            "SELECT doc_id, digest FROM documents WHERE board_id=?", (board_id,)
        )
        return {doc_id: bytes(digest) for doc_id, digest in rows}

    def saved_document(self, board_id: str, doc_id: str) -> bytes:
        """The document as stored (snapshot and changes, read in one transaction): sending a
        whole board loads nothing into automerge."""
        conn = self.connection
        started = not conn.in_transaction
        if started:
            conn.execute("BEGIN")
        try:
            row = conn.execute(
                "SELECT snapshot FROM documents WHERE board_id=? AND doc_id=?", (board_id, doc_id)
            ).fetchone()
            if row is None:
                raise ItemNotFound(f"no document {doc_id} on this board")
            return self._stored(board_id, doc_id, row[0])
        finally:
            if started:
                conn.execute("COMMIT")

    def apply_saved_document(self, board_id: str, doc_id: str, data: bytes) -> bool:
        """Merge a whole saved document from a peer or an export; True if anything changed."""
        changed, refused = self.apply_saved_documents(board_id, [(doc_id, data)])
        if refused is not None:
            raise refused
        return bool(changed)

    def apply_saved_documents(
        self, board_id: str, documents: list[tuple[str, bytes]]
    ) -> tuple[list[str], DamagedDocument | None]:
        """Merge saved documents in one transaction; returns the ids that changed.

        A document automerge refuses, or one past the limits (TooLarge), stops the batch: the
        ones before it are committed and the refusal is returned beside them, so a caller can
        both announce and report."""
        changed: list[str] = []
        refused: DamagedDocument | None = None
        try:
            with self._write():
                for doc_id, data in documents:
                    try:
                        if self._merge_saved(board_id, doc_id, data):
                            changed.append(doc_id)
                    except DamagedDocument as exc:  # TooLarge included
                        self._forget(board_id, doc_id)
                        refused = exc
                        break
        except BaseException:
            for doc_id, _ in documents:
                self._forget(board_id, doc_id)
            raise
        return changed, refused

    def _merge_saved(self, board_id: str, doc_id: str, data: bytes) -> bool:
        """Merge one saved document inside the open write; nothing is written if it raises."""
        what = f"document {doc_id}"
        try:
            arrived = limits.document_size(data)
        except DamagedDocument as exc:  # TooLarge included: say which document
            raise type(exc)(f"{what}: {exc}") from None
        doc = self._load(board_id, doc_id)
        if doc is None:
            loaded = docs.load_document(data, self.actor, what)
            return self._persist_new(
                board_id, doc_id, loaded, data, limits.Size(arrived.ops, arrived.bytes)
            )
        size = self._size(board_id, doc_id)
        before = docs.heads(doc)
        docs.merge_saved(doc, data, what)
        return self._persist(board_id, doc_id, doc, before, size)

    def generate_sync_message(self, board_id: str, doc_id: str, state: SyncState) -> bytes | None:
        doc = self._load(board_id, doc_id)
        if doc is None:
            doc = docs.new_document(self.actor)
        return docs.generate_sync_message(doc, state)

    def receive_sync_message(
        self, board_id: str, doc_id: str, state: SyncState, data: bytes
    ) -> bool:
        """Apply a peer's sync message and commit what it brought; True if anything changed."""
        key = (board_id, doc_id)
        limits.sync_message_size(data)
        try:
            with self._write():
                doc = self._load(board_id, doc_id)
                size = self._size(board_id, doc_id)
                if doc is None:
                    doc = docs.new_document(self.actor)
                    before: list[bytes] = []
                else:
                    before = docs.heads(doc)
                docs.receive_sync_message(doc, state, data, f"document {doc_id}")
                return self._persist(board_id, doc_id, doc, before, size)
        except BaseException:
            self._forget(*key)
            raise

    def data_version(self) -> int:
        return int(self.connection.execute("PRAGMA data_version").fetchone()[0])

    def change_cursor(self) -> int:
        return int(self.get_setting("change_seq", "0"))

    def changed_since(self, cursor: int) -> tuple[int, set[tuple[str, str]]]:
        rows = self.connection.execute(
            "SELECT board_id, doc_id, changed_seq FROM documents WHERE changed_seq > ?",
            (cursor,),
        ).fetchall()
        new_cursor = max([cursor, *(r[2] for r in rows)])
        return new_cursor, {(r[0], r[1]) for r in rows}

    # ------------------------------------------------------------ the query index

    def _reindex(self, board_id: str, doc_id: str, doc: Doc) -> None:
        conn = self.connection
        if doc_id == BOARD_DOC_ID:
            name, _created, members = docs.read_board(doc)
            conn.execute("DELETE FROM members WHERE board_id=?", (board_id,))
            conn.executemany(
                "INSERT INTO members VALUES (?, ?, ?, ?)",
                [(board_id, m.device_id, m.name, m.about) for m in members.values()],
            )
            if name:
                conn.execute("UPDATE boards SET name=? WHERE board_id=?", (name, board_id))
            return
        item = docs.read_item(doc, doc_id)
        # Never later than now (a clock a year ahead), never earlier than before (new activity
        # stamped by a clock a day behind does not push the item down).
        sort_time = min(item.updated, now_ms())
        row = conn.execute(
            "SELECT num, sort_time FROM items WHERE board_id=? AND id=?", (board_id, item.id)
        ).fetchone()
        if row is not None:
            sort_time = max(sort_time, int(row[1]))
            conn.execute("DELETE FROM items WHERE num=?", (row[0],))
            conn.execute("DELETE FROM items_fts WHERE rowid=?", (row[0],))
        num = conn.execute(
            "INSERT INTO items (num, board_id, id, kind, status, title, tags, author, created, "
            "updated, replies, responses, sort_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row[0] if row else None,
                board_id,
                item.id,
                item.kind.value,
                item.status.value,
                item.title,
                json.dumps(list(item.tags)),
                item.author,
                item.created,
                item.updated,
                len(item.replies),
                len(item.responses),
                sort_time,
            ),
        ).lastrowid
        conn.execute("DELETE FROM item_tags WHERE board_id=? AND id=?", (board_id, item.id))
        conn.executemany(
            "INSERT INTO item_tags VALUES (?, ?, ?)", [(board_id, item.id, t) for t in item.tags]
        )
        conn.execute(
            "INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)",
            (num, item.title, item.body),
        )

    def members(self, board_id: str) -> dict[str, Member]:
        rows = self.connection.execute(
            "SELECT device_id, name, about FROM members WHERE board_id=?", (board_id,)
        )
        return {r[0]: Member(r[0], r[1], r[2]) for r in rows}

    def list_items(
        self,
        board_id: str,
        *,
        kind: Kind | None = None,
        status: Status | None = None,
        tag: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ItemSummary]:
        """Items from the index, newest activity first, without loading any document.

        Activity is ordered by `sort_time`: the item's own clock, but never later than when
        this device indexed it, so a peer whose clock runs a year ahead cannot pin an item on
        top forever; and never earlier than it was, so activity from a peer whose clock runs
        behind cannot sink an item."""
        where = ["i.board_id = ?"]
        args: list[object] = [board_id]
        if kind is not None:
            where.append("i.kind = ?")
            args.append(kind.value)
        if status is not None:
            where.append("i.status = ?")
            args.append(status.value)
        if tag is not None:
            where.append(
                "EXISTS (SELECT 1 FROM item_tags t WHERE t.board_id=i.board_id "
                "AND t.tag=? AND t.id=i.id)"
            )
            args.append(tag)
        if search:
            where.append("i.num IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            args.append(fts_query(search))
        sql = (
            "SELECT i.id, i.kind, i.title, i.status, i.tags, i.author, "
            "coalesce(m.name, ''), i.created, i.updated, i.replies, i.responses "
            "FROM items i LEFT JOIN members m ON m.board_id=i.board_id AND m.device_id=i.author "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY i.sort_time DESC, i.id"
        )
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [
            ItemSummary(
                id=r[0],
                kind=Kind(r[1]),
                title=r[2],
                status=Status(r[3]),
                tags=tuple(json.loads(r[4])),
                author=r[5],
                author_name=r[6],
                created=r[7],
                updated=r[8],
                replies=r[9],
                responses=r[10],
            )
            for r in self.connection.execute(sql, args)
        ]

    def count_items(self, board_id: str) -> dict[tuple[Kind, Status], int]:
        rows = self.connection.execute(
            "SELECT kind, status, count(*) FROM items WHERE board_id=? GROUP BY kind, status",
            (board_id,),
        )
        return {(Kind(k), Status(s)): n for k, s, n in rows}

    def resolve_item(self, board_id: str, prefix: str) -> str:
        """The full id of the one item whose id starts with `prefix`, as git does."""
        prefix = prefix.strip().lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            raise ItemNotFound(f"'{prefix}' is not an item id")
        rows = self.connection.execute(
            "SELECT id FROM items WHERE board_id=? AND id >= ? AND id < ? LIMIT 2",
            (board_id, prefix, prefix + "g"),
        ).fetchall()
        if not rows:
            raise ItemNotFound(f"no item with id {prefix} on this board")
        if len(rows) > 1:
            raise ItemNotFound(f"id {prefix} matches several items; give more characters")
        return str(rows[0][0])

    def read_item(self, board_id: str, item_id: str) -> Item:
        doc = self._load(board_id, item_id)
        if doc is None:
            raise ItemNotFound(f"no item with id {item_id} on this board")
        return docs.read_item(doc, item_id)

    def check_document(self, board_id: str, doc_id: str) -> None:
        """Load a document from disk, bypassing the cache; raises DamagedDocument."""
        self._forget(board_id, doc_id)
        self._load(board_id, doc_id)

    def item_ids(self, board_id: str) -> list[str]:
        rows = self.connection.execute(
            "SELECT doc_id FROM documents WHERE board_id=? AND doc_id != ?",
            (board_id, BOARD_DOC_ID),
        )
        return [r[0] for r in rows]


def fts_query(words: str) -> str:
    """Each word a quoted prefix term, so a person's punctuation never breaks the query."""
    terms = ['"' + w.replace('"', '""') + '"*' for w in words.split() if w.strip()]
    return " ".join(terms) if terms else '""'
