"""Invite codes round-trip, carry hints, and refuse a mistyped or cut code with a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from potluck.p2p.errors import InviteError
from potluck.p2p.invite import Invite, decode_invite, encode_invite
from potluck.p2p.keys import board_id_for, new_board_key

invites = st.builds(
    Invite,
    board_key=st.binary(min_size=32, max_size=32),
    name=st.text(min_size=1, max_size=60),
    hints=st.lists(
        st.tuples(st.sampled_from(["198.18.0.1", "198.19.2.3", "fe80::1"]), st.integers(1, 65535)),
        max_size=4,
    ).map(tuple),
)


@given(invite=invites)
def test_round_trip(invite: Invite) -> None:
    code = encode_invite(invite)
    assert code.startswith("potluck-") and code.isascii()
    assert decode_invite(code) == invite
    assert decode_invite("  " + code.upper()[:30] + "\n" + code.upper()[30:] + " ") == invite


@given(invite=invites, position=st.integers(min_value=8), char=st.sampled_from("abcdefgz234567"))
def test_any_single_typo_is_caught(invite: Invite, position: int, char: str) -> None:
    code = encode_invite(invite)
    position = 8 + position % (len(code) - 8)
    if code[position] == char:
        return
    typo = code[:position] + char + code[position + 1 :]
    with pytest.raises(InviteError):
        decode_invite(typo)


def test_cut_short_and_foreign_codes() -> None:
    code = encode_invite(Invite(new_board_key(), "Kitchen"))
    for bad in (code[:-1], code[:20], "potluck-", "hello there", code + "a1"):
        with pytest.raises(InviteError):
            decode_invite(bad)


def test_the_board_id_follows_from_the_key_alone() -> None:
    key = new_board_key()
    first = decode_invite(encode_invite(Invite(key, "Kitchen")))
    second = decode_invite(encode_invite(Invite(key, "Renamed", (("198.18.0.1", 7434),))))
    assert board_id_for(first.board_key) == board_id_for(second.board_key)
    assert board_id_for(new_board_key()) != board_id_for(key)
