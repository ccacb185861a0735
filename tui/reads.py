"""What the screens read from a board, as functions the store thread runs, each answering with
one frozen value the screen then shows on its loop."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from potluck.p2p import (
    BOARD_DOC_ID,
    AgendaEntry,
    Board,
    Item,
    ItemSummary,
    Kind,
    PotluckError,
    Status,
)

from .cli.people import People
from .cli.structures import day, people_of

log = logging.getLogger(__name__)


def clock_ms() -> int:
    """This device's clock (milliseconds), when a screen gives none."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Query:
    """Which items a list shows."""

    kind: Kind
    open_only: bool = False
    """Finished items hidden (met, closed, withdrawn; for events, past ones too)."""
    tag: str = ""
    search: str = ""
    everywhere: bool = True
    """A search looks in every tab (else only in `kind`'s)."""
    agreements: bool = False
    """Only the house's agreements (proposals agreed)."""

    @property
    def whole_board(self) -> bool:
        return bool(self.search) and self.everywhere and not self.agreements


@dataclass(frozen=True)
class Page:
    """Rows of a list, with what the screen shows around them (tab counts, names, the board's
    name, proposals' outcomes) read in the same trip."""

    query: Query
    rows: list[ItemSummary]
    counts: dict[tuple[Kind, Status], int] = field(default_factory=dict)
    people: People = field(default_factory=lambda: People({}))
    board_name: str = ""
    states: dict[str, str] = field(default_factory=dict)
    agreements: int = 0


def read_rows(
    board: Board, query: Query, limit: int, offset: int = 0, now_ms: int | None = None
) -> list[ItemSummary]:
    """A page of `query`'s rows; with `open_only`, events past at `now_ms` (this device's
    clock when None) left out."""
    moment = clock_ms() if now_ms is None else now_ms
    if query.agreements:
        return board.home.store.index.agreements(board.board_id, moment)[offset : offset + limit]
    rows = board.items(
        kind=None if query.whole_board else query.kind,
        status=Status.OPEN if query.open_only else None,
        tag=query.tag or None,
        search=query.search or None,
        limit=limit,
        offset=offset,
    )
    if query.open_only and query.kind is Kind.EVENT and not query.whole_board:
        # Past events come after every upcoming one, so the page ends where they begin.
        return [s for s in rows if s.start is None or (s.end or s.start) >= moment]
    return rows


def day_of(ms: int) -> str:
    """'Tue 1 Dec'."""
    found = datetime.fromtimestamp(ms / 1000)
    return f"{found:%a} {found.day} {found:%b}"


def proposal_states(
    board: Board, rows: list[ItemSummary], now_ms: int
) -> tuple[dict[str, str], int]:
    """What the index knows of the proposals among `rows`: agreed (with the date) or blocked
    once their date passed; and how many agreements the house has."""
    agreed = {s.id: s for s in board.home.store.index.agreements(board.board_id, now_ms)}
    states: dict[str, str] = {}
    for s in rows:
        if s.kind is not Kind.PROPOSAL:
            continue
        if s.id in agreed:
            states[s.id] = f"agreed {day_of(s.decide_by or s.updated)}"
        elif s.status is Status.OPEN and s.decide_by is not None and s.decide_by <= now_ms:
            states[s.id] = "blocked"
    return states, len(agreed)


def read_page(board: Board, query: Query, limit: int, now_ms: int | None = None) -> Page:
    """The first `limit` rows of `query`, and everything around them."""
    moment = clock_ms() if now_ms is None else now_ms
    rows = read_rows(board, query, limit, 0, moment)
    states, agreements = proposal_states(board, rows, moment)
    return Page(
        query=query,
        rows=rows,
        counts=board.home.store.index.count_items(board.board_id),
        people=people_of(board),
        board_name=board.name,
        states=states,
        agreements=agreements,
    )


def read_tags(board: Board, kind: Kind) -> list[str]:
    """The tags of the latest items of one kind, for the tag filter's hint."""
    return sorted({t for s in board.items(kind=kind, limit=500) for t in s.tags})


