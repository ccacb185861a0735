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
class SignUp:
    """Someone on one occurrence of a shift: for that date, or by a standing commitment."""

    member: str
    standing: bool
    note: str
    time: int


@dataclass(frozen=True)
class Occurrence:
    """One date of a shift, derived from its rule: every device derives the same ones."""

    id: str
    """`<shift id>:<YYYY-MM-DD>`, its local date."""
    shift_id: str
    date: str
    start: int
    """Milliseconds since the epoch (from the local wall-clock time)."""
    end: int | None
    """None when the shift has no end time."""
    places: int
    people: tuple[SignUp, ...]
    """Everyone on it, in the order they said so: two who took the last place apart are both
    kept, and the occurrence is over-full."""
    skipped: tuple[str, ...] = ()
    """Members whose standing commitment skips this date ("not this week")."""

    @property
    def open_places(self) -> int:
        return max(0, self.places - len(self.people))

    @property
    def full(self) -> bool:
        return len(self.people) >= self.places

    @property
    def over_full(self) -> bool:
        return len(self.people) > self.places


@dataclass(frozen=True)
class Shift:
    """A project's shift: its rule (schema v2), and the occurrences in view with who is on each."""

    id: str
    when: str
    """The rule in words ('every Tue 18:00-21:00'), as parse_shift reads it back."""
    slots: int
    """Places per occurrence (the schema's `places`)."""
    signed_up: tuple[str, ...]
    """Who is on the next occurrence (the first in view that has not ended)."""
    label: str = ""
    rrule: str = ""
    start: str = ""
    minutes: int = 0
    until: str = ""
    understood: bool = True
    """False for a rule this version cannot read: shown, with no dates."""
    occurrences: tuple[Occurrence, ...] = ()
    """From today, a few weeks ahead, and any later date someone signed up for."""
    standing: tuple[SignUp, ...] = ()
    """Standing commitments ("every Tuesday"), shown on the shift, never on the person."""
    unplaced: tuple[tuple[str, str], ...] = ()
    """(member, YYYY-MM-DD) of sign-ups for dates from today on that the rule no longer has
    (after it changed): kept in the document and shown, so nothing is lost."""

    @property
    def places(self) -> int:
        return self.slots


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
    decide_by: int | None = None
    """A proposal's decision date (milliseconds)."""
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
    start: int | None = None
    """An event's start."""
    end: int | None = None
    decide_by: int | None = None
    """A proposal's decision date."""


@dataclass(frozen=True)
class BoardInfo:
    board_id: str
    name: str
    key: bytes
    hints: tuple[tuple[str, int], ...] = field(default=())


@dataclass(frozen=True)
class AgendaEntry:
    """One thing in the days ahead: an event, a shift's occurrence, or a proposal reaching its
    decision date. Places are shown, never a count of what anyone did."""

    what: str
    """'event', 'shift' or 'proposal'."""
    start: int
    """When it happens (for a proposal: its decision date), milliseconds."""
    end: int | None
    item_id: str
    title: str
    place: str = ""
    occurrence: Occurrence | None = None
    shift_when: str = ""
    """The shift's rule in words."""
    state: str = ""
    """A proposal's state as it stands."""
