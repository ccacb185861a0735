"""What a peer may make this node do: sizes of documents, checked before automerge sees them.

Automerge's storage format is compact on purpose: columns are run-length encoded and then
DEFLATE-compressed, so a few kilobytes can describe millions of operations (ten million
characters of text save to 10 KB and take seconds and hundreds of MB to load). A member's
device gone bad could send such a document. This module reads only the chunk headers and
column encodings of automerge's binary format (https://automerge.org/automerge-binary-format-spec/)
to bound how many operations and how many bytes a blob would expand to, without building it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from ..errors import DamagedDocument

MAX_DOCUMENT_OPS = 500_000
"""Operations (rows) one document may hold: about 500,000 typed characters with history."""
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
"""Bytes one document's columns may expand to after DEFLATE."""
MAX_CHANGE_OPS = 100_000
"""Operations arriving as changes in one message. Automerge applies changes op by op at about
500 bytes of memory each (a document chunk loads at a tenth of that), so they are capped lower."""
MAX_TITLE_SHOWN = 200
"""Characters of a peer's title, tag or name kept in the index and shown."""
MAX_TAGS_SHOWN = 32
"""Tags of one item kept in the index and shown."""
MAX_BODY_SHOWN = 100_000
"""Characters of an item's body (or of a reply) kept in the index and shown."""
MAX_LIST_SHOWN = 1_000
"""Replies, responses, history entries, tasks or shifts of one item that are read and shown."""

MAGIC = b"\x85\x6f\x4a\x83"
_DOCUMENT, _CHANGE, _COMPRESSED = 0, 1, 2
_SYNC_V1, _SYNC_V2 = 0x42, 0x43
_GROUP, _ACTOR, _ULEB, _DELTA, _BOOLEAN, _STRING, _VALUE_META, _VALUE = range(8)
_DEFLATE = 0x08


class TooLarge(DamagedDocument):
    """A peer's document or sync message would expand beyond what this node accepts."""


@dataclass
class Size:
    """An upper bound of what a blob expands to."""

    ops: int = 0
    bytes: int = 0
    max_ops: int = MAX_DOCUMENT_OPS
    max_bytes: int = MAX_DOCUMENT_BYTES
    change_ops: int = 0
    max_change_ops: int = MAX_CHANGE_OPS


