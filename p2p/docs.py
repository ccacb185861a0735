"""The only module that touches automerge: board and item documents behind a small API."""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from automerge.core import ROOT, Document, Message, ObjType, ScalarType, SyncState

from p2p.errors import DamagedDocument
from p2p.limits import MAX_BODY_SHOWN, MAX_LIST_SHOWN, MAX_TAGS_SHOWN, MAX_TITLE_SHOWN
from p2p.model import (
    HistoryEntry,
    Item,
    Kind,
    Member,
    Reply,
    Response,
    Shift,
    Status,
    Task,
)

BOARD_DOC_ID = "board"

__all__ = [
    "BOARD_DOC_ID",
    "Doc",
    "Document",
    "SyncState",
    "new_sync_state",
]

Doc = Document


def new_id() -> str:
    """A random 128-bit id, as 32 hex characters."""
    return os.urandom(16).hex()


def new_sync_state() -> SyncState:
    return SyncState()


def _panic_guard(what: str, exc: BaseException) -> DamagedDocument:
    """Turn automerge's errors (including pyo3's PanicException, a BaseException) into ours."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise exc
    return DamagedDocument(f"{what}: {exc}")


def new_document(actor: bytes) -> Doc:
    return Document(actor)


def load_document(data: bytes, actor: bytes, what: str = "document") -> Doc:
    """Load a saved document, optionally followed by raw change bytes."""
    try:
        doc = Document.load(data)
    except BaseException as exc:
        raise _panic_guard(f"{what} could not be loaded", exc) from None
    doc.set_actor(actor)
    return doc


def save(doc: Doc) -> bytes:
    return doc.save()


def heads(doc: Doc) -> list[bytes]:
    return list(doc.get_heads())


def heads_digest(head_list: list[bytes]) -> bytes:
    """A 16-byte digest of a set of heads: equal digests mean equal documents."""
    h = hashlib.blake2b(digest_size=16, person=b"potluck-heads")
    for head in sorted(head_list):
        h.update(head)
    return h.digest()


def changes_since(doc: Doc, since: list[bytes]) -> list[tuple[bytes, bytes]]:
    """(hash, raw bytes) of every change in `doc` not reachable from `since`."""
    return [(c.hash, c.bytes) for c in doc.get_changes(since)]


def merge_saved(doc: Doc, data: bytes, what: str) -> None:
    """Merge a saved document (e.g. received whole from a peer) into `doc`."""
    other = load_document(data, os.urandom(16), what)
    try:
        doc.merge(other)
    except BaseException as exc:
        raise _panic_guard(f"{what} could not be merged", exc) from None


def generate_sync_message(doc: Doc, state: SyncState) -> bytes | None:
    msg = doc.generate_sync_message(state)
    return None if msg is None else msg.encode()


def receive_sync_message(doc: Doc, state: SyncState, data: bytes, what: str) -> None:
    try:
        doc.receive_sync_message(state, Message.decode(data))
    except BaseException as exc:
        raise _panic_guard(f"{what}: bad sync message", exc) from None


# ---------------------------------------------------------------- low-level reads


def _get(doc: Doc, obj: bytes, prop: str | int) -> tuple[Any, bytes] | None:
    got = doc.get(obj, prop)
    if got is None:
        return None
    value, obj_id = got
    if isinstance(value, ObjType):
        return value, obj_id
    return value[1], obj_id


def _scalar(doc: Doc, obj: bytes, prop: str, default: Any = None) -> Any:
    got = _get(doc, obj, prop)
    if got is None or isinstance(got[0], ObjType):
        return default
    return got[0]


def _child(doc: Doc, obj: bytes, prop: str | int) -> bytes | None:
    got = _get(doc, obj, prop)
    if got is None or not isinstance(got[0], ObjType):
        return None
    return got[1]


def _text(doc: Doc, obj: bytes, prop: str) -> str:
    child = _child(doc, obj, prop)
    if child is not None:
        return doc.text(child)
    value = _scalar(doc, obj, prop, "")
    return value if isinstance(value, str) else ""


def _str(value: Any, default: str = "", limit: int = MAX_TITLE_SHOWN) -> str:
    """A peer's string, cut to `limit` characters so that no field can swamp a screen."""
    return value[:limit] if isinstance(value, str) else default


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _maps_in_list(doc: Doc, obj: bytes | None) -> Iterator[bytes]:
    """The maps of a list, at most MAX_LIST_SHOWN of them."""
    if obj is None:
        return
    for index in range(min(doc.length(obj), MAX_LIST_SHOWN)):
        child = _child(doc, obj, index)
        if child is not None:
            yield child


