"""The command line of issues 11 and 13, through the installed script: shifts and sign-ups,
tasks, taking back, editing a project, proposals with a date, the agenda, whole-board search,
events by their date, the calendar file and the poster."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import icalendar
import pytest

from tests.conftest import run_json, run_potluck
from tests.test_cli import board_home, second_home_with_the_board

__all__ = ["board_home"]


def fails(home: Path, *args: str) -> str:
    """A mistake: exit status 1 and one line saying what to do, never a traceback."""
    result = run_potluck(home, *args, check=False)
    assert result.returncode == 1, (args, result.stdout)
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000)


def kitchen(home: Path, places: int = 2) -> tuple[str, dict[str, Any]]:
    item = run_json(
        home, "post", "project", "Kitchen", "--shift", "every tue 18:00-21:00",
        "--places", str(places), "--task", "buy onions", "--task", "clean the fridge",
    )["id"]  # fmt: skip
    return item, run_json(home, "show", item)["shifts"][0]


class TestShifts:
    def test_post_a_weekly_shift_and_see_its_dates(self, board_home: Path) -> None:
        item, shift = kitchen(board_home, 3)
        assert shift["when"] == "every Tue 18:00-21:00" and shift["places"] == 3
        assert shift["rule"]["rrule"] == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU"
        dates = [o["date"] for o in shift["occurrences"]]
        assert len(dates) in (4, 5)  # four weeks ahead, today included
        assert all(
            local(o["start"]).strftime("%a %H:%M") == "Tue 18:00" for o in shift["occurrences"]
        )
        assert all(o["id"] == f"{shift['id']}:{o['date']}" for o in shift["occurrences"])
        listed = next(i for i in run_json(board_home, "ls") if i["id"] == item)
        assert listed["shifts"][0]["occurrences"] == shift["occurrences"]

    def test_a_phrase_not_understood_is_refused_with_examples(self, board_home: Path) -> None:
        said = fails(board_home, "post", "project", "Kitchen", "--shift", "tuesday evenings")
        assert "not a shift this understands" in said and "every tue 18:00-21:00" in said

    def test_sign_up_every_week_skip_one_give_one_back(self, board_home: Path) -> None:
        item, shift = kitchen(board_home)
        first, second, third = (o["date"] for o in shift["occurrences"][:3])
        assert "Tue" in run_potluck(board_home, "signup", item).stdout  # the next date
        run_potluck(board_home, "signup", item, "--every", "--note", "I bring bread")
        run_potluck(board_home, "signup", item, "--skip", second)
        shown = run_json(board_home, "show", item)["shifts"][0]
        on = {o["date"]: [p["standing"] for p in o["people"]] for o in shown["occurrences"]}
        assert on[first] == [True] and on[second] == [] and on[third] == [True]
        assert shown["standing"][0]["note"] == "I bring bread"
        text = run_potluck(board_home, "show", item).stdout
        assert "every week: Ana: I bring bread" in text and "not this time: Ana" in text
        run_potluck(board_home, "signup", item, "--withdraw")
        assert run_json(board_home, "show", item)["shifts"][0]["standing"] == []
        run_potluck(board_home, "signup", item, "--date", third)
        gave = run_potluck(board_home, "signup", item, "--date", third, "--withdraw").stdout
        assert "gave back" in gave
        assert "not down" in fails(board_home, "signup", item, "--skip", third)
        assert "no date on" in fails(board_home, "signup", item, "--date", "2099-01-01")
        assert "not a day" in fails(board_home, "signup", item, "--date", "someday")

    def test_a_full_date_says_so(self, board_home: Path, tmp_path: Path) -> None:
        item, shift = kitchen(board_home, 1)
        day = shift["occurrences"][1]["date"]
        run_potluck(board_home, "signup", item, "--date", day)
        bo = second_home_with_the_board(board_home, tmp_path)
        assert "full" in fails(bo, "signup", item, "--date", day)

    def test_the_old_way_still_signs_up_for_the_next_date(self, board_home: Path) -> None:
        item, _ = kitchen(board_home)
        run_potluck(board_home, "respond", item, "--as", "shift")
        shift = run_json(board_home, "show", item)["shifts"][0]
        assert len(shift["signed_up"]) == 1 and shift["occurrences"][0]["people"]


class TestTakingBack:
    def test_tasks(self, board_home: Path) -> None:
        item, _ = kitchen(board_home)
        run_potluck(board_home, "task", item, "1", "--note", "I have a bike")
        assert "already" in run_potluck(board_home, "task", item, "1").stdout
        run_potluck(board_home, "task", item, "2", "done")
        tasks = run_json(board_home, "show", item)["tasks"]
        assert tasks[0]["notes"] and tasks[1]["done"]
        assert (
            "buy onions (taken by Ana: I have a bike)"
            in run_potluck(board_home, "show", item).stdout
        )
        run_potluck(board_home, "task", item, "1", "give-back")
        run_potluck(board_home, "task", item, "2", "reopen")
        tasks = run_json(board_home, "show", item)["tasks"]
        assert tasks[0]["taken_by"] == [] and not tasks[1]["done"]
        assert "no task 3" in fails(board_home, "task", item, "3")

    def test_withdraw_a_response(self, board_home: Path) -> None:
        need = run_json(board_home, "post", "need", "Ladder")["id"]
        run_potluck(board_home, "respond", need, "--note", "on Tuesday")
        assert "on Tuesday" in run_potluck(board_home, "show", need).stdout
        assert "took back" in run_potluck(board_home, "respond", need, "--withdraw").stdout
        assert run_json(board_home, "show", need)["responses"] == []
        assert "no response" in fails(board_home, "respond", need, "--withdraw")

    def test_edit_a_projects_tasks_and_shifts(self, board_home: Path) -> None:
        item, _ = kitchen(board_home)
        run_potluck(board_home, "signup", item, "--every")
        run_potluck(
            board_home, "edit", item, "--add-task", "mop", "--rename-task", "1", "buy leeks",
            "--remove-task", "2",
        )  # fmt: skip
        assert [t["title"] for t in run_json(board_home, "show", item)["tasks"]] == [
            "buy leeks",
            "mop",
        ]
        moved = run_potluck(
            board_home, "edit", item, "--change-shift", "1", "every wed 18:00-21:00"
        ).stdout
        assert "now every Wed 18:00-21:00 (was every Tue 18:00-21:00)" in moved
        assert "Standing commitments carry over" in moved and "No longer on: Tue" in moved
        fewer = run_potluck(board_home, "edit", item, "--places", "1").stdout
        assert "1 place each time (was 2)" in fewer
        run_potluck(
            board_home, "edit", item, "--add-shift", "first sat of the month 10:00-13:00",
            "--places", "4",
        )  # fmt: skip
        shifts = run_json(board_home, "show", item)["shifts"]
        assert [s["places"] for s in shifts] == [1, 4]
        assert "say which with --shift" in fails(board_home, "edit", item, "--places", "3")
        run_potluck(board_home, "edit", item, "--remove-shift", "2")
        assert len(run_json(board_home, "show", item)["shifts"]) == 1


class TestProposals:
    def test_a_decision_date_and_the_state(self, board_home: Path) -> None:
        item = run_json(
            board_home, "post", "proposal", "Paint the hall green", "--decide-by", "fri"
        )["id"]
        run_potluck(board_home, "respond", item, "--as", "block", "--note", "green is awful")
        shown = run_json(board_home, "show", item)
        assert local(shown["decide_by"]).strftime("%a %H:%M") == "Fri 23:59"
        assert shown["proposal"]["state"] == "blocked" and not shown["proposal"]["decided"]
        assert shown["proposal"]["blocks"][0]["note"] == "green is awful"
        text = run_potluck(board_home, "show", item).stdout
        assert "decision: blocked so far" in text and "blocked by Ana: green is awful" in text
        listed = next(i for i in run_json(board_home, "ls") if i["id"] == item)
        assert listed["proposal"]["state"] == "blocked"
        assert "in the past" in fails(
            board_home, "post", "proposal", "Old", "--decide-by", "2020-01-01"
        )
        assert "for proposals" in fails(board_home, "post", "need", "x", "--decide-by", "fri")


class TestWhen:
    def test_events_typed_as_people_say_them(self, board_home: Path) -> None:
        now = datetime.now()
        friday = run_json(board_home, "post", "event", "Soup", "--start", "fri 19:00",
                          "--end", "22:00")["id"]  # fmt: skip
        shown = run_json(board_home, "show", friday)
        start = local(shown["start"])
        assert start.strftime("%a %H:%M") == "Fri 19:00" and now < start < now + timedelta(8)
        assert local(shown["end"]) == start.replace(hour=22)
        seven = run_json(board_home, "show", run_json(
            board_home, "post", "event", "Film", "--start", "19:00")["id"])  # fmt: skip
        assert now < local(seven["start"]) <= now + timedelta(days=1)
        dec = run_json(board_home, "show", run_json(
            board_home, "post", "event", "Fair", "--start", "5 dec 10:00")["id"])  # fmt: skip
        assert local(dec["start"]).strftime("%d %b %H:%M") == "05 Dec 10:00"
        tomorrow = run_json(board_home, "show", run_json(
            board_home, "post", "event", "Walk", "--start", "tomorrow 18:30")["id"])  # fmt: skip
        assert local(tomorrow["start"]).date() == (now + timedelta(days=1)).date()
        assert "in the past" in fails(
            board_home, "post", "event", "Old", "--start", "2020-05-01 19:00"
        )
        run_potluck(board_home, "post", "event", "Old", "--start", "2020-05-01 19:00", "--past")
        assert "two ways" in fails(board_home, "post", "event", "x", "--start", "next fri 19:00")

    def test_events_are_listed_by_when_they_happen(self, board_home: Path) -> None:
        for title, start in (("Later", "5 dec 2099 19:00"), ("Soon", "19:00")):
            run_potluck(board_home, "post", "event", title, "--start", start)
        run_potluck(board_home, "post", "event", "Past", "--start", "2020-05-01 19:00", "--past")
        listed = run_json(board_home, "ls", "--kind", "event")
        assert [i["title"] for i in listed] == ["Soon", "Later", "Past"]
        lines = run_potluck(board_home, "ls", "--kind", "event").stdout.splitlines()
        assert "Sat 05 Dec 19:00 · Later" in lines[1] and "(past) · Past" in lines[2]


def test_search_finds_a_word_only_in_a_reply_of_another_kind(
    board_home: Path, tmp_path: Path
) -> None:
    need = run_json(board_home, "post", "need", "Ladder")["id"]
    run_json(board_home, "post", "offer", "Soup pot")
    run_potluck(board_home, "reply", need, "the caretaker has a stepladder")
    found = run_json(board_home, "ls", "--search", "caretaker")
    assert [(i["id"], i["kind"]) for i in found] == [(need, "need")]
    assert [i["id"] for i in run_json(board_home, "ls", "--search", "stepl")] == [need]
    bo = second_home_with_the_board(board_home, tmp_path)
    run_potluck(bo, "whoami", "--name", "Bożena")
    offer = run_json(bo, "post", "offer", "Bread", "--tag", "bakery")["id"]
    assert [i["id"] for i in run_json(bo, "ls", "--search", "bozena")] == [offer]
    assert [i["id"] for i in run_json(bo, "ls", "--search", "bakery")] == [offer]
    assert "Nothing found" in run_potluck(bo, "ls", "--search", "zebra").stdout


class TestWeekAhead:
    def test_agenda(self, board_home: Path) -> None:
        item, _ = kitchen(board_home, 2)
        run_potluck(board_home, "signup", item, "--every")
        run_potluck(board_home, "post", "event", "Soup", "--start", "tomorrow 19:00")
        run_potluck(board_home, "post", "proposal", "Paint", "--decide-by", "tomorrow")
        run_potluck(board_home, "post", "event", "Far", "--start", "5 dec 2099 19:00")
        agenda = run_json(board_home, "agenda", "--days", "14")
        whats = [e["what"] for e in agenda]
        now = datetime.now()
        tuesdays = [  # the Tuesdays 18:00-21:00 not yet over, from now to the 14th day's end
            day
            for day in (now.date() + timedelta(days=n) for n in range(15))
            if day.weekday() == 1 and datetime.combine(day, time(21)) > now
        ]
        assert whats.count("shift") == len(tuesdays) and "event" in whats and "proposal" in whats
        assert [e["start"] for e in agenda] == sorted(e["start"] for e in agenda)
        assert all(e["title"] != "Far" for e in agenda)
        shift = next(e for e in agenda if e["what"] == "shift")
        assert shift["occurrence"]["open_places"] == 1
        text = run_potluck(board_home, "agenda").stdout
        assert "1 of 2 places open — Ana (every week)" in text and "Soup" in text
        assert "its decision date (open so far)" in text

    def test_calendar_file(self, board_home: Path, tmp_path: Path) -> None:
        _, shift = kitchen(board_home, 2)
        run_potluck(board_home, "post", "event", "Soup", "--start", "tomorrow 19:00",
                    "--end", "22:00", "--place", "the hall")  # fmt: skip
        path = tmp_path / "kitchen.ics"
        said = run_potluck(board_home, "calendar", str(path), "--days", "28").stdout
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        events = calendar.walk("VEVENT")
        assert f"{len(events)} events" in said
        soup = [e for e in events if str(e["SUMMARY"]) == "Soup"]
        assert len(soup) == 1 and str(soup[0]["LOCATION"]) == "the hall"
        rota = [e for e in events if str(e["SUMMARY"]).startswith("Kitchen")]
        assert len(rota) >= 4
        first = shift["occurrences"][0]
        assert any(
            e["DTSTART"].dt.timestamp() * 1000 == first["start"]
            and (e["DTEND"].dt - e["DTSTART"].dt) == timedelta(hours=3)
            and "2 places open" in str(e["SUMMARY"])
            for e in rota
        )
        assert len({str(e["UID"]) for e in events}) == len(events)
        assert path.stat().st_mode & 0o777 == 0o600

    def test_poster(self, board_home: Path, tmp_path: Path) -> None:
        item, shift = kitchen(board_home, 3)
        run_potluck(board_home, "signup", item, "--every")
        run_potluck(board_home, "post", "need", "Onions <b>bold</b>")
        run_potluck(board_home, "post", "offer", "A drill")
        path = tmp_path / "poster.html"
        run_potluck(board_home, "poster", str(path))
        page = path.read_text()
        structure = Structure()
        structure.feed(page)
        structure.close()
        assert structure.errors == [] and structure.open == []
        assert structure.seen["h1"] == 1 and structure.seen["title"] == 1
        text = " ".join(structure.text.split())
        this_week = [
            o for o in shift["occurrences"] if local(o["start"]) < datetime.now() + timedelta(7)
        ]
        assert "2 places open" in text and "Ana (every week)" in text
        assert structure.seen["li"] >= len(this_week) + 2
        assert "Onions <b>bold</b>" in text  # member text escaped, shown as typed
        assert "A drill" in text and "@page" in page
        assert not any(word in text.lower() for word in ("shifts done", "score", "points"))


VOID = {"meta", "br", "link", "img", "hr", "input"}


class Structure(HTMLParser):
    """A strict check of the page's structure: every element closed in order, known places
    for head and body, and the text as a reader sees it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.seen: dict[str, int] = {}
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen[tag] = self.seen.get(tag, 0) + 1
        if tag in ("head", "body") and self.open != ["html"]:
            self.errors.append(f"<{tag}> inside {self.open}")
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "style" not in self.open:
            self.text += data + " "


@pytest.mark.parametrize("command", ["task", "signup", "agenda", "calendar", "poster"])
def test_help(board_home: Path, command: str) -> None:
    assert run_potluck(board_home, command, "--help").stdout.startswith("usage: potluck")
