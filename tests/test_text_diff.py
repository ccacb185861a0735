"""The edits between two texts: always exact, and small where a person's edit was small, even in
a long note (where a whole-text character diff took 0.2 s an edit at 200 lines)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from potluck.p2p.model import text_diff
from potluck.p2p.model.text_diff import Opcode, text_opcodes

NOTE = "".join(f"line {n} from node {n % 20}\n" for n in range(2_000))
"""A long shared note: 2,000 short lines much alike."""


def applied(old: str, new: str, opcodes: list[Opcode]) -> str:
    """`old` with the edits made, last first (as the splices into a document are)."""
    text = old
    for _, a0, a1, b0, b1 in reversed(opcodes):
        text = text[:a0] + new[b0:b1] + text[a1:]
    return text


def in_order(opcodes: list[Opcode]) -> bool:
    return all(
        a1 <= next_a0 and b1 <= next_b0
        for (_, _, a1, _, b1), (_, next_a0, _, next_b0, _) in pairwise(opcodes)
    )


texts = st.text(alphabet="ab1 \n", max_size=60)


@given(old=texts, new=texts, pairs=st.sampled_from([0, 4, text_diff.CHARACTER_PAIRS]))
@settings(max_examples=400, deadline=None)
def test_the_edits_make_the_new_text(old: str, new: str, pairs: int) -> None:
    # A small bound sends these short texts down the line-by-line way and the whole-block one.
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(text_diff, "CHARACTER_PAIRS", pairs)
        opcodes = text_opcodes(old, new)
    assert applied(old, new, opcodes) == new
    assert in_order(opcodes)
    assert all(op != "equal" and (a1 > a0 or b1 > b0) for op, a0, a1, b0, b1 in opcodes)
    assert not any(
        inside_word(old, a) or inside_word(new, b)
        for _, a0, a1, b0, b1 in opcodes
        for a, b in ((a0, b0), (a1, b1))
    ), opcodes


def inside_word(text: str, at: int) -> bool:
    return 0 < at < len(text) and text[at - 1].isalnum() and text[at].isalnum()


def test_a_word_added_beside_words_alike_is_added_whole() -> None:
    # A character diff wrote "Q3" over the "b" and "6" over the "3" of "Q3Z": merged with a
    # word another device added after that "Q" meanwhile, both came out mixed ("Q65Z QZ").
    old, new = "a b Q3Z Q2Z Q1Z", "a Q3Z Q6Z Q2Z Q1Z"
    opcodes = text_opcodes(old, new)
    assert applied(old, new, opcodes) == new
    for _, a0, a1, b0, b1 in opcodes:
        assert not any(inside_word(old, a) for a in (a0, a1)), (old[a0:a1], new[b0:b1])
        assert not any(inside_word(new, b) for b in (b0, b1)), (old[a0:a1], new[b0:b1])


def test_a_line_added_to_a_long_note_is_one_insertion() -> None:
    assert text_opcodes(NOTE, NOTE + "wash your cup\n") == [
        ("insert", len(NOTE), len(NOTE), len(NOTE), len(NOTE) + 14)
    ]


def test_edits_far_apart_in_a_long_note_stay_small() -> None:
    lines = NOTE.splitlines(keepends=True)
    lines[3] = "line 3 from node three\n"
    lines[1_990] = ""
    new = "".join(lines)
    opcodes = text_opcodes(NOTE, new)
    assert applied(NOTE, new, opcodes) == new
    # Only the words that changed: never a block of the text between the two edits.
    assert sum(max(a1 - a0, b1 - b0) for _, a0, a1, b0, b1 in opcodes) < 40, opcodes


def test_a_note_of_one_line_repeated_is_replaced_whole() -> None:
    # A member's note of one line written 100,000 times, edited at both ends: lining the lines
    # up would take time quadratic in their number (19 s at 16,000 lines); the part between
    # the edits is replaced whole instead.
    old = "wash up\n" * 100_000 + "end"
    new = "start" + "wash up\n" * 100_000
    assert text_opcodes(old, new) == [("replace", 0, len(old), 0, len(new))]
