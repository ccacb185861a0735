"""One board as seen from a home: the typed API every screen and command acts through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from . import clock
from .errors import InvalidInput, ItemNotFound
from .invite import Invite, encode_invite
from .model import item_document as items
from .model import text
from .model.automerge import Document
from .model.board_document import BOARD_DOC_ID, set_member
from .model.item_document import new_id
from .model.types import (
    ALLOWED_RESPONSES,
    POSITIONS,
    BoardInfo,
    Item,
    ItemSummary,
    Kind,
    Member,
    ResponseKind,
    Status,
)

if TYPE_CHECKING:
    from .home import Home

T = TypeVar("T")
MAX_TITLE = 200
"""Characters of a title, a place, a task or a shift label (what every peer shows of them)."""
MAX_TAG = 40
MAX_NOTE = 1_000
"""Characters of a response's note: one line, e.g. what you bring or your reason."""
MAX_SLOTS = 1_000
"""People one shift can ask for."""


@dataclass
class Board:
    """One board as seen from this home: every action commits before it returns."""

    home: Home
    info: BoardInfo

    @property
    def board_id(self) -> str:
        return self.info.board_id

    @property
    def key(self) -> bytes:
        return self.info.key

    @property
    def name(self) -> str:
        return self.home.store.boards.info(self.board_id).name

    @property
    def me(self) -> str:
        return self.home.device_id

    def invite(self, hints: list[tuple[str, int]] | None = None) -> str:
        return encode_invite(Invite(self.key, self.name, tuple(hints or ())))

    def introduce(self) -> None:
        """Write this device's display name and about line into the board document.

        Only once this home holds the board document: its first change is the board's maker's
        (a second first change would be refused by every peer), so a device that joined waits
        for it to arrive; the node introduces it then."""
        name = self.home.display_name()
        if not name:
            return
        about = self.home.about()
        current = self.members().get(self.me)
        if current is not None and current.name == name and current.about == about:
            return
        documents = self.home.store.documents
        if documents.digest(self.board_id, BOARD_DOC_ID) is None:
            return
        documents.update(
            self.board_id,
            BOARD_DOC_ID,
            lambda doc: set_member(doc, self.me, name, about, clock.now_ms()),
        )

    def members(self) -> dict[str, Member]:
        return self.home.store.index.members(self.board_id)

    def member_name(self, device_id: str) -> str:
        member = self.members().get(device_id)
        return member.name if member and member.name else f"device {device_id[:6]}"

    # ------------------------------------------------------------ reading

    def items(
        self,
        *,
        kind: Kind | None = None,
        status: Status | None = None,
        tag: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ItemSummary]:
        return self.home.store.index.list_items(
            self.board_id,
            kind=kind,
            status=status,
            tag=tag,
            search=search,
            limit=limit,
            offset=offset,
        )

    def resolve(self, id_or_prefix: str) -> str:
        return self.home.store.index.resolve_item(self.board_id, id_or_prefix)

    def item(self, id_or_prefix: str) -> Item:
        return self.home.store.documents.read_item(self.board_id, self.resolve(id_or_prefix))

    # ------------------------------------------------------------ writing

    def post(
        self,
        kind: Kind,
        title: str,
        *,
        body: str = "",
        tags: list[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        place: str = "",
        tasks: list[str] | None = None,
        shifts: list[tuple[str, int]] | None = None,
    ) -> str:
        title = _check_title(title)
        clean_tags = _check_tags(tags or [])
        body = text.lines(body, "the text")
        place = text.one_line(place, "a place", MAX_TITLE)
        clean_tasks = [text.one_line(t, "a task", MAX_TITLE) for t in tasks or []]
        clean_shifts = [_check_shift(label, slots) for label, slots in shifts or []]
        if start is not None and end is not None and end < start:
            raise InvalidInput("an event cannot end before it starts")
        item_id = new_id()
        self.introduce()
        self.home.store.documents.update(
            self.board_id,
            item_id,
            lambda doc: items.init_item(
                doc,
                kind=kind,
                title=title,
                body=body,
                tags=clean_tags,
                now=clock.now_ms(),
                start=start,
                end=end,
                place=place,
                tasks=[t for t in clean_tasks if t],
                shifts=clean_shifts,
            ),
            create=True,
        )
        return item_id

    def _update(self, item_id: str, mutate: Callable[[Document], T]) -> T:
        return self.home.store.documents.update(self.board_id, item_id, mutate)

    def edit(
        self,
        id_or_prefix: str,
        *,
        title: str | None = None,
        body: str | None = None,
        add_tags: list[str] | None = None,
        remove_tags: list[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        place: str | None = None,
        clear_end: bool = False,
        body_from: tuple[bytes, ...] = (),
    ) -> str:
        """Edit an item's own text (and an event's time and place): its author does that, and
        everyone for a note (a shared text written together); everyone can reply and respond.
        `clear_end` removes an event's end time. `body_from` is `Item.heads` of the item the
        new body was written from: what others added since is kept."""
        item = self.item(id_or_prefix)
        if item.author != self.me and item.kind is not Kind.NOTE:
            raise InvalidInput(
                f"only {self.member_name(item.author)} can edit this item's text; "
                "you can reply to it instead"
            )
        new_title = _check_title(title, already=item.title) if title is not None else None
        if body is not None:
            body = text.lines(body, "the text", already=item.body)
        if place is not None:
            place = text.one_line(place, "a place", MAX_TITLE, already=item.place)
        if item.kind is not Kind.EVENT and (
            start is not None or end is not None or place is not None or clear_end
        ):
            raise InvalidInput("only events have a start, an end and a place")
        final_start = item.start if start is None else start
        final_end = None if clear_end else (item.end if end is None else end)
        if final_start is not None and final_end is not None and final_end < final_start:
            raise InvalidInput("an event cannot end before it starts")
        self._update(
            item.id,
            lambda doc: items.edit_item(
                doc,
                now=clock.now_ms(),
                title=new_title,
                body=body,
                add_tags=_check_tags(add_tags or []),
                remove_tags=remove_tags or [],
                start=start,
                end=None if clear_end else end,
                place=place,
                clear_end=clear_end,
                body_from=list(body_from),
            ),
        )
        return item.id

    def reply(self, id_or_prefix: str, words: str) -> str:
        words = text.lines(words, "a reply").strip()
        if not words:
            raise InvalidInput("a reply cannot be empty")
        item_id = self.resolve(id_or_prefix)
        self.introduce()
        return self._update(
            item_id,
            lambda doc: items.add_reply(doc, text=words, now=clock.now_ms()),
        )

    def respond(
        self,
        id_or_prefix: str,
        kind: ResponseKind | None = None,
        note: str = "",
        which: int | None = None,
    ) -> str:
        """Respond as this member; returns a sentence saying what was recorded."""
        item = self.item(id_or_prefix)
        allowed = ALLOWED_RESPONSES[item.kind]
        if not allowed:
            raise InvalidInput(f"a {item.kind.value} takes replies, not responses")
        kind = kind or allowed[0]
        if kind not in allowed:
            choices = ", ".join(k.value for k in allowed)
            raise InvalidInput(f"a {item.kind.value} takes these responses: {choices}")
        note = text.one_line(note, "a note", MAX_NOTE)
        if kind is ResponseKind.BLOCK and not note:
            raise InvalidInput("a block needs a reason: add --note")
        self.introduce()
        now = clock.now_ms()
        if kind is ResponseKind.TASK:
            index = _pick(item.tasks, which, lambda t: not t.taken_by and not t.done, "task")
            title = self._update(
                item.id, lambda doc: items.take_task(doc, member=self.me, task_index=index, now=now)
            )
            return f"you took the task '{title}'"
        if kind is ResponseKind.SHIFT:
            index = _pick(
                item.shifts,
                which,
                lambda s: self.me not in s.signed_up and len(s.signed_up) < s.slots,
                "shift",
            )
            when = self._update(
                item.id,
                lambda doc: items.sign_up_shift(doc, member=self.me, shift_index=index, now=now),
            )
            return f"you signed up for the shift '{when}'"

        def record(doc: Document) -> None:
            if kind in POSITIONS:
                for other in allowed:
                    if other is not kind:
                        items.withdraw_response(doc, member=self.me, kind=other.value, now=now)
            items.set_response(doc, member=self.me, kind=kind.value, note=note, now=now)

        self._update(item.id, record)
        return f"your response '{kind.value}' is recorded"

    def set_status(self, id_or_prefix: str, status: Status) -> str:
        """Anyone marks an item open, met or closed (the history says who); only its author
        withdraws it, or brings it back."""
        item = self.item(id_or_prefix)
        item_id = item.id
        if item.author != self.me and Status.WITHDRAWN in (status, item.status):
            raise InvalidInput(
                f"only {self.member_name(item.author)} can withdraw this item or bring it back"
            )
        self.introduce()
        self._update(
            item_id,
            lambda doc: items.set_status(doc, status=status, now=clock.now_ms()),
        )
        return item_id


def _pick(
    options: Sequence[T], which: int | None, available: Callable[[T], bool], what: str
) -> int:
    """The 0-based index of the task or shift chosen (1-based `which`), or the first free one."""
    if not options:
        raise InvalidInput(f"this project has no {what}s yet")
    if which is not None:
        if not 1 <= which <= len(options):
            raise InvalidInput(f"there is no {what} {which}; choose 1 to {len(options)}")
        if not available(options[which - 1]):
            raise InvalidInput(f"{what} {which} is already taken or full")
        return which - 1
    for index, option in enumerate(options):
        if available(option):
            return index
    raise ItemNotFound(f"every {what} of this project is taken or full")


def _check_title(title: str, already: str = "") -> str:
    title = text.one_line(title, "a title", MAX_TITLE, already=already)
    if not title:
        raise InvalidInput("a title cannot be empty")
    return title


def _check_tags(tags: Sequence[str]) -> list[str]:
    clean = []
    for tag in tags:
        text.one_line(tag, "a tag", len(tag))
        tag = tag.strip().lstrip("#").lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG or any(c.isspace() for c in tag):
            raise InvalidInput(f"'{tag}' is not a tag: one word, at most {MAX_TAG} characters")
        clean.append(tag)
    return clean


def _check_shift(label: str, slots: int) -> tuple[str, int]:
    label = text.one_line(label, "a shift", MAX_TITLE)
    if not label:
        raise InvalidInput("a shift needs a day and time, e.g. 'Tuesdays 18:00'")
    if not 1 <= slots <= MAX_SLOTS:
        raise InvalidInput(f"a shift asks for 1 to {MAX_SLOTS} people, not {slots}")
    return label, slots
