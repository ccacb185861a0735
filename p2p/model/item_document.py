"""Item documents: one per need, offer, project, event, proposal or note, with its thread."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .automerge import ROOT, Document, Writer, actor_of
from .measure import MAX_BODY_SHOWN, MAX_LIST_SHOWN, MAX_TAGS_SHOWN, MAX_TITLE_SHOWN
from .reading import as_int, as_str, maps_in_list, maps_in_map
from .types import HistoryEntry, Item, Kind, Reply, Response, Shift, Status, Task

TASK_PREFIX = "task:"
"""A response `task:<task id>`: the member took that task."""
DONE_PREFIX = "done:"
"""A response `done:<task id>`: a taker marked it done."""
SHIFT_PREFIX = "shift:"
"""A response `shift:<shift id>:<YYYY-MM-DD>` or `shift:<shift id>:every`: signed up."""
SKIP_PREFIX = "skip:"
MAX_RESPONSES_SHOWN = 16
"""Responses of one member read (positions and the like: a handful)."""
COMMITMENTS = (TASK_PREFIX, DONE_PREFIX, SHIFT_PREFIX, SKIP_PREFIX)
"""Response kinds that are commitments to a task or shift, read into those, not responses."""


def new_id() -> str:
    """A random 128-bit id, as 32 hex characters."""
    return os.urandom(16).hex()


def init_item(
    doc: Document,
    *,
    kind: Kind,
    title: str,
    body: str,
    tags: Sequence[str],
    now: int,
    start: int | None = None,
    end: int | None = None,
    place: str = "",
    tasks: Sequence[str] = (),
    shifts: Sequence[tuple[str, int]] = (),
) -> None:
    with doc.change() as w:
        w.put_str(ROOT, "kind", kind.value)
        w.put_str(ROOT, "title", title)
        w.set_text(ROOT, "body", body)
        tag_map = w.map_at(ROOT, "tags")
        for tag in tags:
            w.put_bool(tag_map, tag, True)
        w.put_str(ROOT, "status", Status.OPEN.value)
        w.put_int(ROOT, "created", now)
        w.put_int(ROOT, "updated", now)
        w.list_at(ROOT, "replies")
        w.map_at(ROOT, "responses")
        if kind is Kind.EVENT:
            if start is not None:
                w.put_int(ROOT, "start", start)
            if end is not None:
                w.put_int(ROOT, "end", end)
            w.put_str(ROOT, "place", place)
        if kind is Kind.PROJECT:
            task_list = w.list_at(ROOT, "tasks")
            for task_title in tasks:
                _add_task(w, task_list, task_title)
            shift_list = w.list_at(ROOT, "shifts")
            for when, slots in shifts:
                _add_shift(w, shift_list, when, slots)


def _add_task(w: Writer, task_list: bytes, title: str) -> None:
    task = w.append_map(task_list)
    w.put_str(task, "id", new_id()[:8])
    w.put_str(task, "title", title)
    w.put_bool(task, "done", False)


def _add_shift(w: Writer, shift_list: bytes, when: str, slots: int) -> None:
    shift = w.append_map(shift_list)
    w.put_str(shift, "id", new_id()[:8])
    w.put_str(shift, "when", when)
    w.put_int(shift, "slots", slots)


def edit_item(
    doc: Document,
    *,
    now: int,
    title: str | None = None,
    body: str | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    start: int | None = None,
    end: int | None = None,
    place: str | None = None,
    clear_end: bool = False,
    body_from: list[bytes] | None = None,
) -> None:
    """`body_from`: the heads the new body was written from; the edit is made there and
    merged, so text that peers added since is kept rather than diffed away."""
    if body is not None and body_from:
        doc.edit_text_from(body_from, ROOT, "body", body)
        body = None
    with doc.change() as w:
        if title is not None:
            w.put_str(ROOT, "title", title)
        if body is not None:
            w.set_text(ROOT, "body", body)
        if add_tags or remove_tags:
            tag_map = w.map_at(ROOT, "tags")
            for tag in add_tags:
                w.put_bool(tag_map, tag, True)
            for tag in remove_tags:
                if w.has(tag_map, tag):
                    w.delete(tag_map, tag)
        if start is not None:
            w.put_int(ROOT, "start", start)
        if end is not None:
            w.put_int(ROOT, "end", end)
        elif clear_end and w.has(ROOT, "end"):
            w.delete(ROOT, "end")
        if place is not None:
            w.put_str(ROOT, "place", place)
        w.put_int(ROOT, "updated", now)


def add_reply(doc: Document, *, text: str, now: int) -> str:
    """A reply is a map in `replies`; whoever made the map is its writer."""
    reply_id = new_id()[:12]
    with doc.change() as w:
        reply = w.append_map(w.list_at(ROOT, "replies"))
        w.put_str(reply, "id", reply_id)
        w.put_str(reply, "text", text)
        w.put_int(reply, "time", now)
        w.put_int(ROOT, "updated", now)
    return reply_id


def set_response(doc: Document, *, member: str, kind: str, note: str, now: int) -> None:
    """A member's response; one per member and kind, so 'coming' and 'I'll bring' coexist."""
    with doc.change() as w:
        responses = w.map_at(ROOT, "responses")
        mine = w.map_at(responses, member)
        entry = w.map_at(mine, kind)
        w.put_str(entry, "note", note)
        w.put_int(entry, "time", now)
        w.put_int(ROOT, "updated", now)


def withdraw_response(doc: Document, *, member: str, kind: str, now: int) -> bool:
    mine = doc.child(doc.child(ROOT, "responses"), member)
    if mine is None or doc.child(mine, kind) is None:
        return False
    with doc.change() as w:
        w.delete(mine, kind)
        w.put_int(ROOT, "updated", now)
    return True


def take_task(doc: Document, *, member: str, task_index: int, now: int) -> str:
    """Taking a task is the member's response `task:<task id>`: only they write it."""
    task = list(maps_in_list(doc, doc.child(ROOT, "tasks")))[task_index]
    kind = TASK_PREFIX + as_str(doc.scalar(task, "id"))
    set_response(doc, member=member, kind=kind, note="", now=now)
    return as_str(doc.scalar(task, "title"))


