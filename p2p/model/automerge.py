"""The only module that imports automerge: one document behind a small typed handle."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from automerge import core

from ..errors import DamagedDocument
from .text_diff import text_opcodes

ObjectId = bytes
"""An automerge object id: the root map, or a map, list or text inside a document."""
ROOT: ObjectId = core.ROOT
Scalar = str | int | float | bool | bytes | None
"""A value read from a document (a peer may have written any of these anywhere)."""
OpId = tuple[int, bytes]
"""An operation's id as (counter, actor): an object's id is the id of the op that made it."""
Heads = list[bytes] | None
"""Where to read a document: at these change hashes, or (None) as it is now."""


def _uleb_at(raw: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(raw):
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    return value, pos


def parse_id(raw: bytes) -> OpId | None:
    """(counter, actor) of an op or object id as this binding spells it (None for the root):
    `0x10, uleb(len actor), actor, uleb(actor index), uleb(counter)`."""
    if len(raw) < 2 or raw[0] != 0x10:
        return None
    if raw[1] < 0x80:  # every actor id shorter than 128 bytes (all of Potluck's: 16)
        end = 2 + raw[1]
        _, pos = _uleb_at(raw, end)
        return _uleb_at(raw, pos)[0], bytes(raw[2:end])
    pos = 1
    numbers: list[int] = []
    actor = b""
    for _ in range(3):
        value = shift = 0
        while pos < len(raw):
            byte = raw[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        numbers.append(value)
        if len(numbers) == 1:
            actor = raw[pos : pos + value]
            pos += value
    return numbers[2], bytes(actor)


def actor_of(raw: ObjectId) -> bytes:
    """The actor that made an object (or wrote a value), from its id; b"" for the root."""
    if len(raw) > 2 and raw[0] == 0x10 and raw[1] < 0x80:
        return bytes(raw[2 : 2 + raw[1]])
    parsed = parse_id(raw)
    return b"" if parsed is None else parsed[1]


def heads_digest(heads: list[bytes]) -> bytes:
    """A 16-byte digest of a set of heads: equal digests mean equal documents."""
    h = hashlib.blake2b(digest_size=16, person=b"potluck-heads")
    for head in sorted(heads):
        h.update(head)
    return h.digest()


def _refused(what: str, exc: BaseException) -> DamagedDocument:
    """Automerge's errors, pyo3's PanicException (a BaseException) included, as ours."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise exc
    return DamagedDocument(f"{what}: {' '.join(str(exc).split())[:300]}")


RESTART_MARGIN = 1024
"""Bytes a stale sync state's message may exceed a fresh one's by and still go (a fresh start
costs a round trip: a message each way, a few hundred bytes with their acknowledgements)."""


class SyncState:
    """What this device knows of one peer's copy of one document (automerge's sync state).

    Making one calls nothing in automerge, so the sync decision makes it on the event loop,
    exactly once per document and peer; the automerge state behind it is made the first time
    the store thread uses it, and only that thread ever touches it."""

    __slots__ = ("_state", "missing", "stale")

    def __init__(self) -> None:
        self._state: core.SyncState | None = None
        self.missing: set[bytes] = set()
        """Hashes of changes this side lacks that a change the peer sent depends on: asked
        for by hash in each message to the peer until they are here (see `forget`)."""
        self.stale = False
        """The peer's copy changed by other ways since it last spoke on this state (the sync
        decision sets it): automerge would send every change the peer did not hold when it last
        spoke, so the next message may start again instead (`generate_sync_message`)."""

    def _core(self) -> core.SyncState:
        if self._state is None:
            self._state = core.SyncState()
        return self._state

    def forget(self) -> None:
        """Start again, as with a peer never synced with: what was sent and what the peer was
        thought to hold are forgotten, so that the next messages summarise every change anew
        and send whatever the peer needs, sent before or not. `missing` is kept: a summary is
        a bloom filter, and one that claims a missing change by a false positive claims it
        every time, so only asking for it by hash is sure to bring it."""
        self._state = None
        self.stale = False