ANNOUNCE_AT_MOST = 8
"""Past this many changed documents at once (a catch-up sync), one line says how many arrived."""
RECENT_MS = 60_000
UNREAD_KEPT = 500
"""Unread marks kept per board (the oldest go first): a mark, not an archive."""
MINE_READ_AT_START = 100
"""This person's latest items read when the board opens, so that answers that arrive with a
catch-up sync are told apart from what was already there."""
MINE_IN_A_CATCH_UP = 32
"""Of a catch-up's documents, at most this many of this person's items are read for answers."""
ANSWERS_ONE_BY_ONE = 3
"""More answers than this at once are one line (each item is still marked)."""

ANSWERS = {
    "help": "can help with",
    "interested": "would like",
    "going": "is coming to",
    "bring": "will bring something to",
    "agree": "agrees with",
    "concern": "has a concern about",
    "stand-aside": "stands aside on",
    "block": "blocks",
}
"""What someone's answer says, as a notice puts it: "Bo can help with “Ladder”"."""


@dataclass(frozen=True)
class News:
    """Something worth a notification."""

    what: str
    """"new-item", "reply", "answer", "arrived" or "answers" (`count` items with news)."""
    title: str = ""
    kind: Kind = Kind.NEED
    who: str = ""
    """The device that replied or answered."""
    count: int = 0
    people: People = field(default_factory=lambda: People({}))
    item_id: str = ""
    verb: str = ""
    """An answer's words: "can help with", "took a task of"."""
    tail: str = ""
    """After the title: ": buy onions", " on Tue 8 Dec"."""


def answer_words(item: Item, kind: str, note: str) -> tuple[str, str] | None:
    """The words of a notice for someone's answer (`kind` as stored), or None for what is not
    worth one (a skipped date)."""
    if kind in ANSWERS:
        return ANSWERS[kind], (f": {note}" if kind == "bring" and note else "")
    head, _, rest = kind.partition(":")
    if head in ("task", "done"):
        task = next((t for t in item.tasks if t.id == rest), None)
        what = f": {task.title}" if task else ""
        return ("took a task of" if head == "task" else "marked a task done in"), what
    if head == "shift":
        shift_id, _, day_or_every = rest.partition(":")
        shift = next((s for s in item.shifts if s.id == shift_id), None)
        label = f" ({shift.label})" if shift and shift.label else ""
        if day_or_every == "every":
            return "signed up for every date of", label
        try:
            return "signed up for", f"{label} on {day(day_or_every)}"
        except ValueError:
            return "signed up for", label
    return None


def answered_by(item: Item, me: str) -> bool:
    """Whether `me` posted, replied to or answered `item`: its news is for them."""
    return (
        item.author == me
        or any(r.member == me for r in item.responses)
        or any(r.author == me for r in item.replies)
    )