class Reader:
    """A cursor over automerge bytes: LEB128 numbers, prefixed byte strings, hashes."""

    def __init__(self, data: bytes | memoryview, budget: Size | None = None) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.budget = budget or Size()

    def done(self) -> bool:
        return self.pos >= len(self.data)

    def uleb(self) -> int:
        value, self.pos = _number(self.data, self.pos, False)
        return value

    def sleb(self) -> int:
        value, self.pos = _number(self.data, self.pos, True)
        return value

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise DamagedDocument("automerge data: truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def prefixed(self) -> memoryview:
        return self.take(self.uleb())

    def hashes(self) -> None:
        self.take(32 * self.uleb())


def inflate(data: bytes | memoryview, budget: Size) -> bytes:
    """DEFLATE without letting the output exceed what is left of the byte budget."""
    room = budget.max_bytes - budget.bytes
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(bytes(data), room + 1)
    except zlib.error as exc:
        raise DamagedDocument(f"automerge data: bad compressed column ({exc})") from None
    if len(out) > room or inflater.unconsumed_tail:
        raise TooLarge(f"a document expands to more than {budget.max_bytes} bytes")
    return out


def _number(data: bytes | memoryview, pos: int, signed: bool) -> tuple[int, int]:
    """The LEB128 number at `pos` and the position after it."""
    result = shift = 0
    end = len(data)
    while True:
        if pos >= end or shift > 63:
            raise DamagedDocument("automerge data: bad or truncated number")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return (result - (1 << shift) if signed and byte & 0x40 else result), pos


def _skip_values(data: bytes, pos: int, kind: int, n: int) -> int:
    """The position after `n` values of a column of this kind."""
    end = len(data)
    for _ in range(n):
        if kind == _STRING:
            length, pos = _number(data, pos, False)
            pos += length
        else:
            start = pos
            while pos < end and data[pos] & 0x80:
                pos += 1
            pos += 1
            if pos - start > 10:
                raise DamagedDocument("automerge data: bad or truncated number")
        if pos > end:
            raise DamagedDocument("automerge data: truncated")
    return pos


def _rows(kind: int, column: bytes | memoryview) -> int:
    """How many values one column holds (runs counted in full; past MAX_DOCUMENT_OPS, no
    further). Every column of every document and sync message a peer sends comes through
    here, so one-byte numbers, most of them, are read in place rather than by a call."""
    data = bytes(column)
    end = len(data)
    pos = rows = 0
    if kind == _BOOLEAN:
        while pos < end and rows <= MAX_DOCUMENT_OPS:
            count, pos = _number(data, pos, False)
            rows += count
        return rows
    while pos < end and rows <= MAX_DOCUMENT_OPS:
        byte = data[pos]
        if byte < 0x80:
            count = byte - 0x80 if byte & 0x40 else byte
            pos += 1
        else:
            count, pos = _number(data, pos, True)
        if count > 0:
            pos = _skip_values(data, pos, kind, 1)
            rows += count
        elif count < 0:
            rows -= count
            if rows <= MAX_DOCUMENT_OPS:
                pos = _skip_values(data, pos, kind, -count)
        else:
            count, pos = _number(data, pos, False)
            rows += count
    return rows


def _columns(r: Reader, budget: Size, metas: list[list[tuple[int, int]]]) -> None:
    """Read the column data described by `metas`; count rows and expanded bytes."""
    for meta in metas:
        rows = 0
        for spec, length in meta:
            raw = r.take(length)
            kind = spec & 0x07
            column = inflate(raw, budget) if spec & _DEFLATE else raw
            budget.bytes += len(column)
            if budget.bytes > budget.max_bytes:
                raise TooLarge(f"a document expands to more than {budget.max_bytes} bytes")
            if kind != _VALUE:
                rows = max(rows, _rows(kind, column))
        budget.ops += rows
        if budget.ops > budget.max_ops:
            raise TooLarge(f"a document holds more than {budget.max_ops} operations")


def _column_meta(r: Reader) -> list[tuple[int, int]]:
    return [(r.uleb(), r.uleb()) for _ in range(r.uleb())]


def _document(r: Reader, budget: Size) -> None:
    for _ in range(r.uleb()):
        r.prefixed()  # actors
    r.hashes()  # heads
    change_meta = _column_meta(r)
    op_meta = _column_meta(r)
    _columns(r, budget, [change_meta, op_meta])


def _change(r: Reader, budget: Size) -> None:
    r.hashes()  # dependencies
    r.prefixed()  # actor
    r.uleb()  # sequence number
    r.uleb()  # start op
    r.sleb()  # time
    r.prefixed()  # message
    for _ in range(r.uleb()):
        r.prefixed()  # other actors
    _columns(r, budget, [_column_meta(r)])


def _chunks(data: bytes | memoryview, budget: Size) -> None:
    r = Reader(data, budget)
    while not r.done():
        if bytes(r.take(4)) != MAGIC:
            raise DamagedDocument("automerge data: not an automerge chunk")
        r.take(4)  # checksum
        kind = r.take(1)[0]
        body = Reader(r.prefixed(), budget)
        before = budget.ops
        if kind == _DOCUMENT:
            _document(body, budget)
            continue
        if kind == _CHANGE:
            _change(body, budget)
        elif kind == _COMPRESSED:
            inflated = inflate(body.data, budget)
            budget.bytes += len(inflated)
            _change(Reader(inflated, budget), budget)
        else:
            raise DamagedDocument(f"automerge data: unknown chunk type {kind}")
        budget.change_ops += budget.ops - before
        if budget.change_ops > budget.max_change_ops:
            raise TooLarge(f"more than {budget.max_change_ops} operations arrive as changes")


def document_size(data: bytes) -> Size:
    """Bound a saved document (optionally followed by changes); TooLarge past the limits."""
    budget = Size()
    _chunks(data, budget)
    return budget


def stored_size(data: bytes) -> Size:
    """What a document this device already holds expands to (no limit: it was accepted)."""
    budget = Size(max_ops=1 << 62, max_bytes=1 << 62, max_change_ops=1 << 62)
    _chunks(data, budget)
    return Size(budget.ops, budget.bytes)


def sync_message_size(data: bytes) -> Size:
    """Bound the changes one automerge sync message carries; TooLarge past the limits."""
    budget = Size()
    r = Reader(data, budget)
    if r.take(1)[0] not in (_SYNC_V1, _SYNC_V2):
        raise DamagedDocument("automerge data: not a sync message")
    r.hashes()  # heads
    r.hashes()  # need
    for _ in range(r.uleb()):  # have: last sync heads and a bloom filter each
        r.hashes()
        r.prefixed()
    for _ in range(r.uleb()):
        _chunks(r.prefixed(), budget)
    return budget


def check_growth(before: Size, added: Size) -> Size:
    """A document's size after taking `added`; TooLarge past the limits."""
    total = Size(before.ops + added.ops, before.bytes + added.bytes)
    if total.ops > MAX_DOCUMENT_OPS:
        raise TooLarge(f"the document would hold more than {MAX_DOCUMENT_OPS} operations")
    if total.bytes > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"the document would expand to more than {MAX_DOCUMENT_BYTES} bytes")
    return total
