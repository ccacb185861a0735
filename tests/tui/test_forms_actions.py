"""Taking back and changing, in the app (Pilot on a real home): a shift signed up for one date,
for every date, not on one date, given back; a task taken with a note, given back, taken
again by the same person; a response taken back; a project's tasks and shifts changed after
posting; a confirmation before marking someone else's item met or closing their proposal."""

from __future__ import annotations

from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Item, Kind, Status
from potluck.tui.cli.structures import day
from potluck.tui.dialogs.confirm import ConfirmDialog
from potluck.tui.dialogs.project import ProjectDialog
from potluck.tui.dialogs.respond import RespondDialog
from potluck.tui.screens.board import BoardScreen
from potluck.tui.widgets.detail import ItemDetail
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.test_merge import copy_documents
from tests.tui.conftest import board_ready, wait_for


def detail(pilot: Pilot[None]) -> str:
    screen = pilot.app.screen
    return screen.query_one(ItemDetail).shown.plain if isinstance(screen, BoardScreen) else ""


def told(pilot: Pilot[None]) -> list[str]:
    return [n.message for n in pilot.app._notifications]


def on_disk(home_path: Path, item_id: str) -> Item:
    with Home.open(home_path) as home:
        return home.board().item(item_id)


def line_of(text: str, start: str) -> str:
    """The line of the detail pane that starts (after its indent) with `start`."""
    found = [line.strip() for line in text.splitlines() if line.strip().startswith(start)]
    assert found, f"no line starts with {start!r} in:\n{text}"
    return found[0]


async def shown(pilot: Pilot[None], tab: str, title: str) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: board_ready(app))
    await pilot.press(tab)
    await wait_for(pilot, lambda: detail(pilot).startswith(title))


async def respond(
    pilot: Pilot[None], choice: str, note: str = "", date: str = "", *, then: str = ""
) -> None:
    """Space, choose `choice`, type the note and the date, ctrl+s; wait for `then` in the
    detail pane."""
    app = pilot.app
    await pilot.press("space")
    await wait_for(pilot, lambda: isinstance(app.screen, RespondDialog) and app.screen.ready)
    form = app.screen
    form.query_one("#choice", Select).value = choice
    form.query_one("#note", Input).value = note
    if date:
        form.query_one("#date", Input).value = date
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: board_ready(app))
    await wait_for(pilot, lambda: then in detail(pilot))


class TestShifts:
    async def test_one_date_every_date_skip_and_give_back(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            roof = home.board().post(
                Kind.PROJECT, "Tuesday kitchen", shifts=[("every tue 18:00-21:00", 3)]
            )
        dates = [o.date for o in on_disk(home_path, roof).shifts[0].occurrences]
        first, second = day(dates[0]), day(dates[1])
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot, "3", "Tuesday kitchen")
            # This Tuesday (the next date), with a note.
            await respond(pilot, "shift:1:date", "I bring bread", then="Ana: I bring bread")
            assert line_of(detail(pilot), first).endswith("2 of 3 places open — Ana: I bring bread")
            assert "Ana" not in line_of(detail(pilot), second)
            # Every Tuesday, until I stop.
            await respond(pilot, "shift:1:every", then="every week: Ana")
            assert "Ana (every week)" in line_of(detail(pilot), second)
            # Not on the second Tuesday: the others stay.
            await respond(pilot, "shift:1:off", date=dates[1], then="not this time: Ana")
            assert line_of(detail(pilot), second).endswith(
                "3 of 3 places open · not this time: Ana"
            )
            assert "Ana (every week)" in line_of(detail(pilot), day(dates[2]))
            # Stop every Tuesday: this Tuesday's own sign-up stays, with its note.
            await respond(pilot, "shift:1:stop")
            await wait_for(pilot, lambda: "every week: Ana" not in detail(pilot))
            assert "Ana: I bring bread" in line_of(detail(pilot), first)
            assert "Ana" not in line_of(detail(pilot), day(dates[2]))
            # Give back this Tuesday's place.
            await respond(pilot, "shift:1:off", date=dates[0])
            await wait_for(pilot, lambda: "Ana" not in line_of(detail(pilot), first))
            assert line_of(detail(pilot), first).endswith("3 of 3 places open")
        shift = on_disk(home_path, roof).shifts[0]
        assert not shift.standing
        assert all(not o.people for o in shift.occurrences)


