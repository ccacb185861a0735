"""Members as people see them: their names, told apart by a device fingerprint where two look
alike.

A name is whatever a member's device wrote, so anyone can take another's name, or one that
differs only by case, spacing, a look-alike letter (Cyrillic а for Latin a) or an invisible
character. Wherever two such names meet, each is shown with a short fingerprint of its
device, as Matrix requires of its clients; a fingerprint is derived from the device's key,
which no one else holds.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from collections.abc import Mapping

from confusable_homoglyphs import confusables

from .printable import printable

FINGERPRINT_HEX = 12
"""48 bits: telling honest people apart needs fewer, making a device whose fingerprint matches
another's needs about 2^48 tries."""
NAME_SHOWN = 60
"""Characters of a name shown (what a name may hold when typed here): a longer one, written by
a device gone bad, must not push its fingerprint out of sight."""
NOBODY = "someone"
"""What a device that never gave a name is called (always with its fingerprint)."""


def fingerprint(device_id: str) -> str:
    """A device's fingerprint as people read it aloud: `3f2a-91bc-07de`."""
    hexa = device_id[:FINGERPRINT_HEX].lower()
    return "-".join(hexa[i : i + 4] for i in range(0, len(hexa), 4))


def skeleton(name: str) -> str:
    """What a name looks like, for comparing: case, spacing, invisible characters and
    look-alike letters (Unicode's confusables, UTS #39) do not count."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    seen = (c for c in folded if not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc"))
    return "".join(_look_alike(c) for c in seen)


ASCII_LOOK_ALIKES = {"0": "o", "1": "l", "i": "l", "|": "l"}
"""Letters and digits that many terminal fonts draw nearly alike."""


@functools.cache
def _look_alike(char: str) -> str:
    """The ASCII letter or digit `char` is drawn like, if any (Cyrillic а → a), else `char`."""
    if not char.isascii():
        for alike in confusables.confusables_data.get(char, ()):
            found = alike["c"].strip("\u200e\u200f").casefold()
            if len(found) == 1 and found.isascii() and found.isalnum():
                char = found
                break
    return ASCII_LOOK_ALIKES.get(char, char)


class People:
    """The names of one board's members, ready to print, with fingerprints where needed."""

    def __init__(self, names: Mapping[str, str]) -> None:
        """`names`: every member's display name (possibly empty) by device id."""
        self.names = dict(names)
        counts = Counter(skeleton(n) for n in self.names.values() if n.strip())
        self._alike = {d for d, n in self.names.items() if counts[skeleton(n)] > 1}

    def needs_fingerprint(self, device_id: str) -> bool:
        """Whether this member's name alone could be taken for another's."""
        return device_id in self._alike or not self.names.get(device_id, "").strip()

    def name(self, device_id: str) -> str:
        """The printable name, with the fingerprint where two names look alike or none was
        given: `Ana`, `Ana (3f2a-91bc-07de)`, `someone (77c0-1d2e-93aa)`."""
        name = _shown(self.names.get(device_id, ""))
        if not name:
            return f"{NOBODY} ({fingerprint(device_id)})"
        if device_id in self._alike:
            return f"{name} ({fingerprint(device_id)})"
        return name

    def name_and_fingerprint(self, device_id: str) -> str:
        """Always with the fingerprint (the peers screen, `potluck show`)."""
        name = _shown(self.names.get(device_id, "")) or NOBODY
        return f"{name} ({fingerprint(device_id)})"


def _shown(name: str) -> str:
    shown = printable(name.strip())
    return shown if len(shown) <= NAME_SHOWN else shown[: NAME_SHOWN - 1] + "…"
