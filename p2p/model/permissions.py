"""Who may write what: the board's permissions, checked on each change before it is stored.

A change C by actor A is judged by its own operations and the state of the document at its
dependencies, never by what arrived before or after it, so every honest device reaches the same
verdict whatever order changes reach it in. Object ids name the actor that made the object, and
an item's author is the actor of its genesis (its one change without dependencies): those are
the only sources of "who". The schema and these rules are PROTOCOL.md §9; in short:

- the genesis alone writes `kind` and `created` and makes the `replies` and `responses` maps
  (and, on the board, `created` and `settings`); a second change without dependencies is refused;
- only the author writes `title`, `body`, `tags`, `start`, `end`, `place`, `decide_by`, `tasks`
  and `shifts`, or anything inside them (on a note, anyone writes `title`, `body` and `tags`);
- `status`: the author writes any value; anyone else only `open`, `met` or `closed` (or deletes
  a value, as automerge does to settle a conflict), and not while the item is `withdrawn` (at
  the change's dependencies);
- in `replies` anyone inserts a map; only a reply's maker changes or removes it; in `responses`,
  and for the board's `member:<id>` keys, only the device whose id is the key writes under it;
- inside any other object only the actor that made it writes; `updated` and unknown root fields
  are anyone's; the version 1 fields `author` and `history` are nobody's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ForbiddenChange
from .automerge import ROOT, Document
from .board_document import BOARD_DOC_ID, MEMBER_PREFIX
from .chunks import DELETE, MAKE_MAP, MAKES, SET, Change, Op, Operations, OpId

KIND_NOTE = "note"
WITHDRAWN = "withdrawn"
OTHERS_STATUSES = ("open", "met", "closed")
"""Statuses anyone may set; only the author sets `withdrawn` or leaves it."""

ITEM_GENESIS_ONLY = frozenset({"kind", "created", "replies", "responses"})
RETIRED = frozenset({"author", "history"})
"""Fields of version 1 that claimed who did what; nobody writes them now (not even a genesis):
who did what is read from the signed changes."""
AUTHOR_FIELDS = frozenset(
    {"title", "body", "tags", "start", "end", "place", "decide_by", "tasks", "shifts"}
)
NOTE_FIELDS = frozenset({"title", "body", "tags"})
"""On a note these are anyone's: it is written together."""
BOARD_GENESIS_ONLY = frozenset({"created", "settings"})
CONTAINERS = ("tags", "body", "tasks", "shifts", "replies", "responses", "settings")
"""Root fields that hold an object other devices write into."""
PER_OPERATION = frozenset({"replies", "responses"})
"""Containers whose rule depends on each operation's key, not only on who writes."""


@dataclass(frozen=True)
class Genesis:
    """What a document's first change fixed: its author, its kind and its root objects."""

    hash: bytes
    author: bytes
    kind: str | None
    containers: dict[OpId, str]
    """Objects the genesis made at root keys, by key."""


def root_ops(ops: Operations) -> list[Op]:
    """The operations of a change on the root map."""
    return [ops[i] for obj, first, end in ops.groups() if obj is None for i in range(first, end)]


def genesis_of(change: Change, ops: Operations) -> Genesis:
    kind: str | None = None
    containers: dict[OpId, str] = {}
    for op in root_ops(ops):
        if isinstance(op.key, str):
            if op.key == "kind" and op.action == SET and isinstance(op.value, str):
                kind = op.value
            if op.action in MAKES:
                containers[op.id] = op.key
    return Genesis(change.hash, change.actor, kind, containers)


def genesis_from_document(doc: Document, genesis_hash: bytes) -> Genesis:
    """The genesis of a stored document, read at its genesis (no change is parsed)."""
    heads = [genesis_hash]
    containers: dict[OpId, str] = {}
    author: bytes | None = None
    for key in doc.keys(ROOT, heads):
        found = doc.written(ROOT, key, heads)
        if found is None:
            continue
        is_object, writer = found
        author = writer[1]
        if is_object:
            containers[writer] = key
    kind = doc.scalar(ROOT, "kind", heads)
    return Genesis(
        genesis_hash,
        author if author is not None else b"",
        kind if isinstance(kind, str) else None,
        containers,
    )


