"""The application messages inside a connection: plain frozen types, each with a guard."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgpack

from ..errors import ProtocolError
from ..model.ids import valid_doc_id

DEFAULT_PORT = 7434
"""The TCP port a node listens on unless told otherwise (any free port if it is taken)."""
PROTOCOL_VERSIONS = (2,)
"""Versions this implementation speaks, in the order it prefers them (highest wins)."""
DIGEST_SIZE = 16
SIGNATURE_ENTRY = 96
"""A change's hash (32 bytes) and its Ed25519 signature (64)."""
KEY_SIZE = 32
MAX_NAME = 200
MAX_ADDRS = 16
_DEVICE = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Hello:
    """First message each way: versions spoken, who I am, where I listen."""

    versions: tuple[int, ...]
    device: str
    name: str
    port: int
    addrs: tuple[str, ...]


@dataclass(frozen=True)
class Have:
    """Every document the sender holds on this board, with the digest of its heads."""

    docs: dict[str, bytes]


SKIP = 0
"""A reconcile range with nothing more to say (PROTOCOL.md §5.3)."""
FINGERPRINT = 1
"""A reconcile range given by its fingerprint."""
LIST = 2
"""A reconcile range given by the sender's pairs in it; the receiver answers with its own."""
LAST_LIST = 3
"""A reconcile range given by the sender's pairs in it, in answer to a `LIST`."""
MAX_RANGES = 4096
"""Ranges in one `reconcile` message; more is a `bad-message`."""


@dataclass(frozen=True)
class Range:
    """One range of a `reconcile` message: from the previous range's upper bound (or the
    start) up to `upper`, excluded (None: past every document id)."""

    upper: str | None
    mode: int
    fingerprint: bytes = b""
    """For FINGERPRINT: 16 bytes."""
    items: tuple[tuple[str, bytes], ...] = ()
    """For LIST and LAST_LIST: the sender's (document id, digest) pairs in the range, in
    ascending order of id."""


@dataclass(frozen=True)
class Reconcile:
    """One step of range-based set reconciliation of the two inventories (PROTOCOL.md §5.3):
    ranges covering every document id, in ascending order, trailing skips left out."""

    ranges: tuple[Range, ...]


@dataclass(frozen=True)
class WholeDocument:
    """A whole saved document, for a peer that does not hold it, with the signatures of all
    its changes and their signers' keys."""

    id: str
    data: bytes
    digest: bytes
    signatures: bytes = b""
    """(change hash, signature) pairs, 96 bytes each."""
    keys: bytes = b""
    """The signers' Ed25519 public keys, 32 bytes each."""


@dataclass(frozen=True)
class Sync:
    """One automerge sync message for one document, with the signatures of the changes it
    carries and their signers' keys."""

    id: str
    data: bytes
    digest: bytes
    signatures: bytes = b""
    keys: bytes = b""


@dataclass(frozen=True)
class Synced:
    """The sender holds everything the receiver announced, and has sent what it lacked."""

    docs: int


@dataclass(frozen=True)
class Ping:
    """Keep-alive; answered with Pong."""


@dataclass(frozen=True)
class Pong:
    """Answer to Ping."""


@dataclass(frozen=True)
class Bye:
    """The sender is closing the connection, and why (a CloseReason value)."""

    reason: str


class CloseReason(StrEnum):
    """Why a connection ended (PROTOCOL.md §11); sent in `bye` when the channel still works."""

    SHUTDOWN = "shutdown"
    PEER_CLOSED = "peer-closed"
    DUPLICATE = "duplicate"
    SELF = "self"
    HANDSHAKE_FAILED = "handshake-failed"
    BAD_FRAME = "bad-frame"
    OVERSIZED = "oversized"
    BAD_MESSAGE = "bad-message"
    UNKNOWN_TYPE = "unknown-type"
    NO_COMMON_VERSION = "no-common-version"
    PROTOCOL_VIOLATION = "protocol-violation"
    DAMAGED_DOCUMENT = "damaged-document"
    TOO_LARGE = "too-large"
    BAD_SIGNATURE = "bad-signature"
    FORBIDDEN_CHANGE = "forbidden-change"
    BUSY = "busy"
    TIMEOUT = "timeout"
    LOCAL_ERROR = "local-error"


