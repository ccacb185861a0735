"""The test vectors of PROTOCOL.md v2, computed from fixed inputs by this code.

`python -m tests.vectors.generate` rewrites the three JSON files beside it; tests/test_vectors.py
checks that the code still computes exactly what they hold (and that what they hold verifies),
so a change to the protocol shows up as a diff of published bytes.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import msgpack
from automerge import core
from potluck.p2p.invite import Invite, encode_invite
from potluck.p2p.keys import DeviceIdentity, board_id_for, board_psk, board_tag
from potluck.p2p.model.automerge import Document, heads_digest
from potluck.p2p.model.chunks import parse_change, uleb
from potluck.p2p.model.item_document import init_item
from potluck.p2p.model.signing import pack_signatures
from potluck.p2p.model.types import Kind
from potluck.p2p.net import messages
from potluck.p2p.net.framing import encode_frame, split_message
from potluck.p2p.net.messages import (
    FINGERPRINT,
    LAST_LIST,
    LIST,
    Have,
    Hello,
    Ping,
    Range,
    Reconcile,
    Sync,
    WholeDocument,
)
from potluck.p2p.net.noise import PROTOCOL_NAME, NoiseState, certificate_payload, preamble
from potluck.p2p.net.reconcile import BRANCH, LIST_MAX, Reconciler, item_hash

HERE = Path(__file__).parent
BOARD_KEY = bytes(range(32))
ANA = DeviceIdentity.from_secrets(
    bytes([0x41] * 32),
    bytes.fromhex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1"),
)
BO = DeviceIdentity.from_secrets(
    bytes([0x42] * 32),
    bytes.fromhex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893"),
)
INIT_EPHEMERAL = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a"
RESP_EPHEMERAL = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b"
ITEM_ID = "5ca1ab1e" * 4
NOW = 1_800_000_000_000


def handshake() -> dict[str, Any]:
    """The Noise vector (community format, Potluck additions), version 2: messages 1 and 2 of
    the handshake carry the responder's and the initiator's device certificates."""

    def side(identity: DeviceIdentity, initiator: bool, ephemeral: str) -> NoiseState:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return NoiseState(
                initiator=initiator,
                static_private=identity.private_key,
                psk=board_psk(BOARD_KEY),
                prologue=preamble(BOARD_KEY),
                ephemeral_private=bytes.fromhex(ephemeral),
            )

    init, resp = side(ANA, True, INIT_EPHEMERAL), side(BO, False, RESP_EPHEMERAL)
    hello = messages.encode(Hello((2,), ANA.device_id, "Ana", 7434, ("198.18.0.1",)))
    flights: list[tuple[NoiseState, NoiseState, bytes, bool]] = [
        (init, resp, b"", True),
        (resp, init, certificate_payload(BO), True),
        (init, resp, certificate_payload(ANA), True),
        (init, resp, split_message(hello)[0], False),
        (resp, init, split_message(messages.encode(Ping()))[0], False),
    ]
    out = []
    for sender, receiver, payload, in_handshake in flights:
        if in_handshake:
            ciphertext = sender.write_handshake(payload)
            assert receiver.read_handshake(ciphertext) == payload
        else:
            ciphertext = sender.encrypt(payload)
            assert receiver.decrypt(ciphertext) == payload
        out.append({"payload": payload.hex(), "ciphertext": ciphertext.hex()})
    assert init.handshake_hash == resp.handshake_hash
    return {
        "protocol_name": PROTOCOL_NAME.decode(),
        "comment": (
            "Potluck v2: board key 00..1f; the prologue is the 12-byte cleartext preamble; "
            "psk0 = board_psk(board key); messages 0-2 are the handshake (payload of 1: the "
            "responder's device key and certificate; of 2: the initiator's), 3 is the "
            "initiator's hello (flags byte 00 + msgpack), 4 is the responder's ping."
        ),
        "board_key": BOARD_KEY.hex(),
        "board_tag": board_tag(BOARD_KEY).hex(),
        "init_prologue": preamble(BOARD_KEY).hex(),
        "init_psks": [board_psk(BOARD_KEY).hex()],
        "init_static": ANA.private_key.hex(),
        "init_ephemeral": INIT_EPHEMERAL,
        "init_signing_key": ANA.signing_key.hex(),
        "resp_prologue": preamble(BOARD_KEY).hex(),
        "resp_psks": [board_psk(BOARD_KEY).hex()],
        "resp_static": BO.private_key.hex(),
        "resp_ephemeral": RESP_EPHEMERAL,
        "resp_signing_key": BO.signing_key.hex(),
        "init_device_id": ANA.device_id,
        "resp_device_id": BO.device_id,
        "handshake_hash": init.handshake_hash.hex(),
        "messages": out,
        "wire_first_flight": (
            preamble(BOARD_KEY) + encode_frame(bytes.fromhex(out[0]["ciphertext"]))
        ).hex(),
        "wire_hello_frame": encode_frame(bytes.fromhex(out[3]["ciphertext"])).hex(),
        "hello_msgpack": hello.hex(),
    }


def genesis() -> Document:
    """Ana's need, as her device posts it (a deterministic change: fixed actor, time, ids)."""
    doc = Document(core.Document(ANA.actor_id))
    init_item(
        doc, kind=Kind.NEED, title="A long ladder", body="For the gutter", tags=["tools"], now=NOW
    )
    return doc


