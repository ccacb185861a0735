"""Automerge's binary chunks read without automerge: each change's hash, actor, deps and ops.

A signature covers a change's hash, so a receiver checks it on the bytes as they arrived, before
automerge sees them. The format is automerge's (https://automerge.org/automerge-binary-format-spec/):
a chunk is `magic(4) checksum(4) type(1) uleb(length) body`; a change's hash is the SHA-256 of
`type || uleb(length) || body` of its uncompressed form (type 1), and its checksum is the first
four bytes of that hash. A compressed change (type 2) is the same with the body DEFLATEd.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import DamagedDocument
from .measure import MAGIC, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_OPS, Reader, Size, inflate

DOCUMENT, CHANGE, COMPRESSED = 0, 1, 2
SYNC_TYPES = (0x42, 0x43)
HASH_SIZE = 32

OpId = tuple[int, bytes]
"""An operation's id: (counter, actor). An object's id is the id of the op that made it."""

# Actions of an operation.
MAKE_MAP, SET, MAKE_LIST, DELETE, MAKE_TEXT, INCREMENT, MAKE_TABLE, MARK = range(8)
MAKES = frozenset({MAKE_MAP, MAKE_LIST, MAKE_TEXT, MAKE_TABLE})

# Column types, and the columns of a change's operations (id << 4 | type).
_GROUP, _ACTOR, _ULEB, _DELTA, _BOOLEAN, _STRING, _VALUE_META, _VALUE = range(8)
_OBJ_ACTOR, _OBJ_CTR = 0x01, 0x02
_KEY_ACTOR, _KEY_CTR, _KEY_STR = 0x11, 0x13, 0x15
_INSERT, _ACTION = 0x34, 0x42
_VAL_META, _VAL = 0x56, 0x57
_PRED_GROUP, _PRED_ACTOR, _PRED_CTR = 0x70, 0x71, 0x73
_DEFLATE = 0x08


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of a change, as its columns say."""

    id: OpId
    obj: OpId | None
    """The object written: None for the document's root map."""
    key: str | OpId | None
    """A map key; in a list or text, the element (None: the list's head, for an insert)."""
    insert: bool
    action: int
    value: Any
    pred: tuple[OpId, ...]
    """The operations this one overwrites or deletes."""


@dataclass(frozen=True)
class Change:
    """One change chunk, parsed: what its signature covers and what it did."""

    hash: bytes
    actor: bytes
    seq: int
    start_op: int
    time: int
    message: str
    deps: tuple[bytes, ...]
    other_actors: tuple[bytes, ...]
    chunk: bytes
    """The bytes as they travelled (compressed or not)."""
    _columns: dict[int, bytes] = field(repr=False, default_factory=dict)

    def ops(self) -> Operations:
        """The change's operations, in order (their ids are start_op, start_op + 1, …)."""
        return Operations(self)


def change_hash(chunk: bytes | memoryview) -> bytes:
    """The hash of one change chunk (compressed or not), checked against its checksum."""
    return parse_change(chunk, with_ops=False).hash