def _maps_in_map(
    doc: Doc, obj: bytes | None, limit: int = MAX_LIST_SHOWN
) -> Iterator[tuple[str, bytes]]:
    """The maps held in a map, at most `limit` of them."""
    if obj is None:
        return
    for key in doc.keys(obj)[:limit]:
        child = _child(doc, obj, key)
        if child is not None:
            yield key, child


# ---------------------------------------------------------------- writing


class Writer:
    """A thin wrapper over one open transaction with helpers for our shapes."""

    def __init__(self, doc: Doc, tx: Any) -> None:
        self.doc = doc
        self.tx = tx

    def put_str(self, obj: bytes, prop: str, value: str) -> None:
        self.tx.put(obj, prop, ScalarType.Str, value)

    def put_int(self, obj: bytes, prop: str, value: int) -> None:
        self.tx.put(obj, prop, ScalarType.Int, value)

    def put_bool(self, obj: bytes, prop: str, value: bool) -> None:
        self.tx.put(obj, prop, ScalarType.Boolean, value)

    def map_at(self, obj: bytes, prop: str) -> bytes:
        """The map at `prop`, created if absent."""
        got = self.tx.get(obj, prop)
        if got is not None and got[0] == ObjType.Map:
            return got[1]
        return self.tx.put_object(obj, prop, ObjType.Map)

    def list_at(self, obj: bytes, prop: str) -> bytes:
        got = self.tx.get(obj, prop)
        if got is not None and got[0] == ObjType.List:
            return got[1]
        return self.tx.put_object(obj, prop, ObjType.List)

    def append_map(self, lst: bytes) -> bytes:
        return self.tx.insert_object(lst, self.tx.length(lst), ObjType.Map)

    def set_text(self, obj: bytes, prop: str, new: str) -> None:
        """Edit a text object with minimal splices, so concurrent edits elsewhere survive."""
        got = self.tx.get(obj, prop)
        if got is None or got[0] != ObjType.Text:
            text_id = self.tx.put_object(obj, prop, ObjType.Text)
            if new:
                self.tx.splice_text(text_id, 0, 0, new)
            return
        text_id = got[1]
        old = self.tx.text(text_id)
        matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
        for op, a0, a1, b0, b1 in reversed(matcher.get_opcodes()):
            if op != "equal":
                self.tx.splice_text(text_id, a0, a1 - a0, new[b0:b1])


@contextmanager
def change(doc: Doc) -> Iterator[Writer]:
    """One automerge transaction, always closed (an open one crashes the interpreter at exit)."""
    with doc.transaction() as tx:
        yield Writer(doc, tx)


# ---------------------------------------------------------------- the board document


MEMBER_PREFIX = "member:"
MAX_MEMBERS = 10_000
"""Member entries of a board document that are read (a board has far fewer people)."""


def init_board(doc: Doc, name: str, created: int) -> None:
    """Only the board's creator runs this; joiners add just their own member entry."""
    with change(doc) as w:
        w.put_str(ROOT, "name", name)
        w.put_int(ROOT, "created", created)
        w.map_at(ROOT, "settings")


def set_board_name(doc: Doc, name: str) -> None:
    with change(doc) as w:
        w.put_str(ROOT, "name", name)


