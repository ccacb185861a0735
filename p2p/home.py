"""A home directory (one device's Potluck data) and the typed API for acting on its boards."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from p2p import docs
from p2p.docs import BOARD_DOC_ID
from p2p.errors import BoardNotFound, ExportError, InvalidInput, ItemNotFound
from p2p.invite import Invite, decode_invite, encode_invite
from p2p.keys import (
    DeviceIdentity,
    board_id_for,
    board_tag,
    export_key,
    load_or_create_identity,
    new_board_key,
)
from p2p.model import (
    ALLOWED_RESPONSES,
    BoardInfo,
    Item,
    ItemSummary,
    Kind,
    Member,
    ResponseKind,
    Status,
)
from p2p.store import Store, now_ms

DB_NAME = "potluck.db"
KEY_NAME = "device.key"
EXPORT_MAGIC = b"POTLUCK-EXPORT\x00\x01"
MAX_TITLE = 200
MAX_TAG = 40


class Home:
    """One device's Potluck data: its key, its database and the boards it has joined."""

    def __init__(self, path: Path, identity: DeviceIdentity, store: Store) -> None:
        self.path = path
        self.identity = identity
        self.store = store

    @classmethod
    def open(cls, path: Path | str) -> Home:
        path = Path(path).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        identity = load_or_create_identity(path / KEY_NAME)
        store = Store(path / DB_NAME, identity.actor_id)
        return cls(path, identity, store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Home:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def device_id(self) -> str:
        return self.identity.device_id

    # ------------------------------------------------------------ the person

    def display_name(self, board_id: str | None = None) -> str:
        """This device's display name (the same on every board of the home)."""
        return self.store.get_setting("name")

    def about(self) -> str:
        return self.store.get_setting("about")

    def set_profile(self, name: str | None = None, about: str | None = None) -> None:
        """Set the display name and/or the line about this person, on every board."""
        if name is not None:
            name = name.strip()
            if not name:
                raise InvalidInput("a display name cannot be empty")
            if len(name) > 60:
                raise InvalidInput("a display name can be at most 60 characters")
            self.store.set_setting("name", name)
        if about is not None:
            self.store.set_setting("about", about.strip())
        for board in self.boards():
            self.board(board.board_id).introduce()

    # ------------------------------------------------------------ boards

    def boards(self) -> list[BoardInfo]:
        return self.store.boards()

    def board(self, name_or_id: str | None = None) -> Board:
        """The board named or id'd (an id prefix works), else the last used one."""
        boards = self.boards()
        if not boards:
            raise BoardNotFound(
                "this home has no board yet: make one with 'potluck new-board NAME' "
                "or join one with 'potluck join CODE'"
            )
        if name_or_id is None:
            return Board(self, boards[0])
        wanted = name_or_id.strip()
        exact = [b for b in boards if b.board_id == wanted.lower() or b.name == wanted]
        if not exact:
            exact = [b for b in boards if b.board_id.startswith(wanted.lower())]
        if not exact:
            exact = [b for b in boards if b.name.lower() == wanted.lower()]
        if len(exact) != 1:
            names = ", ".join(f"{b.name} ({b.board_id[:8]})" for b in boards)
            what = "no board" if not exact else "several boards"
            raise BoardNotFound(f"{what} called '{wanted}' here; boards: {names}")
        return Board(self, exact[0])

    def new_board(self, name: str) -> Board:
        name = name.strip()
        if not name:
            raise InvalidInput("a board needs a name")
        key = new_board_key()
        board_id = board_id_for(key)
        self.store.add_board(board_id, key, name, [])
        self.store.update(
            board_id,
            BOARD_DOC_ID,
            lambda doc: docs.init_board(doc, name, now_ms()),
            create=True,
        )
        board = self.board(board_id)
        board.introduce()
        return board

    def join(self, code: str) -> tuple[Board, bool]:
        """Add the board an invite code names; False if this home already had it."""
        invite = decode_invite(code)
        board_id = board_id_for(invite.board_key)
        added = self.store.add_board(board_id, invite.board_key, invite.name, list(invite.hints))
        board = self.board(board_id)
        if self.display_name():
            board.introduce()
        return board, added

    # ------------------------------------------------------------ export and import

    def export_board(self, board: Board, path: Path) -> int:
        """Write the whole board, encrypted with its key, atomically; returns the document count."""
        store = self.store
        documents = {
            doc_id: store.saved_document(board.board_id, doc_id)
            for doc_id in store.document_digests(board.board_id)
        }
        payload = msgpack.packb(
            {"board": board.board_id, "name": board.name, "docs": documents}, use_bin_type=True
        )
        tag = board_tag(board.key)
        nonce = os.urandom(12)
        header = EXPORT_MAGIC + tag
        sealed = ChaCha20Poly1305(export_key(board.key)).encrypt(nonce, payload, header)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            f.write(header + nonce + sealed)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return len(documents)

    def import_board(self, path: Path) -> tuple[Board, int]:
        """Merge an export file into the board it belongs to; returns how many documents changed."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ExportError(f"cannot read {path}: {exc.strerror}") from None
        header_size = len(EXPORT_MAGIC) + 8
        if not data.startswith(EXPORT_MAGIC) or len(data) < header_size + 12 + 16:
            raise ExportError(f"{path} is not a Potluck export file")
        tag = data[len(EXPORT_MAGIC) : header_size]
        matching = [b for b in self.boards() if board_tag(b.key) == tag]
        if not matching:
            raise ExportError(
                f"{path} is an export of a board this home has not joined; "
                "join it with its invite code first"
            )
        info = matching[0]
        nonce = data[header_size : header_size + 12]
        try:
            payload = ChaCha20Poly1305(export_key(info.key)).decrypt(
                nonce, data[header_size + 12 :], data[:header_size]
            )
        except InvalidTag:
            raise ExportError(f"{path} is damaged or cut short; nothing was imported") from None
        content = msgpack.unpackb(payload, raw=False)
        documents = content.get("docs") if isinstance(content, dict) else None
        if not isinstance(documents, dict) or content.get("board") != info.board_id:
            raise ExportError(f"{path} is damaged; nothing was imported")
        wanted = [
            (d, s) for d, s in documents.items() if isinstance(d, str) and isinstance(s, bytes)
        ]
        changed, damaged = self.store.apply_saved_documents(info.board_id, wanted)
        if damaged is not None:
            raise damaged
        return Board(self, self.store.board_info(info.board_id)), len(changed)


@dataclass
class Board:
    """One board as seen from this home: every action commits before it returns."""

    home: Home
    info: BoardInfo
    _members: dict[str, Member] | None = field(default=None, repr=False)

    @property
    def board_id(self) -> str:
        return self.info.board_id

    @property
    def key(self) -> bytes:
        return self.info.key

    @property
    def name(self) -> str:
        return self.home.store.board_info(self.board_id).name

    @property
    def me(self) -> str:
        return self.home.device_id

    def invite(self, hints: list[tuple[str, int]] | None = None) -> str:
        return encode_invite(Invite(self.key, self.name, tuple(hints or ())))

    def introduce(self) -> None:
        """Write this device's display name and about line into the board document."""
        name = self.home.display_name()
        if not name:
            return
        about = self.home.about()
        current = self.members().get(self.me)
        if current is not None and current.name == name and current.about == about:
            return
        self.home.store.update(
            self.board_id,
            BOARD_DOC_ID,
            lambda doc: docs.set_member(doc, self.me, name, about, now_ms()),
            create=True,
        )

    def members(self) -> dict[str, Member]:
        return self.home.store.members(self.board_id)

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
        return self.home.store.list_items(
            self.board_id,
            kind=kind,
            status=status,
            tag=tag,
            search=search,
            limit=limit,
            offset=offset,
        )

    def resolve(self, id_or_prefix: str) -> str:
        return self.home.store.resolve_item(self.board_id, id_or_prefix)

    def item(self, id_or_prefix: str) -> Item:
        return self.home.store.read_item(self.board_id, self.resolve(id_or_prefix))

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
        if start is not None and end is not None and end < start:
            raise InvalidInput("an event cannot end before it starts")
        item_id = docs.new_id()
        self.introduce()
        self.home.store.update(
            self.board_id,
            item_id,
            lambda doc: docs.init_item(
                doc,
                kind=kind,
                title=title,
                body=body,
                tags=clean_tags,
                author=self.me,
                now=now_ms(),
                start=start,
                end=end,
                place=place,
                tasks=[t.strip() for t in tasks or [] if t.strip()],
                shifts=shifts or [],
            ),
            create=True,
        )
        return item_id

    def _update(self, item_id: str, mutate: object) -> None:
        self.home.store.update(self.board_id, item_id, mutate)  # type: ignore[arg-type]

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
        new_title = _check_title(title) if title is not None else None
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
            lambda doc: docs.edit_item(
                doc,
                who=self.me,
                now=now_ms(),
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

    def reply(self, id_or_prefix: str, text: str) -> str:
        if not text.strip():
            raise InvalidInput("a reply cannot be empty")
        item_id = self.resolve(id_or_prefix)
        self.introduce()
        result: list[str] = []
        self._update(
            item_id,
            lambda doc: result.append(
                docs.add_reply(doc, author=self.me, text=text.strip(), now=now_ms())
            ),
        )
        return result[0]

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
        if kind is ResponseKind.BLOCK and not note.strip():
            raise InvalidInput("a block needs a reason: add --note")
        self.introduce()
        now = now_ms()
        if kind is ResponseKind.TASK:
            index = _pick(
                [t for t in item.tasks], which, lambda t: not t.taken_by and not t.done, "task"
            )
            titles: list[str] = []
            self._update(
                item.id,
                lambda doc: titles.append(
                    docs.take_task(doc, member=self.me, task_index=index, now=now)
                ),
            )
            return f"you took the task '{titles[0]}'"
        if kind is ResponseKind.SHIFT:
            index = _pick(
                list(item.shifts),
                which,
                lambda s: self.me not in s.signed_up and len(s.signed_up) < s.slots,
                "shift",
            )
            whens: list[str] = []
            self._update(
                item.id,
                lambda doc: whens.append(
                    docs.sign_up_shift(doc, member=self.me, shift_index=index, now=now)
                ),
            )
            return f"you signed up for the shift '{whens[0]}'"

        def record(doc: docs.Doc) -> None:
            if kind in (
                ResponseKind.AGREE,
                ResponseKind.CONCERN,
                ResponseKind.STAND_ASIDE,
                ResponseKind.BLOCK,
            ):
                for other in allowed:
                    if other is not kind:
                        docs.withdraw_response(doc, member=self.me, kind=other.value, now=now)
            docs.set_response(doc, member=self.me, kind=kind.value, note=note.strip(), now=now)

        self._update(item.id, record)
        return f"your response '{kind.value}' is recorded"

    def set_status(self, id_or_prefix: str, status: Status) -> str:
        item_id = self.resolve(id_or_prefix)
        self.introduce()
        self._update(
            item_id, lambda doc: docs.set_status(doc, status=status, who=self.me, now=now_ms())
        )
        return item_id


def _pick(options: list, which: int | None, available: object, what: str) -> int:
    """The 0-based index of the task or shift chosen (1-based `which`), or the first free one."""
    if not options:
        raise InvalidInput(f"this project has no {what}s yet")
    if which is not None:
        if not 1 <= which <= len(options):
            raise InvalidInput(f"there is no {what} {which}; choose 1 to {len(options)}")
        if not available(options[which - 1]):  # type: ignore[operator]
            raise InvalidInput(f"{what} {which} is already taken or full")
        return which - 1
    for index, option in enumerate(options):
        if available(option):  # type: ignore[operator]
            return index
    raise ItemNotFound(f"every {what} of this project is taken or full")


def _check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("a title cannot be empty")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"a title can be at most {MAX_TITLE} characters")
    return title


def _check_tags(tags: list[str]) -> list[str]:
    clean = []
    for tag in tags:
        tag = tag.strip().lstrip("#").lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG or any(c.isspace() for c in tag):
            raise InvalidInput(f"'{tag}' is not a tag: one word, at most {MAX_TAG} characters")
        clean.append(tag)
    return clean
