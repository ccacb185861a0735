"""Export files: a whole board sealed with its key, to carry on a USB stick and merge elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .errors import ExportError
from .keys import board_tag, export_key
from .model.signing import Signed, pack_keys, unpack_keys
from .model.types import BoardInfo
from .storage.store import Store

EXPORT_MAGIC = b"POTLUCK-EXPORT\x00\x02"
"""Version 2: every document carries the signatures of its changes, and the file its signers'
keys (an export of version 1 holds unsigned changes no home takes any more)."""


def export_board(store: Store, board: BoardInfo, name: str, path: Path) -> int:
    """Write the whole board, encrypted with its key, atomically; returns the document count."""
    saved = {
        doc_id: store.documents.saved_document(board.board_id, doc_id)
        for doc_id in store.documents.digests(board.board_id)
    }
    keys: dict[bytes, bytes] = {}
    for signed in saved.values():
        keys.update(unpack_keys(signed.keys))
    payload = msgpack.packb(
        {
            "board": board.board_id,
            "name": name,
            "docs": {doc_id: signed.data for doc_id, signed in saved.items()},
            "sigs": {doc_id: signed.signatures for doc_id, signed in saved.items()},
            "keys": pack_keys(keys.values()),
        },
        use_bin_type=True,
    )
    documents = saved
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


def import_board(store: Store, path: Path) -> tuple[BoardInfo, int]:
    """Merge an export file into the board it belongs to; returns the board and how many
    documents changed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror}") from None
    header_size = len(EXPORT_MAGIC) + 8
    if data.startswith(EXPORT_MAGIC[:-1]) and not data.startswith(EXPORT_MAGIC):
        raise ExportError(
            f"{path} was written by an earlier Potluck, before changes were signed: "
            "this version cannot import it"
        )
    if not data.startswith(EXPORT_MAGIC) or len(data) < header_size + 12 + 16:
        raise ExportError(f"{path} is not a Potluck export file")
    tag = data[len(EXPORT_MAGIC) : header_size]
    matching = [b for b in store.boards.all() if board_tag(b.key) == tag]
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
    signatures = content.get("sigs")
    keys = content.get("keys")
    if not isinstance(signatures, dict) or not isinstance(keys, bytes):
        raise ExportError(f"{path} is damaged; nothing was imported")
    wanted = [
        (d, Signed(s, signatures.get(d, b""), keys))
        for d, s in documents.items()
        if isinstance(d, str) and isinstance(s, bytes) and isinstance(signatures.get(d, b""), bytes)
    ]
    changed, damaged = store.documents.apply_saved_documents(info.board_id, wanted)
    if damaged is not None:
        raise damaged
    return store.boards.info(info.board_id), len(changed)
