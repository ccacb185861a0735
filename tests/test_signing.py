"""Signed changes: nothing unsigned, mis-signed or against the rules gets into a home's store,
and who did what is read from the signed history, never from fields."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from potluck.p2p.errors import (
    BadSignature,
    DamagedDocument,
    ExportError,
    ForbiddenChange,
    InvalidInput,
    ItemNotFound,
)
from potluck.p2p.home import Board, Home
from potluck.p2p.keys import DeviceIdentity, actor_id_for, verify_change
from potluck.p2p.model import item_document as items
from potluck.p2p.model import rota
from potluck.p2p.model import tasks as task_model
from potluck.p2p.model.automerge import ROOT, Document, SyncState, parse_id
from potluck.p2p.model.board_document import BOARD_DOC_ID, set_member
from potluck.p2p.model.checking import history_of
from potluck.p2p.model.chunks import MAKES, parse_change, sync_message_chunks, uleb
from potluck.p2p.model.measure import MAGIC
from potluck.p2p.model.signing import (
    Signed,
    pack_signatures,
    unpack_keys,
    unpack_signatures,
)
from potluck.p2p.model.types import Kind, ResponseKind, Status
from potluck.p2p.storage.thread import PREPARE_AT, StoreThread

from tests.forge import Forger, sync_message

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@contextmanager
def homes(*names: str) -> Iterator[tuple[list[Home], str]]:
    """Homes on one board made by the first, each holding the board document."""
    with tempfile.TemporaryDirectory() as tmp:
        opened = []
        try:
            for name in names:
                home = Home.open(Path(tmp) / name.lower())
                home.set_profile(name=name)
                opened.append(home)
            board = opened[0].new_board("Kitchen")
            for home in opened[1:]:
                home.join(board.invite())
                copy_all(opened[0], home, board.board_id)
                home.board(board.board_id).introduce()
            for home in opened:
                for other in opened:
                    copy_all(home, other, board.board_id)
            yield opened, board.board_id
        finally:
            for home in opened:
                home.close()


def copy_all(src: Home, dst: Home, board_id: str) -> None:
    """Every document of `src`, whole, into `dst` (as a `doc` message or an export would)."""
    if src is dst:
        return
    for doc_id in src.store.documents.digests(board_id):
        saved = src.store.documents.saved_document(board_id, doc_id)
        dst.store.documents.apply_saved_document(board_id, doc_id, saved)


def state(home: Home, board_id: str, doc_id: str) -> tuple[bytes | None, int]:
    """What a refusal must leave as it was: the digest and the number of signed changes."""
    documents = home.store.documents
    digest = documents.digest(board_id, doc_id)
    if digest is None:
        return None, 0
    return digest, len(unpack_signatures(documents.saved_document(board_id, doc_id).signatures))


def rebuild(chunk: bytes, *, deps: list[bytes] | None = None, actor: bytes | None = None) -> bytes:
    """A change chunk with other dependencies or another actor, its checksum made right (what
    a forger does so that it still parses as automerge)."""
    change = parse_change(chunk, with_ops=False)
    raw = memoryview(chunk)
    pos = 9
    length = shift = 0
    while True:
        byte = raw[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    body = bytes(raw[pos : pos + length])
    rest = body[len(uleb(len(change.deps))) + 32 * len(change.deps) :]
    rest = rest[len(uleb(len(change.actor))) + len(change.actor) :]
    new_deps = change.deps if deps is None else deps
    new_actor = change.actor if actor is None else actor
    new_body = uleb(len(new_deps)) + b"".join(new_deps) + uleb(len(new_actor)) + new_actor + rest
    head = bytes([1]) + uleb(len(new_body))
    checksum = hashlib.sha256(head + new_body).digest()[:4]
    return MAGIC + checksum + head + new_body


# ------------------------------------------------------------ signatures


TAMPERING = st.one_of(
    st.tuples(st.just("flip"), st.tuples(st.integers(0, 10_000), st.integers(1, 255))),
    st.tuples(st.just("actor"), st.binary(min_size=16, max_size=16)),
    st.tuples(st.just("dep"), st.binary(min_size=32, max_size=32)),
    st.tuples(st.just("extra dep"), st.binary(min_size=32, max_size=32)),
    st.tuples(st.just("no deps"), st.none()),
    st.tuples(st.just("signature bit"), st.integers(0, 511)),
    st.tuples(st.just("signature"), st.binary(min_size=64, max_size=64)),
    st.tuples(st.just("other signature"), st.none()),
    st.tuples(st.just("unsigned"), st.none()),
    st.tuples(st.just("other key"), st.none()),
    st.tuples(st.just("no key"), st.none()),
    st.tuples(st.just("claims ana"), st.booleans()),
    st.tuples(st.just("truncated signatures"), st.integers(1, 95)),
    st.tuples(st.just("small-order key"), st.none()),
)
SMALL_ORDER_KEY = bytes([1]) + bytes(31)
"""The identity point as a device key: R = identity, S = 0 is its signature of every message
under a verification that does not refuse keys of small order (OpenSSL's does not)."""
RESIGNED = st.one_of(
    st.tuples(st.just("actor"), st.binary(min_size=16, max_size=16)),
    st.tuples(st.just("dep"), st.binary(min_size=32, max_size=32)),
    st.tuples(st.just("extra dep"), st.binary(min_size=32, max_size=32)),
    st.tuples(st.just("no deps"), st.none()),
)
"""Changes a forger makes from an honest one and signs itself: new changes of its own, judged
as any (an unknown dependency is held back, a second genesis or a stranger actor refused)."""


def tamper(
    kind: tuple[str, object],
    chunk: bytes,
    forger: DeviceIdentity,
    ana: DeviceIdentity,
    resign: bool = False,
) -> tuple[bytes, bytes, bytes]:
    """(chunk, signatures, keys) as a forger or a broken link delivers them: the signature is
    the one made for the honest change, unless `resign` (the forger signs what it sends)."""
    name, arg = kind
    change = parse_change(chunk, with_ops=False)
    signature = forger.sign_change(change.hash)
    keys = forger.signing_public
    if name == "flip":
        assert isinstance(arg, tuple)
        position, mask = arg
        data = bytearray(chunk)
        data[position % len(data)] ^= mask
        return bytes(data), pack_signatures([(change.hash, signature)]), keys
    if name == "actor":
        assert isinstance(arg, bytes)
        chunk = rebuild(chunk, actor=arg)
    elif name == "dep":
        assert isinstance(arg, bytes)
        chunk = rebuild(chunk, deps=[arg, *change.deps[1:]])
    elif name == "extra dep":
        assert isinstance(arg, bytes)
        chunk = rebuild(chunk, deps=[*change.deps, arg])
    elif name == "no deps":
        chunk = rebuild(chunk, deps=[])
    elif name == "signature bit":
        assert isinstance(arg, int)
        flipped = bytearray(signature)
        flipped[arg // 8] ^= 1 << (arg % 8)
        return chunk, pack_signatures([(change.hash, bytes(flipped))]), keys
    elif name == "signature":
        assert isinstance(arg, bytes)
        return chunk, pack_signatures([(change.hash, arg)]), keys
    elif name == "other signature":
        return chunk, pack_signatures([(change.hash, forger.sign_change(bytes(32)))]), keys
    elif name == "unsigned":
        return chunk, b"", keys
    elif name == "other key":
        return chunk, pack_signatures([(change.hash, signature)]), ana.signing_public
    elif name == "no key":
        return chunk, pack_signatures([(change.hash, signature)]), b""
    elif name == "small-order key":
        chunk = rebuild(chunk, actor=actor_id_for(SMALL_ORDER_KEY))
        claimed = parse_change(chunk, with_ops=False)
        signatures = pack_signatures([(claimed.hash, SMALL_ORDER_KEY + bytes(32))])
        return chunk, signatures, SMALL_ORDER_KEY
    elif name == "claims ana":
        # A change naming Ana's device as its actor, signed by the forger: with the forger's
        # key (which derives to another actor), or with Ana's (which the signature fails).
        chunk = rebuild(chunk, actor=ana.actor_id)
        claimed = parse_change(chunk, with_ops=False)
        key = ana.signing_public if arg else forger.signing_public
        return chunk, pack_signatures([(claimed.hash, forger.sign_change(claimed.hash))]), key
    elif name == "truncated signatures":
        assert isinstance(arg, int)
        return chunk, pack_signatures([(change.hash, signature)])[:-arg], keys
    if not resign:  # the honest change's signature, on other bytes
        return chunk, pack_signatures([(change.hash, signature)]), keys
    rebuilt = parse_change(chunk, with_ops=False)
    return chunk, pack_signatures([(rebuilt.hash, forger.sign_change(rebuilt.hash))]), keys


class TestVerification:
    @SETTINGS
    @given(kind=TAMPERING)
    def test_a_tampered_change_is_refused_and_nothing_is_stored(
        self, kind: tuple[str, object]
    ) -> None:
        with homes("Ana", "Mo", "Vic") as ((ana, mo, vic), board_id):
            item = ana.board(board_id).post(Kind.NEED, "A ladder")
            copy_all(ana, mo, board_id)
            copy_all(ana, vic, board_id)
            honest = Forger(mo, board_id).change(
                item, lambda doc: items.add_reply(doc, text="I have one", now=5)
            )
            [chunk] = [c for c in _chunks(honest.sync.data)]
            data, signatures, keys = tamper(kind, chunk, mo.identity, ana.identity)
            before = state(vic, board_id, item)
            documents = vic.store.documents
            with pytest.raises(DamagedDocument):
                documents.receive_sync_message(
                    board_id, item, SyncState(), Signed(sync_message([data]), signatures, keys)
                )
            assert state(vic, board_id, item) == before
            assert [r.text for r in vic.board(board_id).item(item).replies] == []
            # The same change untampered is taken: the refusal was the tampering's doing.
            documents.receive_sync_message(board_id, item, SyncState(), honest.sync)
            assert [r.author for r in vic.board(board_id).item(item).replies] == [mo.device_id]

    def test_a_key_of_small_order_signs_nothing(self) -> None:
        assert not verify_change(SMALL_ORDER_KEY, bytes(32), SMALL_ORDER_KEY + bytes(32))
        with homes("Ana", "Mo", "Vic") as ((ana, mo, vic), board_id):
            item = ana.board(board_id).post(Kind.NEED, "A ladder")
            copy_all(ana, vic, board_id)
            honest = Forger(mo, board_id).change(
                item, lambda doc: items.add_reply(doc, text="I have one", now=5)
            )
            [chunk] = _chunks(honest.sync.data)
            data, signatures, keys = tamper(
                ("small-order key", None), chunk, mo.identity, ana.identity
            )
            with pytest.raises(BadSignature):
                vic.store.documents.receive_sync_message(
                    board_id, item, SyncState(), Signed(sync_message([data]), signatures, keys)
                )
            assert vic.board(board_id).item(item).replies == ()

    @SETTINGS
    @given(kind=RESIGNED)
    def test_a_forgers_own_variant_of_a_change_is_refused_or_held_back(
        self, kind: tuple[str, object]
    ) -> None:
        with homes("Ana", "Mo", "Vic") as ((ana, mo, vic), board_id):
            item = ana.board(board_id).post(Kind.NEED, "A ladder")
            copy_all(ana, mo, board_id)
            copy_all(ana, vic, board_id)
            honest = Forger(mo, board_id).change(
                item, lambda doc: items.add_reply(doc, text="I have one", now=5)
            )
            [chunk] = _chunks(honest.sync.data)
            data, signatures, keys = tamper(kind, chunk, mo.identity, ana.identity, resign=True)
            before = state(vic, board_id, item)
            message = Signed(sync_message([data]), signatures, keys)
            try:
                stored = vic.store.documents.receive_sync_message(
                    board_id, item, SyncState(), message
                )
            except DamagedDocument:
                stored = False
            assert not stored
            assert state(vic, board_id, item) == before

    def test_every_signature_stored_verifies_under_its_signers_key(self) -> None:
        with homes("Ana", "Bo") as ((ana, bo), board_id):
            item = ana.board(board_id).post(Kind.NOTE, "Agreements", body="quiet")
            copy_all(ana, bo, board_id)
            bo.board(board_id).edit(item, body="quiet after ten")
            bo.board(board_id).reply(item, "ok")
            copy_all(bo, ana, board_id)
            for home in (ana, bo):
                for doc_id in home.store.documents.digests(board_id):
                    saved = home.store.documents.saved_document(board_id, doc_id)
                    signatures = dict(unpack_signatures(saved.signatures))
                    keys = unpack_keys(saved.keys)
                    doc = home.store.documents.read_document(board_id, doc_id)
                    assert doc is not None
                    changes = doc.changes_since([])
                    assert {h for h, _ in changes} == set(signatures)
                    for change_hash, data in changes:
                        actor = parse_change(data, with_ops=False).actor
                        assert verify_change(keys[actor], change_hash, signatures[change_hash])


def _chunks(message: bytes) -> list[bytes]:
    return [bytes(c) for c in sync_message_chunks(message)]


# ------------------------------------------------------------ rules


def forgeries(ana: Home, board_id: str, item: str, project: str, proposal: str) -> dict:
    """Each thing a member's device may not do to Ana's items, as an edit of the document."""
    ana_id = ana.device_id

    def title(doc: Document) -> None:
        items.edit_item(doc, now=9, title="Forged title")

    def response(doc: Document) -> None:
        items.set_response(doc, member=ana_id, kind="help", note="forged", now=9)

    def position(doc: Document) -> None:
        items.set_response(doc, member=ana_id, kind="block", note="forged", now=9)

    def history(doc: Document) -> None:
        with doc.change() as w:
            entry = w.append_map(w.list_at(ROOT, "history"))
            w.put_str(entry, "who", ana_id)
            w.put_str(entry, "what", "marked met")

    def withdraw(doc: Document) -> None:
        items.set_status(doc, status=Status.WITHDRAWN, now=9)

    def task(doc: Document) -> None:
        tasks = items.read_item(doc, "x").tasks
        rota.say(doc, ana_id, 9, [(task_model.task_key(tasks[0].id), "")])

    def task_list(doc: Document) -> None:
        with doc.change() as w:
            w.put_str(w.append_map(w.list_at(ROOT, "tasks")), "title", "forged task")

    def remove_reply(doc: Document) -> None:
        with doc.change() as w:
            w.delete(doc.child(ROOT, "replies") or ROOT, 0)  # type: ignore[arg-type]

    def reply_text(doc: Document) -> None:
        reply = doc.child(doc.child(ROOT, "replies"), 0)
        assert reply is not None
        with doc.change() as w:
            w.put_str(reply, "text", "Ana never said this")

    def kind(doc: Document) -> None:
        with doc.change() as w:
            w.put_str(ROOT, "kind", "note")

    return {
        "a title change on another's item": (item, title),
        "a response under another's name": (item, response),
        "a position under another's name": (proposal, position),
        "a history entry": (item, history),
        "withdrawing another's item": (item, withdraw),
        "a task taken under another's name": (project, task),
        "a task added to another's project": (project, task_list),
        "removing another's reply": (item, remove_reply),
        "rewriting another's reply": (item, reply_text),
        "changing an item's kind": (item, kind),
    }


class TestRules:
    @pytest.fixture
    def board(self) -> Iterator[tuple[Home, Home, Home, str, dict]]:
        with homes("Ana", "Mo", "Vic") as ((ana, mo, vic), board_id):
            board = ana.board(board_id)
            item = board.post(Kind.NEED, "A ladder")
            board.reply(item, "for the gutter")
            project = board.post(Kind.PROJECT, "Roof garden", tasks=["dig"])
            proposal = board.post(Kind.PROPOSAL, "Quiet hours")
            for home in (mo, vic):
                copy_all(ana, home, board_id)
            yield ana, mo, vic, board_id, forgeries(ana, board_id, item, project, proposal)

    @pytest.mark.parametrize("path", ["document", "sync"])
    @pytest.mark.parametrize(
        "what",
        [
            "a title change on another's item",
            "a response under another's name",
            "a position under another's name",
            "a history entry",
            "withdrawing another's item",
            "a task taken under another's name",
            "a task added to another's project",
            "removing another's reply",
            "rewriting another's reply",
            "changing an item's kind",
        ],
    )
    def test_a_forgery_by_a_member_is_refused(
        self, board: tuple[Home, Home, Home, str, dict], what: str, path: str
    ) -> None:
        _, mo, vic, board_id, forged_edits = board
        doc_id, edit = forged_edits[what]
        forged = Forger(mo, board_id).change(doc_id, edit)
        before = state(vic, board_id, doc_id)
        item_before = vic.board(board_id).item(doc_id)
        with pytest.raises(ForbiddenChange):
            if path == "document":
                vic.store.documents.apply_saved_document(board_id, doc_id, forged.document)
            else:
                vic.store.documents.receive_sync_message(board_id, doc_id, SyncState(), forged.sync)
        assert state(vic, board_id, doc_id) == before
        assert vic.board(board_id).item(doc_id) == item_before
        # Mo's own device would never make it: the same edit through the store is refused.
        with pytest.raises(ForbiddenChange):
            mo.store.documents.update(board_id, doc_id, edit)

    def test_a_valid_change_on_a_refused_one_is_refused_with_it(
        self, board: tuple[Home, Home, Home, str, dict]
    ) -> None:
        _, mo, vic, board_id, forged_edits = board
        doc_id, edit = forged_edits["a title change on another's item"]
        forger = Forger(mo, board_id)
        bad = forger.change(doc_id, edit)
        good = forger.change(
            doc_id, lambda doc: items.add_reply(doc, text="a fine reply", now=10), base=bad
        )
        before = state(vic, board_id, doc_id)
        with pytest.raises(ForbiddenChange):  # whole: the refused change and what follows it
            vic.store.documents.apply_saved_document(board_id, doc_id, good.document)
        chained = Signed(
            sync_message([*_chunks(bad.sync.data), *_chunks(good.sync.data)]),
            bad.sync.signatures + good.sync.signatures,
            mo.identity.signing_public,
        )
        with pytest.raises(ForbiddenChange):  # both in one sync message
            vic.store.documents.receive_sync_message(board_id, doc_id, SyncState(), chained)
        # Alone, after its parent was refused: automerge holds it back, nothing is stored.
        assert not vic.store.documents.receive_sync_message(
            board_id, doc_id, SyncState(), good.sync
        )
        assert state(vic, board_id, doc_id) == before

    def test_an_item_authored_as_another_device_is_refused(
        self, board: tuple[Home, Home, Home, str, dict]
    ) -> None:
        ana, mo, vic, board_id, _ = board
        forger = Forger(mo, board_id)
        new_id = items.new_id()

        def post(doc: Document) -> None:
            items.init_item(doc, kind=Kind.NEED, title="Ana's forged need", body="", tags=[], now=1)

        as_ana = forger.change(new_id, post, actor=ana.identity.actor_id)
        for keys in ([mo.identity.signing_public], [ana.identity.signing_public]):
            signed = Signed(as_ana.document.data, as_ana.document.signatures, b"".join(keys))
            with pytest.raises(BadSignature):
                vic.store.documents.apply_saved_document(board_id, new_id, signed)
        assert state(vic, board_id, new_id) == (None, 0)
        # Writing an `author` field naming Ana is refused too (nobody writes it).
        with_field = forger.change(
            new_id, lambda doc: (post(doc), _put(doc, "author", ana.device_id))
        )
        with pytest.raises(ForbiddenChange, match="author"):
            vic.store.documents.apply_saved_document(board_id, new_id, with_field.document)
        # Its own post is taken, and shown as its own, whatever it claims in unknown fields.
        own = forger.change(new_id, lambda doc: (post(doc), _put(doc, "by", ana.device_id)))
        vic.store.documents.apply_saved_document(board_id, new_id, own.document)
        assert vic.board(board_id).item(new_id).author == mo.device_id

    def test_a_second_first_change_and_a_forged_member_entry_are_refused(
        self, board: tuple[Home, Home, Home, str, dict]
    ) -> None:
        ana, mo, vic, board_id, _ = board
        forger = Forger(mo, board_id)
        rival = forger.change(
            BOARD_DOC_ID,
            lambda doc: set_member(doc, mo.device_id, "Mo", "", 1),
            base=Document.new(mo.identity.actor_id),
        )
        with pytest.raises(ForbiddenChange, match="second first change"):
            vic.store.documents.apply_saved_document(board_id, BOARD_DOC_ID, rival.document)
        as_ana = forger.change(
            BOARD_DOC_ID, lambda doc: set_member(doc, ana.device_id, "Ana (really)", "", 1)
        )
        with pytest.raises(ForbiddenChange, match="another"):
            vic.store.documents.receive_sync_message(
                board_id, BOARD_DOC_ID, SyncState(), as_ana.sync
            )
        assert vic.board(board_id).members()[ana.device_id].name == "Ana"

    def test_what_anyone_may_do_is_taken(self, board: tuple[Home, Home, Home, str, dict]) -> None:
        ana, mo, vic, board_id, forged_edits = board
        item, _ = forged_edits["a title change on another's item"]
        mine = mo.board(board_id)
        mine.reply(item, "I have one")
        mine.respond(item, ResponseKind.HELP, "Tuesday")
        mine.set_status(item, Status.MET)
        copy_all(mo, vic, board_id)
        seen = vic.board(board_id).item(item)
        assert seen.status is Status.MET
        assert [(h.who, h.what) for h in seen.history] == [
            (ana.device_id, "posted"),
            (mo.device_id, "marked met"),
        ]
        assert {r.member for r in seen.responses} == {mo.device_id}
        with pytest.raises(InvalidInput, match="withdraw"):
            mine.set_status(item, Status.WITHDRAWN)

    def test_an_export_with_a_forgery_is_refused_whole(
        self, board: tuple[Home, Home, Home, str, dict], tmp_path: Path
    ) -> None:
        _, mo, vic, board_id, forged_edits = board
        doc_id, edit = forged_edits["a response under another's name"]
        forged = Forger(mo, board_id).change(doc_id, edit)
        # Mo's device writes its store as it likes (it is its own), then exports it.
        mo.store.documents.apply_saved_document  # noqa: B018 - the honest path refuses it …
        path = tmp_path / "board.potluck"
        _export_with(mo, board_id, doc_id, forged.document, path)
        before = state(vic, board_id, doc_id)
        with pytest.raises((ForbiddenChange, ExportError)):
            vic.import_board(path)
        assert state(vic, board_id, doc_id) == before


def _put(doc: Document, key: str, value: str) -> None:
    with doc.change() as w:
        w.put_str(ROOT, key, value)


def _export_with(home: Home, board_id: str, doc_id: str, signed: Signed, path: Path) -> None:
    """An export of `home`'s board in which one document is replaced by `signed` (what a
    device gone bad writes to a USB stick)."""
    from potluck.p2p import exports

    original = home.store.documents.saved_document

    def swapped(board: str, wanted: str) -> Signed:
        return signed if wanted == doc_id else original(board, wanted)

    home.store.documents.saved_document = swapped  # type: ignore[method-assign]
    try:
        info = home.store.boards.info(board_id)
        exports.export_board(home.store, info, "Kitchen", path)
    finally:
        del home.store.documents.saved_document


# ------------------------------------------------------------ attribution


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, 2), st.sampled_from(list(Kind))),
        st.tuples(st.just("reply"), st.integers(0, 2), st.integers(0, 30)),
        st.tuples(st.just("respond"), st.integers(0, 2), st.integers(0, 30)),
        st.tuples(
            st.just("status"), st.integers(0, 2), st.integers(0, 30), st.sampled_from(list(Status))
        ),
        st.tuples(st.just("edit"), st.integers(0, 2), st.integers(0, 30)),
        st.tuples(st.just("task"), st.integers(0, 2), st.integers(0, 30)),
        st.tuples(st.just("sync"), st.integers(0, 2), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=30,
)


