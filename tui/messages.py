"""Messages the change feed and presence post to the screens, which handle them; floods of
either coalesce into the newest one (as Toolong's do), so a big sync never queues redraws."""

from __future__ import annotations

from dataclasses import dataclass

from potluck.p2p import Board
from textual.message import Message

from .node_bridge import Presence


@dataclass
class BoardChosen(Message):
    """The person made or joined a board (first run), written to disk: open it."""

    board: Board


@dataclass
class BoardChanged(Message, bubble=False):
    """Documents of the open board were committed (by the node, another process, or us)."""

    doc_ids: frozenset[str]

    def can_replace(self, message: Message) -> bool:
        """A newer BoardChanged waiting behind this one takes its ids along and replaces it:
        the screen then reads once for both."""
        if isinstance(message, BoardChanged):
            message.doc_ids = message.doc_ids | self.doc_ids
            return True
        return False


@dataclass
class PeersChanged(Message, bubble=False):
    """Who is here, and how syncing goes, changed; only the newest snapshot matters."""

    presence: Presence

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PeersChanged)
