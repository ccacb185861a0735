"""Everything below the screen: the board model, storage, sync and discovery.

This module is the facade the command line and the app use; nothing else of `potluck.p2p` is
theirs to import. `Node` and `Timing` load the network (and zeroconf, slow to import) only
when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .board import TASK_ACTIONS, Board
from .errors import (
    BoardNotFound,
    DamagedDocument,
    ExportError,
    HomeError,
    InvalidInput,
    InviteError,
    ItemNotFound,
    NodeError,
    PotluckError,
    ProtocolError,
)
from .home import Home
from .model.assembly import Outcome, ProposalState
from .model.board_document import BOARD_DOC_ID
from .model.phrases import (
    DAY_EXAMPLES,
    SHIFT_EXAMPLES,
    WHEN_EXAMPLES,
    parse_day,
    parse_deadline,
    parse_shift,
    parse_when,
)
from .model.rota import LOOKAHEAD_DAYS, RotaChange
from .model.types import (
    ALLOWED_RESPONSES,
    MAIN_RESPONSE,
    POSITIONS,
    AgendaEntry,
    BoardInfo,
    HistoryEntry,
    Item,
    ItemSummary,
    Kind,
    Member,
    Occurrence,
    Reply,
    Response,
    ResponseKind,
    Shift,
    SignUp,
    Status,
    Task,
)
from .net.messages import DEFAULT_PORT
from .net.presence import invite_hints, read_node_state
from .storage.files import create_private
from .storage.thread import ready_workers

if TYPE_CHECKING:
    from .net.node import Node
    from .net.sync import Timing

__all__ = [
    "ALLOWED_RESPONSES",
    "BOARD_DOC_ID",
    "DAY_EXAMPLES",
    "DEFAULT_PORT",
    "LOOKAHEAD_DAYS",
    "MAIN_RESPONSE",
    "POSITIONS",
    "SHIFT_EXAMPLES",
    "TASK_ACTIONS",
    "WHEN_EXAMPLES",
    "AgendaEntry",
    "Board",
    "BoardInfo",
    "BoardNotFound",
    "DamagedDocument",
    "ExportError",
    "HistoryEntry",
    "Home",
    "HomeError",
    "InvalidInput",
    "InviteError",
    "Item",
    "ItemNotFound",
    "ItemSummary",
    "Kind",
    "Member",
    "Node",
    "NodeError",
    "Occurrence",
    "Outcome",
    "PotluckError",
    "ProposalState",
    "ProtocolError",
    "Reply",
    "Response",
    "ResponseKind",
    "RotaChange",
    "Shift",
    "SignUp",
    "Status",
    "Task",
    "Timing",
    "create_private",
    "invite_hints",
    "parse_day",
    "parse_deadline",
    "parse_shift",
    "parse_when",
    "read_node_state",
    "ready_workers",
]


def __getattr__(name: str) -> Any:
    if name == "Node":
        from .net.node import Node

        return Node
    if name == "Timing":
        from .net.sync import Timing

        return Timing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
