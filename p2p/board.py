"""One board as seen from a home: the typed API every screen and command acts through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from . import clock
from .errors import InvalidInput
from .invite import Invite, encode_invite
from .model import item_document as items
from .model import rota, text
from .model import tasks as task_list
from .model.assembly import Outcome, outcome
from .model.automerge import ROOT, Document, Writer
from .model.board_document import BOARD_DOC_ID, set_member
from .model.item_document import new_id
from .model.phrases import describe, parse_shift
from .model.rules import Rule
from .model.types import (
    ALLOWED_RESPONSES,
    POSITIONS,
    AgendaEntry,
    BoardInfo,
    Item,
    ItemSummary,
    Kind,
    Member,
    Occurrence,
    ResponseKind,
    Shift,
    Status,
)

if TYPE_CHECKING:
    from .home import Home

T = TypeVar("T")
MAX_TITLE = 200
"""Characters of a title, a place, a task or a shift label (what every peer shows of them)."""
MAX_TAG = 40
MAX_NOTE = 2000
"""Characters of a response's note: one line, e.g. what you bring or your reason."""
TASK_ACTIONS = ("take", "done", "give-back", "reopen")


@dataclass
class Board:
    """One board as seen from this home: every action commits before it returns."""

    home: Home
    info: BoardInfo

    @property
    def board_id(self) -> str:
        return self.info.board_id

    @property
    def key(self) -> bytes:
        return self.info.key

    @property
    def name(self) -> str:
        return self.home.store.boards.info(self.board_id).name

    @property
    def me(self) -> str:
        return self.home.device_id

    def invite(self, hints: list[tuple[str, int]] | None = None) -> str:
        return encode_invite(Invite(self.key, self.name, tuple(hints or ())))

    def introduce(self) -> None:
        """Write this device's display name and about line into the board document.

        Only once this home holds the board document: its first change is the board's maker's
        (a second first change would be refused by every peer), so a device that joined waits
        for it to arrive; the node introduces it then."""
        name = self.home.display_name()
        if not name:
            return
        about = self.home.about()
        current = self.members().get(self.me)
        if current is not None and current.name == name and current.about == about:
            return
        documents = self.home.store.documents
        if documents.digest(self.board_id, BOARD_DOC_ID) is None:
            return
        documents.update(
            self.board_id,
            BOARD_DOC_ID,
            lambda doc: set_member(doc, self.me, name, about, clock.now_ms()),
        )

    def members(self) -> dict[str, Member]:
        return self.home.store.index.members(self.board_id)

    def member_name(self, device_id: str) -> str:
        member = self.members().get(device_id)
        return member.name if member and member.name else f"device {device_id[:6]}"

    # ------------------------------------------------------------ reading

    def items(
        self,
        *,
        kind: Kind | None = None,
        status: Status | None = None,
        tag: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ItemSummary]:
        return self.home.store.index.list_items(
            self.board_id,
            kind=kind,
            status=status,
            tag=tag,
            search=search,
            limit=limit,
            offset=offset,
        )

    def resolve(self, id_or_prefix: str) -> str:
        return self.home.store.index.resolve_item(self.board_id, id_or_prefix)

    def item(self, id_or_prefix: str) -> Item:
        return self.home.store.documents.read_item(self.board_id, self.resolve(id_or_prefix))

    # ------------------------------------------------------------ writing

    def post(
        self,
        kind: Kind,
        title: str,
        *,
        body: str = "",
        tags: list[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        place: str = "",
        tasks: list[str] | None = None,
        shifts: Sequence[tuple[str, int]] | None = None,
        decide_by: int | None = None,
    ) -> str:
        """Post an item. A project's `shifts` are (when, places) as people say it ('every
        tue 18:00-21:00', see SHIFT_EXAMPLES); a proposal may have a decision date."""
        title = _check_title(title)
        clean_tags = _check_tags(tags or [])
        body = text.lines(body, "the text")
        place = text.one_line(place, "a place", MAX_TITLE)
        clean_tasks = [text.one_line(t, "a task", MAX_TITLE) for t in tasks or []]
        if start is not None and end is not None and end < start:
            raise InvalidInput("an event cannot end before it starts")
        if decide_by is not None and kind is not Kind.PROPOSAL:
            raise InvalidInput("only a proposal has a decision date")
        shift_fields = [self._shift_fields(when, places) for when, places in shifts or []]
        item_id = new_id()
        self.introduce()
        self.home.store.documents.update(
            self.board_id,
            item_id,
            lambda doc: items.init_item(
                doc,
                kind=kind,
                title=title,
                body=body,
                tags=clean_tags,
                now=clock.now_ms(),
                start=start,
                end=end,
                place=place,
                tasks=[t for t in clean_tasks if t],
                shifts=shift_fields,
                decide_by=decide_by,
            ),
            create=True,
        )
        return item_id

    def _shift_fields(self, when: str, places: int, label: str = "") -> rota.ShiftFields:
        when = text.one_line(when, "a shift", MAX_TITLE)
        return rota.ShiftFields(
            new_id()[:8], label, parse_shift(when, clock.local_now()), _check_places(places)
        )

    def _update(self, item_id: str, mutate: Callable[[Document], T]) -> T:
        return self.home.store.documents.update(self.board_id, item_id, mutate)

    def edit(
        self,
        id_or_prefix: str,
        *,
        title: str | None = None,
        body: str | None = None,
        add_tags: list[str] | None = None,
        remove_tags: list[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        place: str | None = None,
        clear_end: bool = False,
        body_from: tuple[bytes, ...] = (),
        decide_by: int | None = None,
    ) -> str:
        """Edit an item's own text (and an event's time and place): its author does that, and
        everyone for a note (a shared text written together); everyone can reply and respond.
        `clear_end` removes an event's end time. `body_from` is `Item.heads` of the item the
        new body was written from: what others added since is kept."""
        item = self.item(id_or_prefix)
        if item.author != self.me and item.kind is not Kind.NOTE:
            raise InvalidInput(
                f"only {self.member_name(item.author)} can edit this item's text; "
                "you can reply to it instead"
            )
        new_title = _check_title(title, already=item.title) if title is not None else None
        if body is not None:
            body = text.lines(body, "the text", already=item.body)
        if place is not None:
            place = text.one_line(place, "a place", MAX_TITLE, already=item.place)
        if item.kind is not Kind.EVENT and (
            start is not None or end is not None or place is not None or clear_end
        ):
            raise InvalidInput("only events have a start, an end and a place")
        if decide_by is not None and item.kind is not Kind.PROPOSAL:
            raise InvalidInput("only a proposal has a decision date")
        final_start = item.start if start is None else start
        final_end = None if clear_end else (item.end if end is None else end)
        if final_start is not None and final_end is not None and final_end < final_start:
            raise InvalidInput("an event cannot end before it starts")
        self._update(
            item.id,
            lambda doc: items.edit_item(
                doc,
                now=clock.now_ms(),
                title=new_title,
                body=body,
                add_tags=_check_tags(add_tags or []),
                remove_tags=remove_tags or [],
                start=start,
                end=None if clear_end else end,
                place=place,
                clear_end=clear_end,
                body_from=list(body_from),
                decide_by=decide_by,
            ),
        )
        return item.id

    def reply(self, id_or_prefix: str, words: str) -> str:
        words = text.lines(words, "a reply").strip()
        if not words:
            raise InvalidInput("a reply cannot be empty")
        item_id = self.resolve(id_or_prefix)
        self.introduce()
        return self._update(
            item_id,
            lambda doc: items.add_reply(doc, text=words, now=clock.now_ms()),
        )

    def respond(
        self,
        id_or_prefix: str,
        kind: ResponseKind | None = None,
        note: str = "",
        which: int | None = None,
    ) -> str:
        """Respond as this member; returns a sentence saying what was recorded."""
        item = self.item(id_or_prefix)
        allowed = ALLOWED_RESPONSES[item.kind]
        if not allowed:
            raise InvalidInput(f"a {item.kind.value} takes replies, not responses")
        kind = kind or allowed[0]
        if kind not in allowed:
            choices = ", ".join(k.value for k in allowed)
            raise InvalidInput(f"a {item.kind.value} takes these responses: {choices}")
        note = _note(note)
        if kind is ResponseKind.BLOCK and not note:
            raise InvalidInput("a block needs a reason: say why in the note")
        if kind is ResponseKind.TASK:
            return self.task(item.id, which, "take", note)
        if kind is ResponseKind.SHIFT:
            return self.signup(item.id, which, note=note)
        self.introduce()
        now = clock.now_ms()

        def record(doc: Document) -> None:
            if kind in POSITIONS:
                for other in allowed:
                    if other is not kind:
                        items.withdraw_response(doc, member=self.me, kind=other.value, now=now)
            items.set_response(doc, member=self.me, kind=kind.value, note=_note(note), now=now)

        self._update(item.id, record)
        return f"{RECORDED[kind]}" + (f" ({note.strip()})" if note.strip() else "")

    def withdraw(self, id_or_prefix: str, kind: ResponseKind | None = None) -> str:
        """Take back what this member said: one kind, or every response of theirs that is not
        a task or a shift (those are given back with `task` and `signup`)."""
        item = self.item(id_or_prefix)
        mine = {r.kind for r in item.responses if r.member == self.me}
        if kind in (ResponseKind.TASK, ResponseKind.SHIFT):
            raise InvalidInput(
                "give a task back with 'task ID N give-back', a shift with 'signup ID --withdraw'"
            )
        kinds = (
            [kind.value] if kind is not None else [k.value for k in ResponseKind if k.value in mine]
        )
        kinds = [k for k in kinds if k in mine]
        if not kinds:
            raise InvalidInput(
                "you have not said that here" if kind else "you have no response here to take back"
            )
        self._update(item.id, lambda doc: rota.say(doc, self.me, clock.now_ms(), remove=kinds))
        return "you took back " + " and ".join(f"'{TAKEN_BACK[ResponseKind(k)]}'" for k in kinds)

    def set_status(self, id_or_prefix: str, status: Status) -> str:
        """Anyone marks an item open, met or closed (the history says who); only its author
        withdraws it, or brings it back."""
        item = self.item(id_or_prefix)
        item_id = item.id
        if item.author != self.me and Status.WITHDRAWN in (status, item.status):
            raise InvalidInput(
                f"only {self.member_name(item.author)} can withdraw this item or bring it back"
            )
        self.introduce()
        self._update(
            item_id,
            lambda doc: items.set_status(doc, status=status, now=clock.now_ms()),
        )
        return item_id

    # ------------------------------------------------------------ tasks

    def task(
        self, id_or_prefix: str, number: int | None, action: str = "take", note: str = ""
    ) -> str:
        """Take a task, say it is done, give it back, or reopen it (`action`, one of
        TASK_ACTIONS); `number` as 'show' lists it (None: the first free one, to take)."""
        item = self._project(id_or_prefix)
        if action not in TASK_ACTIONS:
            raise InvalidInput(
                f"'{action}' is not something to do with a task: {', '.join(TASK_ACTIONS)}"
            )
        if not item.tasks:
            raise InvalidInput("this project has no tasks yet")
        if number is None:
            if action != "take":
                raise InvalidInput("say which task: its number, as 'show' lists it")
            free = [n for n, t in enumerate(item.tasks, 1) if not t.taken_by and not t.done]
            if not free:
                raise InvalidInput("every task of this project is taken or done: 'show' lists them")
            number = free[0]
        task = _numbered(item.tasks, number, "task")
        take, done = task_list.task_key(task.id), task_list.done_key(task.id)
        mine = {r.kind: r for r in item.responses if r.member == self.me}
        others = [self.member_name(m) for m in task.taken_by if m != self.me]
        said = _note(note)
        put: list[tuple[str, str]] = []
        remove: list[str] = []
        if action == "take":
            if task.done:
                raise InvalidInput(f"'{task.title}' is done already")
            if take in mine and (not said or mine[take].note == said):
                return f"you have the task '{task.title}' already"
            put.append((take, said))
            sentence = f"you took the task '{task.title}'" + (
                f", with {_and(others)}" if others else ""
            )
        elif action == "give-back":
            if take not in mine:
                raise InvalidInput(f"you have not taken '{task.title}'")
            remove += [take, done]
            sentence = f"you gave back the task '{task.title}'"
        elif action == "done":
            if take not in mine:
                put.append((take, ""))
            put.append((done, said))
            sentence = f"'{task.title}' is marked done"
        else:  # reopen
            if not task.done:
                return f"'{task.title}' is not done"
            remove.append(done)
            if item.author == self.me:
                self._update(
                    item.id, lambda d: task_list.set_task_done(d, task.id, False, clock.now_ms())
                )
            sentence = f"'{task.title}' is open again"
        self.introduce()
        self._update(item.id, lambda d: rota.say(d, self.me, clock.now_ms(), put, remove))
        if action == "reopen" and self.item(item.id).tasks[number - 1].done:
            markers = [r.member for r in item.responses if r.kind == done and r.member != self.me]
            who = (
                _and([self.member_name(m) for m in markers])
                if markers
                else (self.member_name(item.author))
            )
            return f"{who} marked '{task.title}' done: only they can take that back"
        return sentence

    def add_task(self, id_or_prefix: str, title: str) -> str:
        item = self._own_project(id_or_prefix)
        clean = _check_title(title)
        self._update(
            item.id, lambda d: _in_change(d, lambda w: task_list.add_task(w, new_id()[:8], clean))
        )
        return f"task {len(item.tasks) + 1} '{clean}' added"

    def rename_task(self, id_or_prefix: str, number: int, title: str) -> str:
        item = self._own_project(id_or_prefix)
        task = _numbered(item.tasks, number, "task")
        clean = _check_title(title)
        self._update(item.id, lambda d: task_list.rename_task(d, task.id, clean, clock.now_ms()))
        return f"task {number} is now '{clean}'"

    def remove_task(self, id_or_prefix: str, number: int) -> str:
        item = self._own_project(id_or_prefix)
        task = _numbered(item.tasks, number, "task")
        self._update(item.id, lambda d: task_list.remove_task(d, task.id, clock.now_ms()))
        return f"task '{task.title}' removed"

    # ------------------------------------------------------------ shifts

    def add_shift(self, id_or_prefix: str, when: str, places: int, label: str = "") -> str:
        """Add a shift to a project you posted ('every tue 18:00-21:00', see SHIFT_EXAMPLES)."""
        item = self._own_project(id_or_prefix)
        fields = self._shift_fields(when, places, _check_label(label))
        self._update(item.id, lambda d: _in_change(d, lambda w: rota.add_shift(w, fields)))
        return f"shift {len(item.shifts) + 1} added: {_describe(fields)}, {_places(places)}"

    def change_shift(
        self,
        id_or_prefix: str,
        number: int,
        *,
        when: str | None = None,
        places: int | None = None,
        label: str | None = None,
    ) -> rota.RotaChange:
        """Change a shift's rule, places or label (its author does). Sign-ups are kept under
        the people who made them: those whose date the shift still has stay on it, standing
        commitments carry over to the new dates, and what moved is returned to be said."""
        item = self._own_project(id_or_prefix)
        shift = _numbered(item.shifts, number, "shift")
        before = rota.shift_fields(shift)
        after = before
        if when is not None:
            rule = parse_shift(text.one_line(when, "a shift", MAX_TITLE), clock.local_now())
            after = replace(after, rule=_keep_phase(before.rule, rule, when))
        if places is not None:
            after = replace(after, places=_check_places(places))
        if label is not None:
            after = replace(after, label=_check_label(label))
        change = rota.rule_change(before, after, item.responses, clock.local_now())
        if after != before:
            self._update(item.id, lambda d: rota.change_shift(d, after, clock.now_ms()))
        return change

    def remove_shift(self, id_or_prefix: str, number: int) -> str:
        item = self._own_project(id_or_prefix)
        shift = _numbered(item.shifts, number, "shift")
        self._update(item.id, lambda d: rota.remove_shift(d, shift.id, clock.now_ms()))
        return f"shift '{shift.when}' removed"

    def signup(
        self,
        id_or_prefix: str,
        shift: int | None = None,
        *,
        day: date | None = None,
        every: bool = False,
        skip: date | None = None,
        withdraw: bool = False,
        note: str = "",
    ) -> str:
        """Sign up for a shift: for one date (`day`, default the next one), for every date
        (`every`, a standing commitment until withdrawn), not for one date (`skip`), or give
        a place back (`withdraw`, with `day` for one date). Returns what was done, in words."""
        if sum((day is not None, every, skip is not None)) > 1:
            raise InvalidInput("give one of a date, every date, or a date to skip")
        if withdraw and skip is not None:
            raise InvalidInput("to give back one date, give that date to withdraw")
        item = self._project(id_or_prefix)
        chosen = self._choose_shift(item, shift, day or skip)
        fields = rota.shift_fields(chosen)
        recurrence = fields.rule.recurrence()
        if recurrence is None:
            raise InvalidInput(
                "this shift's rule cannot be read here (written by a newer Potluck, or damaged): "
                "it has no dates"
            )
        now = clock.local_now()
        mine = {r.kind: r for r in item.responses if r.member == self.me}
        every_key = rota.shift_key(chosen.id, rota.EVERY)
        standing = every_key in mine
        put: list[tuple[str, str]] = []
        remove: list[str] = []
        said = _note(note)
        if withdraw and day is None and not every and not standing:
            dated = sorted(
                k
                for k in mine
                if k.startswith(rota.shift_key(chosen.id, ""))
                and k != every_key
                and k.rsplit(":", 1)[1] >= now.date().isoformat()
            )
            if not dated:
                raise InvalidInput(f"you are not signed up for {chosen.when}")
            if len(dated) > 1:
                raise InvalidInput("you are down for several dates: say which with a date")
            day = date.fromisoformat(dated[0].rsplit(":", 1)[1])
        if withdraw and day is None:
            if not standing:
                raise InvalidInput(f"you are not down for every date of {chosen.when}")
            remove.append(every_key)
            remove += [k for k in mine if k.startswith(rota.skip_key(chosen.id, ""))]
            sentence = f"you are no longer down for every date of {chosen.when}"
        elif every:
            if standing and (not said or mine[every_key].note == said):
                return f"you are already down for {chosen.when}"
            put.append((every_key, said))
            full = [o for o in chosen.occurrences if o.full and self.me not in _on(o)]
            sentence = f"you are down for {chosen.when}, every date until you withdraw"
            if full:
                sentence += (
                    f"; {_and([_day(o.date) for o in full])} "
                    f"{'is' if len(full) == 1 else 'are'} full already: you are one more there"
                )
        else:
            target = self._occurrence(item, fields, chosen, day or skip, now)
            key = rota.shift_key(chosen.id, target.date)
            skipping = rota.skip_key(chosen.id, target.date)
            on = self.me in _on(target)
            name = _day(target.date)
            if withdraw or skip is not None:
                if not on:
                    raise InvalidInput(f"you are not down for {name}")
                if key in mine:
                    remove.append(key)
                if standing:
                    put.append((skipping, said))
                sentence = (
                    f"you are off {name}; your standing commitment goes on after it"
                    if standing
                    else f"you gave back your place on {name}"
                )
            else:
                if on and (not said or (key in mine and mine[key].note == said)):
                    return f"you are on {name} already"
                if not on and target.full:
                    raise InvalidInput(
                        f"{name} is full: {_places(target.places)}, all taken"
                        + self._next_open(chosen, target)
                    )
                if skipping in mine:
                    remove.append(skipping)
                if not standing or said:
                    put.append((key, said))
                sentence = f"you signed up for {name} {_hours(target)}"
        self.introduce()
        self._update(item.id, lambda d: rota.say(d, self.me, clock.now_ms(), put, remove))
        return sentence

    def _choose_shift(self, item: Item, number: int | None, day: date | None) -> Shift:
        if not item.shifts:
            raise InvalidInput("this project has no shifts yet")
        if number is not None:
            return _numbered(item.shifts, number, "shift")
        if len(item.shifts) == 1:
            return item.shifts[0]
        if day is not None:
            having = [s for s in item.shifts if _has_date(s, day)]
            if len(having) == 1:
                return having[0]
        raise InvalidInput(
            f"this project has {len(item.shifts)} shifts: say which, 1 to {len(item.shifts)}"
        )

    def _occurrence(
        self, item: Item, fields: rota.ShiftFields, shift: Shift, day: date | None, now: datetime
    ) -> Occurrence:
        """The occurrence on `day`, or the next one that has not ended; InvalidInput if none."""
        if day is None:
            now_ms = rota.to_ms(now)
            upcoming = [o for o in shift.occurrences if (o.end or o.start) >= now_ms]
            if not upcoming:
                raise InvalidInput(f"{shift.when} has no date in the coming weeks")
            return upcoming[0]
        if day < now.date():
            raise InvalidInput(f"{_day(day.isoformat())} is past")
        found = rota.occurrences(fields, item.responses, day, day)
        if not found:
            coming = [_day(o.date) for o in shift.occurrences[:4]]
            raise InvalidInput(
                f"{shift.when} has no date on {_day(day.isoformat())}"
                + (f"; its next dates: {', '.join(coming)}" if coming else "")
            )
        return found[0]

    def _next_open(self, shift: Shift, after: Occurrence) -> str:
        later = [o for o in shift.occurrences if o.date > after.date and not o.full]
        return f"; the next with a place open is {_day(later[0].date)}" if later else ""

    def _project(self, id_or_prefix: str) -> Item:
        item = self.item(id_or_prefix)
        if item.kind is not Kind.PROJECT:
            raise InvalidInput(f"a {item.kind.value} has no tasks or shifts: only a project does")
        return item

    def _own_project(self, id_or_prefix: str) -> Item:
        item = self._project(id_or_prefix)
        if item.author != self.me:
            raise InvalidInput(
                f"only {self.member_name(item.author)} can change this project's tasks and "
                "shifts; you can reply to it instead"
            )
        return item

    # ------------------------------------------------------------ proposals

    def outcome(self, item: Item) -> Outcome:
        """Where a proposal stands. Once decided, what this device shows is remembered here:
        if a position that arrives late changes it, the outcome says so (`Outcome.notice`)."""
        now = clock.now_ms()
        found = outcome(item, now)
        if not found.decided:
            return found
        shown = self.home.store.outcomes.show(self.board_id, item.id, found.state.value, now)
        if shown.earlier:
            return replace(found, shown_before=shown.earlier, changed=shown.changed)
        return found

    def agreements(self) -> list[ItemSummary]:
        """The house's agreements: proposals agreed (their date passed with no block that
        counts, or marked agreed), latest first; `decide_by` is the date of each."""
        return self.home.store.index.agreements(self.board_id, clock.now_ms())

    # ------------------------------------------------------------ the days ahead

    def agenda(self, days: int = 14) -> list[AgendaEntry]:
        """Events, shift occurrences and proposals reaching their date from now to `days`
        ahead, by date (what is going on now included)."""
        if not 1 <= days <= 366:
            raise InvalidInput("look ahead 1 to 366 days")
        now = clock.local_now()
        first = rota.to_ms(now)
        last_day = now.date() + timedelta(days=days)
        last = rota.to_ms(datetime.combine(last_day, datetime.max.time()))
        index = self.home.store.index
        entries: list[AgendaEntry] = []
        for s in index.between(self.board_id, Kind.EVENT, first, last, "starts"):
            if s.status in (Status.OPEN, Status.MET) and s.start is not None:
                item = self.item(s.id)
                entries.append(
                    AgendaEntry("event", s.start, s.end, s.id, s.title, place=item.place)
                )
        for s in index.between(self.board_id, Kind.PROPOSAL, first, last, "decide_by"):
            if s.status is Status.OPEN and s.decide_by is not None:
                state = outcome(self.item(s.id), first).state.value
                entries.append(
                    AgendaEntry("proposal", s.decide_by, None, s.id, s.title, state=state)
                )
        for s in index.list_items(self.board_id, kind=Kind.PROJECT, status=Status.OPEN):
            item = self.item(s.id)
            for shift in item.shifts:
                fields = rota.shift_fields(shift)
                for o in rota.occurrences(fields, item.responses, now.date(), last_day):
                    if (o.end or o.start) >= first:
                        entries.append(
                            AgendaEntry(
                                "shift",
                                o.start,
                                o.end,
                                item.id,
                                shift.label or item.title,
                                occurrence=o,
                                shift_when=shift.when,
                            )
                        )
        entries.sort(key=lambda e: (e.start, e.what, e.title, e.item_id))
        return entries


RECORDED = {
    ResponseKind.HELP: "you said you can help",
    ResponseKind.INTERESTED: "you said you would like this",
    ResponseKind.GOING: "you said you are coming",
    ResponseKind.BRING: "you said you will bring something",
    ResponseKind.AGREE: "you agree",
    ResponseKind.CONCERN: "you have a concern",
    ResponseKind.STAND_ASIDE: "you stand aside",
    ResponseKind.BLOCK: "you block",
    ResponseKind.TASK: "you took a task",
    ResponseKind.SHIFT: "you signed up for a shift",
}
"""What a response says, in words (never the internal code)."""
TAKEN_BACK = {
    ResponseKind.HELP: "I can help",
    ResponseKind.INTERESTED: "I'd like this",
    ResponseKind.GOING: "coming",
    ResponseKind.BRING: "I'll bring",
    ResponseKind.AGREE: "agree",
    ResponseKind.CONCERN: "concern",
    ResponseKind.STAND_ASIDE: "stand aside",
    ResponseKind.BLOCK: "block",
    ResponseKind.TASK: "task",
    ResponseKind.SHIFT: "shift",
}


def _numbered(options: Sequence[T], number: int, what: str) -> T:
    """The task or shift numbered `number` (from 1, as 'show' lists them)."""
    if not options:
        raise InvalidInput(f"this project has no {what}s yet")
    if not 1 <= number <= len(options):
        raise InvalidInput(f"there is no {what} {number}; choose 1 to {len(options)}")
    return options[number - 1]


def _on(o: Occurrence) -> set[str]:
    return {p.member for p in o.people}


def _has_date(shift: Shift, day: date) -> bool:
    recurrence = rota.shift_rule(shift).recurrence()
    return recurrence is not None and recurrence.has_date(day)


def _keep_phase(before: Rule, after: Rule, said: str) -> Rule:
    """A rule changed only in its time of day (or end, or last date) keeps its first date, so
    'every 2 weeks' stays on the same weeks; a 'from' said anew moves it."""
    if (
        "from" in said.lower().split()
        or not after.rrule
        or before.rrule != after.rrule
        or not before.start
    ):
        return after
    return replace(after, start=before.start[:11] + after.start[11:])


def _describe(fields: rota.ShiftFields) -> str:
    return describe(fields.rule, clock.local_now().date())


def _places(n: int) -> str:
    return f"{n} place" + ("" if n == 1 else "s")


def _day(iso: str) -> str:
    """'Tue 8 Dec' for '2026-12-08'."""
    day = date.fromisoformat(iso)
    return f"{day:%a} {day.day} {day:%b}"


def _hours(o: Occurrence) -> str:
    start = datetime.fromtimestamp(o.start / 1000).strftime("%H:%M")
    return start + ("-" + datetime.fromtimestamp(o.end / 1000).strftime("%H:%M") if o.end else "")


def _and(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _note(note: str) -> str:
    return text.one_line(note, "a note", MAX_NOTE)


def _check_places(places: int) -> int:
    if not 1 <= places <= rota.MAX_PLACES:
        raise InvalidInput(f"a shift needs 1 to {rota.MAX_PLACES} places")
    return places


def _check_label(label: str) -> str:
    return text.one_line(label, "a shift's name", MAX_TITLE)


def _in_change(doc: Document, write: Callable[[Writer], None]) -> None:
    with doc.change() as w:
        write(w)
        w.put_int(ROOT, "updated", clock.now_ms())


def _check_title(title: str, already: str = "") -> str:
    title = text.one_line(title, "a title", MAX_TITLE, already=already)
    if not title:
        raise InvalidInput("a title cannot be empty")
    return title


def _check_tags(tags: Sequence[str]) -> list[str]:
    clean = []
    for tag in tags:
        text.one_line(tag, "a tag", len(tag))
        tag = tag.strip().lstrip("#").lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG or any(c.isspace() for c in tag):
            raise InvalidInput(f"'{tag}' is not a tag: one word, at most {MAX_TAG} characters")
        clean.append(tag)
    return clean
