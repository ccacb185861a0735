"""The week ahead in the app at 80x24: the Upcoming view (u) with a weekly shift, an event and a
decision date, the status line's open places, events by start with past ones dimmed and hidden
with h, and a proposal whose date has passed shown agreed among the house's agreements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import potluck.p2p.clock
import pytest
from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind, ResponseKind
from potluck.tui.screens.board import BoardScreen
from potluck.tui.screens.upcoming import UpcomingScreen
from potluck.tui.widgets.detail import ItemDetail
from potluck.tui.widgets.item_list import ItemList
from textual.widgets import OptionList, Static

from tests.tui.conftest import NOW, board_ready, wait_for

SIZE = (80, 24)
DAY = 86_400_000


def at(text: str) -> int:
    """A local time as milliseconds ('2026-11-20 19:00')."""
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This device's clock stands at NOW (Wed 18 Nov 2026 11:06) for the board too: the
    agenda, the rota's dates and proposals' outcomes are read from it."""
    assert datetime.fromtimestamp(NOW / 1000).strftime("%a %d %b") == "Wed 18 Nov"
    monkeypatch.setattr(potluck.p2p.clock, "now_ms", lambda: NOW)
    yield


@pytest.fixture
def week(home_path: Path, fixed_clock: None) -> dict[str, str]:
    """A kitchen's week: a Thursday shift with one of three places taken, soup night on
    Friday, a proposal deciding on Saturday, one agreed on Monday, a past and a far event."""
    with Home.open(home_path) as home:
        board = home.board()
        kitchen = board.post(
            Kind.PROJECT, "Thursday kitchen", shifts=[("every thu 18:00-21:00", 3)]
        )
        board.signup(kitchen, day=date(2026, 11, 19))
        soup = board.post(
            Kind.EVENT,
            "Soup night",
            start=at("2026-11-20 19:00"),
            end=at("2026-11-20 22:00"),
            place="the yard",
        )
        board.post(Kind.EVENT, "Film in the cellar", start=at("2026-11-25 20:00"))
        board.post(Kind.EVENT, "Last week's clean-up", start=at("2026-11-14 10:00"))
        paint = board.post(Kind.PROPOSAL, "Paint the hall green", decide_by=at("2026-11-21 23:59"))
        quiet = board.post(Kind.PROPOSAL, "Quiet hours", decide_by=at("2026-11-16 23:59"))
    return {"kitchen": kitchen, "soup": soup, "paint": paint, "quiet": quiet}


def lines_of(app) -> list[str]:  # type: ignore[no-untyped-def]
    listing = app.screen.query_one("#agenda", OptionList)
    return [str(o.prompt) for o in listing.options]


def titles(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(o.prompt).split("\n")[0] for o in app.screen.query_one(ItemList).options]


