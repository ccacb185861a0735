"""Invite codes: one copy-pasteable token carrying a board key, its name and address hints."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import msgpack

from .errors import InviteError
from .keys import BOARD_KEY_SIZE

PREFIX = "potluck-"
VERSION = 1
CHECKSUM_SIZE = 4
MAX_HINTS = 8


@dataclass(frozen=True)
class Invite:
    board_key: bytes
    name: str
    hints: tuple[tuple[str, int], ...] = ()


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=CHECKSUM_SIZE, person=b"potluck-invite").digest()


def encode_invite(invite: Invite) -> str:
    """`potluck-` then lower-case base32 of msgpack [version, key, name, hints] + checksum."""
    payload = msgpack.packb(
        [VERSION, invite.board_key, invite.name, [list(h) for h in invite.hints[:MAX_HINTS]]],
        use_bin_type=True,
    )
    token = base64.b32encode(payload + _checksum(payload)).decode().rstrip("=").lower()
    return PREFIX + token


def decode_invite(code: str) -> Invite:
    """Parse a code as pasted (spaces, line breaks and case do not matter)."""
    cleaned = "".join(code.split()).lower()
    if not cleaned.startswith(PREFIX):
        raise InviteError("that is not a Potluck invite code (it should start with 'potluck-')")
    token = cleaned[len(PREFIX) :].upper()
    try:
        raw = base64.b32decode(token + "=" * (-len(token) % 8))
    except ValueError:
        raise InviteError(
            "this invite code has a typo: it contains characters a code never has"
        ) from None
    payload, checksum = raw[:-CHECKSUM_SIZE], raw[-CHECKSUM_SIZE:]
    canonical = base64.b32encode(raw).decode().rstrip("=")
    if canonical != token or len(raw) <= CHECKSUM_SIZE or _checksum(payload) != checksum:
        raise InviteError(
            "this invite code is mistyped or cut short; copy it again from the person who sent it"
        )
    try:
        version, key, name, hints = msgpack.unpackb(payload, raw=False)
    except (ValueError, TypeError, msgpack.UnpackException):
        raise InviteError("this invite code is damaged") from None
    if version != VERSION:
        raise InviteError("this invite code comes from a newer Potluck; upgrade to use it")
    if not isinstance(key, bytes) or len(key) != BOARD_KEY_SIZE or not isinstance(name, str):
        raise InviteError("this invite code is damaged")
    parsed: list[tuple[str, int]] = []
    for hint in hints if isinstance(hints, list) else []:
        if (
            isinstance(hint, list)
            and len(hint) == 2
            and isinstance(hint[0], str)
            and isinstance(hint[1], int)
            and 0 < hint[1] < 65536
        ):
            parsed.append((hint[0], hint[1]))
    return Invite(board_key=key, name=name, hints=tuple(parsed[:MAX_HINTS]))