Message = Hello | Have | Reconcile | WholeDocument | Sync | Synced | Ping | Pong | Bye


def encode(message: Message) -> bytes:
    """The msgpack map of a message, as it travels."""
    body: dict[str, Any]
    match message:
        case Hello():
            body = {
                "type": "hello",
                "versions": list(message.versions),
                "device": message.device,
                "name": message.name,
                "port": message.port,
                "addrs": list(message.addrs),
            }
        case Have():
            body = {"type": "have", "docs": message.docs}
        case Reconcile():
            body = {"type": "reconcile", "ranges": [_range(r) for r in message.ranges]}
        case WholeDocument() | Sync():
            body = {
                "type": "doc" if isinstance(message, WholeDocument) else "sync",
                "id": message.id,
                "data": message.data,
                "digest": message.digest,
                "sigs": message.signatures,
                "keys": message.keys,
            }
        case Synced():
            body = {"type": "synced", "docs": message.docs}
        case Ping():
            body = {"type": "ping"}
        case Pong():
            body = {"type": "pong"}
        case Bye():
            body = {"type": "bye", "reason": message.reason}
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def _range(r: Range) -> list[Any]:
    match r.mode:
        case 1:
            return [r.upper, r.mode, r.fingerprint]
        case 2 | 3:
            return [r.upper, r.mode, [list(item) for item in r.items]]
    return [r.upper, r.mode]


class UnknownType(ProtocolError):
    """A well-formed message of a type this version does not know."""


def decode(data: bytes) -> Message:
    """Parse and check one message; anything off raises ProtocolError (never anything else)."""
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises several unrelated types on bad input
        raise ProtocolError(f"not a msgpack message ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise ProtocolError("a message must be a msgpack map")
    kind = body.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("a message needs a string 'type'")
    parse = _PARSERS.get(kind)
    if parse is None:
        raise UnknownType(f"unknown message type {kind[:40]!r}")
    return parse(body)


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ProtocolError(f"{body['type']}: field {name!r} missing or of the wrong type")
    return value


def _doc_id(body: dict[str, Any]) -> str:
    doc_id: str = _field(body, "id", str)
    if not valid_doc_id(doc_id):
        raise ProtocolError(f"{body['type']}: bad document id")
    return doc_id


def _digest(body: dict[str, Any], value: Any = None) -> bytes:
    digest = _field(body, "digest", bytes) if value is None else value
    if not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE:
        raise ProtocolError(f"{body['type']}: a digest is {DIGEST_SIZE} bytes")
    return digest


def _hello(body: dict[str, Any]) -> Hello:
    versions = _field(body, "versions", list)
    if (
        not versions
        or len(versions) > 16
        or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**16 for v in versions
        )
    ):
        raise ProtocolError("hello: 'versions' must be 1 to 16 positive integers")
    device = _field(body, "device", str)
    if not _DEVICE.fullmatch(device):
        raise ProtocolError("hello: 'device' must be 32 lower-case hex characters")
    name = _field(body, "name", str)[:MAX_NAME]
    port = _field(body, "port", int)
    if not 0 <= port < 65536:
        raise ProtocolError("hello: 'port' out of range")
    addrs = _field(body, "addrs", list)
    if len(addrs) > MAX_ADDRS or not all(isinstance(a, str) and len(a) <= 64 for a in addrs):
        raise ProtocolError(f"hello: 'addrs' must be at most {MAX_ADDRS} short strings")
    return Hello(tuple(versions), device, name, port, tuple(addrs))


def _have(body: dict[str, Any]) -> Have:
    docs = _field(body, "docs", dict)
    for doc_id, digest in docs.items():
        if not valid_doc_id(doc_id):
            raise ProtocolError("have: bad document id")
        _digest(body, digest)
    return Have(docs)


