"""Member text as a terminal may show it: every control character and bidi control made visible.

Whoever holds the board key can write any string into a document. Written to a terminal as it
is, ESC sequences would set the window title, clear the screen or fill the clipboard (OSC 52),
and a right-to-left override would reorder what follows it. So, as OpenSSH does for a server's
banner, such characters are shown, not obeyed: C0 controls in caret notation (`^[`), the rest
as `<U+202E>`. That is every character Python does not call printable: controls, line and
paragraph separators, and the format characters (bidi embeddings, overrides and isolates,
zero-width spaces), except a zero-width joiner inside an emoji. Newlines (and tabs, as spaces)
are kept only where a field is several lines.
"""

from __future__ import annotations

import unicodedata

TAB = "    "
ZERO_WIDTH_JOINER = "\u200d"
LINE_BREAKS = frozenset("\n\u2028\u2029\x85\x0b\x0c")
"""What a terminal or a widget may take as the start of a new line."""


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with nothing in it that a terminal would act on rather than show.

    One-line fields (titles, names, tags) show a newline as `^J`; several-line fields (bodies,
    replies) keep it, and a tab becomes four spaces."""
    if text.isprintable():
        return text  # the common case, in one pass of C (controls and Cf are not printable)
    out: list[str] = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if multiline and char in LINE_BREAKS:
            out.append("\n")
        elif multiline and char == "\r" and index < last and text[index + 1] == "\n":
            continue  # a Windows line end: the newline that follows stands for both
        elif multiline and char == "\t":
            out.append(TAB)
        elif char == ZERO_WIDTH_JOINER:
            joins = 0 < index < last and _symbol(text[index - 1]) and _symbol(text[index + 1])
            out.append(char if joins else _visible(char))
        elif char.isprintable() or unicodedata.category(char) == "Zs":
            out.append(char)  # spaces other than ASCII's (no-break, ideographic) are harmless
        else:
            out.append(_visible(char))
    return "".join(out)


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


def _symbol(char: str) -> bool:
    """Whether a zero-width joiner between two such characters joins an emoji (👩‍🍳)."""
    return unicodedata.category(char) in ("So", "Sk") or 0x1F000 <= ord(char) <= 0x1FAFF
