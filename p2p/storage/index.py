"""The query index: what lists, counts, searches and names need, without loading documents."""

from __future__ import annotations

import json
import unicodedata
from typing import Any, NamedTuple

from .. import clock
from ..errors import ItemNotFound
from ..model.assembly import has_counted_block
from ..model.automerge import Document
from ..model.board_document import BOARD_DOC_ID, read_board
from ..model.item_document import item_kind, read_item
from ..model.measure import MAX_LIST_SHOWN
from ..model.types import HistoryEntry, Item, ItemSummary, Kind, Member, Status
from .database import BOARD, KINDS, STATUSES, Database, shown_id, stored_id

TEXT_COLUMNS = "{title body replies tags}"
"""What a searched word is looked for in (`replies` holds the thread and the notes said with
responses); `people` (device ids) only through names."""


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def fts_query(words: str, people: dict[str, list[str]] | None = None) -> str:
    """Each word a quoted prefix term, so a person's punctuation never breaks the query; a
    word that starts a member's name also finds what that member posted, replied or said
    (`people` maps a word to those members' device ids)."""
    terms = []
    for word in words.split():
        term = f"{TEXT_COLUMNS} : {_quoted(word)}*"
        ids = (people or {}).get(word, [])
        if ids:
            term = "(" + " OR ".join([term, *(f"people : {_quoted(i)}" for i in ids)]) + ")"
        terms.append(term)
    return " AND ".join(terms) if terms else '""'


def _people(item: Item) -> str:
    """The devices an item's text came from: its author, those who replied or responded."""
    ids = {item.author, *(r.author for r in item.replies), *(r.member for r in item.responses)}
    return " ".join(sorted(i for i in ids if i))


SUMMARY_COLUMNS = (
    "i.id, i.kind, i.title, i.status, i.tags, i.author, i.created, i.updated, i.replies, "
    "i.responses, i.starts, i.ends, i.decide_by"
)
KIND_CODE = {Kind(k): n for n, k in enumerate(KINDS)}
STATUS_CODE = {Status(s): n for n, s in enumerate(STATUSES)}


def _summary(r: tuple[Any, ...], members: dict[str, Member]) -> ItemSummary:
    author = shown_id(r[5])
    member = members.get(author)
    return ItemSummary(
        id=shown_id(r[0]),
        kind=Kind(KINDS[r[1]]),
        title=r[2],
        status=Status(STATUSES[r[3]]),
        tags=tuple(json.loads(r[4])),
        author=author,
        author_name="" if member is None else member.name,
        created=r[6],
        updated=r[7],
        replies=r[8],
        responses=r[9],
        start=r[10],
        end=r[11],
        decide_by=r[12],
    )