def signed_facts(home: Home, board_id: str, doc_id: str) -> dict:
    """Who did what, from the signed changes alone: each change's signature checked under its
    signer's key, then its operations read."""
    documents = home.store.documents
    saved = documents.saved_document(board_id, doc_id)
    signatures = dict(unpack_signatures(saved.signatures))
    keys = unpack_keys(saved.keys)
    doc = documents.read_document(board_id, doc_id)
    assert doc is not None
    genesis: bytes | None = None
    made: dict[tuple[int, bytes], bytes] = {}
    for change_hash, data in doc.changes_since([]):
        change = parse_change(data)
        assert verify_change(keys[change.actor], change_hash, signatures[change_hash])
        if not change.deps:
            genesis = change.actor
        for op in change.ops():
            if op.action in MAKES:
                made[op.id] = change.actor
    return {"genesis": genesis, "made": made, "doc": doc}


class TestAttribution:
    @SETTINGS
    @given(ops=OPERATIONS)
    def test_who_did_what_agrees_with_the_signed_history(self, ops: list[tuple]) -> None:
        with homes("Ana", "Bo", "Cy") as (devices, board_id):
            boards = [d.board(board_id) for d in devices]
            posted: list[str] = []
            for op in ops:
                name, who = op[0], op[1]
                board = boards[who]
                if name == "sync":
                    copy_all(devices[op[1]], devices[op[2]], board_id)
                    continue
                if name == "post":
                    posted.append(
                        board.post(op[2], f"{op[2].value} by {who}", tasks=["a", "b"])
                        if op[2] is Kind.PROJECT
                        else board.post(op[2], f"{op[2].value} by {who}", body="words")
                    )
                    continue
                held = [i for i in posted if devices[who].store.documents.digest(board_id, i)]
                if not held:
                    continue
                item = board.item(held[op[2] % len(held)])
                # What this member may not do, or cannot (every task taken), is refused
                # before anything is written.
                with contextlib.suppress(InvalidInput, ItemNotFound):
                    _act(board, item, op)
            for a in devices:
                for b in devices:
                    copy_all(a, b, board_id)
            for device in devices:
                for item_id in posted:
                    _check_attribution(device, board_id, item_id)

    def test_history_entries_are_what_signed_changes_did(self) -> None:
        with homes("Ana", "Bo") as ((ana, bo), board_id):
            item = ana.board(board_id).post(Kind.NOTE, "Agreements", body="quiet")
            copy_all(ana, bo, board_id)
            bo.board(board_id).edit(item, body="quiet after ten")
            bo.board(board_id).set_status(item, Status.CLOSED)
            ana.board(board_id).set_status(item, Status.MET)
            copy_all(bo, ana, board_id)
            history = [(h.who, h.what) for h in ana.board(board_id).item(item).history]
            assert history[0] == (ana.device_id, "posted")
            assert sorted(history[1:]) == sorted(
                [
                    (bo.device_id, "edited"),
                    (bo.device_id, "marked closed"),
                    (ana.device_id, "marked met"),
                ]
            )