def set_member(doc: Doc, device_id: str, name: str, about: str, now: int) -> None:
    """Members are root keys `member:<device id>`: each device writes only its own key, so two
    devices that start their copies apart never create rival `members` maps."""
    with change(doc) as w:
        member = w.map_at(ROOT, MEMBER_PREFIX + device_id)
        if _scalar(doc, member, "name") != name:
            w.put_str(member, "name", name)
        if _scalar(doc, member, "about") != about:
            w.put_str(member, "about", about)
        w.put_int(member, "updated", now)


def read_board(doc: Doc) -> tuple[str, int, dict[str, Member]]:
    name = _str(_scalar(doc, ROOT, "name"), "")
    created = _int(_scalar(doc, ROOT, "created"))
    members: dict[str, Member] = {}
    for key, obj in _maps_in_map(doc, ROOT, MAX_MEMBERS):
        if not key.startswith(MEMBER_PREFIX):
            continue
        device_id = key[len(MEMBER_PREFIX) :][:64]
        members[device_id] = Member(
            device_id=device_id,
            name=_str(_scalar(doc, obj, "name")),
            about=_str(_scalar(doc, obj, "about"), limit=MAX_BODY_SHOWN),
        )
    return name, created, members


# ---------------------------------------------------------------- item documents


def init_item(
    doc: Doc,
    *,
    kind: Kind,
    title: str,
    body: str,
    tags: list[str],
    author: str,
    now: int,
    start: int | None = None,
    end: int | None = None,
    place: str = "",
    tasks: list[str] = (),  # type: ignore[assignment]
    shifts: list[tuple[str, int]] = (),  # type: ignore[assignment]
) -> None:
    with change(doc) as w:
        w.put_str(ROOT, "kind", kind.value)
        w.put_str(ROOT, "title", title)
        w.set_text(ROOT, "body", body)
        tag_map = w.map_at(ROOT, "tags")
        for tag in tags:
            w.put_bool(tag_map, tag, True)
        w.put_str(ROOT, "status", Status.OPEN.value)
        w.put_str(ROOT, "author", author)
        w.put_int(ROOT, "created", now)
        w.put_int(ROOT, "updated", now)
        w.list_at(ROOT, "replies")
        w.map_at(ROOT, "responses")
        w.list_at(ROOT, "history")
        if kind is Kind.EVENT:
            if start is not None:
                w.put_int(ROOT, "start", start)
            if end is not None:
                w.put_int(ROOT, "end", end)
            w.put_str(ROOT, "place", place)
        if kind is Kind.PROJECT:
            task_list = w.list_at(ROOT, "tasks")
            for title_ in tasks:
                _add_task(w, task_list, title_)
            shift_list = w.list_at(ROOT, "shifts")
            for when, slots in shifts:
                _add_shift(w, shift_list, when, slots)
        _history(w, author, "posted", now)


def _add_task(w: Writer, task_list: bytes, title: str) -> None:
    task = w.append_map(task_list)
    w.put_str(task, "id", new_id()[:8])
    w.put_str(task, "title", title)
    w.put_bool(task, "done", False)
    w.map_at(task, "taken")


def _add_shift(w: Writer, shift_list: bytes, when: str, slots: int) -> None:
    shift = w.append_map(shift_list)
    w.put_str(shift, "id", new_id()[:8])
    w.put_str(shift, "when", when)
    w.put_int(shift, "slots", slots)
    w.map_at(shift, "signed")


def _history(w: Writer, who: str, what: str, now: int) -> None:
    entry = w.append_map(w.list_at(ROOT, "history"))
    w.put_str(entry, "who", who)
    w.put_str(entry, "what", what)
    w.put_int(entry, "time", now)