def sign_up_shift(doc: Document, *, member: str, shift_index: int, now: int) -> str:
    """A standing sign-up is the member's response `shift:<shift id>:every`."""
    shift = list(maps_in_list(doc, doc.child(ROOT, "shifts")))[shift_index]
    kind = f"{SHIFT_PREFIX}{as_str(doc.scalar(shift, 'id'))}:every"
    set_response(doc, member=member, kind=kind, note="", now=now)
    return as_str(doc.scalar(shift, "when"))


def add_task(doc: Document, *, title: str, now: int) -> None:
    with doc.change() as w:
        _add_task(w, w.list_at(ROOT, "tasks"), title)
        w.put_int(ROOT, "updated", now)


def add_shift(doc: Document, *, when: str, slots: int, now: int) -> None:
    with doc.change() as w:
        _add_shift(w, w.list_at(ROOT, "shifts"), when, slots)
        w.put_int(ROOT, "updated", now)


def set_status(doc: Document, *, status: Status, now: int) -> None:
    """Who marked it is the change's signer: the history shows it."""
    with doc.change() as w:
        w.put_str(ROOT, "status", status.value)
        w.put_int(ROOT, "updated", now)


def item_kind(doc: Document) -> Kind | None:
    """The item's kind, or None for a kind this version does not know (a reader skips it)."""
    value = doc.scalar(ROOT, "kind")
    return Kind(value) if isinstance(value, str) and value in Kind._value2member_map_ else None


def author_of(doc: Document) -> str:
    """The author: the device whose genesis wrote `kind` (nothing else may write it)."""
    return doc.writer(ROOT, "kind").hex()


