"""What the screens read from a board, as functions the store thread runs, each answering with
one frozen value the screen then shows on its loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from potluck.p2p import BOARD_DOC_ID, Board, ItemSummary, Kind, PotluckError, Status

from .cli.people import People
from .cli.structures import people_of


@dataclass(frozen=True)
class Query:
    """Which items a list shows."""

    kind: Kind
    open_only: bool = False
    tag: str = ""
    search: str = ""


@dataclass(frozen=True)
class Page:
    """Rows of a list, with what the screen shows around them (tab counts, names, the board's
    name) read in the same trip."""

    query: Query
    rows: list[ItemSummary]
    counts: dict[tuple[Kind, Status], int] = field(default_factory=dict)
    people: People = field(default_factory=lambda: People({}))
    board_name: str = ""


def read_rows(board: Board, query: Query, limit: int, offset: int = 0) -> list[ItemSummary]:
    return board.items(
        kind=query.kind,
        status=Status.OPEN if query.open_only else None,
        tag=query.tag or None,
        search=query.search or None,
        limit=limit,
        offset=offset,
    )


def read_page(board: Board, query: Query, limit: int) -> Page:
    """The first `limit` rows of `query`, and everything around them."""
    return Page(
        query=query,
        rows=read_rows(board, query, limit),
        counts=board.home.store.index.count_items(board.board_id),
        people=people_of(board),
        board_name=board.name,
    )


def read_tags(board: Board, kind: Kind) -> list[str]:
    """The tags of the latest items of one kind, for the tag filter's hint."""
    return sorted({t for s in board.items(kind=kind, limit=500) for t in s.tags})


ANNOUNCE_AT_MOST = 8
"""Past this many changed documents at once (a catch-up sync), one line says how many arrived."""
RECENT_MS = 60_000


@dataclass(frozen=True)
class News:
    """Something worth a notification."""

    what: str
    """"new-item", "reply" or "arrived"."""
    title: str = ""
    kind: Kind = Kind.NEED
    who: str = ""
    """The device that replied."""
    count: int = 0
    people: People = field(default_factory=lambda: People({}))


class Announcer:
    """Decides what is new to this person: items from others, replies to their own items.
    Runs on the store thread only."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.known: set[str] = set()
        self.replies: dict[str, int] = {}

    def start(self) -> None:
        self.known = set(self.board.home.store.documents.item_ids(self.board.board_id))

    def read(self, doc_ids: frozenset[str], now_ms: int) -> list[News]:
        board = self.board
        doc_ids = doc_ids - {BOARD_DOC_ID}
        arrived = doc_ids - self.known
        if len(doc_ids) > ANNOUNCE_AT_MOST:
            # A big catch-up sync: one line, and no document loads for announcements.
            self.known |= doc_ids
            return [News("arrived", count=len(arrived))] if arrived else []
        news: list[News] = []
        people = people_of(board) if doc_ids else People({})
        for doc_id in sorted(doc_ids):
            try:
                item = board.item(doc_id)
            except PotluckError:
                continue
            new = doc_id not in self.known
            self.known.add(doc_id)
            if new and item.author != board.me:
                news.append(News("new-item", item.title, item.kind, people=people))
            elif item.author == board.me:
                before = self.replies.get(doc_id)
                self.replies[doc_id] = len(item.replies)
                last = item.replies[-1] if item.replies else None
                if last is None or last.author == board.me:
                    continue
                if (before is not None and len(item.replies) > before) or (
                    before is None and last.time > now_ms - RECENT_MS
                ):
                    news.append(News("reply", item.title, item.kind, last.author, people=people))
        return news
