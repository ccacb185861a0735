"""Member text reaches a terminal as data: controls and bidi overrides shown, never obeyed;
look-alike names told apart by their devices' fingerprints."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from potluck.tui.cli.people import People, fingerprint, skeleton
from potluck.tui.cli.printable import printable

BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
HOSTILE = [
    "\x1b]0;owned\x07",  # set the window title
    "\x1b]52;c;aGk=\x07",  # write the clipboard
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",  # a hyperlink
    "\x9b31m",  # C1 CSI
    "\u202eevil\u202c",  # right-to-left override
    "in\u200bvisible",
    "line\nbreak\u2028and\u2029more",
]


def obeyed(text: str, multiline: bool) -> list[str]:
    """Characters a terminal would act on rather than show."""
    return [
        c
        for c in text
        if (unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") or c in BIDI)
        and not (multiline and c == "\n")
        and c != "\u200d"
    ]


class TestPrintable:
    @given(st.text())
    def test_nothing_a_terminal_obeys_gets_through(self, text: str) -> None:
        assert obeyed(printable(text), False) == []
        assert obeyed(printable(text, multiline=True), True) == []
        assert "\n" not in printable(text)

    @given(st.text(st.characters(categories=["L", "N", "P", "S", "Zs"])))
    def test_ordinary_text_is_unchanged(self, text: str) -> None:
        assert printable(text) == text

    def test_hostile_strings_are_shown_literally(self) -> None:
        shown = [printable(s) for s in HOSTILE]
        assert shown[0] == "^[]0;owned^G"
        assert shown[4] == "<U+009B>31m"
        assert shown[5] == "<U+202E>evil<U+202C>"
        assert shown[6] == "in<U+200B>visible"
        assert shown[7] == "line^Jbreak<U+2028>and<U+2029>more"
        assert printable(HOSTILE[7], multiline=True) == "line\nbreak\nand\nmore"

    def test_an_emoji_keeps_its_joiner_and_a_stray_one_shows(self) -> None:
        assert printable("👩\u200d🍳") == "👩\u200d🍳"
        assert printable("Ana\u200d") == "Ana<U+200D>"


class TestPeople:
    def test_look_alike_names_get_fingerprints_and_others_do_not(self) -> None:
        ana, fake, bo, quiet = "a1" * 16, "b2" * 16, "c3" * 16, "d4" * 16
        people = People({ana: "Ana", fake: "А na\u200b", bo: "Bo", quiet: ""})
        assert people.name(bo) == "Bo"
        assert people.name(ana) == f"Ana ({fingerprint(ana)})"
        assert people.name(fake) == f"А na<U+200B> ({fingerprint(fake)})"
        assert people.name(quiet) == f"someone ({fingerprint(quiet)})"
        assert people.name_and_fingerprint(bo) == f"Bo ({fingerprint(bo)})"

    def test_what_counts_as_alike(self) -> None:
        assert skeleton("Ana") == skeleton("ANA") == skeleton(" a n a ") == skeleton("Аna")
        assert skeleton("Mo") == skeleton("Ｍｏ") == skeleton("M0")
        assert skeleton("Zoe") != skeleton("Zoë")
        assert fingerprint("3f2a91bc07de" + "0" * 20) == "3f2a-91bc-07de"