def rows(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each row's second line, by its title."""
    options = app.screen.query_one(ItemList).options
    return dict(str(o.prompt).split("\n")[:2] for o in options)


def status(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#status", Static).render())


async def test_upcoming_shows_the_two_weeks_by_date(  # type: ignore[no-untyped-def]
    home_path: Path, make_app, week: dict[str, str]
) -> None:
    app = make_app(home_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        # The status line counts places, never people: 2 of 3 open on Thursday (the Thursday
        # after is eight days away).
        await wait_for(pilot, lambda: "2 open places this week" in status(app))
        upcoming = app.screen.active_bindings["u"]
        assert upcoming.binding.show and upcoming.binding.description == "Upcoming"

        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UpcomingScreen))
        await wait_for(pilot, lambda: len(lines_of(app)) > 0)
        shown = [line.strip() for line in lines_of(app)]
        assert shown == [
            "Tomorrow, Thu 19 Nov",
            "18:00-21:00  Thursday kitchen  shift · 2 of 3 places open",
            "Fri 20 Nov",
            "19:00-22:00  Soup night  event · the yard",
            "Sat 21 Nov",
            "23:59        Paint the hall green  decision date · open so far",
            "Wed 25 Nov",
            "20:00        Film in the cellar  event",
            "Thu 26 Nov",
            "18:00-21:00  Thursday kitchen  shift · 3 of 3 places open",
        ]
        title = str(app.screen.query_one("#upcoming-title", Static).render())
        assert "The next 14 days: 2 events, 5 open places, 1 decision" in title
        # Every entry is one line at 80 columns (nothing wraps or is cut).
        listing = app.screen.query_one("#agenda", OptionList)
        assert all(len(line) < listing.size.width for line in lines_of(app))
        assert listing.region.bottom <= SIZE[1]

        # Enter on soup night shows it on the board, in the Events tab.
        while not lines_of(app)[listing.highlighted or 0].strip().startswith("19:00"):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_for(pilot, lambda: board_ready(app))
        board = app.screen
        assert isinstance(board, BoardScreen)
        await wait_for(pilot, lambda: board.query_one(ItemList).current_id == week["soup"])
        await wait_for(
            pilot,
            lambda: (
                (item := board.query_one(ItemDetail).item) is not None and item.id == week["soup"]
            ),
        )

        # A rota posted elsewhere adds its places to the week's count.
        with Home.open(home_path) as other_window:
            other_window.board().post(
                Kind.PROJECT, "Bike repair", shifts=[("every fri 10:00-12:00", 2)]
            )
        await wait_for(pilot, lambda: "4 open places this week" in status(app))


async def test_events_by_start_past_ones_dimmed_and_hidden_with_h(  # type: ignore[no-untyped-def]
    home_path: Path, make_app, week: dict[str, str]
) -> None:
    app = make_app(home_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await pilot.press("4")
        await wait_for(pilot, lambda: len(titles(app)) == 3)
        # Soonest first, each with its date, the past one last and dimmed.
        assert [t.split(" ", 3)[:3] for t in titles(app)] == [
            ["Fri", "20", "Nov"],
            ["Wed", "25", "Nov"],
            ["Sat", "14", "Nov"],
        ]
        items = app.screen.query_one(ItemList)
        assert [s.title for s in items.summaries] == [
            "Soup night",
            "Film in the cellar",
            "Last week's clean-up",
        ]
        assert "(past)" in titles(app)[2]
        prompts = items.options
        past = prompts[2].prompt
        assert any("strike" in str(span.style) or "dim" in str(span.style) for span in past.spans)
        assert not any("dim" in str(span.style) for span in prompts[0].prompt.spans[:1])
        await pilot.press("h")
        await wait_for(pilot, lambda: len(titles(app)) == 2)
        assert "Last week's clean-up" not in [s.title for s in items.summaries]
        filters = str(app.screen.query_one("#filters", Static).render())
        assert "upcoming only" in filters
        await pilot.press("h")
        await wait_for(pilot, lambda: len(titles(app)) == 3)


async def test_a_proposal_past_its_date_is_agreed_and_among_the_agreements(  # type: ignore[no-untyped-def]
    home_path: Path,
    make_app,
    week: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(home_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: board_ready(app))
        await pilot.press("5")
        await wait_for(pilot, lambda: len(titles(app)) == 2)
        # The decision first on the second line, where a narrow list does not cut it.
        seen = rows(app)
        assert seen["Quiet hours"].strip().startswith("agreed Mon 16 Nov · ")
        assert seen["Paint the hall green"].strip().startswith("decides Sat 21 Nov 23:59 · ")
        filters = str(app.screen.query_one("#filters", Static).render())
        assert "1 agreement · a shows them" in filters

        # The detail says each decision in words.
        items = app.screen.query_one(ItemList)
        detail = app.screen.query_one(ItemDetail)

        async def choose(item_id: str) -> str:
            for _ in range(len(items.summaries)):
                if items.current_id == item_id:
                    break
                await pilot.press("down")
            await wait_for(pilot, lambda: detail.item is not None and detail.item.id == item_id)
            return detail.shown.plain

        assert "decision: open · decides Sat 21 Nov 2026 23:59" in await choose(week["paint"])
        said = await choose(week["quiet"])
        assert "decision: agreed (its date was Mon 16 Nov 2026 23:59)" in said
        assert "The outcome changed" not in said

        # a: the house's agreements only, with their date; a again: every proposal.
        await pilot.press("a")
        await wait_for(pilot, lambda: titles(app) == ["Quiet hours"])
        assert rows(app)["Quiet hours"].strip().startswith("agreed Mon 16 Nov")
        filters = str(app.screen.query_one("#filters", Static).render())
        assert "the house's agreements" in filters
        await pilot.press("a")
        await wait_for(pilot, lambda: len(titles(app)) == 2)

        # A block Bo made on Sunday, on a laptop that was away, arrives now: it counts, and
        # the outcome this laptop showed changes, saying so.
        with Home.open(home_path) as ana:
            code = ana.board().invite()
            ana.export_board(ana.board(), tmp_path / "ana.potluck")
        monkeypatch.setattr(potluck.p2p.clock, "now_ms", lambda: at("2026-11-15 20:00"))
        with Home.open(tmp_path / "bo") as bo:
            bo.set_profile(name="Bo")
            theirs, _ = bo.join(code)
            bo.import_board(tmp_path / "ana.potluck")
            theirs.respond(week["quiet"], ResponseKind.BLOCK, "night workers sleep by day")
            bo.export_board(theirs, tmp_path / "bo.potluck")
        monkeypatch.setattr(potluck.p2p.clock, "now_ms", lambda: NOW)
        with Home.open(home_path) as other_window:
            other_window.import_board(tmp_path / "bo.potluck")
        await choose(week["quiet"])
        await wait_for(  # Bo's name comes with the same import as his block
            pilot, lambda: "blocked by Bo: night workers sleep by day" in detail.shown.plain
        )
        said = detail.shown.plain
        assert "The outcome changed" in said
        assert "this device showed it as agreed" in said and "it is blocked" in said
        await wait_for(pilot, lambda: rows(app)["Quiet hours"].strip().startswith("blocked · "))
        assert "agreement" not in str(app.screen.query_one("#filters", Static).render())
