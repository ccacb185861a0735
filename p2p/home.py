"""A home: one device's Potluck data (its key, its database, the boards it has joined)."""

from __future__ import annotations

from pathlib import Path

from . import clock, exports
from .board import Board
from .errors import BoardNotFound, InvalidInput
from .invite import decode_invite
from .keys import DeviceIdentity, board_id_for, load_or_create_identity, new_board_key
from .model.board_document import BOARD_DOC_ID, init_board
from .model.types import BoardInfo
from .storage.store import Store

DB_NAME = "potluck.db"
KEY_NAME = "device.key"
MAX_NAME = 60


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
        store = Store(path / DB_NAME, identity)
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

    def display_name(self) -> str:
        """This device's display name (the same on every board of the home)."""
        return self.store.db.setting("name")

    def about(self) -> str:
        return self.store.db.setting("about")

    def set_profile(self, name: str | None = None, about: str | None = None) -> None:
        """Set the display name and/or the line about this person, on every board."""
        if name is not None:
            name = name.strip()
            if not name:
                raise InvalidInput("a display name cannot be empty")
            if len(name) > MAX_NAME:
                raise InvalidInput(f"a display name can be at most {MAX_NAME} characters")
            self.store.db.set_setting("name", name)
        if about is not None:
            self.store.db.set_setting("about", about.strip())
        for board in self.boards():
            self.board(board.board_id).introduce()

    # ------------------------------------------------------------ boards

    def boards(self) -> list[BoardInfo]:
        return self.store.boards.all()

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
        self.store.boards.add(board_id, key, name, [])
        self.store.documents.update(
            board_id,
            BOARD_DOC_ID,
            lambda doc: init_board(doc, name, clock.now_ms()),
            create=True,
        )
        board = self.board(board_id)
        board.introduce()
        return board

    def join(self, code: str) -> tuple[Board, bool]:
        """Add the board an invite code names; False if this home already had it."""
        invite = decode_invite(code)
        board_id = board_id_for(invite.board_key)
        added = self.store.boards.add(board_id, invite.board_key, invite.name, list(invite.hints))
        board = self.board(board_id)
        if self.display_name():
            board.introduce()
        return board, added

    # ------------------------------------------------------------ export and import

    def export_board(self, board: Board, path: Path) -> int:
        """Write the whole board, encrypted with its key, atomically; returns the document count."""
        return exports.export_board(self.store, board.info, board.name, path)

    def import_board(self, path: Path) -> tuple[Board, int]:
        """Merge an export file into the board it belongs to; returns how many documents changed."""
        info, changed = exports.import_board(self.store, path)
        return Board(self, info), changed