class Document:
    """One automerge document. Reads tolerate any shape a peer may have written."""

    __slots__ = ("_doc",)

    def __init__(self, doc: core.Document) -> None:
        self._doc = doc

    @classmethod
    def new(cls, actor: bytes) -> Document:
        return cls(core.Document(actor))

    @property
    def actor(self) -> bytes:
        return self._doc.get_actor()

    def fork(self) -> Document:
        """A copy (cheap: automerge shares its structure) that writes as the same actor."""
        fork = self._doc.fork()
        fork.set_actor(self._doc.get_actor())
        return Document(fork)

    def merge(self, other: Document, what: str = "document") -> None:
        """Take every change `other` holds (never the ones it holds back for missing deps)."""
        try:
            self._doc.merge(other._doc)
        except BaseException as exc:
            raise _refused(f"{what} could not be merged", exc) from None

    @classmethod
    def load(cls, data: bytes, actor: bytes, what: str = "document") -> Document:
        """A saved document, optionally followed by raw change bytes; DamagedDocument if not."""
        try:
            doc = core.Document.load(data)
        except BaseException as exc:
            raise _refused(f"{what} could not be loaded", exc) from None
        doc.set_actor(actor)
        return cls(doc)

    def save(self) -> bytes:
        return self._doc.save()

    def heads(self) -> list[bytes]:
        return list(self._doc.get_heads())

    def digest(self) -> bytes:
        return heads_digest(self.heads())

    def changes_since(self, since: list[bytes]) -> list[tuple[bytes, bytes]]:
        """(hash, raw bytes) of every change not reachable from `since`, in causal order."""
        return [(c.hash, c.bytes) for c in self._doc.get_changes(since)]

    def generate_sync_message(self, state: SyncState) -> bytes | None:
        """The next sync message for the peer of `state`. When the state is `stale`, the
        message a fresh state would send (our heads and a summary of every change, no change)
        is made beside it, and goes instead where it is smaller by more than RESTART_MARGIN:
        the peer then answers with what we lack and its own summary, and we send exactly what
        it lacks, one round trip later."""
        message = self._doc.generate_sync_message(state._core())
        data = None if message is None else message.encode()
        if not state.stale:
            return data
        kept, state._state = state._state, None
        fresh = self._doc.generate_sync_message(state._core())
        restart = None if fresh is None else fresh.encode()
        state.stale = False
        if data is not None and (restart is None or len(data) <= len(restart) + RESTART_MARGIN):
            state._state = kept
            return data
        return restart

    def receive_sync_message(self, state: SyncState, data: bytes, what: str) -> None:
        try:
            self._doc.receive_sync_message(state._core(), core.Message.decode(data))
        except BaseException as exc:
            raise _refused(f"{what}: bad sync message", exc) from None

    def check_version(self, heads: list[bytes]) -> None:
        """DamagedDocument unless every one of `heads` is a change of this document (a version
        it went through): automerge reads an unknown version as an empty document."""
        known = {bytes(c.hash) for c in self._doc.get_changes([])}
        if any(bytes(head) not in known for head in heads):
            raise DamagedDocument(
                "the version this text was edited from is not in the document: "
                "copy your text, reopen the item and edit it again"
            )

    @contextmanager
    def change(self) -> Iterator[Writer]:
        """One transaction, always closed (an open one crashes the interpreter at exit)."""
        with self._doc.transaction() as tx:
            yield Writer(tx)

    # ------------------------------------------------------------ reads

    def _get(
        self, obj: ObjectId, prop: str | int, heads: Heads = None
    ) -> tuple[Any, ObjectId] | None:
        got = self._doc.get(obj, prop, heads)
        if got is None:
            return None
        value, obj_id = got
        if isinstance(value, core.ObjType):
            return value, obj_id
        return value[1], obj_id

    def scalar(self, obj: ObjectId, prop: str | int, heads: Heads = None) -> Scalar:
        """The plain value at `prop`, or None where there is none or an object instead."""
        got = self._get(obj, prop, heads)
        if got is None or isinstance(got[0], core.ObjType):
            return None
        value: Scalar = got[0]
        return value

    def child(self, obj: ObjectId | None, prop: str | int, heads: Heads = None) -> ObjectId | None:
        """The object (map, list or text) at `prop`, or None. Its id names who made it."""
        if obj is None:
            return None
        got = self._get(obj, prop, heads)
        if got is None or not isinstance(got[0], core.ObjType):
            return None
        return got[1]

    def fields(self, obj: ObjectId) -> Fields:
        """Every key of a map with its value, read in one call (a dozen `scalar` calls cost
        twice as much)."""
        got = self._doc.values(obj)
        return Fields(self, dict(zip(self._doc.keys(obj), got, strict=True)))

    def written(
        self, obj: ObjectId, prop: str | int, heads: Heads = None
    ) -> tuple[bool, OpId] | None:
        """Whether an object is at `prop`, and the id of the operation that put it there."""
        got = self._doc.get(obj, prop, heads)
        if got is None:
            return None
        parsed = parse_id(got[1])
        return None if parsed is None else (isinstance(got[0], core.ObjType), parsed)

    def text(self, obj: ObjectId, prop: str) -> str:
        """The text at `prop`, whether a text object or (as a peer may write) a string."""
        child = self.child(obj, prop)
        if child is not None:
            return self._doc.text(child)
        value = self.scalar(obj, prop)
        return value if isinstance(value, str) else ""

    def keys(self, obj: ObjectId, heads: Heads = None) -> list[str]:
        return list(self._doc.keys(obj, heads))

    def length(self, obj: ObjectId) -> int:
        return self._doc.length(obj)


