"""Device identity and everything derived from a board key."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .errors import HomeError

BOARD_KEY_SIZE = 32


def _derive(data: bytes, person: bytes, size: int, key: bytes = b"") -> bytes:
    """BLAKE2b with a personalisation string, so that no two derivations collide."""
    return hashlib.blake2b(data, key=key, person=person, digest_size=size).digest()


@dataclass(frozen=True)
class DeviceIdentity:
    """This device's static X25519 key: its Noise static key and the root of its ids."""

    private_key: bytes
    public_key: bytes

    @property
    def actor_id(self) -> bytes:
        """The automerge actor id: 16 bytes derived from the public key."""
        return actor_id_for(self.public_key)

    @property
    def device_id(self) -> str:
        """The device id shown to people and stored as authorship: the actor id in hex."""
        return self.actor_id.hex()

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls.from_private(os.urandom(32))

    @classmethod
    def from_private(cls, private_key: bytes) -> DeviceIdentity:
        key = X25519PrivateKey.from_private_bytes(private_key)
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(private_key=raw, public_key=public)


def actor_id_for(public_key: bytes) -> bytes:
    """The automerge actor id (and so the device id) of a device's static public key."""
    return _derive(public_key, b"potluck-actor", 16)


def load_or_create_identity(path: Path) -> DeviceIdentity:
    """Read the device key at `path`, creating it (mode 0600) on first use; HomeError, in one
    line, if it cannot be read or made."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        try:
            return _create_identity(path)
        except OSError as exc:
            raise HomeError(f"cannot make the device key {path}: {_why(exc)}") from None
    except OSError as exc:
        raise HomeError(f"cannot read the device key {path}: {_why(exc)}") from None
    if len(raw) != 32:
        raise HomeError(f"the device key {path} is damaged (expected 32 bytes, found {len(raw)})")
    return DeviceIdentity.from_private(raw)


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _create_identity(path: Path) -> DeviceIdentity:
    identity = DeviceIdentity.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        if os.fstat(f.fileno()).st_mode & 0o077:
            os.fchmod(f.fileno(), 0o600)  # a leftover from an interrupted first run
        f.write(identity.private_key)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        os.unlink(tmp)
        return load_or_create_identity(path)
    os.unlink(tmp)
    return identity


def new_board_key() -> bytes:
    return os.urandom(BOARD_KEY_SIZE)


def board_id_for(board_key: bytes) -> str:
    """A board's public id (32 hex characters); the same on every device holding the key."""
    return _derive(b"", b"potluck-board-id", 16, key=board_key).hex()


def board_psk(board_key: bytes) -> bytes:
    """The Noise pre-shared key for connections about this board."""
    return _derive(b"", b"potluck-psk", 32, key=board_key)


def board_tag(board_key: bytes) -> bytes:
    """The opaque 8-byte tag advertised over mDNS and sent before the handshake."""
    return _derive(b"", b"potluck-tag", 8, key=board_key)


def export_key(board_key: bytes) -> bytes:
    """The key that encrypts a board export file."""
    return _derive(b"", b"potluck-export", 32, key=board_key)
