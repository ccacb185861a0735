"""Items described once, as lines of (text, style) spans: the command line prints them as plain
text, the app styles them; `--json` gives scripts the raw fields.

Every string a member wrote goes through `printable` here (one line for titles, names, tags,
places, task titles and shift labels; several lines for bodies, replies and notes), and every
name through `People`, so neither the command line nor the app can show one unescaped or tell
two look-alike names apart only by luck.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from potluck.p2p import POSITIONS, Board, Item, ItemSummary, Kind, Outcome, Status

from .people import People, fingerprint
from .printable import printable
from .structures import (
    event_title,
    general,
    people_of,
    proposal_lines,
    shift_lines,
    structures_json,
    task_lines,
)
from .words import ago, plural, when

StyleName = Literal["", "title", "done", "status", "meta", "tag", "heading", "note", "who"]
"""What a span is, not how it looks: the app picks the look (tui/display.py)."""
Span = tuple[str, StyleName]
Line = tuple[Span, ...]


def plain(lines: Iterable[Line]) -> str:
    """Lines as the command line prints them."""
    return "\n".join("".join(text for text, _ in line) for line in lines)


def one(text: str) -> str:
    """A one-line field a member wrote, as a terminal may show it."""
    return printable(text)


def many(text: str) -> str:
    """A field of several lines a member wrote, as a terminal may show it."""
    return printable(text, multiline=True)


def tags_text(tags: Sequence[str]) -> str:
    return " ".join("#" + one(t) for t in tags)


# ------------------------------------------------------------ one row of a list


def summary_lines(
    s: ItemSummary, people: People, now_ms: int, state: str = ""
) -> tuple[Line, Line]:
    """An item in a list: its title (an event's date first; dimmed when finished or past),
    then a proposal's decision (`state` where its outcome is known, "agreed Tue 1 Dec", else
    its date: first, so that a narrow list shows it), who, when and how much was said, and its
    tags."""
    done = s.status is not Status.OPEN
    title = one(s.title)
    if s.kind is Kind.EVENT:
        title = event_title(s, now_ms, title)
        done = done or (s.start is not None and (s.end or s.start) < now_ms)
    head: Line = ((title, "done" if done else "title"),)
    if done:
        head += ((f"  ({s.status.value})", "status"),)
    bits = [people.name(s.author), ago(s.updated, now_ms)]
    if s.kind is Kind.PROPOSAL and (state or s.decide_by is not None):
        bits.insert(0, state or f"decides {when(s.decide_by or 0)}")
    if s.replies:
        bits.append(plural(s.replies, "reply", "replies"))
    if s.responses:
        bits.append(plural(s.responses, "response"))
    meta: Line = ((" · ".join(bits), "meta"),)
    if s.tags:
        meta += (("  " + tags_text(s.tags), "tag"),)
    return head, meta


def summary_line(s: ItemSummary, now_ms: int, people: People) -> str:
    """One item as `potluck ls` lists it: the same two lines as the app's list, on one."""
    head, meta = summary_lines(s, people, now_ms)
    return f"{s.id[:8]}  {s.kind.value:<8} " + plain([head]) + "  — " + plain([meta])


def ls_json(board: Board, summaries: list[ItemSummary]) -> list[dict[str, Any]]:
    """`potluck ls --json`: each item's summary; an event's start and end; a project's shifts
    (rule, dates in view, sign-ups); a proposal's decision date and state."""
    people = people_of(board)
    out = []
    for s in summaries:
        data = summary_json(s) | {"start": s.start, "end": s.end, "decide_by": s.decide_by}
        if s.kind in (Kind.PROJECT, Kind.PROPOSAL):
            data |= structures_json(board, board.item(s.id), people)
        out.append(data)
    return out


def summary_json(s: ItemSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": s.kind.value,
        "title": s.title,
        "status": s.status.value,
        "tags": list(s.tags),
        "author": s.author,
        "author_name": s.author_name,
        "author_fingerprint": fingerprint(s.author),
        "created": s.created,
        "updated": s.updated,
        "replies": s.replies,
        "responses": s.responses,
    }


# ------------------------------------------------------------ one item in full