class Fields:
    """A map's keys and values as read at once (`Document.fields`), read as `Document` reads
    one key: `scalar`, `child`, `writer`, `text`."""

    __slots__ = ("_doc", "_values")

    def __init__(self, doc: Document, values: dict[str, tuple[Any, bytes]]) -> None:
        self._doc = doc
        self._values = values

    def scalar(self, prop: str) -> Scalar:
        got = self._values.get(prop)
        if got is None or isinstance(got[0], core.ObjType):
            return None
        value: Scalar = got[0][1]
        return value

    def child(self, prop: str) -> ObjectId | None:
        got = self._values.get(prop)
        if got is None or not isinstance(got[0], core.ObjType):
            return None
        return got[1]

    def writer(self, prop: str) -> bytes:
        """The actor of the operation that wrote the value at `prop` (b"" if none)."""
        got = self._values.get(prop)
        return b"" if got is None else actor_of(got[1])

    def text(self, prop: str) -> str:
        """The text at `prop`, whether a text object or (as a peer may write) a string."""
        child = self.child(prop)
        if child is not None:
            return self._doc._doc.text(child)
        value = self.scalar(prop)
        return value if isinstance(value, str) else ""


def rebased_splices(
    base: list[tuple[str, bytes]], now: dict[bytes, int], new: str
) -> list[tuple[int, int, str]]:
    """Splices (position, characters removed, text inserted) that make of the text as it is
    now what the person meant, who turned `base` into `new`. `base` is the text they started
    from as (character, element id); `now` gives each element still present its position in
    the current text. Only characters of `base` that the person removed are removed; their
    insertions go right after the nearest character of `base` before them that is still there,
    so nothing others inserted since is cut or split. The splices come last position first,
    each valid once the ones before it are applied."""
    after = [0] * (len(base) + 1)
    """after[k]: where text that follows base[k - 1] goes now."""
    for k, (_, element) in enumerate(base):
        at = now.get(element)
        after[k + 1] = after[k] if at is None else at + 1
    splices: list[tuple[int, int, int, str]] = []  # (position, order, removed, inserted)
    for n, (_, a0, a1, b0, b1) in enumerate(text_opcodes("".join(c for c, _ in base), new)):
        gone = [now[e] for _, e in base[a0:a1] if e in now]
        run_start = None
        for i, at in enumerate(gone):
            if run_start is None:
                run_start = at
            if i + 1 == len(gone) or gone[i + 1] != at + 1:
                splices.append((run_start, -1, at + 1 - run_start, ""))
                run_start = None
        if b1 > b0:
            splices.append((after[a0], -n - 2, 0, new[b0:b1]))
    # Last position first; at one position removals before insertions, later insertions first.
    splices.sort(key=lambda s: (-s[0], s[1] != -1, s[1]))
    return [(position, removed, inserted) for position, _, removed, inserted in splices]


