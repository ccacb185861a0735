"""Messages the node bridge and the poller post to the screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class BoardChanged(Message):
    """Documents of the open board changed on disk (another process, the node, or us)."""

    doc_ids: frozenset[str]

    def can_replace(self, message: Message) -> bool:
        return False


@dataclass
class PeersChanged(Message):
    """The set of peers or their sync state changed; floods coalesce."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PeersChanged)