StateAt = Callable[[], Document]
"""A document that holds the change's dependencies (read at them), made only when needed."""


class Rules:
    """The rules of one document; `check` judges one change and says what it did."""

    def __init__(self, doc_id: str, genesis: Genesis | None = None) -> None:
        self.doc_id = doc_id
        self.board = doc_id == BOARD_DOC_ID
        self.genesis = genesis

    def check(self, change: Change, state: StateAt, ops: Operations | None = None) -> list[str]:
        """ForbiddenChange if `change` breaks a rule; else what the history shows of it."""
        ops = change.ops() if ops is None else ops
        if not change.deps:
            if self.genesis is not None and self.genesis.hash != change.hash:
                raise self._refuse(change, "it is a second first change of the document")
            # Judged by the state it makes, exactly as a document that is only its genesis is
            # (from its header and state, without parsing it), so that both agree.
            genesis_rules_hold(state(), self.doc_id, change.actor, [change.hash])
            self.genesis = genesis_of(change, ops)
            return ["posted"]
        if self.genesis is None:
            raise self._refuse(change, "the document has no first change")
        judge = _Judge(self, change, state)
        for obj, first, end in ops.groups():
            judge.run(obj, ops, first, end)
        return judge.history()

    def _refuse(self, change: Change, why: str) -> ForbiddenChange:
        return ForbiddenChange(
            f"document {self.doc_id}: change {change.hash.hex()[:12]} by "
            f"{change.actor.hex()[:8]} refused: {why}"
        )


