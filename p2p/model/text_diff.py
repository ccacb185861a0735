"""The edits that turn one text into another, found fast enough for a long shared note.

A character diff of two whole texts (difflib, without its junk heuristic, which would miss
edits of spaces and common letters) takes time quadratic in their length: 0.2 s for an
append to a note of 200 short lines, and far more for a longer one. People change a note in
a few places, so only the part between the longest common start and end is compared; where
that part is still long, its lines are compared first and only the lines that differ
word by word. Lines repeated all through a long part (blank lines; a member's note
of one line written ten thousand times) do not line the texts up, so that no text takes time
quadratic in its lines either: such a part is replaced whole.

The edits keep words whole: a word is added, removed or replaced as one, never made of letters
of the words around it. A character diff turned "b Q3Z Q2Z" into "Q3Z Q6Z Q2Z" by writing "Q3"
over the "b" and a "6" over the "3": merged with a word another device added meanwhile after
that "Q", both words came out mixed ("Q65Z QZ").
"""

from __future__ import annotations

import difflib
import re
from itertools import accumulate

Opcode = tuple[str, int, int, int, int]
"""As difflib gives them: ("replace" | "delete" | "insert", a0, a1, b0, b1)."""

CHARACTER_PAIRS = 250_000
"""Texts (or blocks of lines) whose lengths multiply to more than this are compared line by
line first; a block of lines still this large is replaced whole."""

TOKEN = re.compile(r"\w+|\W", re.DOTALL)
"""What the texts are compared by: a word, or any one other character."""
WORD = re.compile(r"\w")
WORD_RUN = re.compile(r"\w*")


def text_opcodes(old: str, new: str) -> list[Opcode]:
    """The edits, first to last, that make `new` of `old` (parts kept are not listed)."""
    start = _common_start(old, new)
    if _inside_word(old, start) or _inside_word(new, start):  # back to the word's start
        start -= WORD_RUN.match(old[start - 1 :: -1]).end()  # type: ignore[union-attr]
    end = _common_start(old[start:][::-1], new[start:][::-1])  # the common end
    if _inside_word(old, len(old) - end) or _inside_word(new, len(new) - end):
        end -= WORD_RUN.match(old, len(old) - end).end() - (len(old) - end)  # type: ignore[union-attr]
    return [
        (op, a0 + start, a1 + start, b0 + start, b1 + start)
        for op, a0, a1, b0, b1 in _middle(old[start : len(old) - end], new[start : len(new) - end])
    ]


def _middle(old: str, new: str) -> list[Opcode]:
    if len(old) * len(new) <= CHARACTER_PAIRS:
        return _words(old, new)
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_at = [0, *accumulate(len(line) for line in old_lines)]
    new_at = [0, *accumulate(len(line) for line in new_lines)]
    found: list[Opcode] = []
    lines = difflib.SequenceMatcher(a=old_lines, b=new_lines)  # autojunk: popular lines
    for op, i0, i1, j0, j1 in lines.get_opcodes():
        if op == "equal":
            continue
        a0, a1, b0, b1 = old_at[i0], old_at[i1], new_at[j0], new_at[j1]
        if (a1 - a0) * (b1 - b0) > CHARACTER_PAIRS:
            found.append((op, a0, a1, b0, b1))
            continue
        found += [
            (sub, x0 + a0, x1 + a0, y0 + b0, y1 + b0)
            for sub, x0, x1, y0, y1 in _words(old[a0:a1], new[b0:b1])
        ]
    return found


def _words(old: str, new: str) -> list[Opcode]:
    old_tokens, new_tokens = TOKEN.findall(old), TOKEN.findall(new)
    old_at = [0, *accumulate(len(token) for token in old_tokens)]
    new_at = [0, *accumulate(len(token) for token in new_tokens)]
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    return [
        (op, old_at[i0], old_at[i1], new_at[j0], new_at[j1])
        for op, i0, i1, j0, j1 in matcher.get_opcodes()
        if op != "equal"
    ]


def _inside_word(text: str, at: int) -> bool:
    """Whether `at` falls between two characters of one word."""
    return (
        0 < at < len(text)
        and WORD.match(text, at - 1) is not None
        and WORD.match(text, at) is not None
    )


def _common_start(a: str, b: str) -> int:
    """Length of the longest common start (slices compared in C, halving the range each time)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low