class TestTasks:
    async def test_taken_with_a_note_given_back_taken_again(
        self, home_path: Path, make_app
    ) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            roof = home.board().post(Kind.PROJECT, "Roof", tasks=["buy onions", "fix door"])
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot, "3", "Roof")
            await respond(
                pilot,
                "task:1:take",
                "I have a bike",
                then="buy onions (taken by Ana: I have a bike)",
            )
            assert on_disk(home_path, roof).tasks[0].taken_by
            # Now the choices for it are what its taker can do.
            await pilot.press("space")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, RespondDialog))
            values = [v for _, v in pilot.app.screen.choices]
            assert {"task:1:done", "task:1:give-back", "task:1:note"} <= set(values)
            assert values[0] == "task:2:take"  # what is new first: Enter never gives back
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
            await respond(pilot, "task:1:give-back", then="buy onions (free)")
            await respond(pilot, "task:1:take", "after all", then="taken by Ana: after all")
            # Taking one's own task again is not "taken or full": it says it is yours.
            await respond(pilot, "task:1:note")
            await wait_for(pilot, lambda: any("already" in m for m in told(pilot)))
            assert not any("full" in m for m in told(pilot))
            assert "You have the task 'buy onions' already." in told(pilot)
            await respond(pilot, "task:1:done", then="[done] buy onions")
            await respond(pilot, "task:1:reopen")
            await wait_for(pilot, lambda: "[done]" not in detail(pilot))
        task = on_disk(home_path, roof).tasks[0]
        assert not task.done and task.taken_by


class TestTakingBack:
    async def test_i_can_help_taken_back(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            ladder = home.board().post(Kind.NEED, "A long ladder")
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot, "1", "A long ladder")
            await respond(pilot, "say:help", "mine is in the cellar", then="in the cellar")
            assert on_disk(home_path, ladder).responses
            await respond(pilot, "back:help")
            await wait_for(pilot, lambda: "in the cellar" not in detail(pilot))
            assert "You took back 'I can help'." in told(pilot)
        assert not on_disk(home_path, ladder).responses

    async def test_a_position_taken_back(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            vote = home.board().post(Kind.PROPOSAL, "Paint the hall green")
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot, "5", "Paint the hall green")
            await respond(pilot, "say:concern", "the smell", then="has a concern: the smell")
            await respond(pilot, "back:concern")
            await wait_for(pilot, lambda: "the smell" not in detail(pilot))
        assert not on_disk(home_path, vote).responses


class TestChangingAProject:
    async def test_tasks_and_shifts_after_posting(self, home_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            roof = home.board().post(
                Kind.PROJECT, "Roof", tasks=["tarp"], shifts=[("every sat 10:00-13:00", 2)]
            )
        app = make_app(home_path)

        async def change(choice: str, words: str | None = None, places: str | None = None) -> None:
            await pilot.press("s")
            await wait_for(
                pilot, lambda: isinstance(app.screen, ProjectDialog) and app.screen.ready
            )
            form = app.screen
            form.query_one("#change", Select).value = choice
            await pilot.pause()
            if words is not None:
                form.query_one("#words", Input).value = words
            if places is not None:
                form.query_one("#places", Input).value = places
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: board_ready(app))

        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot, "3", "Roof")
            await change("add-task:0", "ladder")
            await wait_for(pilot, lambda: "2. ladder (free)" in detail(pilot))
            await change("rename-task:1", "big tarp")
            await wait_for(pilot, lambda: "1. big tarp (free)" in detail(pilot))
            await change("remove-task:2")
            await wait_for(pilot, lambda: "ladder" not in detail(pilot))
            await change("add-shift:0", "every wed 18:00-20:00", "3")
            await wait_for(
                pilot, lambda: "2. every Wed 18:00-20:00 · 3 places each" in detail(pilot)
            )
            await change("change-shift:1", places="4")  # the rule as it is, shown in the form
            await wait_for(
                pilot, lambda: "1. every Sat 10:00-13:00 · 4 places each" in detail(pilot)
            )
            assert any("4 places each time (was 2)" in m for m in told(pilot))
            await change("remove-shift:2")
            await wait_for(pilot, lambda: "every Wed" not in detail(pilot))
            # A phrase not understood: refused with examples, the form stays.
            await pilot.press("s")
            await wait_for(
                pilot, lambda: isinstance(app.screen, ProjectDialog) and app.screen.ready
            )
            app.screen.query_one("#change", Select).value = "add-shift:0"
            await pilot.pause()
            app.screen.query_one("#words", Input).value = "when the moon is full"
            await pilot.press("ctrl+s")
            error = app.screen.query_one("#error")
            await wait_for(pilot, lambda: "every tue 18:00-21:00" in str(error.render()))
        project = on_disk(home_path, roof)
        assert [t.title for t in project.tasks] == ["big tarp"]
        assert [(s.when, s.slots) for s in project.shifts] == [("every Sat 10:00-13:00", 4)]


