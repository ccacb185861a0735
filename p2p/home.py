"""A home: one device's Potluck data (its key, its database, the boards it has joined)."""

from __future__ import annotations

from pathlib import Path

from . import clock, exports
from .board import Board
from .errors import BoardNotFound, InvalidInput
from .invite import decode_invite
from .keys import DeviceIdentity, board_id_for, load_or_create_identity, new_board_key
from .model import text
from .model.board_document import BOARD_DOC_ID, init_board
from .model.types import BoardInfo
from .storage import files
from .storage.store import Store

DB_NAME = "potluck.db"
KEY_NAME = "device.key"
MAX_NAME = 60
"""Characters of a display name."""
MAX_BOARD_NAME = 100
MAX_ABOUT = 200


class Home:
    """One device's Potluck data: its key, its database and the boards it has joined."""

    def __init__(
        self, path: Path, identity: DeviceIdentity, store: Store, privacy_notice: str | None = None
    ) -> None:
        self.path = path
        self.identity = identity
        self.store = store
        self.privacy_notice = privacy_notice
        """One line to show the person when opening this home made it private (the home or
        files in it could be read by other users of the computer), else None. Only the open
        that tightened the modes has it, so the person is told once."""

    @staticmethod
    def prepare(path: Path | str) -> Path:
        """Make the home folder (0700) if missing, before something else opens it; HomeError,
        in one line, if `path` cannot be a home (a file, a folder that cannot be made)."""
        path = Path(path).expanduser()
        files.make_home(path)
        return path

    @classmethod
    def open(cls, path: Path | str) -> Home:
        """Open (or make) a home: the folder 0700 and every file in it 0600, whatever the
        umask; a home that was wider is tightened (see `privacy_notice`). HomeError, in one
        line, for a path that cannot be a home, a damaged database, and the like."""
        path = Path(path).expanduser()
        files.make_home(path)
        notice = files.tighten(path).notice()
        identity = load_or_create_identity(path / KEY_NAME)
        store = Store(path / DB_NAME, identity)
        return cls(path, identity, store, notice)

    @property
    def read_only(self) -> str | None:
        """Why this home cannot be written (its boards can still be read), or None."""
        return self.store.db.read_only

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
            name = text.one_line(name, "a display name", MAX_NAME)
            if not name:
                raise InvalidInput("a display name cannot be empty")
        if about is not None:
            about = text.one_line(about, "the line about you", MAX_ABOUT)
        if name is not None:
            self.store.db.set_setting("name", name)
        if about is not None:
            self.store.db.set_setting("about", about)
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
        name = text.one_line(name, "a board name", MAX_BOARD_NAME)
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