def parse_change(chunk: bytes | memoryview, *, with_ops: bool = True) -> Change:
    """Parse one whole change chunk; DamagedDocument if it is not exactly one."""
    r = Reader(chunk)
    if bytes(r.take(4)) != MAGIC:
        raise DamagedDocument("automerge data: not an automerge chunk")
    checksum = bytes(r.take(4))
    kind = r.take(1)[0]
    start = r.pos
    body = r.take(r.uleb())
    if not r.done():
        raise DamagedDocument("automerge data: bytes after a change chunk")
    if kind == CHANGE:
        digest = hashlib.sha256(r.data[start - 1 :]).digest()
    elif kind == COMPRESSED:
        body = memoryview(inflate(body, Size(max_bytes=MAX_DOCUMENT_BYTES)))
        digest = hashlib.sha256(bytes([CHANGE]) + uleb(len(body)) + body).digest()
    else:
        raise DamagedDocument(f"automerge data: chunk type {kind} is not a change")
    if digest[:4] != checksum:
        raise DamagedDocument("automerge data: a change's checksum does not match")
    b = Reader(body)
    deps = tuple(bytes(b.take(HASH_SIZE)) for _ in range(b.uleb()))
    actor = bytes(b.prefixed())
    seq = b.uleb()
    start_op = b.uleb()
    time = b.sleb()
    try:
        message = bytes(b.prefixed()).decode()
    except UnicodeDecodeError:
        raise DamagedDocument("automerge data: a change message is not UTF-8") from None
    others = tuple(bytes(b.prefixed()) for _ in range(b.uleb()))
    columns: dict[int, bytes] = {}
    if with_ops:
        metas = [(b.uleb(), b.uleb()) for _ in range(b.uleb())]
        for spec, length in metas:
            raw = b.take(length)
            budget = Size(max_bytes=MAX_DOCUMENT_BYTES)
            columns[spec & ~_DEFLATE] = inflate(raw, budget) if spec & _DEFLATE else bytes(raw)
    return Change(
        hash=digest,
        actor=actor,
        seq=seq,
        start_op=start_op,
        time=time,
        message=message,
        deps=deps,
        other_actors=others,
        chunk=bytes(chunk),
        _columns=columns,
    )


def split_chunks(data: bytes | memoryview) -> Iterator[tuple[int, memoryview]]:
    """(type, whole chunk) of each chunk in a concatenation (a saved document and changes)."""
    r = Reader(data)
    while not r.done():
        start = r.pos
        if bytes(r.take(4)) != MAGIC:
            raise DamagedDocument("automerge data: not an automerge chunk")
        r.take(4)
        kind = r.take(1)[0]
        r.take(r.uleb())
        yield kind, r.data[start : r.pos]


@dataclass(frozen=True)
class DocumentHeader:
    """What a document chunk says of itself before it is loaded: its actors, its heads (which
    automerge checks against the changes when it loads them) and how many changes it holds."""

    actors: tuple[bytes, ...]
    heads: tuple[bytes, ...]
    changes: int


def document_header(chunk: bytes | memoryview) -> DocumentHeader:
    """The header of one document chunk (type 0)."""
    r = Reader(chunk)
    if bytes(r.take(4)) != MAGIC:
        raise DamagedDocument("automerge data: not an automerge chunk")
    r.take(4)
    if r.take(1)[0] != DOCUMENT:
        raise DamagedDocument("automerge data: not a document chunk")
    b = Reader(r.take(r.uleb()))
    actors = tuple(bytes(b.prefixed()) for _ in range(b.uleb()))
    heads = tuple(bytes(b.take(HASH_SIZE)) for _ in range(b.uleb()))
    change_meta = [(b.uleb(), b.uleb()) for _ in range(b.uleb())]
    op_meta = [(b.uleb(), b.uleb()) for _ in range(b.uleb())]
    rows = 0
    for spec, length in change_meta:
        column = b.take(length)
        if spec & 0x07 == _ACTOR and spec >> 4 == 0:
            data = inflate(column, Size()) if spec & _DEFLATE else column
            rows = len(_rle(data, _ULEB, MAX_DOCUMENT_OPS))
    del op_meta
    return DocumentHeader(actors, heads, rows)


def sync_message_need(data: bytes) -> set[bytes]:
    """The hashes of the changes an automerge sync message says its sender needs."""
    r = Reader(data)
    if r.take(1)[0] not in SYNC_TYPES:
        raise DamagedDocument("automerge data: not a sync message")
    r.hashes()  # heads
    return {bytes(r.take(32)) for _ in range(r.uleb())}


def with_need(data: bytes, hashes: set[bytes]) -> bytes:
    """An automerge sync message that also asks for these changes by hash (its `need`)."""
    r = Reader(data)
    if r.take(1)[0] not in SYNC_TYPES:
        raise DamagedDocument("automerge data: not a sync message")
    r.hashes()  # heads
    start = r.pos
    need = {bytes(r.take(HASH_SIZE)) for _ in range(r.uleb())} | hashes
    return data[:start] + uleb(len(need)) + b"".join(sorted(need)) + data[r.pos :]


