"""Documents at rest: a snapshot plus change rows each, a cache of loaded ones, and the change
feed that tells other processes (and the node) what was committed."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from ..errors import BadSignature, DamagedDocument, InvalidInput, ItemNotFound
from ..keys import ACTOR_SIZE, DeviceIdentity
from ..model import measure
from ..model.automerge import Document, SyncState, heads_digest
from ..model.board_document import BOARD_DOC_ID
from ..model.checking import (
    Checked,
    Prechecked,
    Received,
    check_new_changes,
    check_whole_document,
    precheck,
    sign_new_changes,
)
from ..model.chunks import (
    DOCUMENT,
    parse_change,
    sync_message_chunks,
    sync_message_need,
    with_need,
)
from ..model.item_document import read_item
from ..model.permissions import Rules, genesis_from_document
from ..model.signing import (
    Signed,
    check_signature,
    pack_keys,
    pack_signatures,
    unpack_signatures,
)
from ..model.types import Item
from .database import BOARD, Database, shown_id, stored_id
from .index import ItemIndex, ItemRow, item_row
from .packing import pack, unpack

T = TypeVar("T")

WHERE_DOC = f"board={BOARD} AND doc_id=?"
"""A document by its board's id and its own (as `stored_id` keeps it)."""

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


@dataclass
class Record:
    """What a home keeps beside a document's changes: their signatures (in causal order, the
    genesis first) and the actors that signed them; and, once needed, the document's rules."""

    signatures: dict[bytes, bytes] = field(default_factory=dict)
    signers: list[bytes] = field(default_factory=list)
    rules: Rules | None = None

    @classmethod
    def stored(cls, signatures: bytes, signers: bytes) -> Record:
        return cls(
            dict(unpack_signatures(signatures)),
            [signers[i : i + ACTOR_SIZE] for i in range(0, len(signers), ACTOR_SIZE)],
        )

    @property
    def genesis(self) -> bytes | None:
        return next(iter(self.signatures), None)


@dataclass(frozen=True)
class Arrived:
    """A whole document from a peer, measured, loaded, checked and read for the index as a
    document new to the home (in a worker process, for a newcomer's catch-up): all the
    store thread has left to do for it is to insert its rows. Stored as it is only if the
    home still does not hold it then; otherwise `pre` spares the merge the measuring."""

    doc_id: str
    pre: Prechecked
    checked: Checked
    digest: bytes
    """Of its heads; empty for a document with no change (nothing to store)."""
    row: ItemRow | None
    packed: bytes
    """Its bytes as the home keeps them (`packing.pack`)."""


def prepare_whole(
    doc_id: str, signed: Signed, actor: bytes, pre: Prechecked | None = None
) -> Arrived:
    """Measure (unless `pre` did), load, check (as a document the home does not hold) and
    read a whole document, once: DamagedDocument (TooLarge, BadSignature, ForbiddenChange)
    if refused."""
    what = f"document {doc_id}"
    pre = pre or precheck(doc_id, signed)
    try:
        signatures, keys = signed.received()
    except DamagedDocument as exc:
        raise type(exc)(f"{what}: {exc}") from None
    doc = Document.load(signed.data, actor, what)
    checked = check_whole_document(
        doc, doc_id, pre, Rules(doc_id), {}, Received(signatures, keys, pre.verified)
    )
    heads = doc.heads()
    digest = heads_digest(heads) if heads else b""
    row = item_row(doc_id, doc) if heads else None
    return Arrived(doc_id, pre, checked, digest, row, pack(signed.data) if heads else b"")


MAX_MISSING = 64
"""Changes asked for by hash from one peer for one document at most (a member's device can
sign a change that depends on hashes no one holds)."""

PREPARED_BYTES = 256 * 1024
"""A document that expands to more than this is left to the store thread by the workers (None),
so that what they send back (an item's text, for the index) stays small whatever peers send."""