def edit_item(
    doc: Doc,
    *,
    who: str,
    now: int,
    title: str | None = None,
    body: str | None = None,
    add_tags: list[str] = (),  # type: ignore[assignment]
    remove_tags: list[str] = (),  # type: ignore[assignment]
    start: int | None = None,
    end: int | None = None,
    place: str | None = None,
    clear_end: bool = False,
    body_from: list[bytes] | None = None,
) -> None:
    """`body_from`: the heads the new body was written from; the edit is made there and
    merged, so text that peers added since is kept rather than diffed away."""
    if body is not None and body_from:
        _edit_body_from(doc, body_from, body)
        body = None
    with change(doc) as w:
        if title is not None:
            w.put_str(ROOT, "title", title)
        if body is not None:
            w.set_text(ROOT, "body", body)
        if add_tags or remove_tags:
            tag_map = w.map_at(ROOT, "tags")
            for tag in add_tags:
                w.put_bool(tag_map, tag, True)
            for tag in remove_tags:
                if w.tx.get(tag_map, tag) is not None:
                    w.tx.delete(tag_map, tag)
        if start is not None:
            w.put_int(ROOT, "start", start)
        if end is not None:
            w.put_int(ROOT, "end", end)
        elif clear_end and w.tx.get(ROOT, "end") is not None:
            w.tx.delete(ROOT, "end")
        if place is not None:
            w.put_str(ROOT, "place", place)
        w.put_int(ROOT, "updated", now)
        _history(w, who, "edited", now)


def _edit_body_from(doc: Doc, heads: list[bytes], body: str) -> None:
    fork = doc.fork_at(heads)
    actor = doc.get_actor()
    if any(c.actor_id == actor for c in doc.get_changes(heads)):
        actor = os.urandom(16)  # our own later change holds the next sequence number
    fork.set_actor(actor)
    with change(fork) as w:
        w.set_text(ROOT, "body", body)
    doc.merge(fork)


def add_reply(doc: Doc, *, author: str, text: str, now: int) -> str:
    reply_id = new_id()[:12]
    with change(doc) as w:
        reply = w.append_map(w.list_at(ROOT, "replies"))
        w.put_str(reply, "id", reply_id)
        w.put_str(reply, "author", author)
        w.put_str(reply, "text", text)
        w.put_int(reply, "time", now)
        w.put_int(ROOT, "updated", now)
    return reply_id


def set_response(doc: Doc, *, member: str, kind: str, note: str, now: int) -> None:
    """A member's response; one per member and kind, so 'coming' and 'I'll bring' coexist."""
    with change(doc) as w:
        responses = w.map_at(ROOT, "responses")
        mine = w.map_at(responses, member)
        entry = w.map_at(mine, kind)
        w.put_str(entry, "note", note)
        w.put_int(entry, "time", now)
        w.put_int(ROOT, "updated", now)


def withdraw_response(doc: Doc, *, member: str, kind: str, now: int) -> bool:
    mine = _child(doc, _child(doc, ROOT, "responses") or ROOT, member)
    if mine is None or _child(doc, mine, kind) is None:
        return False
    with change(doc) as w:
        w.tx.delete(mine, kind)
        w.put_int(ROOT, "updated", now)
    return True


def take_task(doc: Doc, *, member: str, task_index: int, now: int) -> str:
    task = list(_maps_in_list(doc, _child(doc, ROOT, "tasks")))[task_index]
    with change(doc) as w:
        w.put_int(w.map_at(task, "taken"), member, now)
        w.put_int(ROOT, "updated", now)
    return _str(_scalar(doc, task, "title"))


def sign_up_shift(doc: Doc, *, member: str, shift_index: int, now: int) -> str:
    shift = list(_maps_in_list(doc, _child(doc, ROOT, "shifts")))[shift_index]
    with change(doc) as w:
        w.put_int(w.map_at(shift, "signed"), member, now)
        w.put_int(ROOT, "updated", now)
    return _str(_scalar(doc, shift, "when"))


def add_task(doc: Doc, *, title: str, now: int) -> None:
    with change(doc) as w:
        _add_task(w, w.list_at(ROOT, "tasks"), title)
        w.put_int(ROOT, "updated", now)


def add_shift(doc: Doc, *, when: str, slots: int, now: int) -> None:
    with change(doc) as w:
        _add_shift(w, w.list_at(ROOT, "shifts"), when, slots)
        w.put_int(ROOT, "updated", now)


def set_status(doc: Doc, *, status: Status, who: str, now: int) -> None:
    with change(doc) as w:
        w.put_str(ROOT, "status", status.value)
        w.put_int(ROOT, "updated", now)
        _history(w, who, f"marked {status.value}", now)