def _act(board: Board, item: items.Item, op: tuple) -> None:
    name = op[0]
    if name == "reply":
        board.reply(item.id, f"reply {op[2]}")
    elif name == "respond":
        board.respond(item.id, None, f"note {op[2]}")
    elif name == "status":
        board.set_status(item.id, op[3])
    elif name == "edit":
        board.edit(item.id, title=f"edited {op[2]}", body=f"body {op[2]}")
    elif name == "task" and item.kind is Kind.PROJECT:
        board.respond(item.id, ResponseKind.TASK)


def _check_attribution(home: Home, board_id: str, item_id: str) -> None:
    """The read model's every "who" against the signed changes: the author is the genesis's
    signer; each reply's writer, each responding member and each taker is the signer of the
    change that made their map; the history is what the signed changes did."""
    facts = signed_facts(home, board_id, item_id)
    item = home.board(board_id).item(item_id)
    doc: Document = facts["doc"]
    made: dict[tuple[int, bytes], bytes] = facts["made"]

    def maker(obj: bytes | None) -> str:
        assert obj is not None
        found = parse_id(obj)
        assert found is not None
        return made[found].hex()

    assert item.author == facts["genesis"].hex()
    replies = doc.child(ROOT, "replies")
    makers = [maker(doc.child(replies, i)) for i in range(doc.length(replies or ROOT))]
    assert sorted(r.author for r in item.replies) == sorted(makers)
    responses = doc.child(ROOT, "responses")
    members = {
        member: maker(doc.child(responses, member)) for member in doc.keys(responses or ROOT)
    }
    assert all(member == signer for member, signer in members.items())
    assert {r.member for r in item.responses} <= set(members)
    assert {t for task in item.tasks for t in task.taken_by} <= set(members)
    history = sorted((h.who, h.what) for h in item.history[1:])
    assert history == sorted((who, what) for who, what, _ in history_of(doc, item_id))
    assert (item.history[0].who, item.history[0].what) == (item.author, "posted")


