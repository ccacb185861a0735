"""Item documents: one per need, offer, project, event, proposal or note, with its thread."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .. import clock
from .automerge import ROOT, Document, ObjectId, Scalar, actor_of
from .measure import MAX_BODY_SHOWN, MAX_LIST_SHOWN, MAX_TAGS_SHOWN, MAX_TITLE_SHOWN
from .reading import as_int, as_str, maps_in_list, maps_in_map
from .rota import ShiftFields, read_shifts
from .rota import add_shift as _add_shift
from .tasks import add_task as _add_task
from .tasks import read_tasks
from .types import HistoryEntry, Item, Kind, Reply, Response, Status

MAX_RESPONSES_READ = 10_000
"""Responses read from one item, all members together (a year of weekly sign-ups by fifty
people fits; a member's device gone bad cannot make every read of the item slow)."""


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
    shifts: Sequence[ShiftFields] = (),
    decide_by: int | None = None,
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
            w.list_at(ROOT, "tasks")
            for task_title in tasks:
                _add_task(w, new_id()[:8], task_title)
            w.list_at(ROOT, "shifts")
            for shift in shifts:
                _add_shift(w, shift)
        if kind is Kind.PROPOSAL and decide_by is not None:
            w.put_int(ROOT, "decide_by", decide_by)


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
    decide_by: int | None = None,
) -> None:
    """`body_from`: the heads the new body was written from. The person's edit is taken
    against the text as it was there and applied to the text as it is now, so what others
    wrote since is kept (no fork of the history: see Writer.rebase_text)."""
    if body is not None and body_from:
        doc.check_version(body_from)
    with doc.change() as w:
        if title is not None:
            w.put_str(ROOT, "title", title)
        if body is not None:
            w.rebase_text(ROOT, "body", body_from or [], body)
        if decide_by is not None:
            w.put_int(ROOT, "decide_by", decide_by)
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


def set_status(doc: Document, *, status: Status, now: int) -> None:
    """Who marked it is the change's signer: the history shows it."""
    with doc.change() as w:
        w.put_str(ROOT, "status", status.value)
        w.put_int(ROOT, "updated", now)


def item_kind(doc: Document) -> Kind | None:
    """The item's kind, or None for a kind this version does not know (a reader skips it)."""
    return _kind(doc.scalar(ROOT, "kind"))


def _kind(value: Scalar) -> Kind | None:
    return Kind(value) if isinstance(value, str) and value in Kind._value2member_map_ else None


def _reply(doc: Document, obj: ObjectId) -> Reply:
    """A reply, its writer the device that made its map."""
    fields = doc.fields(obj)
    return Reply(
        id=as_str(fields.scalar("id")),
        author=actor_of(obj).hex(),
        text=as_str(fields.scalar("text"), limit=MAX_BODY_SHOWN),
        time=as_int(fields.scalar("time")),
    )


def _when(reply: Reply) -> tuple[int, str]:
    return reply.time, reply.id


def read_item(
    doc: Document, item_id: str, history: Sequence[HistoryEntry] = (), *, structures: bool = True
) -> Item:
    """The whole item as a plain dataclass; tolerant of fields a peer left out or mistyped.

    Every "who" comes from the operations that wrote it, never from a field: the author is the
    device of the genesis, a reply's writer the device that made its map, a response's member
    the key the rules let only that device write (an entry another device made is skipped).
    `history` is what the signed changes did after the genesis (the store keeps it); the
    genesis itself is "posted". Without `structures`, its tasks and shifts are left out (the
    index holds neither)."""
    root = doc.fields(ROOT)
    kind = _kind(root.scalar("kind")) or Kind.NOTE
    author = root.writer("kind").hex()  # the genesis wrote `kind`, and nothing else may
    status_value = as_str(root.scalar("status"), Status.OPEN.value)
    status = Status(status_value) if status_value in Status._value2member_map_ else Status.OPEN
    tag_map = root.child("tags")
    tags = (
        tuple(sorted(t[:MAX_TITLE_SHOWN] for t in doc.keys(tag_map)[:MAX_TAGS_SHOWN]))
        if tag_map is not None
        else ()
    )
    replies = tuple(
        sorted((_reply(doc, r) for r in maps_in_list(doc, root.child("replies"))), key=_when)
    )
    responses: list[Response] = []
    budget = MAX_RESPONSES_READ
    for member, mine in maps_in_map(doc, root.child("responses")):
        if actor_of(mine).hex() != member:
            continue  # not made by that member's device (the rules refuse such a change)
        for response_kind, entry in maps_in_map(doc, mine, min(MAX_LIST_SHOWN, budget)):
            budget -= 1
            responses.append(
                Response(
                    member=member,
                    kind=response_kind,
                    note=as_str(doc.scalar(entry, "note"), limit=MAX_BODY_SHOWN),
                    time=as_int(doc.scalar(entry, "time")),
                )
            )
    responses.sort(key=lambda r: (r.time, r.member, r.kind))
    created = as_int(root.scalar("created"))
    entries = (HistoryEntry(who=author, what="posted", time=created), *history)
    tasks = read_tasks(doc, responses) if structures else ()
    shifts = read_shifts(doc, responses, clock.local_now()) if structures else ()
    start = root.scalar("start")
    end = root.scalar("end")
    decide_by = root.scalar("decide_by")
    return Item(
        id=item_id,
        kind=kind,
        title=as_str(root.scalar("title")),
        body=root.text("body")[:MAX_BODY_SHOWN],
        tags=tags,
        status=status,
        author=author,
        created=created,
        updated=as_int(root.scalar("updated")),
        replies=replies,
        responses=tuple(responses),
        history=entries[:MAX_LIST_SHOWN],
        start=start if isinstance(start, int) and not isinstance(start, bool) else None,
        end=end if isinstance(end, int) and not isinstance(end, bool) else None,
        place=as_str(root.scalar("place")),
        tasks=tasks,
        shifts=shifts,
        decide_by=decide_by
        if isinstance(decide_by, int) and not isinstance(decide_by, bool)
        else None,
        heads=tuple(doc.heads()),
    )
