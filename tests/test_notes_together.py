"""Notes written together: edits of one body by several devices, from stale and fresh versions,
merged in any order, never fail and keep every word anyone added (issue 11)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from potluck.p2p import Board, Item, Kind, PotluckError
from potluck.p2p.home import Home
from potluck.p2p.model.automerge import rebased_splices

from tests.p2p_helpers import make_homes
from tests.test_merge import copy_documents

FILLER = "a b c d e f g h"


def word(n: int) -> str:
    """A word no other contains (Q1Z is not inside Q12Z), with no letters of the filler."""
    return f"Q{n}Z"


def edited(base: str, n: int, where: int, drop: int | None) -> str:
    """`base` with word n inserted between two of its words, and one filler letter dropped."""
    tokens = base.split(" ")
    if drop is not None:
        fillers = [i for i, t in enumerate(tokens) if len(t) == 1 and t.islower()]
        if fillers:
            del tokens[fillers[drop % len(fillers)]]
    tokens.insert(where % (len(tokens) + 1), word(n))
    return " ".join(tokens)


step = st.one_of(
    st.tuples(
        st.just("edit"),
        st.integers(0, 3),  # which device
        st.booleans(),  # from a stale version it read earlier, or fresh
        st.integers(0, 50),  # where the word goes
        st.one_of(st.none(), st.integers(0, 10)),  # a filler letter to drop
    ),
    st.tuples(st.just("sync"), st.integers(0, 3), st.integers(0, 3), st.just(0), st.none()),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    devices=st.integers(2, 4),
    steps=st.lists(step, min_size=1, max_size=16),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_interleaving_of_edits_keeps_every_word(
    devices: int, steps: list[tuple[str, int, int, int, int | None]], seed: int
) -> None:
    with tempfile.TemporaryDirectory() as root:
        homes, board_id = make_homes(Path(root), ["Ana", "Bo", "Cy", "Di"][:devices])
        try:
            boards = [h.board(board_id) for h in homes]
            note = boards[0].post(Kind.NOTE, "House agreements", body=FILLER)
            for other in boards[1:]:
                copy_documents(boards[0], other)
            seen: list[list[Item]] = [[b.item(note)] for b in boards]
            words: list[str] = []
            for kind, a, stale, where, drop in steps:
                a %= devices
                if kind == "sync":  # a and `stale` (here a number) are the two devices
                    to = int(stale) % devices
                    if to != a:
                        copy_documents(boards[a], boards[to])
                        seen[to].append(boards[to].item(note))
                    continue
                base = random.Random(where).choice(seen[a]) if stale else boards[a].item(note)
                text = edited(base.body, len(words), where, drop)
                words.append(word(len(words)))
                boards[a].edit(note, body=text, body_from=base.heads)
                seen[a].append(boards[a].item(note))
            order = [(x, y) for x in range(devices) for y in range(devices) if x != y]
            random.Random(seed).shuffle(order)
            for x, y in order + order:
                copy_documents(boards[x], boards[y])
            bodies = {b.item(note).body for b in boards}
            assert len(bodies) == 1, bodies
            body = bodies.pop()
            assert [w for w in words if w not in body] == []
        finally:
            for home in homes:
                home.close()


def two_homes(tmp_path: Path) -> tuple[list[Home], list[Board]]:
    homes, board_id = make_homes(tmp_path, ["Ana", "Bo"])
    return homes, [h.board(board_id) for h in homes]


def test_ana_bo_ana_ana_the_case_that_crashed(tmp_path: Path) -> None:
    """Ana posts a note, Bo edits it, Ana edits it twice from the form she opened first: the
    second save used to fail in fork_at ("duplicate seq") or panic (MissingOps)."""
    homes, (ana, bo) = two_homes(tmp_path)
    try:
        note = ana.post(Kind.NOTE, "Kitchen rules", body="Wash up.")
        copy_documents(ana, bo)
        opened = ana.item(note)
        bo.edit(note, body="Wash up. Dry up.", body_from=bo.item(note).heads)
        copy_documents(bo, ana)
        ana.edit(note, body="Wash up. Sweep.", body_from=opened.heads)
        ana.edit(note, body="Wash up. Sweep. Mop.", body_from=opened.heads)
        again = ana.item(note)
        ana.edit(note, body=again.body + " Smile.", body_from=again.heads)
        copy_documents(ana, bo)
        for board in (ana, bo):
            body = board.item(note).body
            assert all(w in body for w in ("Wash up.", "Dry up.", "Sweep.", "Mop.", "Smile."))
    finally:
        for home in homes:
            home.close()


def test_a_version_not_in_the_document_is_one_line(tmp_path: Path) -> None:
    homes, (ana, _) = two_homes(tmp_path)
    try:
        note = ana.post(Kind.NOTE, "Kitchen rules", body="Wash up.")
        with pytest.raises(PotluckError) as refused:
            ana.edit(note, body="Sweep.", body_from=(b"\x01" * 32,))
        assert "\n" not in str(refused.value) and "version" in str(refused.value)
        assert ana.item(note).body == "Wash up."
        ana.edit(note, body="Wash up. Sweep.", body_from=ana.item(note).heads)
        assert ana.item(note).body == "Wash up. Sweep."
    finally:
        for home in homes:
            home.close()


@settings(max_examples=300, deadline=None)
@given(
    base=st.text("ab ", max_size=12),
    kept=st.lists(st.booleans(), max_size=12),
    theirs=st.text("XY", max_size=4),
    where=st.integers(0, 12),
    new=st.text("abZ ", max_size=14),
)
def test_splices_keep_what_others_inserted(
    base: str, kept: list[bool], theirs: str, where: int, new: str
) -> None:
    """The pure rebase: whatever the person did to `base`, characters others inserted since
    (X, Y) are all still there, and what the person inserted (Z) is all there."""
    elements = [(c, bytes([i])) for i, c in enumerate(base)]
    present = [e for i, e in enumerate(elements) if i >= len(kept) or kept[i]]
    where %= len(present) + 1
    current = present[:where] + [(c, b"other" + bytes([i])) for i, c in enumerate(theirs)]
    current += present[where:]
    text = [c for c, _ in current]
    for position, removed, inserted in rebased_splices(
        elements, {e: i for i, (_, e) in enumerate(current)}, new
    ):
        text[position : position + removed] = list(inserted)
    result = "".join(text)
    assert sorted(c for c in result if c in "XY") == sorted(theirs)
    assert result.count("Z") == new.count("Z")
    if len(present) == len(elements) and not theirs:
        assert result == new  # nothing happened meanwhile: the edit is exactly what was typed