def _folded(text: str) -> str:
    """Lower case without accents, as the full-text index compares words."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )


class ItemRow(NamedTuple):
    """What the index holds of one item, read from its document once (in a worker process,
    for a newcomer's catch-up): all but where it sorts, which takes this device's clock."""

    id: str
    kind: str
    status: str
    title: str
    tags: tuple[str, ...]
    author: str
    created: int
    updated: int
    replies: int
    responses: int
    starts: int | None
    ends: int | None
    decide_by: int | None
    blocked: int
    body: str
    said: str
    """The replies' text and the notes said with responses, for the full-text index."""
    people: str


def item_row(doc_id: str, doc: Document) -> ItemRow | None:
    """The index row of an item document; None for the board document, or for a kind this
    version does not know (such an item is not listed).

    The full-text index keeps no copy of what it indexes: an item's words are taken out of it
    with this row read again from the document as it was, so it must read the same document
    the same way every time. A change to what it reads needs a new SCHEMA_VERSION whose
    migration indexes every item again."""
    if doc_id == BOARD_DOC_ID or item_kind(doc) is None:
        return None
    item = read_item(doc, doc_id, structures=False)
    return ItemRow(
        id=item.id,
        kind=item.kind.value,
        status=item.status.value,
        title=item.title,
        tags=tuple(item.tags),
        author=item.author,
        created=item.created,
        updated=item.updated,
        replies=len(item.replies),
        responses=len(item.responses),
        starts=item.start if item.kind is Kind.EVENT else None,
        ends=item.end if item.kind is Kind.EVENT else None,
        decide_by=item.decide_by if item.kind is Kind.PROPOSAL else None,
        blocked=int(item.kind is Kind.PROPOSAL and has_counted_block(item)),
        body=item.body,
        said="\n".join([*(r.text for r in item.replies), *(r.note for r in item.responses)]),
        people=_people(item),
    )


def _words(item: ItemRow) -> tuple[str, str, str, str, str]:
    """An item's full-text row: title, body, replies, tags, people."""
    return (item.title, item.body, item.said, " ".join(item.tags), item.people)


def _sort_time(item: ItemRow) -> int:
    """Where a newly indexed item sorts: its own clock, but never later than now (a clock a
    year ahead cannot pin it on top)."""
    return min(item.updated, clock.now_ms())


class ItemIndex:
    """The `items`, `item_tags`, `members` and `items_fts` tables, kept by `reindex`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def reindex(
        self, board_id: str, num: int, doc_id: str, doc: Document, listed: ItemRow | None
    ) -> None:
        """Bring the index rows of document `num` up to date, inside the open write; `listed`
        is `item_row` of the document as it was when last indexed (None if it was new)."""
        conn = self.db.connection
        if doc_id == BOARD_DOC_ID:
            name, _created, members = read_board(doc)
            conn.execute("DELETE FROM members WHERE board_id=?", (board_id,))
            conn.executemany(
                "INSERT INTO members VALUES (?, ?, ?, ?)",
                [(board_id, m.device_id, m.name, m.about) for m in members.values()],
            )
            if name:
                conn.execute("UPDATE boards SET name=? WHERE board_id=?", (name, board_id))
            return
        item = item_row(doc_id, doc)
        row = conn.execute("SELECT board, sort_time FROM items WHERE num=?", (num,)).fetchone()
        if row is not None:
            self._unlist(num, listed)
        if item is None:  # a kind from a later version, or none: not listed
            return
        if row is None:
            board = conn.execute(f"SELECT {BOARD}", (board_id,)).fetchone()[0]
            self.add_new(int(board), [(num, item)])
            return
        # Never earlier than before: new activity stamped by a clock a day behind does not
        # push the item down.
        self._insert(int(row[0]), [(num, max(_sort_time(item), int(row[1])), item)])

    def add_new(self, board: int, items: list[tuple[int, ItemRow]]) -> None:
        """Index items this home did not list yet (each with its document's number), inside
        the open write."""
        self._insert(board, [(num, _sort_time(i), i) for num, i in items])

    def _insert(self, board: int, rows: list[tuple[int, int, ItemRow]]) -> None:
        if not rows:
            return
        conn = self.db.connection
        conn.executemany(
            "INSERT INTO items (num, board, id, kind, status, title, tags, author, created, "
            "updated, replies, responses, sort_time, starts, ends, decide_by, blocked) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    num,
                    board,
                    stored_id(i.id),
                    KINDS.index(i.kind),
                    STATUSES.index(i.status),
                    i.title,
                    json.dumps(list(i.tags)),
                    stored_id(i.author),
                    i.created,
                    i.updated,
                    i.replies,
                    i.responses,
                    sort_time,
                    i.starts,
                    i.ends,
                    i.decide_by,
                    i.blocked,
                )
                for num, sort_time, i in rows
            ],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO item_tags VALUES (?, ?)",
            [(tag, num) for num, _, i in rows for tag in i.tags],
        )
        conn.executemany(
            "INSERT INTO items_fts (rowid, title, body, replies, tags, people) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(num, *_words(i)) for num, _, i in rows],
        )

    def index_text(self, num: int, item: ItemRow | None) -> None:
        """The full-text row of listed item `num`, read again from its document (inside the
        open write); an item that is no longer listed (None) is taken out of the list."""
        conn = self.db.connection
        if item is not None:
            conn.execute(
                "INSERT INTO items_fts (rowid, title, body, replies, tags, people) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (num, *_words(item)),
            )
            return
        row = conn.execute("SELECT tags FROM items WHERE num=?", (num,)).fetchone()
        conn.execute("DELETE FROM items WHERE num=?", (num,))
        conn.executemany(
            "DELETE FROM item_tags WHERE tag=? AND num=?",
            [(tag, num) for tag in json.loads(row[0])],
        )

    def _unlist(self, num: int, listed: ItemRow | None) -> None:
        """Take item `num` out of the index; `listed` is what it was indexed with."""
        conn = self.db.connection
        row = conn.execute("SELECT tags FROM items WHERE num=?", (num,)).fetchone()
        if row is None:
            return
        if listed is None:
            raise ValueError(f"item {num} is listed but what it was indexed with is not known")
        conn.execute("DELETE FROM items WHERE num=?", (num,))
        conn.execute(
            "INSERT INTO items_fts (items_fts, rowid, title, body, replies, tags, people) "
            "VALUES ('delete', ?, ?, ?, ?, ?, ?)",
            (num, *_words(listed)),
        )
        conn.executemany(
            "DELETE FROM item_tags WHERE tag=? AND num=?",
            [(tag, num) for tag in json.loads(row[0])],
        )

    def add_history(self, num: int, entries: list[tuple[str, str, int]]) -> None:
        """What newly stored changes to document `num` did (beyond posting), derived from them
        as they were checked: who (the signer), what, and when (as the change says)."""
        if entries:
            self.db.connection.executemany(
                "INSERT INTO history VALUES (?, ?, ?, ?)",
                [(num, who, what, time) for who, what, time in entries],
            )

    def history(self, board_id: str, doc_id: str) -> list[HistoryEntry]:
        rows = self.db.connection.execute(
            "SELECT who, what, time FROM history WHERE num=(SELECT num FROM documents "
            f"WHERE board={BOARD} AND doc_id=?) ORDER BY time, rowid LIMIT ?",
            (board_id, stored_id(doc_id), MAX_LIST_SHOWN),
        )
        return [HistoryEntry(who=r[0], what=r[1], time=r[2]) for r in rows]

    def members(self, board_id: str) -> dict[str, Member]:
        rows = self.db.connection.execute(
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
        by_start: bool | None = None,
        now: int | None = None,
    ) -> list[ItemSummary]:
        """Items from the index, newest activity first, without loading any document; events
        (`by_start`, the default when only events are listed) by when they happen: upcoming
        ones first, soonest first, then past ones, latest first. A search looks in every
        kind's titles, bodies, replies and tags, and finds what a member whose name starts
        with a searched word posted, replied or said.

        Activity is ordered by `sort_time`: the item's own clock, but never later than when
        this device indexed it, so a peer whose clock runs a year ahead cannot pin an item on
        top forever; and never earlier than it was, so activity from a peer whose clock runs
        behind cannot sink an item."""
        where = [f"i.board = {BOARD}"]
        args: list[object] = [board_id]
        if kind is not None:
            where.append("i.kind = ?")
            args.append(KIND_CODE[kind])
        if status is not None:
            where.append("i.status = ?")
            args.append(STATUS_CODE[status])
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM item_tags t WHERE t.tag=? AND t.num=i.num)")
            args.append(tag)
        if search:
            where.append("i.num IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            args.append(fts_query(search, self._named(board_id, search)))
        order = "i.sort_time DESC, i.id"
        if by_start or (by_start is None and kind is Kind.EVENT):
            upcoming = "coalesce(i.ends, i.starts) >= ?"
            order = (
                f"i.starts IS NULL, NOT ({upcoming}), "
                f"CASE WHEN {upcoming} THEN i.starts END, i.starts DESC, {order}"
            )
            moment = clock.now_ms() if now is None else now
            args += [moment, moment]
        sql = f"SELECT {SUMMARY_COLUMNS} FROM items i WHERE {' AND '.join(where)} ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return self._summaries(board_id, sql, args)

    def _summaries(self, board_id: str, sql: str, args: list[object]) -> list[ItemSummary]:
        """The items a query finds, each with its author's name on the board."""
        with self.db.read() as conn:
            rows = conn.execute(sql, args).fetchall()
            members = self.members(board_id) if rows else {}
        return [_summary(r, members) for r in rows]

    def _named(self, board_id: str, words: str) -> dict[str, list[str]]:
        """For each searched word, the members a word of whose name starts with it."""
        found: dict[str, list[str]] = {}
        members = self.members(board_id)
        for word in words.split():
            key = _folded(word)
            found[word] = [
                m.device_id
                for m in members.values()
                if any(part.startswith(key) for part in _folded(m.name).split())
            ][:50]
        return found

    def between(
        self, board_id: str, kind: Kind, first: int, last: int, column: str
    ) -> list[ItemSummary]:
        """Items of a kind whose `starts` (events) or `decide_by` (proposals) is within
        [first, last] milliseconds, soonest first; events still going on at `first` too."""
        if column not in ("starts", "decide_by"):
            raise ValueError(column)
        reach = "coalesce(i.ends, i.starts)" if column == "starts" else "i.decide_by"
        return self._summaries(
            board_id,
            f"SELECT {SUMMARY_COLUMNS} FROM items i "
            f"WHERE i.board={BOARD} AND i.kind=? AND {reach} >= ? AND i.{column} <= ? "
            f"ORDER BY i.{column}, i.id",
            [board_id, KIND_CODE[kind], first, last],
        )

    def agreements(self, board_id: str, now: int) -> list[ItemSummary]:
        """Proposals agreed: their date passed with no block that counts (or marked agreed),
        latest first."""
        return self._summaries(
            board_id,
            f"SELECT {SUMMARY_COLUMNS} FROM items i "
            f"WHERE i.board={BOARD} AND i.kind=? AND i.blocked=0 AND ("
            "(i.status=? AND i.decide_by IS NOT NULL AND i.decide_by <= ?) "
            "OR i.status=?) "
            "ORDER BY coalesce(i.decide_by, i.updated) DESC, i.id",
            [
                board_id,
                KIND_CODE[Kind.PROPOSAL],
                STATUS_CODE[Status.OPEN],
                now,
                STATUS_CODE[Status.MET],
            ],
        )

    def count_items(self, board_id: str) -> dict[tuple[Kind, Status], int]:
        rows = self.db.connection.execute(
            f"SELECT kind, status, count(*) FROM items WHERE board={BOARD} GROUP BY kind, status",
            (board_id,),
        )
        return {(Kind(KINDS[k]), Status(STATUSES[s])): n for k, s, n in rows}

    def resolve_item(self, board_id: str, prefix: str) -> str:
        """The full id of the one item whose id starts with `prefix`, as git does."""
        prefix = prefix.strip().lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            raise ItemNotFound(f"'{prefix}' is not an item id")
        # A 32-hex-digit id is kept as its bytes: between the prefix's two padded ends (an
        # empty range for a longer prefix); any other id as text.
        low, high = b"\x01", b""
        if len(prefix) <= 32:
            low, high = bytes.fromhex(prefix.ljust(32, "0")), bytes.fromhex(prefix.ljust(32, "f"))
        rows = self.db.connection.execute(
            "SELECT d.doc_id FROM documents d JOIN items i ON i.num = d.num "
            f"WHERE d.board={BOARD} AND (d.doc_id BETWEEN ? AND ? "
            "OR (d.doc_id >= ? AND d.doc_id < ?)) LIMIT 2",
            (
                board_id,
                low,
                high,
                prefix,
                prefix + "g",
            ),
        ).fetchall()
        if not rows:
            raise ItemNotFound(f"no item with id {prefix} on this board")
        if len(rows) > 1:
            raise ItemNotFound(f"id {prefix} matches several items; give more characters")
        return shown_id(rows[0][0])
