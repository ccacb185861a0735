"""Document ids as the wire allows them: the one rule for peers' messages and export files."""

from __future__ import annotations

import re

MAX_DOC_ID = 64
DOC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A document id: 1 to 64 letters, digits, `_` or `-` (PROTOCOL.md §4.2). Item ids are 32
hex characters and the board document is `board`; nothing else may name a document."""


def valid_doc_id(doc_id: object) -> bool:
    """Whether `doc_id` is a string the wire accepts as a document id."""
    return isinstance(doc_id, str) and DOC_ID.fullmatch(doc_id) is not None
