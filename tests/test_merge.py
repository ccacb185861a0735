"""Two copies of a board edited apart merge with nothing lost, whichever order."""

from __future__ import annotations

import pytest
from potluck.p2p.errors import ForbiddenChange, InvalidInput
from potluck.p2p.home import Board, Home
from potluck.p2p.model import item_document as docs
from potluck.p2p.model.board_document import BOARD_DOC_ID
from potluck.p2p.model.types import Kind, ResponseKind, Status


def copy_documents(src: Board, dst: Board) -> None:
    """Carry every document from one home to the other, as a sync or an export would."""
    for doc_id in src.home.store.documents.digests(src.board_id):
        dst.home.store.documents.apply_saved_document(
            dst.board_id, doc_id, src.home.store.documents.saved_document(src.board_id, doc_id)
        )


def pair(home: Home, other_home: Home) -> tuple[Board, Board]:
    a = home.new_board("Kitchen")
    b, _ = other_home.join(a.invite())
    copy_documents(a, b)
    return a, b


@pytest.mark.parametrize("order", ["a-then-b", "b-then-a"])
def test_concurrent_item_edits_keep_everyones_words(
    home: Home, other_home: Home, order: str
) -> None:
    a, b = pair(home, other_home)
    item = a.post(Kind.NEED, "We need a ladder", body="For the roof gutter.", tags=["tools"])
    note = a.post(Kind.NOTE, "House agreements", body="quiet after ten.", tags=["house"])
    copy_documents(a, b)

    a.edit(item, body="Urgent: For the roof gutter.", add_tags=["urgent"])
    a.edit(note, body="Please: quiet after ten.", add_tags=["rules"])
    a.reply(item, "Ana: the hardware shop is closed")
    b.reply(item, "Bo: try the squat next door")
    b.respond(item, ResponseKind.HELP, "I have one on Tuesday")
    a.respond(item, ResponseKind.HELP, "I can hold it")
    b.edit(note, body="quiet after ten. Shoes off.", add_tags=["shoes"])  # a note is everyone's

    first, second = (a, b) if order == "a-then-b" else (b, a)
    copy_documents(first, second)
    copy_documents(second, first)

    for board in (a, b):
        merged = board.item(item)
        assert merged.body == "Urgent: For the roof gutter."
        assert set(merged.tags) == {"tools", "urgent"}
        assert sorted((r.author, r.text) for r in merged.replies) == sorted(
            [(a.me, "Ana: the hardware shop is closed"), (b.me, "Bo: try the squat next door")]
        )
        assert {(r.member, r.note) for r in merged.responses} == {
            (a.me, "I can hold it"),
            (b.me, "I have one on Tuesday"),
        }
        shared = board.item(note)
        assert shared.body == "Please: quiet after ten. Shoes off."
        assert set(shared.tags) == {"house", "rules", "shoes"}
        history = [(h.who, h.what) for h in shared.history]
        assert history[0] == (a.me, "posted")
        assert sorted(history[1:]) == sorted([(a.me, "edited"), (b.me, "edited")])
    assert a.item(item) == b.item(item)
    assert a.items() == b.items()


def test_another_members_text_cannot_be_edited_even_directly(home: Home, other_home: Home) -> None:
    """Bo's device writing Ana's item itself (as a device gone bad would) is refused at once:
    a change its peers would refuse is never made."""
    a, b = pair(home, other_home)
    item = a.post(Kind.NEED, "We need a ladder", body="For the roof gutter.")
    copy_documents(a, b)
    with pytest.raises(ForbiddenChange, match="author"):
        other_home.store.documents.update(
            b.board_id, item, lambda doc: docs.edit_item(doc, now=1, title="Forged")
        )
    assert b.item(item).title == "We need a ladder"
    with pytest.raises(InvalidInput):
        b.edit(item, title="Forged")


