"""The forms at 80x24, driven by Pilot on a real home: every message and the submit button in
view without scrolling; dates typed as people say them, with an example that is in the future
and a question, not silence, for a date already past; shifts typed as the command line takes
them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Item, Kind
from potluck.tui.cli.dates import deadline_ms, when_ms
from potluck.tui.dialogs.confirm import ConfirmDialog
from potluck.tui.dialogs.forms import FormDialog, NewItemDialog
from potluck.tui.widgets.detail import ItemDetail
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static

from tests.tui.conftest import NOW, board_ready, wait_for

APP_NOW = datetime.fromtimestamp(NOW / 1000)


def only_item(home_path: Path, kind: Kind) -> Item:
    with Home.open(home_path) as home:
        board = home.board()
        (summary,) = board.items(kind=kind)
        return board.item(summary.id)


async def open_form(pilot: Pilot[None], tab: str) -> NewItemDialog:
    app = pilot.app
    await wait_for(pilot, lambda: board_ready(app))
    await pilot.press(tab, "n")
    await wait_for(pilot, lambda: isinstance(app.screen, NewItemDialog) and app.screen.ready)
    assert isinstance(app.screen, NewItemDialog)
    return app.screen


def said(form: FormDialog) -> str:
    return str(form.query_one("#error", Static).render())


def fill(form: FormDialog, **values: str) -> None:
    for name, value in values.items():
        form.query_one(f"#{name}", Input).value = value


def in_view(form: FormDialog, selector: str) -> bool:
    """The widget is drawn whole inside the part of the form the terminal shows."""
    box = form.query_one(".dialog")
    widget = form.query_one(selector)
    return (
        widget.region.height > 0
        and form.region.contains_region(box.region)
        and box.content_region.contains_region(widget.region)
    )


class TestEveryFormFits:
    async def test_message_and_button_in_view_at_80x24(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        long_refusal = "whenever someone has time"  # refused with examples: several lines
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            for tab, kind, fields in (
                ("4", Kind.EVENT, {"title": "Soup night"}),
                ("3", Kind.PROJECT, {"title": "Roof", "shifts": long_refusal}),
                ("5", Kind.PROPOSAL, {"title": "Paint", "decide_by": "someday"}),
                ("1", Kind.NEED, {}),
            ):
                form = await open_form(pilot, tab)
                assert form.kind is kind
                fill(form, **fields)
                form.query_one("#body").focus()  # ctrl+s works from the text too
                await pilot.press("ctrl+s")
                await wait_for(pilot, lambda form=form: said(form).strip())
                await pilot.pause()
                box = form.query_one(".dialog")
                assert box.max_scroll_y == 0, (kind, "the form scrolls")
                assert in_view(form, "#error"), (kind, said(form))
                assert in_view(form, "#ok"), kind
                assert "ctrl+s" in str(form.query_one(".hint", Static).render())
                await pilot.press("escape")

    async def test_a_shift_not_understood_is_refused_with_examples(
        self, home_path: Path, make_app
    ) -> None:  # type: ignore[no-untyped-def]
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            form = await open_form(pilot, "3")
            fill(form, title="Kitchen", shifts="whenever someone has time")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "every tue 18:00-21:00" in said(form))
            assert "whenever someone has time" in said(form)
            assert app.screen is form
            fill(form, shifts="every tue 18:00-21:00; every sat 10:00-13:00", places="3")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: board_ready(app))
        project = only_item(home_path, Kind.PROJECT)
        assert [(s.when, s.slots) for s in project.shifts] == [
            ("every Tue 18:00-21:00", 3),
            ("every Sat 10:00-13:00", 3),
        ]


class TestDatesAsPeopleSayThem:
    async def test_event_on_fri_1900(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            form = await open_form(pilot, "4")
            example = form.query_one("#start", Input).placeholder
            # The app's clock says Wednesday 18 November 2026: the example is that Friday.
            assert "fri 19:00" in example and "Fri 20 Nov" in example
            fill(form, title="Soup night", start="fri 19:00", end="22:00", place="the yard")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: board_ready(app))
        event = only_item(home_path, Kind.EVENT)
        assert event.start == when_ms("fri 19:00", "x", APP_NOW)
        assert datetime.fromtimestamp(event.start / 1000) == datetime(2026, 11, 20, 19, 0)
        assert datetime.fromtimestamp((event.end or 0) / 1000) == datetime(2026, 11, 20, 22, 0)

    async def test_a_start_in_the_past_is_asked_about(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            form = await open_form(pilot, "4")
            fill(form, title="Soup night", start="2026-11-01 19:00")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            question = str(app.screen.query_one("#question", Static).render())
            assert "That is in the past" in question and "post anyway?" in question
            assert str(app.screen.query_one("#yes", Button).label) == "Post anyway"
            await pilot.press("n")  # change it: back to the form, every word kept
            await wait_for(pilot, lambda: app.screen is form)
            assert form.query_one("#start", Input).value == "2026-11-01 19:00"
            assert "in the past" in said(form)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: board_ready(app))
        event = only_item(home_path, Kind.EVENT)
        assert datetime.fromtimestamp((event.start or 0) / 1000) == datetime(2026, 11, 1, 19, 0)

    async def test_proposal_decision_date(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            form = await open_form(pilot, "5")
            assert "2 dec" in form.query_one("#decide_by", Input).placeholder
            fill(form, title="Paint the hall green", decide_by="2026-11-12")  # gone
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is form)
            fill(form, decide_by="12 dec")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: board_ready(app))
        proposal = only_item(home_path, Kind.PROPOSAL)
        assert proposal.decide_by == deadline_ms("12 dec", "x", now=APP_NOW)
        assert datetime.fromtimestamp((proposal.decide_by or 0) / 1000).date().isoformat() == (
            "2026-12-12"
        )


class TestTheOtherFormsFit:
    async def test_edit_respond_and_project_forms_at_80x24(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            board = home.board()
            board.post(
                Kind.PROJECT,
                "Tuesday kitchen",
                tasks=["buy onions", "fix the door", "wash the big pots"],
                shifts=[("every tue 18:00-21:00", 3), ("every sat 10:00-13:00", 2)],
            )
            board.post(Kind.PROPOSAL, "Paint the hall green")
            board.post(
                Kind.EVENT,
                "Soup night",
                start=when_ms("fri 19:00", "x", APP_NOW),
                place="the yard",
            )
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            # key that opens it, what to type, what the refusal says
            for tab, key, typed, refusal in (
                ("4", "e", {"end": "2026-11-20 18:00"}, "cannot end before it starts"),
                ("5", "space", {}, "a block needs a reason"),
                ("3", "space", {"date": "someday"}, "the date"),
                ("3", "s", {"words": "when the moon is full"}, "every tue 18:00-21:00"),
            ):
                await pilot.press(tab)
                await wait_for(pilot, lambda: app.screen.query_one(ItemDetail).item is not None)
                await pilot.press(key)
                await wait_for(
                    pilot, lambda: isinstance(app.screen, FormDialog) and app.screen.ready
                )
                form = app.screen
                assert isinstance(form, FormDialog)
                if tab == "5":
                    form.query_one("#choice", Select).value = "say:block"
                if key == "s":
                    form.query_one("#change", Select).value = "add-shift:0"
                    await pilot.pause()
                fill(form, **typed)
                await pilot.press("ctrl+s")
                await wait_for(pilot, lambda form=form, r=refusal: r in said(form))
                await pilot.pause()
                assert form.query_one(".dialog").max_scroll_y == 0, (key, "the form scrolls")
                assert in_view(form, "#error"), (key, said(form))
                assert in_view(form, "#ok"), key
                await pilot.press("escape")
                await wait_for(pilot, lambda: board_ready(app))


class TestEditingDates:
    async def test_edit_asks_about_a_past_start_and_changes_a_decision_date(
        self, home_path: Path, make_app
    ) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            board = home.board()
            soup = board.post(Kind.EVENT, "Soup night", start=when_ms("fri 19:00", "x", APP_NOW))
            paint = board.post(Kind.PROPOSAL, "Paint the hall green")
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_ready(app))
            await pilot.press("4")
            await wait_for(pilot, lambda: app.screen.query_one(ItemDetail).item is not None)
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, FormDialog) and app.screen.ready)
            fill(app.screen, start="2026-11-02 19:00")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "save anyway?" in str(app.screen.query_one("#question", Static).render())
            await pilot.press("y")
            await wait_for(pilot, lambda: board_ready(app))
            await pilot.press("5")
            await wait_for(pilot, lambda: app.screen.query_one(ItemDetail).item is not None)
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, FormDialog) and app.screen.ready)
            fill(app.screen, decide_by="20 dec")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: board_ready(app))
            await wait_for(pilot, lambda: "decides" in app.screen.query_one(ItemDetail).shown.plain)
        with Home.open(home_path) as home:
            board = home.board()
            start = board.item(soup).start or 0
            decide_by = board.item(paint).decide_by or 0
        assert datetime.fromtimestamp(start / 1000) == datetime(2026, 11, 2, 19, 0)
        assert datetime.fromtimestamp(decide_by / 1000).date().isoformat() == "2026-12-20"
