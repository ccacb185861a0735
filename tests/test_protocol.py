"""PROTOCOL.md's document tables against the code: every field the model writes is specified."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from potluck.p2p.model import item_document as items
from potluck.p2p.model import rota
from potluck.p2p.model import tasks as task_list
from potluck.p2p.model.automerge import ROOT, Document
from potluck.p2p.model.board_document import MEMBER_PREFIX, init_board, set_member
from potluck.p2p.model.rules import Rule
from potluck.p2p.model.types import Kind, Status

SPEC = (Path(__file__).resolve().parents[1] / "PROTOCOL.md").read_text()
ME = "9e01d84040a0baa186bae2676acc219a"
SHIFT = rota.ShiftFields(
    "ab12cd34",
    "Tuesday kitchen",
    Rule("FREQ=WEEKLY;BYDAY=TU", "2026-12-01T18:00", 180, "2027-03-30"),
    3,
)


def table_after(marker: str) -> set[str]:
    """The field names (backticked, in the first column) of the first table after `marker`."""
    start = SPEC.index(marker)
    lines = SPEC[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| field |"))
    names: set[str] = set()
    for line in lines[first + 2 :]:
        if not line.startswith("|"):
            break
        names |= set(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def keys(doc: Document, obj: bytes | None) -> set[str]:
    return set(doc.keys(obj)) if obj is not None else set()


def written() -> dict[str, set[str]]:
    """Every key the model's write functions put in real documents, by where they are."""
    board = Document.new(bytes.fromhex(ME))
    init_board(board, "Kitchen", 1)
    set_member(board, ME, "Ana", "cooks", 2)
    found: dict[str, set[str]] = {
        "board": {
            MEMBER_PREFIX + "<device id>" if k.startswith(MEMBER_PREFIX) else k
            for k in keys(board, ROOT)
        },
        "member": keys(board, board.child(ROOT, MEMBER_PREFIX + ME)),
    }
    for name in ("item", "reply", "response", "task", "shift"):
        found[name] = set()
    for kind in Kind:
        doc = Document.new(bytes.fromhex(ME))
        items.init_item(
            doc,
            kind=kind,
            title="t",
            body="b",
            tags=["x"],
            now=1,
            start=10,
            end=20,
            place="yard",
            tasks=["dig"],
            shifts=[SHIFT],
            decide_by=30 if kind is Kind.PROPOSAL else None,
        )
        items.edit_item(
            doc, now=2, title="t2", body="b2", add_tags=["y"], start=11, end=21, place="hall"
        )
        items.add_reply(doc, text="hi", now=3)
        items.set_response(doc, member=ME, kind="help", note="n", now=4)
        items.set_status(doc, status=Status.MET, now=5)
        if kind is Kind.PROJECT:
            with doc.change() as w:
                task_list.add_task(w, "0badcafe", "more")
                rota.add_shift(w, replace(SHIFT, id="0badf00d", label=""))
            first_task = task_list.read_tasks(doc, ())[0].id
            rota.say(
                doc,
                ME,
                7,
                [
                    (task_list.task_key(first_task), "I have a spade"),
                    (task_list.done_key(first_task), ""),
                    (rota.shift_key(SHIFT.id, rota.EVERY), ""),
                    (rota.skip_key(SHIFT.id, "2026-12-08"), ""),
                ],
            )
        found["item"] |= keys(doc, ROOT)
        for list_name, where in (("replies", "reply"), ("tasks", "task"), ("shifts", "shift")):
            container = doc.child(ROOT, list_name)
            for i in range(doc.length(container) if container is not None else 0):
                found[where] |= keys(doc, doc.child(container, i))
        responses = doc.child(ROOT, "responses")
        for member in keys(doc, responses):
            mine = doc.child(responses, member)
            for response_kind in keys(doc, mine):
                found["response"] |= keys(doc, doc.child(mine, response_kind))
    return found


def test_every_field_the_code_writes_is_in_the_protocols_tables() -> None:
    specified = {
        "board": table_after("### 9.1 Board document"),
        "member": table_after("A member entry"),
        "item": table_after("### 9.2 Item document"),
        "reply": table_after("A **reply**"),
        "response": table_after("A **response**"),
        "task": table_after("A **task**"),
        "shift": table_after("A **shift**"),
    }
    for where, fields in written().items():
        assert fields, where
        assert fields <= specified[where], (where, fields - specified[where])


def test_the_tables_name_every_kind_status_and_retired_field() -> None:
    item_table = SPEC[SPEC.index("### 9.2 Item document") : SPEC.index("### 9.3")]
    for value in [k.value for k in Kind] + [s.value for s in Status] + ["author", "history"]:
        assert f"`{value}`" in item_table, value
