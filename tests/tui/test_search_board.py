"""`/` searches the whole board, at 80x24: every tab, titles, texts, replies, tags and names,
each result saying which tab it lives in; a tab key narrows the search to that tab."""

from __future__ import annotations

from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind
from potluck.tui.widgets.item_list import ItemList
from textual.widgets import Input, Static

from tests.tui.conftest import board_ready, wait_for

SIZE = (80, 24)


def found(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Each row's title and the start of its second line (where a search names the tab)."""
    items = app.screen.query_one(ItemList)
    out = []
    for summary, option in zip(items.summaries, items.options, strict=True):
        out.append((summary.title, str(option.prompt).split("\n")[1].strip()))
    return out


async def test_a_word_only_in_a_reply_of_another_tab_is_found(  # type: ignore[no-untyped-def]
    home_path: Path, make_app
) -> None:
    with Home.open(home_path) as home:
        board = home.board()
        board.post(Kind.NEED, "A long ladder", tags=["tools"])
        drill = board.post(Kind.OFFER, "Drill and bits")
        board.reply(drill, "The stepladder is in the cellar too")
        board.post(Kind.EVENT, "Repair café", body="Bring a stepladder if you have one")
        board.post(Kind.NOTE, "How to use the boiler")
    app = make_app(home_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await wait_for(pilot, lambda: len(found(app)) == 1)  # the Needs tab
        await pilot.press("slash")
        box = app.screen.query_one("#search", Input)
        assert "search the whole board" in box.placeholder
        await pilot.press(*"stepladder", "enter")
        await wait_for(pilot, lambda: len(found(app)) == 2)
        rows = dict(found(app))
        assert rows["Drill and bits"].startswith("Offers · ")
        assert rows["Repair café"].startswith("Events · ")
        filters = str(app.screen.query_one("#filters", Static).render())
        assert "“stepladder” in all tabs" in filters

        # A tab key narrows the search to that tab; Esc shows everything again.
        await pilot.press("2")
        await wait_for(pilot, lambda: [t for t, _ in found(app)] == ["Drill and bits"])
        assert not found(app)[0][1].startswith("Offers · ")
        assert "“stepladder” in this tab" in str(app.screen.query_one("#filters", Static).render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: [t for t, _ in found(app)] == ["Drill and bits"])
        await pilot.press("1")
        await wait_for(pilot, lambda: [t for t, _ in found(app)] == ["A long ladder"])

        # Names and tags are found too.
        await pilot.press("slash", *"ana", "enter")
        await wait_for(pilot, lambda: len(found(app)) == 4)
        await pilot.press("escape", "slash", *"tools", "enter")
        await wait_for(pilot, lambda: [t for t, _ in found(app)] == ["A long ladder"])