# ------------------------------------------------------------ the worker process


async def workers_started(thread: StoreThread) -> None:
    """Wait (up to a minute: a busy machine starts a process slowly) until the store thread's
    worker processes answer."""
    deadline = time.monotonic() + 60
    while not (thread._worker_ready is not None and thread._worker_ready.done()):
        assert time.monotonic() < deadline, "the worker processes never started"
        await asyncio.sleep(0.02)


async def test_a_catch_ups_signatures_are_checked_in_the_worker_process_too(
    tmp_path: Path,
) -> None:
    """Batches of whole documents are measured and checked on another core: the worker refuses
    what the store thread would, and the documents before the refused one are kept."""
    (ana, vic), board_id = _two_homes(tmp_path)
    board = ana.board(board_id)
    ids = [board.post(Kind.NEED, f"need {i}") for i in range(3 * PREPARE_AT)]
    saved = [(i, ana.store.documents.saved_document(board_id, i)) for i in ids]
    thread = StoreThread(vic.store)
    try:
        await thread.apply_saved_documents(board_id, saved[:PREPARE_AT])  # starts the worker
        await workers_started(thread)
        bad_id, bad = saved[PREPARE_AT + 5]
        forged = Signed(bad.data, bad.signatures, vic.identity.signing_public)  # wrong key
        batch = [*saved[PREPARE_AT : PREPARE_AT + 5], (bad_id, forged), *saved[PREPARE_AT + 6 :]]
        changed, refused = await thread.apply_saved_documents(board_id, batch)
        assert isinstance(refused, BadSignature) and bad_id in str(refused)
        assert set(changed) == {i for i, _ in saved[PREPARE_AT : PREPARE_AT + 5]}
        assert vic.store.documents.digest(board_id, bad_id) is None
    finally:
        thread.close()
        ana.close()
        vic.close()