class TestAskedFirst:
    async def test_someone_elses_item_met_and_proposal_closed(
        self, home_path: Path, make_app, tmp_path: Path
    ) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as ana, Home.open(tmp_path / "bo") as bo_home:
            bo_home.set_profile(name="Bo")
            board = ana.board()
            bo, _ = bo_home.join(board.invite())
            copy_documents(board, bo)
            need = bo.post(Kind.NEED, "Soup pots")
            vote = bo.post(Kind.PROPOSAL, "Paint the hall green")
            copy_documents(bo, board)
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot, "1", "Soup pots")
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            question = str(app.screen.query_one("#question").render())
            assert "Mark “Soup pots” met? Bo posted it" in question
            await pilot.press("n")
            await wait_for(pilot, lambda: board_ready(app))
            await pilot.pause(0.2)
            assert on_disk(home_path, need).status is Status.OPEN
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: on_disk(home_path, need).status is Status.MET)
            await shown(pilot, "5", "Paint the hall green")
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "without an outcome? Bo proposed it" in str(
                app.screen.query_one("#question").render()
            )
            await pilot.press("enter")  # the first button: mark it
            await wait_for(pilot, lambda: on_disk(home_path, vote).status is Status.CLOSED)


class TestRemovingWhatPeopleTook:
    async def test_asked_before_removing_a_taken_task_or_a_shift_with_people(
        self, home_path: Path, make_app
    ) -> None:  # type: ignore[no-untyped-def]
        with Home.open(home_path) as home:
            board = home.board()
            roof = board.post(
                Kind.PROJECT, "Roof", tasks=["tarp"], shifts=[("every sat 10:00-13:00", 2)]
            )
            board.task(roof, 1, "take")
            board.signup(roof, 1, every=True)
        app = make_app(home_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await shown(pilot, "3", "Roof")
            for choice, question in (
                ("remove-task:1", "Remove the task “tarp”? Someone has taken it."),
                ("remove-shift:1", "People have signed up for it."),
            ):
                await pilot.press("s")
                await wait_for(
                    pilot, lambda: isinstance(app.screen, ProjectDialog) and app.screen.ready
                )
                form = app.screen
                form.query_one("#change", Select).value = choice
                await pilot.press("ctrl+s")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
                assert question in str(app.screen.query_one("#question").render())
                await pilot.press("n")  # not removed: back to the form
                await wait_for(pilot, lambda form=form: app.screen is form)
                kept = on_disk(home_path, roof)
                assert kept.tasks if "task" in choice else kept.shifts, choice
                await pilot.press("ctrl+s")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
                await pilot.press("y")
                await wait_for(pilot, lambda: board_ready(app))
            await wait_for(pilot, lambda: "tarp" not in detail(pilot))
            await wait_for(pilot, lambda: "every Sat" not in detail(pilot))
        project = on_disk(home_path, roof)
        assert not project.tasks and not project.shifts
