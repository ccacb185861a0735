"""Reading a peer's document defensively: any field may be missing, mistyped or huge."""

from __future__ import annotations

from collections.abc import Iterator

from .automerge import Document, ObjectId, Scalar
from .measure import MAX_LIST_SHOWN, MAX_TITLE_SHOWN


def as_str(value: Scalar, default: str = "", limit: int = MAX_TITLE_SHOWN) -> str:
    """A peer's string, cut to `limit` characters so that no field can swamp a screen."""
    return value[:limit] if isinstance(value, str) else default


def as_int(value: Scalar, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def maps_in_list(doc: Document, obj: ObjectId | None) -> Iterator[ObjectId]:
    """The maps of a list, at most MAX_LIST_SHOWN of them."""
    if obj is None:
        return
    for index in range(min(doc.length(obj), MAX_LIST_SHOWN)):
        child = doc.child(obj, index)
        if child is not None:
            yield child


def maps_in_map(
    doc: Document, obj: ObjectId | None, limit: int = MAX_LIST_SHOWN
) -> Iterator[tuple[str, ObjectId]]:
    """The maps held in a map, at most `limit` of them."""
    if obj is None:
        return
    for key in doc.keys(obj)[:limit]:
        child = doc.child(obj, key)
        if child is not None:
            yield key, child