def test_concurrent_status_and_positions_merge(home: Home, other_home: Home) -> None:
    a, b = pair(home, other_home)
    proposal = a.post(Kind.PROPOSAL, "Quiet hours after 23:00")
    copy_documents(a, b)
    a.respond(proposal, ResponseKind.AGREE)
    b.respond(proposal, ResponseKind.BLOCK, "night shift workers sleep by day")
    b.set_status(proposal, Status.CLOSED)
    copy_documents(a, b)
    copy_documents(b, a)
    merged = a.item(proposal)
    assert merged == b.item(proposal)
    assert merged.status is Status.CLOSED
    assert {(p.member, p.kind) for p in merged.positions} == {(a.me, "agree"), (b.me, "block")}
    assert [h.what for h in merged.history] == ["posted", "marked closed"]


def test_members_added_apart_both_survive(home: Home, other_home: Home) -> None:
    a = home.new_board("Kitchen")
    b, _ = other_home.join(a.invite())
    # Bo cannot introduce himself before he holds the board document (its first change is
    # Ana's: a second one would be refused); once he has it, both entries merge.
    other_home.set_profile(about="fixes bikes")
    assert BOARD_DOC_ID not in other_home.store.documents.digests(b.board_id)
    copy_documents(a, b)
    b.introduce()
    home.set_profile(about="cooks on Tuesdays")
    copy_documents(b, a)
    copy_documents(a, b)
    for board in (a, b):
        members = board.members()
        assert {m.name for m in members.values()} == {"Ana", "Bo"}
        assert members[a.me].about == "cooks on Tuesdays"
        assert members[b.me].about == "fixes bikes"
    assert b.name == "Kitchen"
    assert (
        home.store.documents.digests(a.board_id)[BOARD_DOC_ID]
        == other_home.store.documents.digests(b.board_id)[BOARD_DOC_ID]
    )


def test_project_tasks_and_shifts_taken_apart(home: Home, other_home: Home) -> None:
    a, b = pair(home, other_home)
    project = a.post(
        Kind.PROJECT, "Roof garden", tasks=["dig beds", "find seeds"], shifts=[("Sat 10:00", 2)]
    )
    copy_documents(a, b)
    a.respond(project, ResponseKind.TASK, which=1)
    b.respond(project, ResponseKind.TASK, which=2)
    a.respond(project, ResponseKind.SHIFT)
    b.respond(project, ResponseKind.SHIFT)
    copy_documents(a, b)
    copy_documents(b, a)
    merged = a.item(project)
    assert merged == b.item(project)
    assert [t.taken_by for t in merged.tasks] == [(a.me,), (b.me,)]
    assert set(merged.shifts[0].signed_up) == {a.me, b.me}


def test_one_task_taken_by_two_people_apart_keeps_both(home: Home, other_home: Home) -> None:
    a, b = pair(home, other_home)
    project = a.post(Kind.PROJECT, "Roof garden", tasks=["dig beds"])
    copy_documents(a, b)
    a.respond(project, ResponseKind.TASK)
    b.respond(project, ResponseKind.TASK)
    copy_documents(a, b)
    copy_documents(b, a)
    merged = a.item(project)
    assert merged == b.item(project)
    assert set(merged.tasks[0].taken_by) == {a.me, b.me}


def test_a_body_edited_from_an_older_read_keeps_what_arrived_since(
    home: Home, other_home: Home
) -> None:
    a, b = pair(home, other_home)
    note = a.post(Kind.NOTE, "House agreements", body="quiet after ten\n")
    copy_documents(a, b)
    read = a.item(note)  # Ana opens the editor
    b.edit(note, body="quiet after ten\nshoes off upstairs\n")
    copy_documents(b, a)  # Bo's line arrives while Ana types
    a.edit(note, body="quiet after eleven\n", body_from=read.heads)
    body = a.item(note).body
    assert "quiet after eleven" in body and "shoes off upstairs" in body, body
    assert "quiet after ten" not in body
    copy_documents(a, b)
    assert b.item(note).body == body
