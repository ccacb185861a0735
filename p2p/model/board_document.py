"""The board document: the board's name and its members, each written by their own device."""

from __future__ import annotations

from .automerge import ROOT, Document, actor_of
from .measure import MAX_BODY_SHOWN
from .reading import as_int, as_str, maps_in_map
from .types import Member

BOARD_DOC_ID = "board"
MEMBER_PREFIX = "member:"
MAX_MEMBERS = 10_000
"""Member entries of a board document that are read (a board has far fewer people)."""


def init_board(doc: Document, name: str, created: int) -> None:
    """Only the board's creator runs this; joiners add just their own member entry."""
    with doc.change() as w:
        w.put_str(ROOT, "name", name)
        w.put_int(ROOT, "created", created)
        w.map_at(ROOT, "settings")


def set_member(doc: Document, device_id: str, name: str, about: str, now: int) -> None:
    """Members are root keys `member:<device id>`: each device writes only its own key, so two
    devices that start their copies apart never create rival `members` maps."""
    with doc.change() as w:
        member = w.map_at(ROOT, MEMBER_PREFIX + device_id)
        if doc.scalar(member, "name") != name:
            w.put_str(member, "name", name)
        if doc.scalar(member, "about") != about:
            w.put_str(member, "about", about)
        w.put_int(member, "updated", now)


def read_board(doc: Document) -> tuple[str, int, dict[str, Member]]:
    """The board's name, when it was made, and its members by device id (each entry as the
    device whose id is its key made it: the rules let no other write it)."""
    name = as_str(doc.scalar(ROOT, "name"))
    created = as_int(doc.scalar(ROOT, "created"))
    members: dict[str, Member] = {}
    for key, obj in maps_in_map(doc, ROOT, MAX_MEMBERS):
        if not key.startswith(MEMBER_PREFIX):
            continue
        device_id = key[len(MEMBER_PREFIX) :][:64]
        if actor_of(obj).hex() != device_id:
            continue  # not made by that device (the rules refuse such a change)
        members[device_id] = Member(
            device_id=device_id,
            name=as_str(doc.scalar(obj, "name")),
            about=as_str(doc.scalar(obj, "about"), limit=MAX_BODY_SHOWN),
        )
    return name, created, members
