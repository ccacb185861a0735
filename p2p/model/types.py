"""Plain frozen dataclasses that the rest of the code reads: items, members, boards."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    NEED = "need"
    OFFER = "offer"
    PROJECT = "project"
    EVENT = "event"
    PROPOSAL = "proposal"
    NOTE = "note"


class Status(StrEnum):
    OPEN = "open"
    MET = "met"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class ResponseKind(StrEnum):
    """What a person says in answer to an item; `task`/`shift`/positions live in their own parts."""

    HELP = "help"
    INTERESTED = "interested"
    GOING = "going"
    BRING = "bring"
    AGREE = "agree"
    CONCERN = "concern"
    STAND_ASIDE = "stand-aside"
    BLOCK = "block"
    TASK = "task"
    SHIFT = "shift"


POSITIONS = (
    ResponseKind.AGREE,
    ResponseKind.CONCERN,
    ResponseKind.STAND_ASIDE,
    ResponseKind.BLOCK,
)

MAIN_RESPONSE: dict[Kind, ResponseKind] = {
    Kind.NEED: ResponseKind.HELP,
    Kind.OFFER: ResponseKind.INTERESTED,
    Kind.EVENT: ResponseKind.GOING,
    Kind.PROJECT: ResponseKind.TASK,
    Kind.PROPOSAL: ResponseKind.AGREE,
}

ALLOWED_RESPONSES: dict[Kind, tuple[ResponseKind, ...]] = {
    Kind.NEED: (ResponseKind.HELP,),
    Kind.OFFER: (ResponseKind.INTERESTED,),
    Kind.EVENT: (ResponseKind.GOING, ResponseKind.BRING),
    Kind.PROJECT: (ResponseKind.TASK, ResponseKind.SHIFT, ResponseKind.HELP),
    Kind.PROPOSAL: POSITIONS,
    Kind.NOTE: (),
}


@dataclass(frozen=True)
class Member:
    device_id: str
    name: str
    about: str = ""


@dataclass(frozen=True)
class Reply:
    id: str
    author: str
    text: str
    time: int


@dataclass(frozen=True)
class Response:
    """A person's commitment to an item, shown by name (never counted per person)."""

    member: str
    kind: str
    note: str
    time: int


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    taken_by: tuple[str, ...]
    """Everyone who took it: two people who take it while apart are both kept."""
    done: bool


@dataclass(frozen=True)
class Shift:
    id: str
    when: str
    slots: int
    signed_up: tuple[str, ...]


@dataclass(frozen=True)
class HistoryEntry:
    who: str
    what: str
    time: int


@dataclass(frozen=True)
class Item:
    id: str
    kind: Kind
    title: str
    body: str
    tags: tuple[str, ...]
    status: Status
    author: str
    created: int
    updated: int
    replies: tuple[Reply, ...] = ()
    responses: tuple[Response, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    start: int | None = None
    end: int | None = None
    place: str = ""
    tasks: tuple[Task, ...] = ()
    shifts: tuple[Shift, ...] = ()
    heads: tuple[bytes, ...] = ()
    """The document's version as read: a body edited from it (`Board.edit(body_from=)`)
    keeps the words that arrived in the meantime."""

    @property
    def positions(self) -> tuple[Response, ...]:
        """Proposal positions: the responses that are agree / concern / stand aside / block."""
        return tuple(r for r in self.responses if r.kind in POSITIONS)


@dataclass(frozen=True)
class ItemSummary:
    """One row of the query index: what a list shows without loading the document."""

    id: str
    kind: Kind
    title: str
    status: Status
    tags: tuple[str, ...]
    author: str
    author_name: str
    created: int
    updated: int
    replies: int
    responses: int


@dataclass(frozen=True)
class BoardInfo:
    board_id: str
    name: str
    key: bytes
    hints: tuple[tuple[str, int], ...] = field(default=())