def sync_message_carries_changes(data: bytes) -> bool:
    """Whether an automerge sync message carries any change (or whole document), rather than
    only its sender's heads, needs and summary."""
    r = Reader(data)
    if r.take(1)[0] not in SYNC_TYPES:
        raise DamagedDocument("automerge data: not a sync message")
    r.hashes()  # heads
    r.hashes()  # need
    for _ in range(r.uleb()):
        r.hashes()
        r.prefixed()
    return r.uleb() > 0


def sync_message_chunks(data: bytes) -> list[memoryview]:
    """The chunks an automerge sync message carries: change chunks, or (when the receiver
    has nothing) a whole document chunk."""
    r = Reader(data)
    if r.take(1)[0] not in SYNC_TYPES:
        raise DamagedDocument("automerge data: not a sync message")
    r.hashes()  # heads
    r.hashes()  # need
    for _ in range(r.uleb()):  # have: last sync heads and a bloom filter each
        r.hashes()
        r.prefixed()
    out: list[memoryview] = []
    for _ in range(r.uleb()):
        out += [chunk for _, chunk in split_chunks(r.prefixed())]
    return out


# ------------------------------------------------------------ columns


def _rle(data: bytes | memoryview, kind: int, limit: int) -> list[Any]:
    """A run-length encoded column: uleb, actor index, string or value-metadata values."""
    r = Reader(data)
    out: list[Any] = []
    while not r.done():
        count = r.sleb()
        if count > 0:
            if len(out) + count > limit:
                raise DamagedDocument("automerge data: a column holds too many values")
            out.extend([_value(r, kind)] * count)
        elif count < 0:
            if len(out) - count > limit:
                raise DamagedDocument("automerge data: a column holds too many values")
            out.extend(_value(r, kind) for _ in range(-count))
        else:
            nulls = r.uleb()
            if len(out) + nulls > limit:
                raise DamagedDocument("automerge data: a column holds too many values")
            out.extend([None] * nulls)
    return out


def _value(r: Reader, kind: int) -> Any:
    if kind == _STRING:
        try:
            return bytes(r.prefixed()).decode()
        except UnicodeDecodeError:
            raise DamagedDocument("automerge data: a key is not UTF-8") from None
    if kind == _DELTA:
        return r.sleb()
    return r.uleb()


def _delta(data: bytes | memoryview, limit: int) -> list[int | None]:
    values = _rle(data, _DELTA, limit)
    if None not in values:
        return list(itertools.accumulate(values))
    total = 0
    out: list[int | None] = []
    for delta in values:
        if delta is None:
            out.append(None)
        else:
            total += delta
            out.append(total)
    return out


def _booleans(data: bytes | memoryview, limit: int) -> list[bool]:
    r = Reader(data)
    out: list[bool] = []
    value = False
    while not r.done():
        count = r.uleb()
        if len(out) + count > limit:
            raise DamagedDocument("automerge data: a column holds too many values")
        out.extend([value] * count)
        value = not value
    return out


def _scalar(kind: int, raw: memoryview) -> Any:
    """A value from its metadata type and its bytes (automerge's value encoding)."""
    if kind == 0:
        return None
    if kind in (1, 2):
        return kind == 2
    if kind == 3:
        return Reader(raw).uleb()
    if kind in (4, 8, 9):
        return Reader(raw).sleb()
    if kind == 5:
        if len(raw) != 8:
            raise DamagedDocument("automerge data: a float is not 8 bytes")
        return struct.unpack("<d", raw)[0]
    if kind == 6:
        try:
            return bytes(raw).decode()
        except UnicodeDecodeError:
            raise DamagedDocument("automerge data: a string is not UTF-8") from None
    return bytes(raw)


