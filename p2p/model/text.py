"""What a person may type into a field: line breaks folded, control characters refused by name.

Titles, names, tags, places, task titles and shift labels are one line: a newline or a tab
typed (or pasted) into one becomes a space. Bodies and replies are several lines: their line
ends become `\n`. Anything else a terminal would act on rather than show is refused with a
message that names it: C0 and C1 control characters (ESC starts the sequences that set a
window's title or fill the clipboard), bidi embeddings, overrides and isolates (they reorder
the text around them), invisible format characters such as a zero-width space (a zero-width
joiner inside an emoji is kept), and bytes that are not UTF-8. The rule matches what the
command line and the app show as it is, so what a person types is what others see.
"""

from __future__ import annotations

import unicodedata

from ..errors import InvalidInput

LINE_BREAKS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")
"""What a terminal or a widget may take as the start of a new line."""
FOLDED = LINE_BREAKS | {"\t"}
"""Folded to a space in a one-line field."""
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ZERO_WIDTH_JOINER = "\u200d"


def one_line(text: str, what: str, limit: int, *, already: str = "") -> str:
    """`text` as one line: runs of spaces, tabs and line breaks folded to one space, the ends
    stripped. InvalidInput naming the first character refused, or if longer than `limit`.

    Characters in `already` (the field's current value, written by someone else) do not stop
    an edit: a person who changes a note's body is not made to clean its title first."""
    _refuse_controls(text, what, FOLDED, already)
    folded = " ".join(text.split())
    if len(folded) > limit:
        raise InvalidInput(f"{what} can be at most {limit} characters (this one has {len(folded)})")
    return folded


def lines(text: str, what: str, *, already: str = "") -> str:
    """`text` as several lines: every line end (`\\r\\n`, `\\r`, U+2028 …) made `\\n`, tabs
    kept; InvalidInput naming the first other control character."""
    _refuse_controls(text, what, FOLDED, already)
    text = text.replace("\r\n", "\n")
    return "".join("\n" if c in LINE_BREAKS else c for c in text)


def _refuse_controls(text: str, what: str, allowed: frozenset[str], already: str) -> None:
    if text.isprintable():
        return  # the common case, in one pass of C
    last = len(text) - 1
    tolerated = set(already)
    for index, char in enumerate(text):
        if char in allowed or char.isprintable() or char in tolerated:
            continue
        category = unicodedata.category(char)
        if category == "Zs" or category in ("Co", "Cn"):
            continue  # other spaces; private-use and newer characters (emoji) are harmless
        joins = char == ZERO_WIDTH_JOINER and 0 < index < last
        if joins and _symbol(text[index - 1]) and _symbol(text[index + 1]):
            continue  # inside an emoji: 👩‍🍳
        raise InvalidInput(f"{what} cannot hold {describe(char)}; type it again without it")


def describe(char: str) -> str:
    """A character a person cannot see, named so they can find it: `the control character ^[
    (escape, U+001B)`, `U+202E (RIGHT-TO-LEFT OVERRIDE), which reorders the text around it`."""
    code = ord(char)
    category = unicodedata.category(char)
    if category == "Cs":
        return "bytes that are not UTF-8 text"
    if category == "Cc":
        caret = "^" + chr(code + 0x40) if code < 0x20 else "^?" if code == 0x7F else ""
        called = {0x1B: "escape, ", 0x07: "bell, ", 0x00: "null, ", 0x08: "backspace, "}
        shown = f"{caret} " if caret else ""
        return f"the control character {shown}({called.get(code, '')}U+{code:04X})"
    name = unicodedata.name(char, "")
    label = f"U+{code:04X}" + (f" ({name})" if name else "")
    if char in BIDI_CONTROLS:
        return f"{label}, which reorders the text around it on screen"
    return f"{label}, an invisible character"


def _symbol(char: str) -> bool:
    """Whether a zero-width joiner between two such characters joins an emoji (👩‍🍳)."""
    return unicodedata.category(char) in ("So", "Sk") or 0x1F000 <= ord(char) <= 0x1FAFF
