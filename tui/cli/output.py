"""What the command line writes: every line printable, JSON with member text escaped, log lines
one record each.

Member text reaches these functions already made printable field by field (`printable`, with
one-line fields showing a newline as `^J`); `say` and `warn` pass the whole text through
`printable` once more as several lines, so that nothing a renderer forgot (an escape
sequence, a C1 control, a bidi override) ever reaches a terminal from any command.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from .printable import printable


def say(text: str) -> None:
    """Print `text` on stdout, every line of it printable."""
    print(_lines(text))


def say_err(text: str) -> None:
    """Print `text` on stderr, every line of it printable (progress, tips)."""
    print(_lines(text), file=sys.stderr, flush=True)


def _lines(text: str) -> str:
    # Line by line, so that each takes printable's fast path (a whole `ls` of 10,000 items
    # would otherwise be looked at character by character).
    return "\n".join(printable(line, multiline=True) for line in text.split("\n"))


def warn(text: str) -> None:
    """Print one line on stderr, prefixed `potluck: `, printable."""
    print(f"potluck: {printable(text)}", file=sys.stderr)


def json_text(data: Any) -> str:
    """`data` as one line of JSON, every character a terminal would act on escaped (`\\u001b`,
    `\\u202e`): a script reads back exactly what the board holds, a terminal shows it."""
    text = json.dumps(data, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


class PrintableFormatter(logging.Formatter):
    """Log records as a terminal (or a log file read with `cat`) may show them: each record's
    line printable, so a peer's name cannot forge a line, clear the screen or set the title;
    a traceback keeps its lines, with their text printable too."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return printable(super().formatException(ei), multiline=True)

    def formatStack(self, stack_info: str) -> str:
        return printable(super().formatStack(stack_info), multiline=True)
