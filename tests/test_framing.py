"""The frame decoder and message assembler: any bytes give frames or a clean ProtocolError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from potluck.p2p.errors import ProtocolError
from potluck.p2p.net.framing import (
    MAX_CHUNK,
    MAX_MESSAGE,
    MORE,
    FrameDecoder,
    MessageAssembler,
    encode_frame,
    split_message,
)


class TestFrames:
    @given(st.lists(st.binary(max_size=300), max_size=20), st.data())
    def test_frames_survive_any_split_of_the_stream(self, bodies: list[bytes], data) -> None:
        stream = b"".join(encode_frame(b) for b in bodies)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
        decoder = FrameDecoder()
        got: list[bytes] = []
        for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            got.extend(decoder.feed(stream[start:end]))
        assert got == bodies
        assert decoder.pending == 0

    @given(st.binary(max_size=2000))
    def test_any_bytes_never_crash_the_decoder(self, garbage: bytes) -> None:
        decoder = FrameDecoder()
        bodies = list(decoder.feed(garbage))
        assert sum(2 + len(b) for b in bodies) + decoder.pending == len(garbage)

    def test_a_truncated_frame_stays_pending(self) -> None:
        decoder = FrameDecoder()
        assert list(decoder.feed(encode_frame(b"hello")[:-1])) == []
        assert decoder.pending == 6

    def test_an_oversized_body_cannot_be_framed(self) -> None:
        with pytest.raises(ValueError):
            encode_frame(bytes(65536))


class TestMessages:
    @given(st.binary(max_size=3 * MAX_CHUNK + 10))
    @settings(max_examples=30)
    def test_split_then_assemble_is_identity(self, message: bytes) -> None:
        assembler = MessageAssembler()
        parts = split_message(message)
        assert all(len(p) <= MAX_CHUNK + 1 for p in parts)
        results = [assembler.add(p) for p in parts]
        assert results[:-1] == [None] * (len(parts) - 1)
        assert results[-1] == message

    @given(st.lists(st.binary(max_size=200), max_size=30))
    def test_any_plaintexts_give_messages_or_protocol_error(self, frames: list[bytes]) -> None:
        assembler = MessageAssembler(max_message=1000)
        try:
            for frame in frames:
                result = assembler.add(frame)
                assert result is None or isinstance(result, bytes)
        except ProtocolError:
            pass

    def test_an_oversized_message_is_refused_before_it_is_all_buffered(self) -> None:
        assembler = MessageAssembler()
        chunk = bytes([MORE]) + bytes(MAX_CHUNK)
        sent = 0
        with pytest.raises(ProtocolError, match="larger than"):
            while sent <= MAX_MESSAGE + MAX_CHUNK:
                assembler.add(chunk)
                sent += MAX_CHUNK
        assert sent <= MAX_MESSAGE

    def test_reserved_flags_and_empty_frames_are_refused(self) -> None:
        with pytest.raises(ProtocolError):
            MessageAssembler().add(b"\x02abc")
        with pytest.raises(ProtocolError):
            MessageAssembler().add(b"")

    def test_a_message_over_the_limit_cannot_be_sent(self) -> None:
        with pytest.raises(ValueError):
            split_message(bytes(MAX_MESSAGE + 1))