def item_lines(
    item: Item, people: People, now_ms: int, outcome: Outcome | None = None
) -> list[Line]:
    """Everything about one item, in reading order (`potluck show` and the detail pane): a
    project's tasks and shifts with the dates in view, a proposal's decision (`outcome`, from
    `Board.outcome`), then what people said and the thread."""
    name = people.name
    head: Line = ((one(item.title), "title"),)
    if item.status is not Status.OPEN:
        head += ((f"  ({item.status.value})", "status"),)
    lines: list[Line] = [
        head,
        (
            (f"{item.kind.value} · by ", "meta"),
            (people.name_and_fingerprint(item.author), "who"),
            (f" · {ago(item.created, now_ms)} · id {item.id[:8]}", "meta"),
        ),
    ]
    if item.tags:
        lines.append((("tags: ", "meta"), (tags_text(item.tags), "tag")))
    if item.kind is Kind.EVENT and (item.start or item.place):
        span = when(item.start, year=True) + (f" – {when(item.end, year=True)}" if item.end else "")
        line: Line = (("when: ", "heading"), (span, ""))
        if item.place:
            line += ((" · ", ""), ("where: ", "heading"), (one(item.place), ""))
        lines.append(line)
    if item.body:
        lines.append(())
        lines += [((text, ""),) for text in many(item.body).split("\n")]
    if item.tasks:
        lines += [(), (("tasks:", "heading"),), *(((t, ""),) for t in task_lines(item, people))]
    if item.shifts:
        lines += [(), (("shifts:", "heading"),), *(((t, ""),) for t in shift_lines(item, people))]
    if outcome is not None:
        lines += [(), *(((t, ""),) for t in proposal_lines(outcome, people))]
    lines += _history(item, people, now_ms)
    said = general(item)
    if item.kind is Kind.PROPOSAL and outcome is not None:
        said = tuple(r for r in said if r.kind not in POSITIONS)
    if said:
        lines += [(), (("responses:", "heading"),)]
        for response in said:
            line = (("  ", ""), (name(response.member), "who"), (f" — {one(response.kind)}", ""))
            lines.append(line + _note(response.note))
    lines.append(())
    if not item.replies:
        lines.append((("No replies yet.", "meta"),))
    else:
        lines.append(((f"replies ({len(item.replies)}):", "heading"),))
        for reply in item.replies:
            said_at = f" ({ago(reply.time, now_ms)}):"
            lines.append((("  ", ""), (name(reply.author), "who"), (said_at, "meta")))
            lines += [((f"    {text}", ""),) for text in many(reply.text).split("\n")]
    return lines


HISTORY_SHOWN = 6
"""The latest acts after the posting shown with an item; `--json` gives them all."""


def _history(item: Item, people: People, now_ms: int) -> list[Line]:
    """Who marked it met or closed, who edited it, when: from the signed changes (the posting
    itself is the line under the title)."""
    acts = [h for h in item.history if h.what != "posted"]
    if not acts:
        return []
    lines: list[Line] = [(), (("what happened:", "heading"),)]
    if len(acts) > HISTORY_SHOWN:
        earlier = len(acts) - HISTORY_SHOWN
        lines.append(((f"  … {plural(earlier, 'earlier change')}", "meta"),))
    for act in acts[-HISTORY_SHOWN:]:
        done = "edited it" if act.what == "edited" else act.what.replace("marked ", "marked it ")
        lines.append(
            (
                ("  ", ""),
                (people.name(act.who), "who"),
                (f" {one(done)}", ""),
                (f" · {ago(act.time, now_ms)}", "meta"),
            )
        )
    return lines


def _note(note: str) -> Line:
    if not note:
        return ()
    first, *rest = many(note).split("\n")
    return ((": ", ""), (" ".join([first, *rest]), "note"))


def outcome_of(board: Board, item: Item) -> Outcome | None:
    """A proposal's decision as `item_lines` shows it (None for other kinds)."""
    return board.outcome(item) if item.kind is Kind.PROPOSAL else None


def render_item(board: Board, item: Item, now_ms: int) -> str:
    """`potluck show`: the item as plain text."""
    return plain(item_lines(item, people_of(board), now_ms, outcome_of(board, item)))


def item_json(board: Board, item: Item) -> dict[str, Any]:
    """`potluck show --json`: every field as it is stored (JSON escapes what needs it), with
    each person's fingerprint beside their name; a project's rule, dates in view and sign-ups,
    a proposal's state."""
    names = {d: m.name for d, m in board.members().items()}
    return {
        "id": item.id,
        "kind": item.kind.value,
        "title": item.title,
        "body": item.body,
        "tags": list(item.tags),
        "status": item.status.value,
        "author": item.author,
        "author_name": names.get(item.author, ""),
        "author_fingerprint": fingerprint(item.author),
        "created": item.created,
        "updated": item.updated,
        "start": item.start,
        "end": item.end,
        "place": item.place,
        "replies": [
            {
                "id": r.id,
                "author": r.author,
                "author_name": names.get(r.author, ""),
                "author_fingerprint": fingerprint(r.author),
                "text": r.text,
                "time": r.time,
            }
            for r in item.replies
        ],
        "responses": [
            {
                "member": r.member,
                "member_name": names.get(r.member, ""),
                "member_fingerprint": fingerprint(r.member),
                "kind": r.kind,
                "note": r.note,
                "time": r.time,
            }
            for r in item.responses
        ],
        "tasks": [
            {"id": t.id, "title": t.title, "taken_by": list(t.taken_by), "done": t.done}
            for t in item.tasks
        ],
        "shifts": [
            {"id": s.id, "when": s.when, "slots": s.slots, "signed_up": list(s.signed_up)}
            for s in item.shifts
        ],
        "history": [{"who": h.who, "what": h.what, "time": h.time} for h in item.history],
    } | structures_json(board, item)
