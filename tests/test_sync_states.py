"""Automerge's sync protocol between two real stores, where a change arrives without one it
depends on: the sender's sync state believed the receiver held it (as after a bloom filter's
false positive, or a state carried over from another peer's copy)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from potluck.p2p.board import Board
from potluck.p2p.home import Home
from potluck.p2p.model.automerge import Document, SyncState
from potluck.p2p.model.chunks import (
    sync_message_carries_changes,
    sync_message_chunks,
    sync_message_need,
)
from potluck.p2p.model.signing import Signed
from potluck.p2p.model.types import Kind

from tests.test_merge import copy_documents

ROUNDS = 20
"""Messages each way at most: two in sync stop sending long before."""


def exchange(
    a: Home,
    b: Home,
    board_id: str,
    doc_id: str,
    a_state: SyncState,
    b_state: SyncState | None = None,
    a_sent: list[Signed] | None = None,
) -> int:
    """Sync one document between two stores until neither has more to say; the rounds it took
    (ROUNDS + 1 if it did not end). What `a` sent is added to `a_sent`."""
    b_state = SyncState() if b_state is None else b_state
    for n in range(ROUNDS):
        sent = False
        for sender, receiver, ours, theirs in ((a, b, a_state, b_state), (b, a, b_state, a_state)):
            message = sender.store.documents.generate_sync_message(board_id, doc_id, ours)
            if message is not None:
                receiver.store.documents.receive_sync_message(board_id, doc_id, theirs, message)
                sent = True
                if sender is a and a_sent is not None:
                    a_sent.append(message)
        if not sent:
            return n
    return ROUNDS + 1


@contextmanager
def three_members(tmp_path: Path) -> Iterator[tuple[list[Home], list[Board], str]]:
    """Ana, Bo and Cy's homes, each one's copy of Ana's board, and an item of hers that all
    three hold."""
    homes = [Home.open(tmp_path / n) for n in ("ana", "bo", "cy")]
    try:
        for home, name in zip(homes, ("Ana", "Bo", "Cy"), strict=True):
            home.set_profile(name=name)
        board = homes[0].new_board("Kitchen")
        theirs = [home.join(board.invite())[0] for home in homes[1:]]
        item = board.post(Kind.NEED, "Soup pots for Thursday")
        for other in theirs:
            copy_documents(board, other)
        yield homes, [board, *theirs], item
    finally:
        for home in homes:
            home.close()


@contextmanager
def held_back(tmp_path: Path) -> Iterator[tuple[Home, Home, str, str, SyncState, bytes]]:
    """Ana, Bo, the board, an item, and Ana's sync state for it as it ends with Cy, who holds
    her reply D: it believes the peer holds D. Then Ana replies H, which depends on D, and
    goes on with Bo as if he were Cy: she sends H alone, which he cannot apply yet."""
    with three_members(tmp_path) as ((ana, bo, cy), (board, *theirs), item):
        board.reply(item, "the big one is at the squat")  # D
        saved = ana.store.documents.saved_document(board.board_id, item)
        [dependency] = Document.load(saved.data, b"\0" * 16).heads()
        copy_documents(board, theirs[1])  # Cy holds D; Bo does not
        state = SyncState()
        assert exchange(ana, cy, board.board_id, item, state) <= ROUNDS
        board.reply(item, "and a ladle")  # H
        yield ana, bo, board.board_id, item, state, dependency


def test_a_change_that_came_before_its_dependency_is_not_lost_to_the_sync(
    tmp_path: Path,
) -> None:
    with held_back(tmp_path) as (ana, bo, board_id, item, state, _):
        rounds = exchange(ana, bo, board_id, item, state)
        assert rounds <= ROUNDS, "the two never stopped sending"
        assert ana.store.documents.digest(board_id, item) == bo.store.documents.digest(
            board_id, item
        )


def test_the_dependency_of_a_change_held_back_is_asked_for_by_hash(tmp_path: Path) -> None:
    # Asking again with a summary is not enough: a bloom filter that claims D by a false
    # positive (about one time in a hundred) claims it every time, and the two would go on
    # without end. The answer names D in its `need`, until D is here.
    with held_back(tmp_path) as (ana, bo, board_id, item, state, dependency):
        documents = bo.store.documents
        bos = SyncState()
        sent = ana.store.documents.generate_sync_message(board_id, item, state)
        assert sent is not None
        documents.receive_sync_message(board_id, item, bos, sent)
        for _ in range(2):
            answer = documents.generate_sync_message(board_id, item, bos)
            assert answer is not None and dependency in sync_message_need(answer.data)
            bos.forget()
        assert exchange(ana, bo, board_id, item, state) <= ROUNDS
        assert documents.digest(board_id, item) == ana.store.documents.digest(board_id, item)


def test_a_state_the_peer_moved_past_starts_again_rather_than_send_what_it_holds(
    tmp_path: Path,
) -> None:
    # Ana and Bo synced an item; then both took forty replies of Cy's from Cy. Ana's state
    # still says what Bo held when he last spoke: automerge would send him Cy's forty again
    # with her one new reply. Marked stale (the sync decision does, when Bo's digest moved by
    # other ways), her next message is the one a fresh state sends, and the rest follows.
    with three_members(tmp_path) as ((ana, bo, _), (board, bo_board, cy_board), item):
        board_id = board.board_id
        ana_state, bo_state = SyncState(), SyncState()
        assert exchange(ana, bo, board_id, item, ana_state, bo_state) <= ROUNDS
        for n in range(40):
            cy_board.reply(item, f"I can bring pot number {n}")
        for other in (board, bo_board):
            copy_documents(cy_board, other)
        board.reply(item, "and a ladle")

        ana_state.stale = True
        first = ana.store.documents.generate_sync_message(board_id, item, ana_state)
        assert first is not None and sync_message_chunks(first.data) == []
        assert not ana_state.stale
        bo.store.documents.receive_sync_message(board_id, item, bo_state, first)
        sent = [first]
        assert exchange(ana, bo, board_id, item, ana_state, bo_state, sent) <= ROUNDS
        assert ana.store.documents.digest(board_id, item) == bo.store.documents.digest(
            board_id, item
        )
        changes = [c for m in sent for c in sync_message_chunks(m.data)]
        assert len(changes) == 1, "Ana sent Bo what he held"


def test_a_stale_state_whose_message_is_small_is_kept(tmp_path: Path) -> None:
    # Starting again costs a round trip: a message that carries little goes as it is.
    with held_back(tmp_path) as (ana, _, board_id, item, state, _):
        state.stale = True
        message = ana.store.documents.generate_sync_message(board_id, item, state)
        assert message is not None and len(sync_message_chunks(message.data)) == 1


def test_a_fresh_state_first_message_carries_no_change_and_an_answer_does(
    tmp_path: Path,
) -> None:
    # The session answers a sync at once when it only asks (`SyncApplied.asks`): it tells
    # the two apart by whether the message carries a change.
    with held_back(tmp_path) as (ana, bo, board_id, item, _, _):
        ana_state, bo_state = SyncState(), SyncState()
        first = ana.store.documents.generate_sync_message(board_id, item, ana_state)
        assert first is not None and not sync_message_carries_changes(first.data)
        bo.store.documents.receive_sync_message(board_id, item, bo_state, first)
        answer = bo.store.documents.generate_sync_message(board_id, item, bo_state)
        assert answer is not None and not sync_message_carries_changes(answer.data)
        ana.store.documents.receive_sync_message(board_id, item, ana_state, answer)
        changes = ana.store.documents.generate_sync_message(board_id, item, ana_state)
        assert changes is not None and sync_message_carries_changes(changes.data)