class Announcer:
    """Decides what is new to this person: items from others; replies and answers (I can
    help, coming, a task taken, a shift signed up, a position) to items they posted or
    answered, each also an unread mark on the item until they open it. Runs on the store
    thread only; the marks are kept in the home (a setting per board) across restarts."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.known: set[str] = set()
        self.replies: dict[str, int] = {}
        self.answers: dict[str, frozenset[tuple[str, str]]] = {}
        self.unread: dict[str, None] = {}
        """Items with news not opened yet, oldest first."""
        self.mine: set[str] = set()
        """The items this person posted (their answers are looked for in a catch-up too)."""

    @property
    def unread_key(self) -> str:
        return f"unread:{self.board.board_id}"

    def start(self) -> None:
        board = self.board
        self.known = set(board.home.store.documents.item_ids(board.board_id))
        mine = [s.id for s in board.items() if s.author == board.me]
        self.mine = set(mine)
        for item_id in mine[:MINE_READ_AT_START]:  # what was said before this start
            try:
                item = board.item(item_id)
            except PotluckError:
                continue
            self.replies[item_id] = len(item.replies)
            self.answers[item_id] = frozenset(
                (r.member, r.kind) for r in item.responses if r.member != board.me
            )
        try:
            kept = json.loads(self.board.home.store.db.setting(self.unread_key, "[]"))
        except ValueError:
            kept = []
        if isinstance(kept, list):
            self.unread = {str(i): None for i in kept if isinstance(i, str)}

    def unread_ids(self) -> frozenset[str]:
        return frozenset(self.unread)

    def seen(self, item_id: str) -> frozenset[str]:
        """`item_id` was opened: its mark goes (and stays gone after a restart)."""
        if item_id in self.unread:
            del self.unread[item_id]
            self._keep()
        return self.unread_ids()

    def _keep(self) -> None:
        ids = list(self.unread)[-UNREAD_KEPT:]
        self.unread = dict.fromkeys(ids)
        try:
            self.board.home.store.db.set_setting(self.unread_key, json.dumps(ids))
        except PotluckError as exc:  # a read-only home: the marks live until the app closes
            log.info("unread marks kept in memory only: %s", exc)

    def read(self, doc_ids: frozenset[str], now_ms: int) -> list[News]:
        board = self.board
        doc_ids = doc_ids - {BOARD_DOC_ID}
        arrived = doc_ids - self.known
        if len(doc_ids) > ANNOUNCE_AT_MOST:
            # A big catch-up sync: one line for what arrived; of this person's own items in
            # it (a few document loads), the answers, one by one or in a line.
            self.known |= doc_ids
            news = [News("arrived", count=len(arrived))] if arrived else []
            people = people_of(board)
            answers: list[News] = []
            for doc_id in sorted(doc_ids & self.mine)[:MINE_IN_A_CATCH_UP]:
                try:
                    answers += self._answers(board.item(doc_id), now_ms, people)
                except PotluckError:
                    continue
            self._mark(answers)
            if len(answers) > ANSWERS_ONE_BY_ONE:
                return [*news, News("answers", count=len({n.item_id for n in answers}))]
            return news + answers
        news = []
        people = people_of(board) if doc_ids else People({})
        for doc_id in sorted(doc_ids):
            try:
                item = board.item(doc_id)
            except PotluckError:
                continue
            new = doc_id not in self.known
            self.known.add(doc_id)
            if item.author == board.me:
                self.mine.add(doc_id)
            if new and item.author != board.me:
                news.append(News("new-item", item.title, item.kind, people=people, item_id=item.id))
            elif answered_by(item, board.me):
                news += self._answers(item, now_ms, people)
        self._mark(news)
        return news

    def _mark(self, news: list[News]) -> None:
        """Replies and answers mark their items unread (the latest last)."""
        answered = [n.item_id for n in news if n.what in ("reply", "answer")]
        for item_id in answered:
            self.unread.pop(item_id, None)
            self.unread[item_id] = None
        if answered:
            self._keep()

    def _answers(self, item: Item, now_ms: int, people: People) -> list[News]:
        """Replies and answers by others since this item was last read."""
        me = self.board.me
        news: list[News] = []
        before = self.replies.get(item.id)
        self.replies[item.id] = len(item.replies)
        fresh = item.replies[before:] if before is not None else item.replies[-1:]
        for reply in fresh:
            if reply.author == me or (before is None and reply.time <= now_ms - RECENT_MS):
                continue
            news.append(
                News("reply", item.title, item.kind, reply.author, people=people, item_id=item.id)
            )
        said = {(r.member, r.kind): r for r in item.responses if r.member != me}
        earlier = self.answers.get(item.id)
        self.answers[item.id] = frozenset(said)
        for key, response in said.items():
            if earlier is not None and key in earlier:
                continue
            if earlier is None and response.time <= now_ms - RECENT_MS:
                continue
            words = answer_words(item, response.kind, response.note)
            if words is None:
                continue
            verb, tail = words
            news.append(
                News(
                    "answer",
                    item.title,
                    item.kind,
                    response.member,
                    people=people,
                    item_id=item.id,
                    verb=verb,
                    tail=tail,
                )
            )
        return news


UPCOMING_DAYS = 14
"""What the Upcoming view shows: the next two weeks."""
WEEK_DAYS = 7
"""What the status line's "open places this week" counts: the next seven days."""


@dataclass(frozen=True)
class Agenda:
    """The days ahead as the Upcoming view shows them."""

    entries: list[AgendaEntry]
    people: People
    days: int


def read_agenda(board: Board, days: int = UPCOMING_DAYS) -> Agenda:
    """Events, shift dates and decisions of the next `days` days, by date."""
    return Agenda(board.agenda(days), people_of(board), days)


def read_open_places(board: Board) -> int:
    """The open places of the shifts of the next seven days (places, never people)."""
    return sum(e.occurrence.open_places for e in board.agenda(WEEK_DAYS) if e.occurrence)