def potluck() -> dict[str, Any]:
    """Derivations, an invite code, a signed change and one have, doc and sync message."""
    doc = genesis()
    [(genesis_hash, genesis_bytes)] = doc.changes_since([])
    heads = doc.heads()
    before = list(heads)
    bo_doc = Document.load(doc.save(), BO.actor_id)
    add_reply_fixed(bo_doc)
    [(reply_hash, reply_bytes)] = bo_doc.changes_since(before)
    change = parse_change(reply_bytes)
    genesis_signature = ANA.sign_change(genesis_hash)
    reply_signature = BO.sign_change(reply_hash)
    saved = doc.save()
    digest = heads_digest(heads)
    sync_data = b"\x42\x00\x00\x00\x01" + uleb(len(reply_bytes)) + reply_bytes
    have = messages.encode(Have({"board": bytes(16), ITEM_ID: digest}))
    whole = WholeDocument(
        ITEM_ID,
        saved,
        digest,
        pack_signatures([(genesis_hash, genesis_signature)]),
        ANA.signing_public,
    )
    sync = Sync(
        ITEM_ID,
        sync_data,
        heads_digest(bo_doc.heads()),
        pack_signatures([(reply_hash, reply_signature)]),
        BO.signing_public,
    )
    invite = Invite(BOARD_KEY, "Kitchen at No. 12", (("198.18.0.1", 7434), ("198.18.0.2", 7434)))
    return {
        "comment": (
            "Potluck v2. Board key 00..1f. Ana's device key is the seed 41 x 32, Bo's 42 x 32. "
            "Ana's genesis posts a need; Bo's change replies to it. Times are milliseconds."
        ),
        "board": {
            "board_key": BOARD_KEY.hex(),
            "board_id": board_id_for(BOARD_KEY),
            "board_tag": board_tag(BOARD_KEY).hex(),
            "psk": board_psk(BOARD_KEY).hex(),
        },
        "devices": [
            {
                "signing_key": who.signing_key.hex(),
                "signing_public": who.signing_public.hex(),
                "device_id": who.device_id,
                "static_private": who.private_key.hex(),
                "static_public": who.public_key.hex(),
                "certificate": who.certificate.hex(),
            }
            for who in (ANA, BO)
        ],
        "invite": {
            "board_key": BOARD_KEY.hex(),
            "name": invite.name,
            "hints": [list(h) for h in invite.hints],
            "payload_msgpack": msgpack.packb(
                [1, BOARD_KEY, invite.name, [list(h) for h in invite.hints]], use_bin_type=True
            ).hex(),
            "code": encode_invite(invite),
        },
        "digest": {"heads": [h.hex() for h in heads], "digest": digest.hex()},
        "signed_changes": [
            {
                "chunk": genesis_bytes.hex(),
                "hash": genesis_hash.hex(),
                "actor": ANA.actor_id.hex(),
                "seq": 1,
                "deps": [],
                "signing_public": ANA.signing_public.hex(),
                "signed_message": (b"potluck-change-v2" + genesis_hash).hex(),
                "signature": genesis_signature.hex(),
            },
            {
                "chunk": reply_bytes.hex(),
                "hash": reply_hash.hex(),
                "actor": BO.actor_id.hex(),
                "seq": change.seq,
                "deps": [d.hex() for d in change.deps],
                "signing_public": BO.signing_public.hex(),
                "signed_message": (b"potluck-change-v2" + reply_hash).hex(),
                "signature": reply_signature.hex(),
            },
        ],
        "refused_signatures": refused_signatures(genesis_hash, genesis_signature, reply_hash),
        "messages": {
            "have": have.hex(),
            "doc": messages.encode(whole).hex(),
            "sync": messages.encode(sync).hex(),
        },
    }


