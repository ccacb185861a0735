"""Signatures of changes as they are stored and travel: (hash, signature) pairs and signers' keys.

A device signs `potluck-change-v2 || hash` of every change it makes with its device key. A
signature travels as 96 bytes, the change's hash then the Ed25519 signature, and the signer's
Ed25519 public key travels beside it (32 bytes; the receiver derives the actor id from it, so a
key can only ever speak for its own actor).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import BadSignature
from ..keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, actor_id_for, verify_change

HASH_SIZE = 32
ENTRY_SIZE = HASH_SIZE + SIGNATURE_SIZE

Signatures = dict[bytes, bytes]
"""Signatures by change hash."""
Keyring = dict[bytes, bytes]
"""Signers' Ed25519 public keys by actor id."""


def pack_signatures(entries: Iterable[tuple[bytes, bytes]]) -> bytes:
    """(hash, signature) pairs as they are stored and travel: 96 bytes each, in order."""
    return b"".join(h + s for h, s in entries)


def unpack_signatures(data: bytes) -> list[tuple[bytes, bytes]]:
    if len(data) % ENTRY_SIZE:
        raise BadSignature(f"signatures come in {ENTRY_SIZE}-byte entries")
    view = memoryview(data)
    return [
        (bytes(view[i : i + HASH_SIZE]), bytes(view[i + HASH_SIZE : i + ENTRY_SIZE]))
        for i in range(0, len(data), ENTRY_SIZE)
    ]


def pack_keys(keys: Iterable[bytes]) -> bytes:
    """Signers' public keys, 32 bytes each, each once."""
    return b"".join(dict.fromkeys(keys))


def unpack_keys(data: bytes) -> Keyring:
    """The actor id of each key (derived from it) and the key."""
    if len(data) % PUBLIC_KEY_SIZE:
        raise BadSignature(f"signers' keys come in {PUBLIC_KEY_SIZE}-byte entries")
    keys = (data[i : i + PUBLIC_KEY_SIZE] for i in range(0, len(data), PUBLIC_KEY_SIZE))
    return {actor_id_for(key): key for key in keys}


def check_signature(
    change_hash: bytes, actor: bytes, signatures: Mapping[bytes, bytes], keys: Mapping[bytes, bytes]
) -> bytes:
    """The signature of a change, checked under its actor's key; BadSignature naming why."""
    what = f"change {change_hash.hex()[:12]} by {actor.hex()[:8]}"
    signature = signatures.get(change_hash)
    if signature is None:
        raise BadSignature(f"{what} is not signed")
    key = keys.get(actor)
    if key is None:
        raise BadSignature(f"{what}: its signer's key did not come with it")
    if not verify_change(key, change_hash, signature):
        raise BadSignature(f"{what}: the signature does not verify under the actor's key")
    return signature


@dataclass(frozen=True)
class Signed:
    """Automerge bytes as they travel between homes: a saved document or a sync message, the
    signatures of the changes it carries, and their signers' keys (wire and export alike)."""

    data: bytes
    signatures: bytes = b""
    """(hash, signature) pairs, 96 bytes each."""
    keys: bytes = b""
    """Signers' Ed25519 public keys, 32 bytes each."""

    def received(self) -> tuple[Signatures, Keyring]:
        """The signatures by hash and the keys by actor; BadSignature if malformed."""
        return dict(unpack_signatures(self.signatures)), unpack_keys(self.keys)
