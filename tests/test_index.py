"""The query index agrees with the documents after every operation, whatever the sequence:
lists, counts, tags, and search, which finds every word an item holds and none it held before."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from potluck.p2p.home import Board, Home
from potluck.p2p.model.types import Kind, Status
from potluck.p2p.storage.database import KINDS, STATUSES

words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=20).filter(str.strip)
tags = st.lists(st.sampled_from(["food", "tools", "urgent", "bikes"]), max_size=3)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.sampled_from(list(Kind)), words, words, tags),
        st.tuples(st.just("edit"), st.integers(0, 50), words, words, tags),
        st.tuples(st.just("reply"), st.integers(0, 50), words),
        st.tuples(st.just("respond"), st.integers(0, 50), words),
        st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(list(Status))),
        st.tuples(st.just("merge"), st.sampled_from(list(Kind)), words),
    ),
    min_size=1,
    max_size=25,
)


def check_index(board: Board) -> None:
    store = board.home.store
    listed = {s.id: s for s in board.items()}
    assert set(listed) == set(store.documents.item_ids(board.board_id))
    names = {d: m.name for d, m in board.members().items()}
    for item_id, summary in listed.items():
        item = board.item(item_id)
        assert summary.kind == item.kind
        assert summary.title == item.title
        assert summary.status == item.status
        assert summary.tags == item.tags
        assert summary.author == item.author
        assert summary.author_name == names.get(item.author, "")
        assert (summary.created, summary.updated) == (item.created, item.updated)
        assert summary.replies == len(item.replies)
        assert summary.responses == len(item.responses)
        for status in Status:
            assert (item_id in {s.id for s in board.items(status=status)}) == (
                item.status == status
            )
        for tag in item.tags:
            assert item_id in {s.id for s in board.items(tag=tag)}
        first_word = item.body.split()[0] if item.body.split() else item.title.split()[0]
        assert item_id in {s.id for s in board.items(search=first_word)}


def check_search(board: Board, probes: set[str]) -> None:
    """Each word finds exactly the items that hold a word starting with it (in a title, body,
    reply, response's note or tag) or that a member whose name starts with it posted, replied
    to or answered: words an edit took away, or an item had before, are found no more."""
    named = {
        word: {d for d, m in board.members().items() if m.name.lower().startswith(word)}
        for word in probes
    }
    words: dict[str, set[str]] = {}
    people: dict[str, set[str]] = {}
    for summary in board.items():
        item = board.item(summary.id)
        texts = [item.title, item.body, *item.tags]
        texts += [r.text for r in item.replies] + [r.note for r in item.responses]
        words[item.id] = set(" ".join(texts).lower().split())
        people[item.id] = {item.author, *(r.author for r in item.replies)}
        people[item.id] |= {r.member for r in item.responses}
    for word in probes:
        expected = {
            i for i in words if any(w.startswith(word) for w in words[i]) or people[i] & named[word]
        }
        assert {s.id for s in board.items(search=word)} == expected, word


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=operations)
def test_index_agrees_with_documents(ops: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.open(Path(tmp) / "a")
        peer = Home.open(Path(tmp) / "b")
        try:
            home.set_profile(name="Ana")
            peer.set_profile(name="Bo")
            board = home.new_board("Kitchen")
            peer_board, _ = peer.join(board.invite())
            peer.store.documents.apply_saved_document(
                board.board_id,
                "board",
                home.store.documents.saved_document(board.board_id, "board"),
            )
            ids: list[str] = []
            for op in ops:
                name = op[0]
                if name == "post":
                    _, kind, title, body, tag_list = op
                    ids.append(board.post(kind, title, body=body, tags=tag_list))
                elif name == "merge":
                    _, kind, title = op
                    new_id = peer_board.post(kind, title, body=title)
                    for doc_id in (new_id, "board"):
                        home.store.documents.apply_saved_document(
                            board.board_id,
                            doc_id,
                            peer.store.documents.saved_document(peer_board.board_id, doc_id),
                        )
                    ids.append(new_id)
                elif ids:
                    item_id = ids[op[1] % len(ids)]
                    item = board.item(item_id)
                    if name == "edit" and item.author == board.me:
                        board.edit(
                            item_id,
                            title=op[2],
                            body=op[3],
                            add_tags=op[4],
                            remove_tags=list(item.tags[:1]),
                        )
                    elif name == "reply":
                        board.reply(item_id, op[2])
                    elif name == "respond" and item.kind not in (Kind.NOTE, Kind.PROJECT):
                        board.respond(item_id, None, op[2])
                    elif name == "status" and (
                        item.author == board.me or Status.WITHDRAWN not in (op[2], item.status)
                    ):
                        board.set_status(item_id, op[2])
                check_index(board)
                check_search(
                    board,
                    {w for op in ops for t in op[2:] if isinstance(t, str) for w in t.split()},
                )
        finally:
            home.close()
            peer.close()


def test_every_kind_and_status_has_its_number_in_the_index() -> None:
    """A kind or status added to the model needs its place at the end of KINDS or STATUSES
    (the numbers stored in homes never change)."""
    assert set(KINDS) == {k.value for k in Kind} and len(set(KINDS)) == len(KINDS)
    assert set(STATUSES) == {s.value for s in Status} and len(set(STATUSES)) == len(STATUSES)
    assert KINDS[:6] == ("need", "offer", "project", "event", "proposal", "note")
    assert STATUSES[:4] == ("open", "met", "closed", "withdrawn")
