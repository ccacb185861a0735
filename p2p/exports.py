"""Export files: a whole board sealed with its key, to carry on a USB stick and merge elsewhere.

An export is `POTLUCK-EXPORT\\0\\1`, the board's 8-byte tag, a 12-byte nonce, then
ChaCha20-Poly1305 of a MessagePack map {board, name, docs: {document id: saved document}}
with the magic and tag as associated data. Whoever holds the board key can write one, so an
import trusts nothing in it: the header and the size are checked before the rest is read (in
pieces, never past MAX_EXPORT_BYTES), then every document id by the wire's rule, then every
document is measured against PROTOCOL.md §6.1 and loaded, and only then is anything written,
in one transaction. A bad file changes nothing and is refused with one line saying why.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .errors import DamagedDocument, ExportError
from .keys import board_tag, export_key
from .model import measure
from .model.automerge import Document
from .model.ids import valid_doc_id
from .model.signing import Signed, pack_keys, unpack_keys
from .model.types import BoardInfo
from .storage import files
from .storage.store import Store

EXPORT_MAGIC = b"POTLUCK-EXPORT\x00\x02"
"""Version 2: every document carries the signatures of its changes, and the file its signers'
keys (an export of version 1 holds unsigned changes that no home takes any more)."""
TAG_SIZE = 8
NONCE_SIZE = 12
AEAD_TAG_SIZE = 16
HEADER_SIZE = len(EXPORT_MAGIC) + TAG_SIZE
MAX_EXPORT_BYTES = 48 * 1024 * 1024
"""The largest export written or read. A board of 10,000 items of a paragraph each, with a
reply each, exports to about 7 MB, so this is several times the largest board we expect. An
import holds the sealed file and then its decrypted contents, about twice this at the peak
(some 150 MB for the whole process), so a file this size cannot exhaust a small laptop."""
READ_PIECE = 1024 * 1024
MAX_DOCUMENTS = 1_000_000
"""Documents one export may hold (far more than fit in MAX_EXPORT_BYTES anyway)."""
_MB = 1024 * 1024


def export_board(store: Store, board: BoardInfo, name: str, path: Path) -> int:
    """Write the whole board, encrypted with its key, to `path` (0600): written to a temporary
    file in the same folder and renamed over `path`, so a failure leaves no partial file.
    Returns the document count; ExportError, in one line, if it cannot be written."""
    documents = {
        doc_id: store.documents.saved_document(board.board_id, doc_id)
        for doc_id in store.documents.digests(board.board_id)
    }
    keys: dict[bytes, bytes] = {}
    for signed in documents.values():
        keys.update(unpack_keys(signed.keys))
    payload = msgpack.packb(
        {
            "board": board.board_id,
            "name": name,
            "docs": {doc_id: signed.data for doc_id, signed in documents.items()},
            "sigs": {doc_id: signed.signatures for doc_id, signed in documents.items()},
            "keys": pack_keys(keys.values()),
        },
        use_bin_type=True,
    )
    count = len(documents)
    del documents
    header = EXPORT_MAGIC + board_tag(board.key)
    nonce = os.urandom(NONCE_SIZE)
    sealed = ChaCha20Poly1305(export_key(board.key)).encrypt(nonce, payload, header)
    del payload
    size = len(header) + len(nonce) + len(sealed)
    if size > MAX_EXPORT_BYTES:
        raise ExportError(
            f"this board is too large to export ({size // _MB} MB; an export file holds at "
            f"most {MAX_EXPORT_BYTES // _MB} MB); nothing was written"
        )
    _write_whole(path, (header, nonce, sealed))
    return count


def _write_whole(path: Path, parts: tuple[bytes, ...]) -> None:
    """Write `parts` to a temporary file beside `path`, fsync it and rename it over `path`;
    the temporary file is removed on any failure."""
    if path.is_dir():
        raise ExportError(
            f"{path} is a folder: give a file name for the export, e.g. {path / 'board.potluck'}"
        )
    folder = path.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"cannot write {path}: the folder {folder} {what}")
    try:
        fd, tmp = files.temporary_beside(path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {files.reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, IsADirectoryError):
            raise ExportError(f"{path} is a folder: give a file name for the export") from None
        if isinstance(exc, OSError):
            raise ExportError(
                f"cannot write {path}: {files.reason(exc)}; nothing was written"
            ) from None
        raise
    files.sync_folder(folder)


def import_board(store: Store, path: Path) -> tuple[BoardInfo, int]:
    """Merge an export file into the board it belongs to; returns the board and how many
    documents changed. Checked whole before anything is written: ExportError, in one line,
    and nothing written, for any file that is not a sound export of a board of this home."""
    info, data = _read_sealed(store, path)
    try:
        payload = ChaCha20Poly1305(export_key(info.key)).decrypt(
            memoryview(data)[HEADER_SIZE : HEADER_SIZE + NONCE_SIZE],
            memoryview(data)[HEADER_SIZE + NONCE_SIZE :],
            memoryview(data)[:HEADER_SIZE],
        )
    except InvalidTag:
        raise ExportError(f"{path} is damaged or cut short; nothing was imported") from None
    del data
    documents = _documents(payload, info, path)
    del payload
    _check_documents(documents, path)
    try:
        changed = store.documents.apply_all_or_nothing(info.board_id, documents)
    except DamagedDocument as exc:  # past the limits once merged with what this home has
        raise ExportError(
            f"{path} holds a document this board cannot take ({_first(str(exc))}); "
            "nothing was imported"
        ) from None
    return store.boards.info(info.board_id), len(changed)


def _read_sealed(store: Store, path: Path) -> tuple[BoardInfo, bytearray]:
    """The board an export belongs to and the file's bytes, read in pieces after its header
    and size were checked."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, after several early refusals
    except IsADirectoryError:
        raise ExportError(f"{path} is a folder, not an export file") from None
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {files.reason(exc)}") from None
    with f:
        try:
            header = f.read(HEADER_SIZE)
            size = os.fstat(f.fileno()).st_size
        except OSError as exc:
            raise ExportError(f"cannot read {path}: {files.reason(exc)}") from None
        if header.startswith(EXPORT_MAGIC[:-1]) and not header.startswith(EXPORT_MAGIC):
            raise ExportError(
                f"{path} was written by an earlier Potluck, before changes were signed: "
                "this version cannot import it; nothing was imported"
            )
        if len(header) < HEADER_SIZE or not header.startswith(EXPORT_MAGIC):
            raise ExportError(f"{path} is not a Potluck export file; nothing was imported")
        if size > MAX_EXPORT_BYTES:
            raise ExportError(
                f"{path} is {_size(size)}: larger than any board export (at most "
                f"{MAX_EXPORT_BYTES // _MB} MB); nothing was imported"
            )
        tag = header[len(EXPORT_MAGIC) :]
        matching = [b for b in store.boards.all() if board_tag(b.key) == tag]
        if not matching:
            raise ExportError(
                f"{path} is an export of a board this home has not joined; "
                "join it with its invite code first"
            )
        data = bytearray(header)
        try:
            while len(data) <= MAX_EXPORT_BYTES:
                piece = f.read(READ_PIECE)
                if not piece:
                    break
                data += piece
        except OSError as exc:
            raise ExportError(f"cannot read {path}: {files.reason(exc)}") from None
    if len(data) > MAX_EXPORT_BYTES:
        raise ExportError(
            f"{path} is larger than any board export (at most {MAX_EXPORT_BYTES // _MB} MB); "
            "nothing was imported"
        )
    if len(data) < HEADER_SIZE + NONCE_SIZE + AEAD_TAG_SIZE:
        raise ExportError(f"{path} is cut short; nothing was imported")
    return matching[0], data


