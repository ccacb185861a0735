"""Device identity (a signing key, the ids derived from it, a certified Noise key); board keys."""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
import nacl.exceptions
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .errors import HomeError

BOARD_KEY_SIZE = 32
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32
ACTOR_SIZE = 16
STATIC_CONTEXT = b"potluck-static-v2"
"""Prefix of what a device signs to certify its Noise static key."""
CHANGE_CONTEXT = b"potluck-change-v2"
"""Prefix of what a device signs for each automerge change it makes (then the change hash)."""
KEY_FILE_SIZE = 64
"""A device key file: the Ed25519 seed, then the X25519 static private key."""
OLD_HOME = (
    "{path} was made by an earlier Potluck whose boards are unsigned and cannot be shared "
    "with this version: move it aside (mv {path} {path}.old) and join your boards again "
    "with an invite code"
)
"""The one line an old home gets (there were no released users: no migration)."""


def _derive(data: bytes, person: bytes, size: int, key: bytes = b"") -> bytes:
    """BLAKE2b with a personalisation string, so that no two derivations collide."""
    return hashlib.blake2b(data, key=key, person=person, digest_size=size).digest()


def actor_id_for(signing_public: bytes) -> bytes:
    """The automerge actor id (16 bytes; in hex, the device id) of a device's Ed25519 key."""
    return _derive(signing_public, b"potluck-device", ACTOR_SIZE)


@dataclass(frozen=True)
class DeviceIdentity:
    """This device's keys: an Ed25519 *device key*, the root of its ids and the signer of its
    changes, and an X25519 *static key* for Noise, certified by the device key."""

    signing_key: bytes
    """The Ed25519 private key (its 32-byte seed)."""
    signing_public: bytes
    private_key: bytes
    """The X25519 Noise static private key."""
    public_key: bytes
    """The X25519 Noise static public key."""

    @property
    def actor_id(self) -> bytes:
        """The automerge actor id: 16 bytes derived from the device key."""
        return actor_id_for(self.signing_public)

    @property
    def device_id(self) -> str:
        """The device id shown to people: the actor id in hex."""
        return self.actor_id.hex()

    @property
    def certificate(self) -> bytes:
        """The device key's signature over the static key: `potluck-static-v2` || static key."""
        return self._signer().sign(STATIC_CONTEXT + self.public_key)

    def sign_change(self, change_hash: bytes) -> bytes:
        """The signature of one automerge change this device made."""
        return self._signer().sign(CHANGE_CONTEXT + change_hash)

    @functools.cached_property
    def _signer_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.signing_key)

    def _signer(self) -> Ed25519PrivateKey:
        return self._signer_key

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls.from_secrets(os.urandom(32), os.urandom(32))

    @classmethod
    def from_secrets(cls, signing_key: bytes, static_private: bytes) -> DeviceIdentity:
        signer = Ed25519PrivateKey.from_private_bytes(signing_key)
        static = X25519PrivateKey.from_private_bytes(static_private)
        return cls(
            signing_key=signer.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
            signing_public=signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            private_key=static.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
            public_key=static.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        )


def verify_signature(signing_public: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is the Ed25519 signature of `message` under `signing_public`, checked
    strictly, as libsodium does: a key or a signature's R of small order is refused, so no key
    has a signature that verifies for every message (OpenSSL accepts the identity key's
    R = identity, S = 0 for any message), and S must be below the group order."""
    if len(signing_public) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, signing_public)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def verify_certificate(signing_public: bytes, static_public: bytes, certificate: bytes) -> bool:
    """Whether a peer's device key certifies the static key its Noise handshake proved."""
    return verify_signature(signing_public, STATIC_CONTEXT + static_public, certificate)


def verify_change(signing_public: bytes, change_hash: bytes, signature: bytes) -> bool:
    """Whether `signature` signs the change `change_hash` under `signing_public`."""
    return verify_signature(signing_public, CHANGE_CONTEXT + change_hash, signature)


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
    if len(raw) == 32:  # a version 1 home: an X25519 key alone
        raise HomeError(OLD_HOME.format(path=path.parent))
    if len(raw) != KEY_FILE_SIZE:
        raise HomeError(
            f"the device key {path} is damaged (expected {KEY_FILE_SIZE} bytes, found {len(raw)})"
        )
    return DeviceIdentity.from_secrets(raw[:32], raw[32:])


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
        f.write(identity.signing_key + identity.private_key)
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