class _Judge:
    """One change's operations, one at a time."""

    def __init__(self, rules: Rules, change: Change, state: StateAt) -> None:
        assert rules.genesis is not None
        self.rules = rules
        self.genesis = rules.genesis
        self.change = change
        self.actor = change.actor
        self.me = change.actor.hex()
        self.author = change.actor == rules.genesis.author
        self.note = rules.genesis.kind == KIND_NOTE
        self._state = state
        self._doc: Document | None = None
        self._containers_at_deps: dict[OpId, str] | None = None
        self.fields: set[str] = set()
        self.statuses: list[str] = []
        self.name = False

    def refuse(self, why: str) -> ForbiddenChange:
        return self.rules._refuse(self.change, why)

    def at_deps(self) -> Document:
        if self._doc is None:
            self._doc = self._state()
        return self._doc

    def run(self, obj: OpId | None, ops: Operations, first: int, end: int) -> None:
        """Operations first … end - 1, all on object `obj`."""
        if obj is None:
            for i in range(first, end):
                op = ops[i]
                if not isinstance(op.key, str):
                    raise self.refuse("it writes the root map as a list")
                self.root(op, op.key)
            return
        key = self.genesis.containers.get(obj)
        if key is None and obj[1] == self.actor:
            return  # inside an object this device made: its own
        if key is None:
            key = self.container_at_deps(obj)
        if key is None:
            raise self.refuse("it writes inside an object another device made")
        if key in PER_OPERATION:
            for i in range(first, end):
                self.inside(ops[i], key)
        else:  # the verdict depends only on the field and the device
            self.inside(ops[first], key)

    def container_at_deps(self, obj: OpId) -> str | None:
        """The root field holding `obj` at the change's dependencies (an author may have
        replaced a container since the genesis), or None."""
        if self._containers_at_deps is None:
            doc = self.at_deps()
            deps = list(self.change.deps)
            self._containers_at_deps = {}
            for key in CONTAINERS:
                found = doc.written(ROOT, key, deps)
                if found is not None and found[0]:
                    self._containers_at_deps[found[1]] = key
        return self._containers_at_deps.get(obj)

    def root(self, op: Op, key: str) -> None:
        """An operation on a root field."""
        if self.rules.board:
            if key in BOARD_GENESIS_ONLY:
                raise self.refuse(f"only the board's first change writes '{key}'")
            if key.startswith(MEMBER_PREFIX) and key != MEMBER_PREFIX + self.me:
                raise self.refuse(f"it writes another member's entry '{key[:48]}'")
            if key == "name":
                self.name = True
            return
        if key in RETIRED:
            raise self.refuse(f"'{key}' is not written: the signed changes say who did what")
        if key in ITEM_GENESIS_ONLY:
            raise self.refuse(f"only the item's first change writes '{key}'")
        if key in AUTHOR_FIELDS:
            self.field(key)
        elif key == "status":
            self.status(op)

    def field(self, key: str) -> None:
        if not self.author and not (self.note and key in NOTE_FIELDS):
            raise self.refuse(f"only the item's author writes '{key}'")
        self.fields.add(key)

    def status(self, op: Op) -> None:
        if op.action == SET and isinstance(op.value, str):
            self.statuses.append(op.value)
        if self.author:
            return
        setting = op.action == SET and op.value in OTHERS_STATUSES
        # automerge settles a conflict by deleting the other values when a device puts the
        # value it already holds there: an honest change that leaves one of those
        if not (setting or op.action == DELETE) or op.insert:
            raise self.refuse("only the item's author withdraws it or writes another status")
        at = self.at_deps().scalar(ROOT, "status", list(self.change.deps))
        if at == WITHDRAWN:
            raise self.refuse("only the item's author brings back a withdrawn item")

    def inside(self, op: Op, key: str) -> None:
        """An operation inside the object at root field `key`."""
        if self.rules.board:
            if key in BOARD_GENESIS_ONLY:
                raise self.refuse(f"only the board's first change writes '{key}'")
            if key.startswith(MEMBER_PREFIX) and key != MEMBER_PREFIX + self.me:
                raise self.refuse(f"it writes another member's entry '{key[:48]}'")
            return
        if key == "replies":
            if op.insert:
                if op.action != MAKE_MAP:
                    raise self.refuse("a reply is a map")
            elif not isinstance(op.key, tuple) or op.key[1] != self.actor:
                raise self.refuse("it changes or removes another device's reply")
        elif key == "responses":
            if op.key != self.me:
                raise self.refuse("it writes a response under another member's name")
        elif key in ITEM_GENESIS_ONLY:
            raise self.refuse(f"only the item's first change writes '{key}'")
        elif key in AUTHOR_FIELDS:
            self.field(key)
        elif key == "status" and not self.author:
            raise self.refuse("only the item's author writes inside 'status'")

    def history(self) -> list[str]:
        out = []
        if self.fields:
            out.append("edited")
        out += [f"marked {s}" for s in self.statuses if s in (*OTHERS_STATUSES, WITHDRAWN)]
        if self.name:
            out.append("renamed the board")
        return out


def genesis_rules_hold(
    doc: Document, doc_id: str, author: bytes, heads: list[bytes] | None = None
) -> None:
    """The check of a genesis (its author may write anything else), read from the state it
    makes (`heads`: the genesis, else the document as it is, when that is all it holds): its
    ways to break a rule are writing as another member and writing a retired field."""
    me = author.hex()
    if doc_id == BOARD_DOC_ID:
        for key in doc.keys(ROOT, heads):
            if key.startswith(MEMBER_PREFIX) and key != MEMBER_PREFIX + me:
                raise ForbiddenChange(
                    f"document {doc_id}: its first change writes another member's entry"
                )
        return
    if any(doc.written(ROOT, key, heads) is not None for key in RETIRED):
        raise ForbiddenChange(f"document {doc_id}: its first change writes 'author' or 'history'")
    responses = doc.child(ROOT, "responses", heads)
    if responses is not None and any(key != me for key in doc.keys(responses, heads)):
        raise ForbiddenChange(
            f"document {doc_id}: its first change writes a response under another member's name"
        )