async def test_a_catch_ups_rules_are_judged_in_the_worker_process_and_held_ones_merge(
    tmp_path: Path,
) -> None:
    """The workers load, judge and read each new document: a genesis against the rules stops
    the batch there, as on the store thread; a document the home already holds, in the same
    batch, is merged with the copy it holds (the worker's reading of it as new is not used)."""
    (ana, vic), board_id = _two_homes(tmp_path)
    board = ana.board(board_id)
    ids = [board.post(Kind.NEED, f"need {i}") for i in range(3 * PREPARE_AT)]
    documents = ana.store.documents
    held = ids[PREPARE_AT]
    vic.store.documents.apply_saved_document(
        board_id, held, documents.saved_document(board_id, held)
    )
    board.reply(held, "a reply Vic does not have yet")
    saved = [(i, documents.saved_document(board_id, i)) for i in ids]

    def genesis_with_an_author(doc: Document) -> None:
        items.init_item(doc, kind=Kind.NEED, title="mine, says the field", body="", tags=[], now=9)
        with doc.change() as w:
            w.put_str(ROOT, "author", "someone else")

    forged_id = "f" * 32
    forged = Forger(ana, board_id).change(forged_id, genesis_with_an_author).document
    thread = StoreThread(vic.store)
    try:
        await thread.apply_saved_documents(board_id, saved[:PREPARE_AT])  # starts the workers
        await workers_started(thread)
        good = saved[PREPARE_AT : 2 * PREPARE_AT + 3]
        batch = [*good, (forged_id, forged), *saved[2 * PREPARE_AT + 3 :]]
        changed, refused = await thread.apply_saved_documents(board_id, batch)
        assert isinstance(refused, ForbiddenChange) and forged_id in str(refused)
        assert set(changed) == {i for i, _ in good}
        assert vic.store.documents.digest(board_id, forged_id) is None
        assert vic.store.documents.digest(board_id, saved[-1][0]) is None
        assert [r.text for r in vic.board(board_id).item(held).replies] == [
            "a reply Vic does not have yet"
        ]
        assert vic.store.documents.digest(board_id, held) == documents.digest(board_id, held)
        listed = {s.id for s in vic.board(board_id).items()}
        assert listed == {i for i, _ in saved[: 2 * PREPARE_AT + 3]}
        # A document too large for the workers to send back is left to the store thread.
        large = board.post(Kind.NOTE, "the house rules", body="be kind. " * 40_000)
        rest = [*saved[2 * PREPARE_AT + 3 :], (large, documents.saved_document(board_id, large))]
        changed, refused = await thread.apply_saved_documents(board_id, rest)
        assert refused is None and set(changed) == {i for i, _ in rest}
        assert vic.board(board_id).item(large).body == board.item(large).body
        assert {s.id for s in vic.board(board_id).items(search="kind")} == {large}
        assert thread._use_worker
    finally:
        thread.close()
        ana.close()
        vic.close()


