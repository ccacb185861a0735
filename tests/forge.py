"""A member's device gone bad, for the tests: it writes automerge documents directly (no rules,
no checks on its side) and signs what it writes with a key of its choosing.

`Forger.change` gives the changes one edit makes to a copy of a document the forger holds, as a
whole saved document (what a `doc` message or an export carries) and as a bare sync message (what
a `sync` message carries), with the signatures the forger chooses to attach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from potluck.p2p.home import Home
from potluck.p2p.keys import DeviceIdentity
from potluck.p2p.model.automerge import Document
from potluck.p2p.model.chunks import uleb
from potluck.p2p.model.signing import Signed, pack_signatures, unpack_keys, unpack_signatures


def sync_message(chunks: list[bytes]) -> bytes:
    """An automerge sync message (v1) that carries these change chunks and says nothing else."""
    body = b"".join(uleb(len(c)) + c for c in chunks)
    return bytes([0x42]) + uleb(0) + uleb(0) + uleb(0) + uleb(len(chunks)) + body


@dataclass
class Forged:
    """What one forged edit produced."""

    document: Signed
    """The whole document after the edit, with every signature the forger holds or made."""
    sync: Signed
    """Only the new changes, as a sync message, with their (forged) signatures."""
    hashes: list[bytes]
    doc: Document


class Forger:
    """A device that holds the board key and a valid device key, and writes what it likes."""

    def __init__(self, home: Home, board_id: str) -> None:
        self.home = home
        self.board_id = board_id
        self.identity = home.identity

    def change(
        self,
        doc_id: str,
        edit: Callable[[Document], object],
        *,
        actor: bytes | None = None,
        signer: DeviceIdentity | None = None,
        sign: bool = True,
        base: Forged | Document | None = None,
        keys: list[bytes] | None = None,
    ) -> Forged:
        """Make `edit` on the forger's copy of `doc_id` (or after an earlier forgery, or on an
        empty document), as `actor` (its own by default), signed by `signer` (itself by
        default; `sign=False`: unsigned)."""
        documents = self.home.store.documents
        signer = signer or self.identity
        signatures: list[tuple[bytes, bytes]] = []
        known_keys: dict[bytes, bytes] = {}
        held: Document | None
        if isinstance(base, Forged):
            held = base.doc
            signatures = unpack_signatures(base.document.signatures)
            known_keys = unpack_keys(base.document.keys)
        elif isinstance(base, Document):
            held = base if base.heads() else None
        else:
            held = documents.read_document(self.board_id, doc_id)
            if held is not None:
                saved = documents.saved_document(self.board_id, doc_id)
                signatures = unpack_signatures(saved.signatures)
                known_keys = unpack_keys(saved.keys)
        if held is None:
            doc = Document.new(actor or self.identity.actor_id)
        else:
            doc = _with_actor(held, actor or self.identity.actor_id)
        before = doc.heads()
        edit(doc)
        new = doc.changes_since(before)
        made = [(h, signer.sign_change(h)) for h, _ in new] if sign else []
        key_list = keys if keys is not None else [*known_keys.values(), signer.signing_public]
        key_bytes = b"".join(dict.fromkeys(key_list))
        return Forged(
            document=Signed(doc.save(), pack_signatures([*signatures, *made]), key_bytes),
            sync=Signed(sync_message([data for _, data in new]), pack_signatures(made), key_bytes),
            hashes=[h for h, _ in new],
            doc=doc,
        )


def _with_actor(doc: Document, actor: bytes) -> Document:
    """The same document, writing as `actor` from now on."""
    fresh = Document.load(doc.save(), actor)
    return fresh