def prepare_all(
    documents: list[tuple[str, Signed]], actor: bytes
) -> list[Arrived | DamagedDocument | None]:
    """For a worker: `prepare_whole` of each document, a refusal in place of a refused one, and
    None in place of one larger than PREPARED_BYTES."""
    out: list[Arrived | DamagedDocument | None] = []
    for doc_id, signed in documents:
        try:
            pre = precheck(doc_id, signed)
            large = pre.expanded > PREPARED_BYTES
            out.append(None if large else prepare_whole(doc_id, signed, actor, pre))
        except DamagedDocument as exc:
            out.append(exc)
    return out


class Documents:
    """The `documents` and `changes` tables; every write reindexes what it changed.

    Every change is signed (this device's, as it is made) or checked (a peer's, before it is
    stored): see `model.checking`."""

    def __init__(self, db: Database, index: ItemIndex, identity: DeviceIdentity) -> None:
        self.db = db
        self.index = index
        self.identity = identity
        self.actor = identity.actor_id
        self._cache: OrderedDict[tuple[str, str], tuple[int, Document, measure.Size, Record]] = (
            OrderedDict()
        )
        self._cached = measure.Size()
        self._keys: dict[bytes, bytes] = {self.actor: identity.signing_public}
        """Signers' public keys by actor (the `signers` table, read as needed)."""

    # ------------------------------------------------------------ loading and the cache

    def _load(self, board_id: str, doc_id: str) -> Document | None:
        """The current document, from the cache when no other writer has touched it since."""
        loaded = self._load_record(board_id, doc_id)
        return None if loaded is None else loaded[0]

    def _load_record(self, board_id: str, doc_id: str) -> tuple[Document, Record] | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT num, changed_seq, snapshot, signatures, signers FROM documents "
                f"WHERE {WHERE_DOC}",
                (board_id, stored_id(doc_id)),
            ).fetchone()
            if row is None:
                return None
            num, seq, snapshot, signatures, signers = row
            cached = self._cache.get((board_id, doc_id))
            if cached is not None and cached[0] == seq:
                self._cache.move_to_end((board_id, doc_id))
                return cached[1], cached[3]
            data = self._stored(num, snapshot, doc_id)
        doc = Document.load(data, self.actor, f"document {doc_id} in {self.db.path}")
        record = Record.stored(signatures, signers)
        self._remember(board_id, doc_id, seq, doc, measure.stored_size(data), record)
        return doc, record

    def _stored(self, num: int, snapshot: bytes, doc_id: str) -> bytes:
        """A document's snapshot followed by its change rows, each unpacked: automerge loads
        them as one."""
        changes = self.db.connection.execute(
            "SELECT data FROM changes WHERE num=? ORDER BY seq", (num,)
        ).fetchall()
        what = f"document {doc_id} in {self.db.path}"
        return b"".join(unpack(bytes(part), what) for part in (snapshot, *(c[0] for c in changes)))

    def _size(self, board_id: str, doc_id: str) -> measure.Size:
        """The size of a document just loaded by `_load` (zero if there is none)."""
        cached = self._cache.get((board_id, doc_id))
        return measure.Size() if cached is None else cached[2]

    def _remember(
        self,
        board_id: str,
        doc_id: str,
        seq: int,
        doc: Document,
        size: measure.Size,
        record: Record,
    ) -> None:
        """Keep recently used documents in memory: at most CACHE_SIZE, CACHE_OPS, CACHE_BYTES;
        each with the `changed_seq` of the write it is of (every write gives a new one)."""
        self._forget(board_id, doc_id)
        self._cache[(board_id, doc_id)] = (seq, doc, size, record)
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
        return read_item(doc, item_id, self.index.history(board_id, item_id))

    def check_document(self, board_id: str, doc_id: str) -> None:
        """Load a document from disk, bypassing the cache; raises DamagedDocument."""
        self._forget(board_id, doc_id)
        self._load(board_id, doc_id)

    def item_ids(self, board_id: str) -> list[str]:
        rows = self.db.connection.execute(
            f"SELECT doc_id FROM documents WHERE board={BOARD} AND doc_id != ?",
            (board_id, BOARD_DOC_ID),
        )
        return [shown_id(r[0]) for r in rows]

    def digests(self, board_id: str) -> dict[str, bytes]:
        """The digest of every document of a board."""
        rows = self.db.connection.execute(
            f"SELECT doc_id, digest FROM documents WHERE board={BOARD}", (board_id,)
        )
        return {shown_id(doc_id): bytes(digest) for doc_id, digest in rows}

    def versions(self, board_id: str) -> dict[str, Version]:
        """The version of every document of a board."""
        rows = self.db.connection.execute(
            f"SELECT doc_id, digest, changed_seq FROM documents WHERE board={BOARD}", (board_id,)
        )
        return {shown_id(doc_id): Version(bytes(digest), seq) for doc_id, digest, seq in rows}

    def versions_of(self, board_id: str, doc_ids: list[str]) -> dict[str, Version]:
        """The version of each of these documents the home holds."""
        found: dict[str, Version] = {}
        conn = self.db.connection
        for first in range(0, len(doc_ids), 500):
            some = doc_ids[first : first + 500]
            rows = conn.execute(
                f"SELECT doc_id, digest, changed_seq FROM documents WHERE board={BOARD} "
                f"AND doc_id IN ({', '.join('?' * len(some))})",
                (board_id, *(stored_id(d) for d in some)),
            )
            found.update((shown_id(d), Version(bytes(digest), seq)) for d, digest, seq in rows)
        return found

    def version(self, board_id: str, doc_id: str) -> Version | None:
        row = self.db.connection.execute(
            f"SELECT digest, changed_seq FROM documents WHERE {WHERE_DOC}",
            (board_id, stored_id(doc_id)),
        ).fetchone()
        return None if row is None else Version(bytes(row[0]), row[1])

    def outgoing(
        self, board_id: str, doc_id: str, state: SyncState | None
    ) -> tuple[Signed | None, Version] | None:
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
            f"SELECT digest FROM documents WHERE {WHERE_DOC}", (board_id, stored_id(doc_id))
        ).fetchone()
        return None if row is None else bytes(row[0])

    def saved_document(self, board_id: str, doc_id: str) -> Signed:
        """The document as stored (snapshot and changes, read in one transaction) with the
        signatures of all its changes: sending a whole board loads nothing into automerge."""
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT num, snapshot, signatures, signers FROM documents WHERE {WHERE_DOC}",
                (board_id, stored_id(doc_id)),
            ).fetchone()
            if row is None:
                raise ItemNotFound(f"no document {doc_id} on this board")
            num, snapshot, signatures, signers = row
            data = self._stored(num, snapshot, doc_id)
            actors = [signers[i : i + ACTOR_SIZE] for i in range(0, len(signers), ACTOR_SIZE)]
            return Signed(data, bytes(signatures), self._signer_keys(actors))

    def _signer_keys(self, actors: list[bytes]) -> bytes:
        """The public keys of these signers, packed (the `signers` table, cached)."""
        missing = [a for a in actors if a not in self._keys]
        for actor in missing:
            row = self.db.connection.execute(
                "SELECT key FROM signers WHERE actor=?", (actor,)
            ).fetchone()
            if row is not None:
                self._keys[actor] = bytes(row[0])
        return pack_keys(self._keys[a] for a in actors if a in self._keys)

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
                loaded = self._load_record(board_id, doc_id)
                if loaded is None:
                    if not create:
                        raise ItemNotFound(f"no document {doc_id} on this board")
                    doc, record = Document.new(self.actor), Record()
                else:
                    doc, record = loaded
                size = self._size(board_id, doc_id)
                before = doc.heads()
                listed = item_row(doc_id, doc) if loaded is not None else None
                result = mutate(doc)
                new = doc.changes_since(before)
                # Past the limits, refused before the changes are taken apart to be checked.
                added = measure.stored_size(b"".join(d for _, d in new))
                measure.check_growth(size, added)
                checked = sign_new_changes(
                    doc,
                    self._rules(doc_id, doc, record),
                    new,
                    self.identity.sign_change,
                    self.identity.signing_public,
                )
                self._persist(board_id, doc_id, doc, record, new, size, checked, listed, added)
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

    def _rules(self, doc_id: str, doc: Document, record: Record) -> Rules:
        """The rules of a document, with its genesis read from it once (then cached)."""
        if record.rules is None:
            genesis = record.genesis
            record.rules = Rules(
                doc_id, None if genesis is None else genesis_from_document(doc, genesis)
            )
        return record.rules

    def _persist(
        self,
        board_id: str,
        doc_id: str,
        doc: Document,
        record: Record,
        new_changes: list[tuple[bytes, bytes]],
        size: measure.Size,
        checked: Checked,
        listed: ItemRow | None,
        added: measure.Size | None = None,
    ) -> bool:
        """Write a document's new changes (each checked, with its signature) and reindex it,
        inside the open write.

        `size` is the document's size before, `listed` its index row before (`item_row` of
        the document as stored, read before it changed: the full-text index keeps no copy of
        the words it must take out), `added` the new changes' size if already measured;
        TooLarge (nothing written) past the limits."""
        if not new_changes:
            return False
        if {h for h, _ in new_changes} != {h for h, _ in checked.signatures}:
            raise BadSignature(f"document {doc_id}: a change to store was not checked")
        if added is None:
            added = measure.stored_size(b"".join(data for _, data in new_changes))
        size = measure.check_growth(size, added)
        conn = self.db.connection
        seq = self._next_seq()
        key = (board_id, stored_id(doc_id))
        row = conn.execute(f"SELECT num FROM documents WHERE {WHERE_DOC}", key).fetchone()
        digest = doc.digest()
        signers = self._add_signers(record, checked)
        signatures = pack_signatures(checked.signatures)
        if row is None:
            conn.execute("INSERT OR IGNORE INTO board_nums (board_id) VALUES (?)", (board_id,))
            num = conn.execute(
                "INSERT INTO documents (board, doc_id, snapshot, digest, changed_seq, "
                f"signatures, signers) VALUES ({BOARD}, ?, ?, ?, ?, ?, ?)",
                (*key, b"", digest, seq, signatures, signers),
            ).lastrowid
            assert num is not None
        else:
            num = int(row[0])
            conn.execute(
                "UPDATE documents SET digest=?, changed_seq=?, "
                "signatures=CAST(signatures || ? AS BLOB), signers=? WHERE num=?",
                (digest, seq, signatures, signers, num),
            )
        conn.executemany(
            "INSERT OR IGNORE INTO changes (num, hash, data) VALUES (?, ?, ?)",
            [(num, h, pack(data)) for h, data in new_changes],
        )
        count = conn.execute("SELECT count(*) FROM changes WHERE num=?", (num,)).fetchone()[0]
        if count > COMPACT_AFTER or added.ops > COMPACT_OPS:
            self._compact_locked(num, doc)
        self.index.add_history(num, checked.history)
        self.index.reindex(board_id, num, doc_id, doc, listed)
        record.signatures.update(checked.signatures)
        self._remember(board_id, doc_id, seq, doc, size, record)
        return True

    def _add_signers(self, record: Record, checked: Checked) -> bytes:
        """Record the signers of checked changes: their keys (once per home) and, for this
        document, who signed (packed, as its `signers` column holds them)."""
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO signers VALUES (?, ?)", list(checked.signers.items())
        )
        self._keys.update(checked.signers)
        record.signers += [a for a in checked.signers if a not in record.signers]
        return b"".join(record.signers)

    def _next_seq(self, count: int = 1) -> int:
        """The change-feed number of the next write (the first of `count` writes)."""
        conn = self.db.connection
        row = conn.execute("SELECT value FROM meta WHERE key='change_seq'").fetchone()
        seq = (int(row[0]) if row else 0) + 1
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('change_seq', ?)", (str(seq + count - 1),)
        )
        return seq

    def _compact_locked(self, num: int, doc: Document) -> None:
        """Replace the change rows with one snapshot: written first, then the rows removed."""
        conn = self.db.connection
        conn.execute("UPDATE documents SET snapshot=? WHERE num=?", (pack(doc.save()), num))
        conn.execute("DELETE FROM changes WHERE num=?", (num,))

    def compact(self, board_id: str, doc_id: str) -> None:
        with self.db.write() as conn:
            doc = self._load(board_id, doc_id)
            row = conn.execute(
                f"SELECT num FROM documents WHERE {WHERE_DOC}", (board_id, stored_id(doc_id))
            ).fetchone()
            if doc is None or row is None:
                raise ItemNotFound(f"no document {doc_id} on this board")
            self._compact_locked(int(row[0]), doc)

    # ------------------------------------------------------------ peers' documents

    def apply_saved_document(self, board_id: str, doc_id: str, signed: Signed) -> bool:
        """Merge a whole saved document from a peer or an export; True if anything changed."""
        changed, refused = self.apply_saved_documents(board_id, [(doc_id, signed)])
        if refused is not None:
            raise refused
        return bool(changed)

    def apply_saved_documents(
        self,
        board_id: str,
        documents: list[tuple[str, Signed]],
        prepared: Iterable[Arrived | DamagedDocument | None] | None = None,
    ) -> tuple[list[str], DamagedDocument | None]:
        """Merge saved documents in one transaction; returns the ids that changed.

        A document automerge refuses, one past the limits (TooLarge), or one with a change that
        is not signed by its actor or breaks the rules (RefusedChange) stops the batch: the
        ones before it are committed and the refusal is returned beside them, so a caller can
        both announce and report. Nothing of the refused document is stored.

        `prepared` gives, in order, each document already taken through `prepare_whole` (by
        a worker process), its refusal, or None. A document the home does not hold is
        loaded once, and the new ones are inserted together."""
        changed: list[str] = []
        refused: DamagedDocument | None = None
        results = iter(prepared if prepared is not None else ())
        try:
            with self.db.write():
                held = self._held(board_id, [d for d, _ in documents])
                new: list[tuple[str, Signed, Arrived]] = []
                for doc_id, data in documents:
                    arrived = next(results, None)
                    if isinstance(arrived, Arrived) and arrived.doc_id != doc_id:
                        arrived = None  # never another document's reading
                    try:
                        if doc_id not in held:
                            held.add(doc_id)
                            if isinstance(arrived, DamagedDocument):
                                raise arrived
                            if arrived is None:
                                arrived = prepare_whole(doc_id, data, self.actor)
                            if arrived.digest:
                                new.append((doc_id, data, arrived))
                            continue
                        changed += self._insert_new(board_id, new)
                        new = []
                        # Judged against the copy held (a worker judged it as new): its
                        # measuring is all that is kept of what the worker did.
                        pre = arrived.pre if isinstance(arrived, Arrived) else None
                        if self._merge_saved(board_id, doc_id, data, pre):
                            changed.append(doc_id)
                    except DamagedDocument as exc:  # TooLarge included
                        self._forget(board_id, doc_id)
                        refused = exc
                        break
                changed += self._insert_new(board_id, new)
        except BaseException:
            for doc_id, _ in documents:
                self._forget(board_id, doc_id)
            raise
        return changed, refused

    def _held(self, board_id: str, doc_ids: list[str]) -> set[str]:
        """Which of these documents the home holds."""
        return set(self.versions_of(board_id, doc_ids))

    def _insert_new(self, board_id: str, new: list[tuple[str, Signed, Arrived]]) -> list[str]:
        """Insert documents the home did not hold, as the bytes they arrived in, packed (by
        `prepare_whole`, in a worker for a catch-up; so a newcomer's catch-up does not take
        every document apart into change rows), with their index rows, inside the open
        write."""
        if not new:
            return []
        conn = self.db.connection
        seq = self._next_seq(len(new))
        conn.execute("INSERT OR IGNORE INTO board_nums (board_id) VALUES (?)", (board_id,))
        board = int(conn.execute(f"SELECT {BOARD}", (board_id,)).fetchone()[0])
        first = (conn.execute("SELECT max(num) FROM documents").fetchone()[0] or 0) + 1
        keys: dict[bytes, bytes] = {}
        documents: list[tuple[int, int, str | bytes, bytes, bytes, int, bytes, bytes]] = []
        history: list[tuple[int, str, str, int]] = []
        for doc_id, _, arrived in new:
            checked = arrived.checked
            keys.update(checked.signers)
            num = first + len(documents)
            documents.append(
                (
                    num,
                    board,
                    stored_id(doc_id),
                    arrived.packed,
                    arrived.digest,
                    seq + len(documents),
                    pack_signatures(checked.signatures),
                    b"".join(checked.signers),
                )
            )
            history += [(num, *entry) for entry in checked.history]
        conn.executemany("INSERT OR IGNORE INTO signers VALUES (?, ?)", list(keys.items()))
        self._keys.update(keys)
        conn.executemany(
            "INSERT INTO documents (num, board, doc_id, snapshot, digest, changed_seq, "
            "signatures, signers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            documents,
        )
        conn.executemany("INSERT INTO history VALUES (?, ?, ?, ?)", history)
        self.index.add_new(
            board, [(first + n, a.row) for n, (_, _, a) in enumerate(new) if a.row is not None]
        )
        for n, (doc_id, signed, _) in enumerate(new):
            if doc_id == BOARD_DOC_ID:  # its members and name (once per board)
                loaded = Document.load(signed.data, self.actor)
                self.index.reindex(board_id, first + n, doc_id, loaded, None)
        return [doc_id for doc_id, _, _ in new]

    def apply_all_or_nothing(self, board_id: str, documents: list[tuple[str, Signed]]) -> list[str]:
        """Merge saved documents (an export's) in one transaction, all or none: the first
        that automerge refuses, that would take a document past the limits, or that holds a
        change that is unsigned, mis-signed or against the rules raises DamagedDocument and
        nothing is written. Returns the ids that changed."""
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

    def _merge_saved(
        self, board_id: str, doc_id: str, signed: Signed, pre: Prechecked | None = None
    ) -> bool:
        """Merge one saved document inside the open write; nothing is written if it raises.

        Its size is bounded and, if it is only its genesis, its signature checked on its bytes
        (`pre`, when a worker did that already); it is loaded apart from the stored copy and
        every change it brings is checked there (signature, then rules) before anything of it
        is merged or written."""
        what = f"document {doc_id}"
        data = signed.data
        pre = pre or precheck(doc_id, signed)
        try:
            signatures, keys = signed.received()
        except DamagedDocument as exc:
            raise type(exc)(f"{what}: {exc}") from None
        received = Received(signatures, keys, pre.verified)
        loaded = self._load_record(board_id, doc_id)
        if loaded is None:
            arrived = prepare_whole(doc_id, signed, self.actor, pre)
            return bool(arrived.digest and self._insert_new(board_id, [(doc_id, signed, arrived)]))
        arrived_doc = Document.load(data, self.actor, what)
        doc, record = loaded
        size = self._size(board_id, doc_id)
        rules = self._rules(doc_id, doc, record)
        checked = check_whole_document(arrived_doc, doc_id, pre, rules, record.signatures, received)
        before = doc.heads()
        listed = item_row(doc_id, doc)
        doc.merge(arrived_doc, what)
        return self._persist(
            board_id, doc_id, doc, record, doc.changes_since(before), size, checked, listed
        )

    def generate_sync_message(self, board_id: str, doc_id: str, state: SyncState) -> Signed | None:
        """The next sync message for a peer, with the signatures of the changes it carries."""
        loaded = self._load_record(board_id, doc_id)
        doc, record = loaded if loaded is not None else (Document.new(self.actor), Record())
        message = doc.generate_sync_message(state)
        if message is None:
            return None
        if state.missing:
            state.missing = {h for h in state.missing if h not in record.signatures}
            if state.missing:
                message = with_need(message, state.missing)
        hashes: list[bytes] = []
        actors: list[bytes] = []
        for chunk in sync_message_chunks(message):
            if chunk[8] == DOCUMENT:  # the peer has nothing: automerge sends it all
                hashes, actors = list(record.signatures), record.signers
                break
            change = parse_change(chunk, with_ops=False)
            hashes.append(change.hash)
            actors.append(change.actor)
        signatures = pack_signatures(
            (h, record.signatures[h]) for h in hashes if h in record.signatures
        )
        return Signed(message, signatures, self._signer_keys(list(dict.fromkeys(actors))))

    def receive_sync_message(
        self, board_id: str, doc_id: str, state: SyncState, signed: Signed
    ) -> bool:
        """Apply a peer's sync message and commit what it brought; True if anything changed.

        The signatures of the changes it carries are checked on their bytes first; then it is
        applied to a fork of the stored document, where each new change is checked against
        the rules; only then is the stored document given the changes."""
        key = (board_id, doc_id)
        what = f"document {doc_id}"
        data = signed.data
        measure.sync_message_size(data)
        whole = False
        try:
            signatures, keys = signed.received()
            deps: dict[bytes, tuple[bytes, ...]] = {}
            for chunk in sync_message_chunks(data):
                if chunk[8] == DOCUMENT:
                    whole = True
                    continue
                change = parse_change(chunk, with_ops=False)
                check_signature(change.hash, change.actor, signatures, keys)
                deps[change.hash] = change.deps
            verified = set(deps)
        except DamagedDocument as exc:
            raise type(exc)(f"{what}: {exc}") from None
        received = Received(signatures, keys, frozenset(verified))
        try:
            with self.db.write():
                loaded = self._load_record(board_id, doc_id)
                doc, record = loaded if loaded is not None else (Document.new(self.actor), Record())
                if sync_message_need(data) & record.signatures.keys():
                    # The peer asks for changes we hold: automerge sends a change once per sync
                    # state, so one the peer could not keep (below) would never go again.
                    state.forget()
                size = self._size(board_id, doc_id)
                before = doc.heads()
                fork = doc.fork()
                fork.receive_sync_message(state, data, what)
                new = fork.changes_since(before)
                taken = {h for h, _ in new}
                held = [h for h in verified if h not in taken and h not in record.signatures]
                if held:
                    # A change held back for a dependency not here yet is not kept (the fork
                    # is dropped). Start again, and ask for its dependencies by hash: a bloom
                    # filter that claims one by a false positive claims it every time. The
                    # peer, asked, sends them, and resends the change (above).
                    state.forget()
                    lacking = {
                        d
                        for h in held
                        for d in deps[h]
                        if d not in taken and d not in record.signatures
                    }
                    state.missing = set(sorted(state.missing | lacking)[:MAX_MISSING])
                if not new:
                    return False
                checked = check_new_changes(fork, self._rules(doc_id, doc, record), new, received)
                listed = item_row(doc_id, doc) if loaded is not None else None
                if not whole and not held:
                    # Every change it carried is in the fork: none is held back for a missing
                    # dependency, so the fork is the stored document with them, as it is.
                    return self._persist(board_id, doc_id, fork, record, new, size, checked, listed)
                doc.merge(fork, what)
                return self._persist(
                    board_id, doc_id, doc, record, doc.changes_since(before), size, checked, listed
                )
        except BaseException:
            self._forget(*key)
            raise

    def index_text_again(self) -> None:
        """Fill the full-text index from the stored documents, inside the open write (the
        migration to schema 5): each listed item's words as `item_row` reads them, which an
        edit takes out again. A document that cannot be loaded (damaged) is left out of it, as
        it cannot be edited either."""
        rows = self.db.connection.execute(
            "SELECT d.num, d.doc_id, d.snapshot FROM documents d JOIN items i ON i.num = d.num"
        ).fetchall()
        for num, stored, snapshot in rows:
            doc_id = shown_id(stored)
            try:
                data = self._stored(num, snapshot, doc_id)
                doc = Document.load(data, self.actor, f"document {doc_id} in {self.db.path}")
            except DamagedDocument:
                continue
            self.index.index_text(num, item_row(doc_id, doc))

    # ------------------------------------------------------------ the change feed

    def change_cursor(self) -> int:
        """Where the change feed stands: every committed write numbers itself past it."""
        return int(self.db.setting("change_seq", "0"))

    def changed_since(self, cursor: int) -> tuple[int, set[tuple[str, str]]]:
        """(board, document) pairs committed after `cursor`, and the new cursor."""
        rows = self.db.connection.execute(
            "SELECT b.board_id, d.doc_id, d.changed_seq FROM documents d "
            "JOIN board_nums b ON b.num = d.board WHERE d.changed_seq > ?",
            (cursor,),
        ).fetchall()
        new_cursor = max([cursor, *(r[2] for r in rows)])
        return new_cursor, {(r[0], shown_id(r[1])) for r in rows}
