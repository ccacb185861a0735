"""The test vectors of PROTOCOL.md v2 (tests/vectors/): this code computes exactly what they
hold, and what they hold checks out without it (hashes, signatures, ids, a store taking them)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgpack
from potluck.p2p.home import Home
from potluck.p2p.invite import decode_invite
from potluck.p2p.keys import (
    actor_id_for,
    board_id_for,
    board_psk,
    board_tag,
    verify_certificate,
    verify_change,
)
from potluck.p2p.model.automerge import SyncState, heads_digest
from potluck.p2p.model.chunks import parse_change
from potluck.p2p.model.signing import Signed
from potluck.p2p.net import messages
from potluck.p2p.net.messages import Have, Sync, WholeDocument

from tests.vectors import generate

HERE = Path(__file__).parent / "vectors"
V2 = json.loads((HERE / "potluck_v2.json").read_text())


def test_the_code_computes_the_published_vectors() -> None:
    assert generate.potluck() == V2
    handshake = json.loads((HERE / "noise_psk0_potluck.json").read_text())
    assert generate.handshake() == handshake["vectors"][0]


def test_board_derivations() -> None:
    board = V2["board"]
    key = bytes.fromhex(board["board_key"])
    assert board_id_for(key) == board["board_id"]
    assert board_tag(key).hex() == board["board_tag"]
    assert board_psk(key).hex() == board["psk"]
    expected = hashlib.blake2b(b"", key=key, digest_size=16, person=b"potluck-board-id")
    assert expected.hexdigest() == board["board_id"]


def test_device_ids_and_certificates() -> None:
    for device in V2["devices"]:
        public = bytes.fromhex(device["signing_public"])
        assert actor_id_for(public).hex() == device["device_id"]
        person = hashlib.blake2b(public, digest_size=16, person=b"potluck-device")
        assert person.hexdigest() == device["device_id"]
        assert verify_certificate(
            public, bytes.fromhex(device["static_public"]), bytes.fromhex(device["certificate"])
        )


def test_invite_code() -> None:
    invite = V2["invite"]
    decoded = decode_invite(invite["code"])
    assert decoded.board_key.hex() == invite["board_key"]
    assert decoded.name == invite["name"]
    assert [list(h) for h in decoded.hints] == invite["hints"]
    payload = bytes.fromhex(invite["payload_msgpack"])
    assert msgpack.unpackb(payload) == [
        1,
        bytes.fromhex(invite["board_key"]),
        invite["name"],
        invite["hints"],
    ]


def test_document_digest() -> None:
    heads = [bytes.fromhex(h) for h in V2["digest"]["heads"]]
    assert heads_digest(heads).hex() == V2["digest"]["digest"]


def test_signed_changes_verify() -> None:
    for entry in V2["signed_changes"]:
        chunk = bytes.fromhex(entry["chunk"])
        change = parse_change(chunk)
        assert change.hash.hex() == entry["hash"] == hashlib.sha256(chunk[8:]).hexdigest()
        assert (
            change.actor.hex()
            == entry["actor"]
            == actor_id_for(bytes.fromhex(entry["signing_public"])).hex()
        )
        assert [d.hex() for d in change.deps] == entry["deps"]
        assert bytes.fromhex(entry["signed_message"]) == b"potluck-change-v2" + change.hash
        assert verify_change(
            bytes.fromhex(entry["signing_public"]), change.hash, bytes.fromhex(entry["signature"])
        )


def test_messages_decode_and_a_store_takes_them(tmp_path: Path) -> None:
    have = messages.decode(bytes.fromhex(V2["messages"]["have"]))
    doc = messages.decode(bytes.fromhex(V2["messages"]["doc"]))
    sync = messages.decode(bytes.fromhex(V2["messages"]["sync"]))
    assert isinstance(have, Have) and isinstance(doc, WholeDocument) and isinstance(sync, Sync)
    assert have.docs[doc.id].hex() == V2["digest"]["digest"]
    home = Home.open(tmp_path / "dee")
    try:
        key = bytes.fromhex(V2["board"]["board_key"])
        home.store.boards.add(board_id_for(key), key, "Kitchen", [])
        documents = home.store.documents
        board_id = board_id_for(key)
        documents.apply_saved_document(board_id, doc.id, Signed(doc.data, doc.signatures, doc.keys))
        documents.receive_sync_message(
            board_id, sync.id, SyncState(), Signed(sync.data, sync.signatures, sync.keys)
        )
        item = documents.read_item(board_id, doc.id)
        ana, bo = (d["device_id"] for d in V2["devices"])
        assert item.author == ana and item.title == "A long ladder"
        assert [(r.author, r.text) for r in item.replies] == [(bo, "There is one in the cellar")]
        assert documents.digest(board_id, doc.id) == sync.digest
    finally:
        home.close()