def _documents(payload: bytes, info: BoardInfo, path: Path) -> list[tuple[str, Signed]]:
    """The (id, saved document with its signatures) pairs of a decrypted export, every id by
    the wire's rule."""
    try:
        content: Any = msgpack.unpackb(
            payload, raw=False, max_map_len=MAX_DOCUMENTS, max_array_len=MAX_DOCUMENTS
        )
    except (ValueError, TypeError) as exc:  # bad MessagePack, bad UTF-8, too deep
        raise ExportError(
            f"{path} is damaged: its contents are not readable ({_kind_of(exc)}); "
            "nothing was imported"
        ) from None
    if not isinstance(content, dict):
        raise ExportError(f"{path} is damaged: no board inside; nothing was imported")
    if content.get("board") != info.board_id:
        raise ExportError(f"{path} is damaged: it names another board; nothing was imported")
    documents = content.get("docs")
    if not isinstance(documents, dict):
        raise ExportError(f"{path} is damaged: no documents inside; nothing was imported")
    signatures, keys = content.get("sigs", {}), content.get("keys", b"")
    if not isinstance(signatures, dict) or not isinstance(keys, bytes):
        raise ExportError(
            f"{path} is damaged: its signatures are not readable; nothing was imported"
        )
    found: list[tuple[str, Signed]] = []
    for doc_id, data in documents.items():
        if not valid_doc_id(doc_id):
            raise ExportError(
                f"{path} holds a document with a bad id ({str(doc_id)[:40]!r}); "
                "nothing was imported"
            )
        if not isinstance(data, bytes):
            raise ExportError(
                f"{path} holds document {doc_id} that is not a saved document; nothing was imported"
            )
        signed = signatures.get(doc_id, b"")
        if not isinstance(signed, bytes):
            raise ExportError(
                f"{path} holds document {doc_id} with damaged signatures; nothing was imported"
            )
        found.append((doc_id, Signed(data, signed, keys)))
    return found


def _check_documents(documents: list[tuple[str, Signed]], path: Path) -> None:
    """Measure every document against the limits of PROTOCOL.md §6.1 and load it, one at a
    time (nothing kept): any that fails refuses the whole file. (Its signatures and the rules
    are checked as it is merged, all or nothing.)"""
    actor = bytes(16)
    for doc_id, signed in documents:
        data = signed.data
        try:
            measure.document_size(data)
        except DamagedDocument as exc:  # TooLarge included
            raise _refused(path, doc_id, str(exc)) from None
        try:
            Document.load(data, actor, f"document {doc_id}")
        except DamagedDocument:
            raise _refused(path, doc_id, "automerge cannot load it") from None


def _refused(path: Path, doc_id: str, why: str) -> ExportError:
    return ExportError(
        f"{path} holds document {doc_id}, which this board cannot take ({_first(why)}); "
        "nothing was imported"
    )


def _kind_of(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "text that is not UTF-8"
    if isinstance(exc, msgpack.StackError):
        return "nested too deeply"
    if isinstance(exc, msgpack.ExtraData):
        return "bytes after the end"
    return "not MessagePack"


def _first(text: str) -> str:
    return " ".join(text.split())[:160]


def _size(size: int) -> str:
    if size >= 1024 * _MB:
        return f"{size / (1024 * _MB):.1f} GB"
    return f"{size // _MB} MB"
