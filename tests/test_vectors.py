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
    verify_signature,
)
from potluck.p2p.model.automerge import SyncState, heads_digest
from potluck.p2p.model.chunks import parse_change
from potluck.p2p.model.signing import Signed
from potluck.p2p.net import messages
from potluck.p2p.net.messages import Have, Reconcile, Sync, WholeDocument
from potluck.p2p.net.reconcile import Reconciler

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


def test_signatures_a_lax_verification_may_take_are_refused() -> None:
    refused = V2["refused_signatures"]
    assert len(refused) == 2
    for entry in refused:
        key, message = (
            bytes.fromhex(entry["signing_public"]),
            bytes.fromhex(entry["signed_message"]),
        )
        assert not verify_signature(key, message, bytes.fromhex(entry["signature"])), entry["why"]


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


RECONCILE = json.loads((HERE / "reconcile.json").read_text())


def test_the_code_computes_the_published_reconciliations() -> None:
    assert generate.reconcile() == RECONCILE


def test_reconciliation_vectors_check_out_without_the_code() -> None:
    """Item hashes, opening fingerprints and every message's bytes, from hashlib and msgpack
    alone; an exchange ends with each side having heard every pair of the other's."""
    for name in ("identical", "different"):
        vector = RECONCILE[name]
        for side in ("leader", "follower"):
            total = 0
            for doc_id, digest, item in vector[side]:
                expected = hashlib.sha256(doc_id.encode() + b"\0" + bytes.fromhex(digest))
                assert expected.digest()[:16].hex() == item
                total = (total + int(item, 16)) % 2**128
            count = len(vector[side]).to_bytes(8, "big")
            opening = hashlib.sha256(total.to_bytes(16, "big") + count).digest()[:16]
            [first] = [m for m in vector["messages"][:2] if m["from"] == side]
            assert first["ranges"] == [[None, 1, opening.hex()]]
        for message in vector["messages"]:
            body = msgpack.unpackb(bytes.fromhex(message["msgpack"]))
            assert body["type"] == "reconcile"
            assert body["ranges"] == [[r[0], r[1], *_unhex(r[2:])] for r in message["ranges"]], name
        # Every pair listed is one its sender holds.
        for side in ("leader", "follower"):
            held = {doc_id: digest for doc_id, digest, _ in vector[side]}
            for m in vector["messages"]:
                for r in m["ranges"] if m["from"] == side else ():
                    if r[1] in (2, 3):
                        assert all(held[doc_id] == digest for doc_id, digest in r[2])
    assert len(RECONCILE["identical"]["messages"]) == 2


def test_the_reconciliation_vectors_replay() -> None:
    for name in ("identical", "different"):
        vector = RECONCILE[name]
        sides = {
            side: Reconciler(
                {doc_id: bytes.fromhex(digest) for doc_id, digest, _ in vector[side]},
                lead=side == "leader",
            )
            for side in ("leader", "follower")
        }
        sent = [bytes.fromhex(m["msgpack"]) for m in vector["messages"]]
        assert [messages.encode(sides[s].opening()) for s in ("leader", "follower")] == sent[:2]
        answers = []
        for m, data in zip(vector["messages"], sent, strict=True):
            receiver = sides["follower" if m["from"] == "leader" else "leader"]
            message = messages.decode(data)
            assert isinstance(message, Reconcile)
            answer = receiver.receive(message)
            if answer is not None:
                answers.append(messages.encode(answer))
        assert answers == sent[2:], name
        assert all(side.done for side in sides.values())


def _unhex(rest: list[object]) -> list[object]:
    if not rest:
        return []
    [value] = rest
    if isinstance(value, str):
        return [bytes.fromhex(value)]
    assert isinstance(value, list)
    return [[[doc_id, bytes.fromhex(digest)] for doc_id, digest in value]]