def _reconcile(body: dict[str, Any]) -> Reconcile:
    ranges = _field(body, "ranges", list)
    if len(ranges) > MAX_RANGES:
        raise ProtocolError(f"reconcile: more than {MAX_RANGES} ranges")
    parsed: list[Range] = []
    lower: str | None = ""
    for value in ranges:
        if not isinstance(value, list) or len(value) < 2:
            raise ProtocolError("reconcile: a range is an array [upper, mode, ...]")
        if lower is None:
            raise ProtocolError("reconcile: a range after the one that ends past every id")
        upper, mode = value[0], value[1]
        if type(mode) is not int:
            raise ProtocolError("reconcile: a range's mode is an integer")
        if upper is not None and (not valid_doc_id(upper) or upper <= lower):
            raise ProtocolError("reconcile: bounds must be ids in ascending order")
        if mode == SKIP and len(value) == 2:
            parsed.append(Range(upper, SKIP))
        elif mode == FINGERPRINT and len(value) == 3:
            fingerprint = value[2]
            if not isinstance(fingerprint, bytes) or len(fingerprint) != DIGEST_SIZE:
                raise ProtocolError(f"reconcile: a fingerprint is {DIGEST_SIZE} bytes")
            parsed.append(Range(upper, FINGERPRINT, fingerprint))
        elif mode in (LIST, LAST_LIST) and len(value) == 3 and isinstance(value[2], list):
            parsed.append(Range(upper, mode, items=_items(value[2], lower, upper)))
        else:
            raise ProtocolError("reconcile: a range of unknown mode or shape")
        lower = upper
    return Reconcile(tuple(parsed))


def _items(values: list[Any], lower: str, upper: str | None) -> tuple[tuple[str, bytes], ...]:
    """The pairs of a list range: ids in ascending order within [lower, upper)."""
    items: list[tuple[str, bytes]] = []
    previous = None
    for value in values:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not valid_doc_id(value[0])
            or not isinstance(value[1], bytes)
            or len(value[1]) != DIGEST_SIZE
        ):
            raise ProtocolError("reconcile: an item is [document id, 16-byte digest]")
        doc_id = value[0]
        if doc_id < lower or (upper is not None and doc_id >= upper):
            raise ProtocolError("reconcile: an item outside its range")
        if previous is not None and doc_id <= previous:
            raise ProtocolError("reconcile: items must be in ascending order of id")
        previous = doc_id
        items.append((doc_id, value[1]))
    return tuple(items)


def _signed(body: dict[str, Any]) -> tuple[bytes, bytes]:
    signatures = _field(body, "sigs", bytes)
    keys = _field(body, "keys", bytes)
    if len(signatures) % SIGNATURE_ENTRY or len(keys) % KEY_SIZE:
        raise ProtocolError(
            f"{body['type']}: 'sigs' holds {SIGNATURE_ENTRY}-byte entries, "
            f"'keys' {KEY_SIZE}-byte ones"
        )
    return signatures, keys


def _doc(body: dict[str, Any]) -> WholeDocument:
    return WholeDocument(_doc_id(body), _field(body, "data", bytes), _digest(body), *_signed(body))


def _sync(body: dict[str, Any]) -> Sync:
    return Sync(_doc_id(body), _field(body, "data", bytes), _digest(body), *_signed(body))


def _synced(body: dict[str, Any]) -> Synced:
    docs = _field(body, "docs", int)
    if docs < 0:
        raise ProtocolError("synced: 'docs' must not be negative")
    return Synced(docs)


def _bye(body: dict[str, Any]) -> Bye:
    return Bye(_field(body, "reason", str)[:64])


_PARSERS: dict[str, Callable[[dict[str, Any]], Message]] = {
    "hello": _hello,
    "have": _have,
    "reconcile": _reconcile,
    "doc": _doc,
    "sync": _sync,
    "synced": _synced,
    "ping": lambda body: Ping(),
    "pong": lambda body: Pong(),
    "bye": _bye,
}


def choose_version(theirs: tuple[int, ...]) -> int | None:
    """The highest version both sides speak, or None."""
    common = set(theirs) & set(PROTOCOL_VERSIONS)
    return max(common) if common else None
