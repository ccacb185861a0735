"""Plain words for times and people: "3 hours ago", "Tue 25 Nov 19:00"."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], int]


def wall_clock() -> int:
    """Milliseconds since the epoch, now."""
    return int(time.time() * 1000)


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


def when(ms: int | None) -> str:
    """A time as people write it on a poster, in local time."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%a %d %b %H:%M")


def as_input(ms: int | None) -> str:
    """A time as a form field shows it, the way parse_when reads it back."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def parse_when(text: str) -> int | None:
    """'2026-11-25 19:00' (or just a date) to milliseconds; None if empty."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(text, pattern).timestamp() * 1000)
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a time: write it like 2026-11-25 19:00")
