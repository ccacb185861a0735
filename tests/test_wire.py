"""Wire messages and the published test vectors: PROTOCOL.md quotes the same JSON file."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st
from potluck.p2p.errors import ProtocolError
from potluck.p2p.keys import DeviceIdentity, board_psk, board_tag
from potluck.p2p.net import messages
from potluck.p2p.net.framing import encode_frame, split_message
from potluck.p2p.net.messages import (
    Bye,
    Have,
    Hello,
    Ping,
    Pong,
    Sync,
    Synced,
    UnknownType,
    WholeDocument,
)
from potluck.p2p.net.noise import PROTOCOL_NAME, NoiseState, preamble, read_certificate

VECTORS = json.loads((Path(__file__).parent / "vectors" / "noise_psk0_potluck.json").read_text())
DEVICE = "0123456789abcdef0123456789abcdef"


class TestMessages:
    @pytest.mark.parametrize(
        "message",
        [
            Hello((2,), DEVICE, "Ana", 7434, ("198.18.0.1",)),
            Have({"board": bytes(16), "ab" * 16: bytes(range(16))}),
            WholeDocument("ab" * 16, b"\x85o", bytes(16), bytes(96), bytes(32)),
            Sync("board", b"\x42", bytes(16), bytes(192), bytes(64)),
            Synced(3),
            Ping(),
            Pong(),
            Bye("duplicate"),
        ],
    )
    def test_every_message_round_trips(self, message: messages.Message) -> None:
        assert messages.decode(messages.encode(message)) == message

    def test_an_unknown_type_is_its_own_error(self) -> None:
        with pytest.raises(UnknownType):
            messages.decode(msgpack.packb({"type": "gossip"}))

    @pytest.mark.parametrize(
        "body",
        [
            [1, 2],
            {"no": "type"},
            {"type": "hello", "versions": [], "device": DEVICE, "name": "", "port": 1, "addrs": []},
            {"type": "hello", "versions": [1], "device": "ZZ", "name": "", "port": 1, "addrs": []},
            {
                "type": "hello",
                "versions": [1],
                "device": DEVICE,
                "name": "",
                "port": 70000,
                "addrs": [],
            },
            {"type": "have", "docs": {"../etc": bytes(16)}},
            {"type": "have", "docs": {"board": b"short"}},
            {"type": "doc", "id": "board", "data": "text, not bytes", "digest": bytes(16)},
            {"type": "sync", "id": "", "data": b"", "digest": bytes(16)},
            {"type": "doc", "id": "board", "data": b"", "digest": bytes(16), "keys": b""},
            {
                "type": "sync",
                "id": "board",
                "data": b"",
                "digest": bytes(16),
                "sigs": bytes(95),
                "keys": b"",
            },
            {
                "type": "doc",
                "id": "board",
                "data": b"",
                "digest": bytes(16),
                "sigs": b"",
                "keys": bytes(31),
            },
            {"type": "synced", "docs": True},
            {"type": "synced", "docs": -1},
        ],
    )
    def test_malformed_messages_are_protocol_errors(self, body: object) -> None:
        with pytest.raises(ProtocolError):
            messages.decode(msgpack.packb(body, use_bin_type=True))

    @given(st.binary(max_size=500))
    def test_any_bytes_decode_or_raise_protocol_error(self, data: bytes) -> None:
        with contextlib.suppress(ProtocolError):
            messages.decode(data)

    def test_version_choice(self) -> None:
        assert messages.choose_version((1, 2, 9)) == 2
        assert messages.choose_version((1,)) is None  # version 1 changes were not signed


class TestVectors:
    """Every byte in tests/vectors/noise_psk0_potluck.json is reproduced by this code."""

    vector = VECTORS["vectors"][0]

    def test_derivations(self) -> None:
        v = self.vector
        key = bytes.fromhex(v["board_key"])
        assert v["protocol_name"] == PROTOCOL_NAME.decode()
        assert board_tag(key).hex() == v["board_tag"]
        assert preamble(key).hex() == v["init_prologue"] == v["resp_prologue"]
        assert [board_psk(key).hex()] == v["init_psks"] == v["resp_psks"]
        ana = DeviceIdentity.from_secrets(
            bytes.fromhex(v["init_signing_key"]), bytes.fromhex(v["init_static"])
        )
        assert ana.device_id == v["init_device_id"]
        # Message 2's payload is Bo's device key and its certificate of his static key.
        bo = DeviceIdentity.from_secrets(
            bytes.fromhex(v["resp_signing_key"]), bytes.fromhex(v["resp_static"])
        )
        assert v["messages"][1]["payload"] == (bo.signing_public + bo.certificate).hex()
        assert v["messages"][2]["payload"] == (ana.signing_public + ana.certificate).hex()

    def test_handshake_and_transport_bytes(self) -> None:
        v = self.vector

        def side(initiator: bool) -> NoiseState:
            prefix = "init" if initiator else "resp"
            return NoiseState(
                initiator=initiator,
                static_private=bytes.fromhex(v[f"{prefix}_static"]),
                psk=bytes.fromhex(v[f"{prefix}_psks"][0]),
                prologue=bytes.fromhex(v[f"{prefix}_prologue"]),
                ephemeral_private=bytes.fromhex(v[f"{prefix}_ephemeral"]),
            )

        init, resp = side(True), side(False)
        order = [(init, resp), (resp, init), (init, resp), (init, resp), (resp, init)]
        for i, ((sender, receiver), m) in enumerate(zip(order, v["messages"], strict=True)):
            payload = bytes.fromhex(m["payload"])
            if i < 3:
                assert sender.write_handshake(payload).hex() == m["ciphertext"]
                assert receiver.read_handshake(bytes.fromhex(m["ciphertext"])) == payload
            else:
                assert sender.encrypt(payload).hex() == m["ciphertext"]
                assert receiver.decrypt(bytes.fromhex(m["ciphertext"])) == payload
        assert init.handshake_hash.hex() == resp.handshake_hash.hex() == v["handshake_hash"]
        bo = DeviceIdentity.from_secrets(
            bytes.fromhex(v["resp_signing_key"]), bytes.fromhex(v["resp_static"])
        )
        assert init.remote_static == bo.public_key
        assert read_certificate(bytes.fromhex(v["messages"][1]["payload"]), bo.public_key) == (
            bo.signing_public
        )

    def test_framed_bytes(self) -> None:
        v = self.vector
        first = bytes.fromhex(v["init_prologue"]) + encode_frame(
            bytes.fromhex(v["messages"][0]["ciphertext"])
        )
        assert first.hex() == v["wire_first_flight"]
        hello = messages.decode(bytes.fromhex(v["hello_msgpack"]))
        assert isinstance(hello, Hello) and hello.device == v["init_device_id"]
        assert (
            split_message(bytes.fromhex(v["hello_msgpack"]))[0].hex()
            == (v["messages"][3]["payload"])
        )
        assert (
            encode_frame(bytes.fromhex(v["messages"][3]["ciphertext"])).hex()
            == (v["wire_hello_frame"])
        )
