"""Automerge's sync protocol between two real stores, where a change arrives without one it
depends on: the sender's sync state believed the receiver held it (as after a bloom filter's
false positive, or a state carried over from another peer's copy)."""

from __future__ import annotations

from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.automerge import SyncState
from potluck.p2p.model.types import Kind

from tests.test_merge import copy_documents

ROUNDS = 20
"""Messages each way at most: two in sync stop sending long before."""


def exchange(a: Home, b: Home, board_id: str, doc_id: str, a_state: SyncState) -> int:
    """Sync one document between two stores until neither has more to say; the rounds it took
    (ROUNDS + 1 if it did not end)."""
    b_state = SyncState()
    for n in range(ROUNDS):
        sent = False
        for sender, receiver, ours, theirs in ((a, b, a_state, b_state), (b, a, b_state, a_state)):
            message = sender.store.documents.generate_sync_message(board_id, doc_id, ours)
            if message is not None:
                receiver.store.documents.receive_sync_message(board_id, doc_id, theirs, message)
                sent = True
        if not sent:
            return n
    return ROUNDS + 1


def test_a_change_that_came_before_its_dependency_is_not_lost_to_the_sync(
    tmp_path: Path,
) -> None:
    homes = [Home.open(tmp_path / n) for n in ("ana", "bo", "cy")]
    ana, bo, cy = homes
    try:
        for home, name in zip(homes, ("Ana", "Bo", "Cy"), strict=True):
            home.set_profile(name=name)
        board = ana.new_board("Kitchen")
        theirs = [home.join(board.invite())[0] for home in (bo, cy)]
        item = board.post(Kind.NEED, "Soup pots for Thursday")
        for other in theirs:
            copy_documents(board, other)
        board.reply(item, "the big one is at the squat")  # D
        copy_documents(board, theirs[1])  # Cy holds D; Bo does not
        state = SyncState()  # Ana's state, as it ends with Cy: it believes the peer holds D
        assert exchange(ana, cy, board.board_id, item, state) <= ROUNDS
        board.reply(item, "and a ladle")  # H, which depends on D
        # Ana goes on with Bo as if he were Cy: she sends H alone, which he cannot apply yet.
        rounds = exchange(ana, bo, board.board_id, item, state)
        assert rounds <= ROUNDS, "the two never stopped sending"
        assert ana.store.documents.digest(board.board_id, item) == bo.store.documents.digest(
            board.board_id, item
        )
    finally:
        for home in homes:
            home.close()
