"""Documents at rest: a snapshot plus change rows each, a cache of loaded ones, and the change
feed that tells other processes (and the node) what was committed."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from ..errors import DamagedDocument, InvalidInput, ItemNotFound
from ..model import measure
from ..model.automerge import Document, SyncState, heads_digest
from ..model.board_document import BOARD_DOC_ID
from ..model.item_document import read_item
from ..model.types import Item
from .database import Database
from .index import ItemIndex

T = TypeVar("T")

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


class Version(NamedTuple):
    """A document's digest and the change-feed number of the commit that made it (its
    `changed_seq`): of two versions of one document, the one with the higher `seq` is newer, so
    a value read late can never pass for a later one."""

    digest: bytes
    seq: int


class Documents:
    """The `documents` and `changes` tables; every write reindexes what it changed."""

    def __init__(self, db: Database, index: ItemIndex, actor: bytes) -> None:
        self.db = db
        self.index = index
        self.actor = actor
        self._cache: OrderedDict[tuple[str, str], tuple[int, Document, measure.Size]] = (
            OrderedDict()
        )
        self._cached = measure.Size()

    # ------------------------------------------------------------ loading and the cache

    def _load(self, board_id: str, doc_id: str) -> Document | None:
        """The current document, from the cache when no other writer has touched it since."""
        with self.db.read() as conn:
            row = conn.execute(
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
        doc = Document.load(data, self.actor, f"document {doc_id} in {self.db.path}")
        self._remember(board_id, doc_id, version, doc, measure.stored_size(data))
        return doc

    def _stored(self, board_id: str, doc_id: str, snapshot: bytes) -> bytes:
        """A document's snapshot followed by its change rows: automerge loads them as one."""
        changes = self.db.connection.execute(
            "SELECT data FROM changes WHERE board_id=? AND doc_id=? ORDER BY seq",
            (board_id, doc_id),
        ).fetchall()
        return bytes(snapshot) + b"".join(bytes(c[0]) for c in changes)

    def _size(self, board_id: str, doc_id: str) -> measure.Size:
        """The size of a document just loaded by `_load` (zero if there is none)."""
        cached = self._cache.get((board_id, doc_id))
        return measure.Size() if cached is None else cached[2]

    def _remember(
        self, board_id: str, doc_id: str, version: int, doc: Document, size: measure.Size
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

    def _drop(self, size: measure.Size) -> None:
        self._cached.ops -= size.ops
        self._cached.bytes -= size.bytes

    # ------------------------------------------------------------ reading

    def read_document(self, board_id: str, doc_id: str) -> Document | None:
        """A document for reading; do not mutate it (use `update`)."""
        return self._load(board_id, doc_id)

    def read_item(self, board_id: str, item_id: str) -> Item:
        doc = self._load(board_id, item_id)
        if doc is None:
            raise ItemNotFound(f"no item with id {item_id} on this board")
        return read_item(doc, item_id)

    def check_document(self, board_id: str, doc_id: str) -> None:
        """Load a document from disk, bypassing the cache; raises DamagedDocument."""
        self._forget(board_id, doc_id)
        self._load(board_id, doc_id)

    def item_ids(self, board_id: str) -> list[str]:
        rows = self.db.connection.execute(
            "SELECT doc_id FROM documents WHERE board_id=? AND doc_id != ?",
            (board_id, BOARD_DOC_ID),
        )
        return [r[0] for r in rows]

    def digests(self, board_id: str) -> dict[str, bytes]:
        """The digest of every document of a board."""
        rows = self.db.connection.execute(
            "SELECT doc_id, digest FROM documents WHERE board_id=?", (board_id,)
        )
        return {doc_id: bytes(digest) for doc_id, digest in rows}

    def versions(self, board_id: str) -> dict[str, Version]:
        """The version of every document of a board."""
        rows = self.db.connection.execute(
            "SELECT doc_id, digest, changed_seq FROM documents WHERE board_id=?", (board_id,)
        )
        return {doc_id: Version(bytes(digest), seq) for doc_id, digest, seq in rows}

    def version(self, board_id: str, doc_id: str) -> Version | None:
        row = self.db.connection.execute(
            "SELECT digest, changed_seq FROM documents WHERE board_id=? AND doc_id=?",
            (board_id, doc_id),
        ).fetchone()
        return None if row is None else Version(bytes(row[0]), row[1])

    def outgoing(
        self, board_id: str, doc_id: str, state: SyncState | None
    ) -> tuple[bytes | None, Version] | None:
        """What to send a peer about a document, read in one transaction with the version it
        is of, so that a message is never labelled with a later digest than its data: the whole
        document (no sync state), or the next sync message (None when automerge has nothing to
        say). None when the board holds no such document."""
        with self.db.read():
            version = self.version(board_id, doc_id)
            if version is None:
                return None
            if state is None:
                return self.saved_document(board_id, doc_id), version
            return self.generate_sync_message(board_id, doc_id, state), version

    def digest(self, board_id: str, doc_id: str) -> bytes | None:
        row = self.db.connection.execute(
            "SELECT digest FROM documents WHERE board_id=? AND doc_id=?", (board_id, doc_id)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def saved_document(self, board_id: str, doc_id: str) -> bytes:
        """The document as stored (snapshot and changes, read in one transaction): sending a
        whole board loads nothing into automerge."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT snapshot FROM documents WHERE board_id=? AND doc_id=?", (board_id, doc_id)
            ).fetchone()
            if row is None:
                raise ItemNotFound(f"no document {doc_id} on this board")
            return self._stored(board_id, doc_id, row[0])

    # ------------------------------------------------------------ local writes

    def update(
        self,
        board_id: str,
        doc_id: str,
        mutate: Callable[[Document], T],
        create: bool = False,
    ) -> T:
        """Load the latest document under the write lock, mutate it, commit its new changes."""
        key = (board_id, doc_id)
        try:
            with self.db.write():
                doc = self._load(board_id, doc_id)
                if doc is None:
                    if not create:
                        raise ItemNotFound(f"no document {doc_id} on this board")
                    doc = Document.new(self.actor)
                    before: list[bytes] = []
                else:
                    before = doc.heads()
                result = mutate(doc)
                self._persist(board_id, doc_id, doc, before, self._size(board_id, doc_id))
        except measure.TooLarge:
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
        self,
        board_id: str,
        doc_id: str,
        doc: Document,
        before: list[bytes],
        size: measure.Size,
    ) -> bool:
        """Write the document's changes since `before` and reindex it, inside the open write.

        `size` is the document's size before; TooLarge (nothing written) past the limits."""
        new_changes = doc.changes_since(before)
        if not new_changes:
            return False
        added = measure.stored_size(b"".join(data for _, data in new_changes))
        size = measure.check_growth(size, added)
        conn = self.db.connection
        seq = self._next_seq()
        row = conn.execute(
            "SELECT version FROM documents WHERE board_id=? AND doc_id=?", (board_id, doc_id)
        ).fetchone()
        digest = doc.digest()
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
        self.index.reindex(board_id, doc_id, doc)
        self._remember(board_id, doc_id, version, doc, size)
        return True

    def _persist_new(
        self, board_id: str, doc_id: str, doc: Document, data: bytes, size: measure.Size
    ) -> bool:
        """Write a document this home did not have as the bytes it arrived in (they loaded,
        and measure `size`), so a newcomer's catch-up does not take every document apart into
        change rows."""
        heads = doc.heads()
        if not heads:
            return False
        self.db.connection.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (board_id, doc_id, data, heads_digest(heads), 1, self._next_seq()),
        )
        self.index.reindex(board_id, doc_id, doc)
        self._remember(board_id, doc_id, 1, doc, size)
        return True

    def _next_seq(self) -> int:
        conn = self.db.connection
        row = conn.execute("SELECT value FROM meta WHERE key='change_seq'").fetchone()
        seq = (int(row[0]) if row else 0) + 1
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('change_seq', ?)", (str(seq),))
        return seq

    def _compact_locked(self, board_id: str, doc_id: str, doc: Document) -> None:
        """Replace the change rows with one snapshot: written first, then the rows removed."""
        conn = self.db.connection
        conn.execute(
            "UPDATE documents SET snapshot=? WHERE board_id=? AND doc_id=?",
            (doc.save(), board_id, doc_id),
        )
        conn.execute("DELETE FROM changes WHERE board_id=? AND doc_id=?", (board_id, doc_id))

    def compact(self, board_id: str, doc_id: str) -> None:
        with self.db.write():
            doc = self._load(board_id, doc_id)
            if doc is None:
                raise ItemNotFound(f"no document {doc_id} on this board")
            self._compact_locked(board_id, doc_id, doc)

    def reindex_all(self) -> None:
        """Rebuild the index from every document (after the index tables were dropped)."""
        with self.db.write() as conn:
            for board_id, doc_id in conn.execute(
                "SELECT board_id, doc_id FROM documents"
            ).fetchall():
                try:
                    doc = self._load(board_id, doc_id)
                except DamagedDocument:
                    continue  # reported when read
                if doc is not None:
                    self.index.reindex(board_id, doc_id, doc)

    # ------------------------------------------------------------ peers' documents

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
            with self.db.write():
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

    def apply_all_or_nothing(self, board_id: str, documents: list[tuple[str, bytes]]) -> list[str]:
        """Merge saved documents (an export's) in one transaction, all or none: the first
        that automerge refuses, or that would take a document past the limits, raises
        DamagedDocument and nothing is written. Returns the ids that changed."""
        changed: list[str] = []
        try:
            with self.db.write():
                for doc_id, data in documents:
                    if self._merge_saved(board_id, doc_id, data):
                        changed.append(doc_id)
        except BaseException:
            for doc_id, _ in documents:
                self._forget(board_id, doc_id)
            raise
        return changed

    def _merge_saved(self, board_id: str, doc_id: str, data: bytes) -> bool:
        """Merge one saved document inside the open write; nothing is written if it raises."""
        what = f"document {doc_id}"
        try:
            arrived = measure.document_size(data)
        except DamagedDocument as exc:  # TooLarge included: say which document
            raise type(exc)(f"{what}: {exc}") from None
        doc = self._load(board_id, doc_id)
        if doc is None:
            loaded = Document.load(data, self.actor, what)
            return self._persist_new(
                board_id, doc_id, loaded, data, measure.Size(arrived.ops, arrived.bytes)
            )
        size = self._size(board_id, doc_id)
        before = doc.heads()
        doc.merge_saved(data, what)
        return self._persist(board_id, doc_id, doc, before, size)

    def generate_sync_message(self, board_id: str, doc_id: str, state: SyncState) -> bytes | None:
        doc = self._load(board_id, doc_id)
        if doc is None:
            doc = Document.new(self.actor)
        return doc.generate_sync_message(state)

    def receive_sync_message(
        self, board_id: str, doc_id: str, state: SyncState, data: bytes
    ) -> bool:
        """Apply a peer's sync message and commit what it brought; True if anything changed."""
        key = (board_id, doc_id)
        measure.sync_message_size(data)
        try:
            with self.db.write():
                doc = self._load(board_id, doc_id)
                size = self._size(board_id, doc_id)
                if doc is None:
                    doc = Document.new(self.actor)
                    before: list[bytes] = []
                else:
                    before = doc.heads()
                doc.receive_sync_message(state, data, f"document {doc_id}")
                return self._persist(board_id, doc_id, doc, before, size)
        except BaseException:
            self._forget(*key)
            raise

    # ------------------------------------------------------------ the change feed

    def change_cursor(self) -> int:
        """Where the change feed stands: every committed write numbers itself past it."""
        return int(self.db.setting("change_seq", "0"))

    def changed_since(self, cursor: int) -> tuple[int, set[tuple[str, str]]]:
        """(board, document) pairs committed after `cursor`, and the new cursor."""
        rows = self.db.connection.execute(
            "SELECT board_id, doc_id, changed_seq FROM documents WHERE changed_seq > ?",
            (cursor,),
        ).fetchall()
        new_cursor = max([cursor, *(r[2] for r in rows)])
        return new_cursor, {(r[0], r[1]) for r in rows}
