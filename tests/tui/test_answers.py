"""Answers reach the person they are for: when another home says it can help, would like
something, is coming, takes a task, signs up for a shift or takes a position on what you
posted, a notice names who, and the item is marked until you open it (across restarts)."""

from __future__ import annotations

from pathlib import Path

import potluck.p2p.clock
import pytest
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind, ResponseKind
from potluck.tui.reads import answer_words
from potluck.tui.widgets.detail import ItemDetail
from potluck.tui.widgets.item_list import UNREAD, ItemList

from tests.tui.conftest import NOW, board_ready, wait_for

SIZE = (80, 24)
DAY = 86_400_000


def rows(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each item's id and the first line of its row."""
    items = app.screen.query_one(ItemList)
    return {o.id: str(o.prompt).split("\n")[0] for o in items.options}


def bo_answers(home_path: Path, tmp_path: Path, answer) -> None:  # type: ignore[no-untyped-def]
    """Bo, on another laptop, gets Ana's board and answers (`answer(board)`); what Bo did
    then reaches Ana's home as the node would merge it."""
    with Home.open(home_path) as ana:
        code = ana.board().invite()
        ana.export_board(ana.board(), tmp_path / "ana.potluck")
    with Home.open(tmp_path / "bo") as bo:
        bo.set_profile(name="Bo")
        theirs, _ = bo.join(code)
        bo.import_board(tmp_path / "ana.potluck")
        answer(theirs)
        bo.export_board(theirs, tmp_path / "bo.potluck")


async def test_answers_from_another_home_are_noticed_and_marked_until_opened(  # type: ignore[no-untyped-def]
    home_path: Path, make_app, tmp_path: Path
) -> None:
    with Home.open(home_path) as ana:
        board = ana.board()
        beans = board.post(Kind.NEED, "Dry beans")
        paint = board.post(Kind.PROPOSAL, "Paint the hall green")
        kitchen = board.post(
            Kind.PROJECT,
            "Thursday kitchen",
            tasks=["buy onions"],
            shifts=[("every thu 18:00-21:00", 3)],
        )
        board.post(Kind.NEED, "Warm socks")  # the newest: the one on screen at first

    def answer(theirs) -> None:  # type: ignore[no-untyped-def]
        theirs.respond(beans, ResponseKind.HELP, "I have a sack")
        theirs.respond(paint, ResponseKind.AGREE)
        theirs.task(kitchen, 1, "take")
        theirs.signup(kitchen)

    bo_answers(home_path, tmp_path, answer)

    app = make_app(home_path)
    said: list[str] = []
    app.notify = lambda message, **kw: said.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await wait_for(pilot, lambda: len(rows(app)) == 2)
        items = app.screen.query_one(ItemList)
        socks = items.current_id
        assert socks not in (beans, None)
        with Home.open(home_path) as other_window:
            other_window.import_board(tmp_path / "bo.potluck")
        await wait_for(pilot, lambda: len(said) >= 4)
        assert "Bo can help with “Dry beans”" in said
        assert "Bo agrees with “Paint the hall green”" in said
        assert "Bo took a task of “Thursday kitchen”: buy onions" in said
        signed = [s for s in said if s.startswith("Bo signed up for “Thursday kitchen” on ")]
        assert len(signed) == 1, said
        # Dry beans is marked; the item on screen did not move, and is not marked.
        await wait_for(pilot, lambda: rows(app)[beans].startswith(UNREAD))
        assert items.current_id == socks and not rows(app)[socks].startswith(UNREAD)
        assert items.unread == {beans, paint, kitchen}
        await pilot.press("5")
        await wait_for(pilot, lambda: paint in rows(app))
        # The only proposal is on screen in full at once: opened, so its mark goes.
        await wait_for(pilot, lambda: items.unread == {beans, kitchen})
        assert not rows(app)[paint].startswith(UNREAD)

    # The marks are kept in the home: after a restart Dry beans is still marked (something
    # newer is on top, on screen at first)...
    with Home.open(home_path) as other_window:
        other_window.board().post(Kind.NEED, "Candles")
    app = make_app(home_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await wait_for(pilot, lambda: rows(app).get(beans, "").startswith(UNREAD))
        items = app.screen.query_one(ItemList)
        detail = app.screen.query_one(ItemDetail)
        while items.current_id != beans:
            await pilot.press("down")
        await wait_for(pilot, lambda: detail.item is not None and detail.item.id == beans)
        assert "I have a sack" in detail.shown.plain
        # ...until it is opened.
        await wait_for(pilot, lambda: not rows(app)[beans].startswith(UNREAD))

    app = make_app(home_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await wait_for(pilot, lambda: beans in rows(app))
        items = app.screen.query_one(ItemList)
        await wait_for(pilot, lambda: items.unread == {kitchen})
        assert not any(row.startswith(UNREAD) for row in rows(app).values())


def test_each_answer_in_words(home_path: Path) -> None:
    """The words of every kind of answer, as a notice puts them after the person's name."""
    with Home.open(home_path) as home:
        board = home.board()
        kitchen = board.post(
            Kind.PROJECT, "Kitchen", tasks=["buy onions"], shifts=[("every thu 18:00-21:00", 3)]
        )
        item = board.item(kitchen)
    task, shift = item.tasks[0].id, item.shifts[0].id
    assert [
        answer_words(item, kind, note)
        for kind, note in [
            ("help", "a note not repeated"),
            ("interested", ""),
            ("going", ""),
            ("bring", "bread"),
            ("bring", ""),
            ("agree", ""),
            ("concern", "noise"),
            ("stand-aside", ""),
            ("block", "night workers sleep by day"),
            (f"task:{task}", ""),
            (f"done:{task}", ""),
            (f"shift:{shift}:2026-12-03", ""),
            (f"shift:{shift}:every", ""),
            (f"skip:{shift}:2026-12-03", ""),
        ]
    ] == [
        ("can help with", ""),
        ("would like", ""),
        ("is coming to", ""),
        ("will bring something to", ": bread"),
        ("will bring something to", ""),
        ("agrees with", ""),
        ("has a concern about", ""),
        ("stands aside on", ""),
        ("blocks", ""),
        ("took a task of", ": buy onions"),
        ("marked a task done in", ": buy onions"),
        ("signed up for", " on Thu 3 Dec"),
        ("signed up for every date of", ""),
        None,
    ]


async def test_answers_that_come_with_a_catch_up_sync_are_noticed(  # type: ignore[no-untyped-def]
    home_path: Path, make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A laptop back after a day away gets many documents at once: one line says how many
    arrived, and an answer to what its person posted, made while it was away, is still said
    and marked."""
    with Home.open(home_path) as ana:
        board = ana.board()
        beans = board.post(Kind.NEED, "Dry beans")
        board.post(Kind.NEED, "Warm socks")

    def answer(theirs) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(potluck.p2p.clock, "now_ms", lambda: NOW - DAY)  # a day ago
        for n in range(10):
            theirs.post(Kind.OFFER, f"Jar {n}")
        theirs.respond(beans, ResponseKind.HELP, "I have a sack")
        monkeypatch.undo()

    bo_answers(home_path, tmp_path, answer)
    app = make_app(home_path)
    said: list[str] = []
    app.notify = lambda message, **kw: said.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await wait_for(pilot, lambda: len(rows(app)) == 2)
        with Home.open(home_path) as other_window:
            other_window.import_board(tmp_path / "bo.potluck")
        await wait_for(pilot, lambda: len(said) >= 2)
        assert said[:2] == ["10 new items arrived", "Bo can help with “Dry beans”"], said
        items = app.screen.query_one(ItemList)
        await wait_for(pilot, lambda: beans in items.unread)
