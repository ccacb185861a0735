"""This device's clock, in the unit documents store: milliseconds since the epoch."""

from __future__ import annotations

import time
from datetime import datetime


def now_ms() -> int:
    return int(time.time() * 1000)


def local_now() -> datetime:
    """Now as this device's local wall-clock time (naive): shifts and typed dates are in it."""
    return datetime.fromtimestamp(now_ms() / 1000)
