"""A proposal's state, from its positions and its decision date (see PROTOCOL.md, "Positions
that arrive late"): open, agreed, blocked, withdrawn or closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .types import POSITIONS, Item, Response, ResponseKind, Status


class ProposalState(StrEnum):
    OPEN = "open"
    AGREED = "agreed"
    BLOCKED = "blocked"
    WITHDRAWN = "withdrawn"
    """By its author."""
    CLOSED = "closed"
    """Closed without an outcome."""


@dataclass(frozen=True)
class Outcome:
    """Where a proposal stands, as every device derives it from the same document and time."""

    state: ProposalState
    decide_by: int | None
    decided: bool
    """The outcome is final: its date has passed (or it was marked agreed, withdrawn or
    closed). Before that a block can still be lifted and more positions come."""
    counted: tuple[Response, ...]
    """Positions that count: made by the decision date (every position, with no date)."""
    blocks: tuple[Response, ...]
    """Blocks that count, each with its reason in `note`."""
    late: tuple[Response, ...]
    """Positions made after the decision date: shown, not counted."""
    shown_before: str = ""
    """The outcome this device showed earlier, when it changed since (a late position)."""
    changed: int = 0
    """When this device first showed the outcome as it is now (milliseconds)."""

    @property
    def notice(self) -> str:
        """One sentence when the outcome changed after this device had shown it, else ''."""
        if not self.shown_before:
            return ""
        when = datetime.fromtimestamp(self.changed / 1000).strftime("%a %d %b %H:%M")
        why = {
            ProposalState.BLOCKED: "a block made by its date arrived late",
            ProposalState.AGREED: "the block that stood was taken back",
        }.get(self.state, "its status was changed")
        return (
            f"The outcome changed: this device showed it as {self.shown_before}; "
            f"since {when} it is {self.state.value} ({why})."
        )


def positions_of(item: Item) -> tuple[Response, ...]:
    return tuple(r for r in item.responses if r.kind in POSITIONS)


def counts(position: Response, decide_by: int | None) -> bool:
    """A position counts when it was made by the decision date (the time its device wrote
    on it), whenever it arrived: a block made while apart and synced late still counts."""
    return decide_by is None or position.time <= decide_by


def outcome(item: Item, now: int) -> Outcome:
    """The proposal's state at `now` (milliseconds)."""
    positions = positions_of(item)
    counted = tuple(p for p in positions if counts(p, item.decide_by))
    late = tuple(p for p in positions if not counts(p, item.decide_by))
    blocks = tuple(p for p in counted if p.kind == ResponseKind.BLOCK.value)
    due = item.decide_by is not None and now >= item.decide_by
    if item.status is Status.WITHDRAWN:
        state = ProposalState.WITHDRAWN
    elif item.status is Status.CLOSED:
        state = ProposalState.CLOSED
    elif blocks:
        state = ProposalState.BLOCKED
    elif due or item.status is Status.MET:
        state = ProposalState.AGREED
    else:
        state = ProposalState.OPEN
    decided = due or item.status is not Status.OPEN
    return Outcome(state, item.decide_by, decided, counted, blocks, late)


def has_counted_block(item: Item) -> bool:
    """For the index: a block that counts stands (so the proposal is no agreement)."""
    return any(
        p.kind == ResponseKind.BLOCK.value and counts(p, item.decide_by) for p in positions_of(item)
    )