def _member_keys(doc: Doc, obj: bytes, prop: str) -> tuple[str, ...]:
    """The members keyed in the map at `prop` (who took a task, who signed up for a shift)."""
    found = _child(doc, obj, prop)
    return tuple(sorted(doc.keys(found)[:MAX_LIST_SHOWN])) if found is not None else ()


def read_item(doc: Doc, item_id: str) -> Item:
    """The whole item as a plain dataclass; tolerant of fields a peer left out or mistyped."""
    kind_value = _str(_scalar(doc, ROOT, "kind"), Kind.NOTE.value)
    kind = Kind(kind_value) if kind_value in Kind._value2member_map_ else Kind.NOTE
    status_value = _str(_scalar(doc, ROOT, "status"), Status.OPEN.value)
    status = Status(status_value) if status_value in Status._value2member_map_ else Status.OPEN
    tag_map = _child(doc, ROOT, "tags")
    tags = (
        tuple(sorted(t[:MAX_TITLE_SHOWN] for t in doc.keys(tag_map)[:MAX_TAGS_SHOWN]))
        if tag_map is not None
        else ()
    )
    replies = tuple(
        sorted(
            (
                Reply(
                    id=_str(_scalar(doc, r, "id")),
                    author=_str(_scalar(doc, r, "author")),
                    text=_str(_scalar(doc, r, "text"), limit=MAX_BODY_SHOWN),
                    time=_int(_scalar(doc, r, "time")),
                )
                for r in _maps_in_list(doc, _child(doc, ROOT, "replies"))
            ),
            key=lambda r: (r.time, r.id),
        )
    )
    responses: list[Response] = []
    for member, mine in _maps_in_map(doc, _child(doc, ROOT, "responses")):
        for response_kind, entry in _maps_in_map(doc, mine, 16):
            responses.append(
                Response(
                    member=member,
                    kind=response_kind,
                    note=_str(_scalar(doc, entry, "note"), limit=MAX_BODY_SHOWN),
                    time=_int(_scalar(doc, entry, "time")),
                )
            )
    responses.sort(key=lambda r: (r.time, r.member, r.kind))
    history = tuple(
        HistoryEntry(
            who=_str(_scalar(doc, h, "who")),
            what=_str(_scalar(doc, h, "what")),
            time=_int(_scalar(doc, h, "time")),
        )
        for h in _maps_in_list(doc, _child(doc, ROOT, "history"))
    )
    tasks = tuple(
        Task(
            id=_str(_scalar(doc, t, "id")),
            title=_str(_scalar(doc, t, "title")),
            taken_by=_member_keys(doc, t, "taken"),
            done=bool(_scalar(doc, t, "done", False)),
        )
        for t in _maps_in_list(doc, _child(doc, ROOT, "tasks"))
    )
    shifts = tuple(
        Shift(
            id=_str(_scalar(doc, s, "id")),
            when=_str(_scalar(doc, s, "when")),
            slots=_int(_scalar(doc, s, "slots"), 1),
            signed_up=_member_keys(doc, s, "signed"),
        )
        for s in _maps_in_list(doc, _child(doc, ROOT, "shifts"))
    )
    start = _scalar(doc, ROOT, "start")
    end = _scalar(doc, ROOT, "end")
    return Item(
        id=item_id,
        kind=kind,
        title=_str(_scalar(doc, ROOT, "title")),
        body=_text(doc, ROOT, "body")[:MAX_BODY_SHOWN],
        tags=tags,
        status=status,
        author=_str(_scalar(doc, ROOT, "author")),
        created=_int(_scalar(doc, ROOT, "created")),
        updated=_int(_scalar(doc, ROOT, "updated")),
        replies=replies,
        responses=tuple(responses),
        history=history,
        start=start if isinstance(start, int) else None,
        end=end if isinstance(end, int) else None,
        place=_str(_scalar(doc, ROOT, "place")),
        tasks=tasks,
        shifts=shifts,
        heads=tuple(doc.get_heads()),
    )