def read_item(doc: Document, item_id: str, history: Sequence[HistoryEntry] = ()) -> Item:
    """The whole item as a plain dataclass; tolerant of fields a peer left out or mistyped.

    Every "who" comes from the operations that wrote it, never from a field: the author is the
    device of the genesis, a reply's writer the device that made its map, a response's member
    the key the rules let only that device write (an entry another device made is skipped).
    `history` is what the signed changes did after the genesis (the store keeps it); the
    genesis itself is "posted"."""
    kind = item_kind(doc) or Kind.NOTE
    author = author_of(doc)
    status_value = as_str(doc.scalar(ROOT, "status"), Status.OPEN.value)
    status = Status(status_value) if status_value in Status._value2member_map_ else Status.OPEN
    tag_map = doc.child(ROOT, "tags")
    tags = (
        tuple(sorted(t[:MAX_TITLE_SHOWN] for t in doc.keys(tag_map)[:MAX_TAGS_SHOWN]))
        if tag_map is not None
        else ()
    )
    replies = tuple(
        sorted(
            (
                Reply(
                    id=as_str(doc.scalar(r, "id")),
                    author=actor_of(r).hex(),
                    text=as_str(doc.scalar(r, "text"), limit=MAX_BODY_SHOWN),
                    time=as_int(doc.scalar(r, "time")),
                )
                for r in maps_in_list(doc, doc.child(ROOT, "replies"))
            ),
            key=lambda r: (r.time, r.id),
        )
    )
    responses: list[Response] = []
    commitments: dict[str, set[str]] = {}
    for member, mine in maps_in_map(doc, doc.child(ROOT, "responses")):
        if actor_of(mine).hex() != member:
            continue  # not made by that member's device (the rules refuse such a change)
        shown = 0
        for response_kind, entry in maps_in_map(doc, mine, MAX_LIST_SHOWN):
            if response_kind.startswith(COMMITMENTS):
                commitments.setdefault(response_kind, set()).add(member)
                continue
            shown += 1
            if shown > MAX_RESPONSES_SHOWN:
                continue
            responses.append(
                Response(
                    member=member,
                    kind=response_kind,
                    note=as_str(doc.scalar(entry, "note"), limit=MAX_BODY_SHOWN),
                    time=as_int(doc.scalar(entry, "time")),
                )
            )
    responses.sort(key=lambda r: (r.time, r.member, r.kind))

    tasks = []
    for t in maps_in_list(doc, doc.child(ROOT, "tasks")):
        task_id = as_str(doc.scalar(t, "id"))
        tasks.append(
            Task(
                id=task_id,
                title=as_str(doc.scalar(t, "title")),
                taken_by=tuple(sorted(commitments.get(TASK_PREFIX + task_id, ()))),
                done=bool(doc.scalar(t, "done")) or bool(commitments.get(DONE_PREFIX + task_id)),
            )
        )
    shifts = []
    for s in maps_in_list(doc, doc.child(ROOT, "shifts")):
        shift_id = as_str(doc.scalar(s, "id"))
        shifts.append(
            Shift(
                id=shift_id,
                when=as_str(doc.scalar(s, "when")),
                slots=as_int(doc.scalar(s, "slots"), 1),
                signed_up=commitments_of(commitments, f"{SHIFT_PREFIX}{shift_id}:"),
            )
        )
    created = as_int(doc.scalar(ROOT, "created"))
    entries = (HistoryEntry(who=author, what="posted", time=created), *history)
    start = doc.scalar(ROOT, "start")
    end = doc.scalar(ROOT, "end")
    return Item(
        id=item_id,
        kind=kind,
        title=as_str(doc.scalar(ROOT, "title")),
        body=doc.text(ROOT, "body")[:MAX_BODY_SHOWN],
        tags=tags,
        status=status,
        author=author,
        created=created,
        updated=as_int(doc.scalar(ROOT, "updated")),
        replies=replies,
        responses=tuple(responses),
        history=entries[:MAX_LIST_SHOWN],
        start=start if isinstance(start, int) and not isinstance(start, bool) else None,
        end=end if isinstance(end, int) and not isinstance(end, bool) else None,
        place=as_str(doc.scalar(ROOT, "place")),
        tasks=tuple(tasks),
        shifts=tuple(shifts),
        heads=tuple(doc.heads()),
    )


def commitments_of(commitments: dict[str, set[str]], prefix: str) -> tuple[str, ...]:
    """The members whose commitment starts with `prefix` (a task taken, a shift), sorted."""
    found: set[str] = set()
    for key, members in commitments.items():
        if key.startswith(prefix):
            found |= members
    return tuple(sorted(found))