class Operations:
    """A change's operations, decoded column by column; an `Op` is made only when asked for,
    so that a change of a hundred thousand typed characters is judged in runs, not one by one."""

    def __init__(self, change: Change) -> None:
        col = change._columns
        limit = MAX_DOCUMENT_OPS
        empty = b""
        self.change = change
        self._obj_actor = _rle(col.get(_OBJ_ACTOR, empty), _ULEB, limit)
        self._obj_ctr = _rle(col.get(_OBJ_CTR, empty), _ULEB, limit)
        self._key_actor = _rle(col.get(_KEY_ACTOR, empty), _ULEB, limit)
        self._key_ctr = _delta(col.get(_KEY_CTR, empty), limit)
        self._key_str = _rle(col.get(_KEY_STR, empty), _STRING, limit)
        self._insert = _booleans(col.get(_INSERT, empty), limit)
        self._action = _rle(col.get(_ACTION, empty), _ULEB, limit)
        self._val_meta = _rle(col.get(_VAL_META, empty), _ULEB, limit)
        self._pred_group = _rle(col.get(_PRED_GROUP, empty), _ULEB, limit)
        self._pred_actor = _rle(col.get(_PRED_ACTOR, empty), _ULEB, limit)
        self._pred_ctr = _delta(col.get(_PRED_CTR, empty), limit)
        self._values = memoryview(col.get(_VAL, empty))
        self.count = max(
            len(self._obj_actor),
            len(self._obj_ctr),
            len(self._key_str),
            len(self._key_ctr),
            len(self._action),
            len(self._insert),
        )
        self._actors = (change.actor, *change.other_actors)
        self._value_at: list[int] | None = None
        self._groups: list[tuple[OpId | None, int, int]] | None = None
        self._pred_at: list[int] | None = None

    def _actor(self, index: Any) -> bytes:
        if not isinstance(index, int) or index >= len(self._actors):
            raise DamagedDocument("automerge data: an op names an actor the change lacks")
        return self._actors[index]

    def _obj(self, actor: Any, counter: Any) -> OpId | None:
        return None if actor is None and not counter else (counter or 0, self._actor(actor))

    def groups(self) -> list[tuple[OpId | None, int, int]]:
        """(object, first, end) of each run of consecutive operations on one object."""
        if self._groups is None:
            pad = self.count
            actors = self._obj_actor + [None] * (pad - len(self._obj_actor))
            counters = self._obj_ctr + [None] * (pad - len(self._obj_ctr))
            self._groups = []
            position = 0
            for (actor, counter), run in itertools.groupby(zip(actors, counters, strict=True)):
                length = len(list(run))
                self._groups.append((self._obj(actor, counter), position, position + length))
                position += length
        return self._groups

    def __getitem__(self, i: int) -> Op:
        if self._value_at is None:
            sizes = [(m or 0) >> 4 for m in self._val_meta]
            sizes += [0] * (self.count - len(sizes))
            self._value_at = [0, *itertools.accumulate(sizes)]
            if self._value_at[-1] > len(self._values):
                raise DamagedDocument("automerge data: values run past their column")
            groups = [g or 0 for g in self._pred_group]
            groups += [0] * (self.count - len(groups))
            self._pred_at = [0, *itertools.accumulate(groups)]
            if self._pred_at[-1] > min(len(self._pred_actor), len(self._pred_ctr)):
                raise DamagedDocument("automerge data: predecessors run past their column")
        assert self._pred_at is not None

        def at(column: list[Any]) -> Any:
            return column[i] if i < len(column) else None

        key_str = at(self._key_str)
        key: str | OpId | None = key_str
        if key_str is None:
            key = self._obj(at(self._key_actor), at(self._key_ctr))
        meta = at(self._val_meta) or 0
        value = _scalar(meta & 0x0F, self._values[self._value_at[i] : self._value_at[i + 1]])
        pred = tuple(
            (self._pred_ctr[j] or 0, self._actor(self._pred_actor[j]))
            for j in range(self._pred_at[i], self._pred_at[i + 1])
        )
        action = at(self._action)
        return Op(
            id=(self.change.start_op + i, self.change.actor),
            obj=self._obj(at(self._obj_actor), at(self._obj_ctr)),
            key=key,
            insert=bool(at(self._insert)),
            action=action if isinstance(action, int) else -1,
            value=value,
            pred=pred,
        )

    def __iter__(self) -> Iterator[Op]:
        return (self[i] for i in range(self.count))

    def __len__(self) -> int:
        return self.count
