"""Whether changes may be stored: each signed by its actor's device and within the rules.

Every way into a home's store passes here: a device's own changes (signed as they are made),
whole documents and sync messages from peers, export files. A refusal (BadSignature or
ForbiddenChange, both DamagedDocument) names why, and the caller stores nothing of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import DamagedDocument
from . import measure
from .automerge import Document
from .chunks import (
    CHANGE,
    COMPRESSED,
    DOCUMENT,
    SET,
    Change,
    Operations,
    document_header,
    parse_change,
    split_chunks,
)
from .permissions import Rules, genesis_rules_hold, root_ops
from .signing import Keyring, Signed, check_signature


@dataclass
class Checked:
    """What a batch of accepted changes adds to a document's record."""

    signatures: list[tuple[bytes, bytes]] = field(default_factory=list)
    """(hash, signature) of each new change, in causal order."""
    signers: Keyring = field(default_factory=dict)
    """The public key of each new change's actor."""
    history: list[tuple[str, str, int]] = field(default_factory=list)
    """(device id, what, time) of what the new changes did, beyond posting the item."""


@dataclass(frozen=True)
class Received:
    """Changes as they came from a peer: their signatures, their signers' keys, and the hashes
    whose signature was already checked (on the bytes, before automerge saw them)."""

    signatures: Mapping[bytes, bytes]
    keys: Mapping[bytes, bytes]
    verified: frozenset[bytes] = frozenset()

    def signature(self, change_hash: bytes, actor: bytes) -> bytes:
        if change_hash in self.verified:
            return self.signatures[change_hash]
        return check_signature(change_hash, actor, self.signatures, self.keys)


def change_time(ops: Operations) -> int:
    """When a change says it was made: the `updated` (else `created`) it writes at the root."""
    found = 0
    for op in root_ops(ops):
        if (
            op.action == SET
            and isinstance(op.value, int)
            and (op.key == "updated" or (op.key == "created" and not found))
        ):
            found = op.value
    return found


def _accept(
    checked: Checked, rules: Rules, change: Change, signature: bytes, key: bytes, state: Document
) -> None:
    ops = change.ops()
    what = rules.check(change, lambda: state, ops)
    checked.signatures.append((change.hash, signature))
    checked.signers[change.actor] = key
    time = change_time(ops)
    checked.history += [(change.actor.hex(), w, time) for w in what if w != "posted"]


def check_new_changes(
    state: Document,
    rules: Rules,
    new: list[tuple[bytes, bytes]],
    received: Received,
) -> Checked:
    """Check changes from a peer that `state` (a fork or a freshly loaded copy) already holds
    beside everything they depend on; `new` is (hash, bytes) in causal order."""
    checked = Checked()
    for _, data in new:
        change = parse_change(data)
        signature = received.signature(change.hash, change.actor)
        _accept(checked, rules, change, signature, received.keys[change.actor], state)
    return checked


@dataclass(frozen=True)
class Prechecked:
    """What is known of a whole document from its bytes, before automerge loads them."""

    ops: int
    expanded: int
    """Its size as `measure` bounds it, operations and bytes (within the limits, or it was
    refused)."""
    genesis: tuple[bytes, bytes] | None
    """(hash, actor) of its one change, when it is only its genesis (most of a catch-up)."""
    verified: frozenset[bytes]
    """Hashes whose signature is already checked."""


def only_genesis(data: bytes) -> tuple[bytes, bytes] | None:
    """(hash, actor) if `data` is one chunk holding one change without dependencies: a
    document chunk whose header says so (automerge checks its heads when it loads it), or a
    change chunk (parsed, hashed)."""
    chunks = split_chunks(data)
    first = next(chunks, None)
    if first is None or next(chunks, None) is not None:
        return None
    kind, chunk = first
    if kind == DOCUMENT:
        header = document_header(chunk)
        if header.changes == 1 and len(header.heads) == 1 and len(header.actors) == 1:
            return header.heads[0], header.actors[0]
    elif kind in (CHANGE, COMPRESSED):
        change = parse_change(chunk, with_ops=False)
        if not change.deps:
            return change.hash, change.actor
    return None


def precheck(doc_id: str, signed: Signed) -> Prechecked:
    """Bound a whole document's size and, if it is only its genesis, check its signature: on
    its bytes, before automerge sees them (and on another core, for a catch-up)."""
    try:
        size = measure.document_size(signed.data)
        genesis = only_genesis(signed.data)
        verified: frozenset[bytes] = frozenset()
        if genesis is not None:
            signatures, keys = signed.received()
            check_signature(genesis[0], genesis[1], signatures, keys)
            verified = frozenset([genesis[0]])
    except DamagedDocument as exc:  # TooLarge and BadSignature included: say which document
        raise type(exc)(f"document {doc_id}: {exc}") from None
    return Prechecked(size.ops, size.bytes, genesis, verified)


def check_whole_document(
    doc: Document,
    doc_id: str,
    pre: Prechecked,
    rules: Rules,
    known: Mapping[bytes, bytes],
    received: Received,
) -> Checked:
    """Check a whole document from a peer or an export, loaded apart from the stored one.

    `known` are the signatures of the changes this home already holds of it. A new document
    whose only change is its genesis (most of a newcomer's catch-up) is checked by its one
    signature and by its state (which the indexer reads anyway), without being taken apart."""
    if not known and pre.genesis is not None and doc.heads() == [pre.genesis[0]]:
        change_hash, actor = pre.genesis
        signature = received.signature(change_hash, actor)
        genesis_rules_hold(doc, doc_id, actor)
        return Checked([(change_hash, signature)], {actor: received.keys[actor]})
    new = [(h, data) for h, data in doc.changes_since([]) if h not in known]
    return check_new_changes(doc, rules, new, received)


def sign_new_changes(
    doc: Document,
    rules: Rules,
    new: list[tuple[bytes, bytes]],
    sign: Callable[[bytes], bytes],
    key: bytes,
) -> Checked:
    """This device's own new changes: signed, then held to the same rules as a peer's (a
    change its peers would refuse is never made)."""
    checked = Checked()
    for change_hash, data in new:
        change = parse_change(data)
        _accept(checked, rules, change, sign(change_hash), key, doc)
    return checked


def history_of(doc: Document, doc_id: str) -> list[tuple[str, str, int]]:
    """(device id, what, time) of everything a stored document's changes did after its
    genesis, derived from the changes themselves (to rebuild the index, and for tests)."""
    rules = Rules(doc_id)
    out: list[tuple[str, str, int]] = []
    for _, data in doc.changes_since([]):
        change = parse_change(data)
        ops = change.ops()
        time = change_time(ops)
        out += [(change.actor.hex(), w, time) for w in rules.check(change, lambda: doc, ops)]
    return [entry for entry in out if entry[1] != "posted"]