def refused_signatures(
    genesis_hash: bytes, genesis_signature: bytes, reply_hash: bytes
) -> list[dict[str, str]]:
    """Signatures that a strict verification (§1) refuses though a lax one may take them."""
    identity = bytes([1]) + bytes(31)
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(genesis_signature[32:], "little") + order
    return [
        {
            "why": "the key is of small order (R = identity, S = 0 verifies any message under it)",
            "signing_public": identity.hex(),
            "signed_message": (b"potluck-change-v2" + reply_hash).hex(),
            "signature": (identity + bytes(32)).hex(),
        },
        {
            "why": "S is not below the group order (Ana's genesis signature with S + L)",
            "signing_public": ANA.signing_public.hex(),
            "signed_message": (b"potluck-change-v2" + genesis_hash).hex(),
            "signature": (genesis_signature[:32] + s.to_bytes(32, "little")).hex(),
        },
    ]


def add_reply_fixed(doc: Document) -> None:
    """Bo's reply with a fixed id (add_reply draws a random one)."""
    from potluck.p2p.model.automerge import ROOT

    with doc.change() as w:
        reply = w.append_map(w.list_at(ROOT, "replies"))
        w.put_str(reply, "id", "0123456789ab")
        w.put_str(reply, "text", "There is one in the cellar")
        w.put_int(reply, "time", NOW + 60_000)
        w.put_int(ROOT, "updated", NOW + 60_000)


def pair(n: int, version: int = 0) -> tuple[str, bytes]:
    """The n-th document id of the reconciliation vectors, with a digest of one version."""
    doc_id = hashlib.blake2b(f"doc {n}".encode(), digest_size=16).hexdigest()
    return doc_id, hashlib.blake2b(f"doc {n} v{version}".encode(), digest_size=16).digest()


def exchange(leader: dict[str, bytes], follower: dict[str, bytes]) -> list[dict[str, Any]]:
    """Every message of one reconciliation, in the order sent: both openings, then the
    answers in turn (the follower answers the leader's opening)."""
    sides = {
        "leader": Reconciler(leader, lead=True),
        "follower": Reconciler(follower, lead=False),
    }
    other = {"leader": "follower", "follower": "leader"}
    sent: list[tuple[str, Reconcile]] = [
        ("leader", sides["leader"].opening()),
        ("follower", sides["follower"].opening()),
    ]
    n = 0
    while n < len(sent):
        sender, message = sent[n]
        answer = sides[other[sender]].receive(message)
        if answer is not None:
            sent.append((other[sender], answer))
        n += 1
    assert sides["leader"].done and sides["follower"].done
    assert sides["leader"].theirs == follower and sides["follower"].theirs == leader
    return [
        {"from": sender, "ranges": [_range(r) for r in message.ranges]}
        | {"msgpack": messages.encode(message).hex()}
        for sender, message in sent
    ]


def _range(r: Range) -> list[Any]:
    if r.mode == FINGERPRINT:
        return [r.upper, r.mode, r.fingerprint.hex()]
    if r.mode in (LIST, LAST_LIST):
        return [r.upper, r.mode, [[doc_id, digest.hex()] for doc_id, digest in r.items]]
    return [r.upper, r.mode]


def reconcile() -> dict[str, Any]:
    """Two reconciliations of small inventories (PROTOCOL.md §5.3)."""

    def side(pairs: dict[str, bytes]) -> list[list[str]]:
        return [
            [doc_id, pairs[doc_id].hex(), f"{item_hash(doc_id, pairs[doc_id]):032x}"]
            for doc_id in sorted(pairs)
        ]

    same = dict(pair(n) for n in range(3))
    leader = dict(pair(n) for n in range(40))
    follower = dict(pair(n, version=1 if n < 2 else 0) for n in range(35))
    follower |= dict(pair(n) for n in range(40, 46))
    return {
        "branch": BRANCH,
        "list_max": LIST_MAX,
        "pairs": "[document id, digest, item hash], ids ascending",
        "identical": {
            "leader": side(same),
            "follower": side(same),
            "messages": exchange(same, dict(same)),
        },
        "different": {
            "leader": side(leader),
            "follower": side(follower),
            "messages": exchange(leader, follower),
        },
    }


def write() -> None:
    (HERE / "noise_psk0_potluck.json").write_text(
        json.dumps({"vectors": [handshake()]}, indent=2) + "\n"
    )
    (HERE / "potluck_v2.json").write_text(json.dumps(potluck(), indent=2) + "\n")
    (HERE / "reconcile.json").write_text(json.dumps(reconcile(), indent=1) + "\n")


if __name__ == "__main__":
    write()
