"""Hostile text: strings a member's device gone bad writes into every field a member can write.

`write_corpus` writes them the way such a device would, into the documents directly (a hostile
device does not go through the checks `Board` makes on input), so that they reach a victim by
real sync or through an export file.
"""

from __future__ import annotations

from potluck.p2p import Home, Kind, ResponseKind
from potluck.p2p.model import item_document as items
from potluck.p2p.model.automerge import ROOT, Document
from potluck.p2p.model.board_document import BOARD_DOC_ID, set_member
from potluck.p2p.model.rota import ShiftFields
from potluck.p2p.model.rules import Rule

CORPUS = [
    "[@click=app.quit]Free bikes[/]",
    "[@click=app.screenshot('/tmp/potluck.db', '.')]Soup[/]",
    "[link=https://example.invalid]a link[/link]",
    "Kitchen [/]",
    "[b]bold[/b] [red]red [on blue]",
    "\x1b]0;window title\x07set",
    "\x1b]8;;https://example.invalid\x1b\\hyperlink\x1b]8;;\x1b\\",
    "\x1b]52;c;aGVsbG8=\x07clipboard",
    "\x1b[2J\x1b[Hcleared",
    "\x9b31mC1 control",
    "\u202eright to left\u202c",
    "zero\u200bwidth\u200djoiner\u2066isolate\u2069",
    "line one\nline two",
    "x" * 10_000,
]
"""Markup that would run an action or crash, terminal escapes (title, hyperlink, clipboard,
clear), a C1 control, bidi overrides and isolates, zero-width characters, a newline in a
one-line field, and a 10,000-character line."""


def write_corpus(home: Home, board_id: str, corpus: list[str] = CORPUS) -> list[str]:
    """Write every string into every member-written field of the board, as `home`'s device;
    returns the ids of the items written (one of each kind per string)."""
    written: list[str] = []
    for n, text in enumerate(corpus):
        written += _write_one(home, board_id, n, text)
    return written


def _write_one(home: Home, board_id: str, n: int, text: str) -> list[str]:
    documents = home.store.documents
    me = home.device_id

    def name_board(doc: Document) -> None:
        with doc.change() as w:
            w.put_str(ROOT, "name", text)
        set_member(doc, me, text, text, n)

    documents.update(board_id, BOARD_DOC_ID, name_board, create=True)
    written = []
    for kind in Kind:
        item_id = items.new_id()

        def post(doc: Document, kind: Kind = kind) -> None:
            items.init_item(
                doc,
                kind=kind,
                title=text,
                body=text,
                tags=[text[:40], f"tag{n}"],
                now=n,
                start=1_800_000_000_000 if kind is Kind.EVENT else None,
                place=text,
                tasks=[text],
                shifts=[ShiftFields(text[:8], text, Rule(text, text, 60, text), 2)],
            )
            items.add_reply(doc, text=text, now=n)
            items.set_response(doc, member=me, kind=ResponseKind.HELP.value, note=text, now=n)

        documents.update(board_id, item_id, post, create=True)
        written.append(item_id)
    return written