def _two_homes(tmp_path: Path) -> tuple[tuple[Home, Home], str]:
    ana, vic = Home.open(tmp_path / "ana"), Home.open(tmp_path / "vic")
    board = ana.new_board("Kitchen")
    vic.join(board.invite())
    return (ana, vic), board.board_id


def test_marking_again_what_two_marked_at_once_is_taken_everywhere(tmp_path: Path) -> None:
    """Bo and Mo mark Ana's need closed while apart; once merged, Bo marks it closed again:
    automerge then deletes Mo's value rather than writing Bo's again. An honest change: Bo's
    own home and every peer take it (it was refused once, by Bo's own rules)."""
    from tests.p2p_helpers import make_homes
    from tests.test_merge import copy_documents

    (ana, bo, mo), board_id = make_homes(tmp_path, ["Ana", "Bo", "Mo"])
    boards = [h.board(board_id) for h in (ana, bo, mo)]
    need = boards[0].post(Kind.NEED, "Blankets")
    for other in boards[1:]:
        copy_documents(boards[0], other)
    boards[1].set_status(need, Status.CLOSED)
    boards[2].set_status(need, Status.CLOSED)
    copy_documents(boards[2], boards[1])
    boards[1].set_status(need, Status.CLOSED)
    for other in (boards[0], boards[2]):
        copy_documents(boards[1], other)
        assert other.item(need).status is Status.CLOSED
    assert boards[0].home.store.documents.digest(board_id, need) == bo.store.documents.digest(
        board_id, need
    )