class Writer:
    """One open transaction, with helpers for the shapes Potluck writes."""

    __slots__ = ("_tx",)

    def __init__(self, tx: Any) -> None:
        self._tx = tx  # automerge.core has no Transaction type to name, nor splice_text in its stub

    def put_str(self, obj: ObjectId, prop: str, value: str) -> None:
        self._tx.put(obj, prop, core.ScalarType.Str, value)

    def put_int(self, obj: ObjectId, prop: str, value: int) -> None:
        self._tx.put(obj, prop, core.ScalarType.Int, value)

    def put_bool(self, obj: ObjectId, prop: str, value: bool) -> None:
        self._tx.put(obj, prop, core.ScalarType.Boolean, value)

    def has(self, obj: ObjectId, prop: str) -> bool:
        return self._tx.get(obj, prop) is not None

    def delete(self, obj: ObjectId, prop: str) -> None:
        self._tx.delete(obj, prop)

    def delete_at(self, lst: ObjectId, index: int) -> None:
        """Remove the element at `index` of a list."""
        self._tx.delete(lst, index)

    def map_at(self, obj: ObjectId, prop: str) -> ObjectId:
        """The map at `prop`, created if absent."""
        got = self._tx.get(obj, prop)
        if got is not None and got[0] == core.ObjType.Map:
            return bytes(got[1])
        return bytes(self._tx.put_object(obj, prop, core.ObjType.Map))

    def list_at(self, obj: ObjectId, prop: str) -> ObjectId:
        """The list at `prop`, created if absent."""
        got = self._tx.get(obj, prop)
        if got is not None and got[0] == core.ObjType.List:
            return bytes(got[1])
        return bytes(self._tx.put_object(obj, prop, core.ObjType.List))

    def append_map(self, lst: ObjectId) -> ObjectId:
        return bytes(self._tx.insert_object(lst, self._tx.length(lst), core.ObjType.Map))

    def rebase_text(self, obj: ObjectId, prop: str, base: list[bytes], new: str) -> None:
        """Write `new`, a person's edit of the text as it was at heads `base`, onto the text as
        it is now: their edit is taken against `base` and applied as splices here, so what
        others wrote since `base` is kept. No fork of the history is made. `base` must be a
        version of the document (Document.check_version)."""
        got = self._tx.get(obj, prop)
        if got is None or got[0] != core.ObjType.Text:
            self.set_text(obj, prop, new)
            return
        text_id = bytes(got[1])
        try:
            then = self._tx.get(obj, prop, base) if base else None
            was = (
                [(v[1], bytes(e)) for v, e in self._tx.values(text_id, base)]
                if then is not None and then[0] == core.ObjType.Text and bytes(then[1]) == text_id
                else None
            )
        except BaseException as exc:
            raise _refused("the text could not be read as it was", exc) from None
        if was is None:  # the text was made anew since (or no version was given): edit it as is
            self.set_text(obj, prop, new)
            return
        try:
            where = {bytes(e): i for i, (_, e) in enumerate(self._tx.values(text_id))}
            for position, removed, inserted in rebased_splices(was, where, new):
                self._tx.splice_text(text_id, position, removed, inserted)
        except BaseException as exc:  # a panic of the binding is a BaseException
            raise _refused("the text could not be saved", exc) from None

    def set_text(self, obj: ObjectId, prop: str, new: str) -> None:
        """Edit a text object with minimal splices, so concurrent edits elsewhere survive."""
        got = self._tx.get(obj, prop)
        if got is None or got[0] != core.ObjType.Text:
            text_id = self._tx.put_object(obj, prop, core.ObjType.Text)
            if new:
                self._tx.splice_text(text_id, 0, 0, new)
            return
        text_id = got[1]
        for _, a0, a1, b0, b1 in reversed(text_opcodes(self._tx.text(text_id), new)):
            self._tx.splice_text(text_id, a0, a1 - a0, new[b0:b1])
