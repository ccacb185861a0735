"""Plain words for times and addresses, both ways: "3 hours ago", "Tue 25 Nov 19:00", and
what a person types for a time or a laptop's address."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime

from potluck.p2p import InvalidInput

from .dates import when_ms

Clock = Callable[[], int]
TIME_EXAMPLE = "fri 19:00"
"""How a time is written (the placeholders and the error messages say so)."""


def wall_clock() -> int:
    """Milliseconds since the epoch, now."""
    return int(time.time() * 1000)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 reply', '2 replies'."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def ago(then_ms: int, now_ms: int) -> str:
    """How long ago, in the fewest plain words."""
    seconds = max(0, (now_ms - then_ms) // 1000)
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 7, "week"), (86400, "day"), (3600, "hour"), (60, "min")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 and unit != 'min' else ''} ago"
    return "just now"


def span(seconds: float) -> str:
    """A duration in the fewest plain words: '5 s', '10 min', '3 h', '2 days'."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return plural(seconds // 86400, "day")


def when(ms: int | None, *, year: bool = False) -> str:
    """A time as people write it on a poster, in local time."""
    if ms is None:
        return ""
    pattern = "%a %d %b %Y %H:%M" if year else "%a %d %b %H:%M"
    return datetime.fromtimestamp(ms / 1000).strftime(pattern)


def as_input(ms: int | None) -> str:
    """A time as a form field shows it, the way parse_when reads it back."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def parse_when(text: str | None, what: str) -> int | None:
    """A time as people type it ('fri 19:00', '2026-11-25 19:00') to milliseconds; None if
    empty. The grammar of dates.py, the same in the command line and the forms."""
    return when_ms(text, what)


def parse_address(text: str) -> tuple[str, int]:
    """'192.168.1.20:7434' (or '[fe80::1]:7434') to a host and a port."""
    host, _, port = text.strip().rpartition(":")
    host = host.strip().strip("[]")
    number = port.isascii() and port.isdigit() and len(port) <= 5
    if not host or not number or not 0 < int(port) < 65536:
        raise InvalidInput(
            f"'{text}' is not HOST:PORT: write the address as host:port, "
            "for example 192.168.1.20:7434"
        )
    return host, int(port)


def number(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, refused in one line otherwise."""

    def parse(text: str) -> int:
        digits = text.strip()
        whole = digits.isascii() and digits.lstrip("-").isdigit() and len(digits) <= 12
        if not whole or not low <= int(digits) <= high:
            shown = digits if len(digits) <= 24 else digits[:20] + "…"
            raise argparse.ArgumentTypeError(
                f"give a whole number from {low} to {high} (not '{shown}')"
            )
        return int(digits)

    parse.__name__ = what  # argparse names the type in some of its messages
    return parse
