"""Items as the command line prints them: JSON for scripts, plain lines for people."""

from __future__ import annotations

from typing import Any

from potluck.p2p import Board, Item, ItemSummary, Kind

from .words import ago, plural, when


def summary_json(s: ItemSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": s.kind.value,
        "title": s.title,
        "status": s.status.value,
        "tags": list(s.tags),
        "author": s.author,
        "author_name": s.author_name,
        "created": s.created,
        "updated": s.updated,
        "replies": s.replies,
        "responses": s.responses,
    }


def summary_line(s: ItemSummary, now_ms: int) -> str:
    """One item as `potluck ls` lists it."""
    tags = " " + " ".join("#" + t for t in s.tags) if s.tags else ""
    who = s.author_name or f"device {s.author[:6]}"
    return (
        f"{s.id[:8]}  {s.kind.value:<8} {s.status.value:<9} {s.title}{tags}  "
        f"— {who}, {ago(s.updated, now_ms)}, {plural(s.replies, 'reply', 'replies')}, "
        f"{plural(s.responses, 'response')}"
    )


def item_json(board: Board, item: Item) -> dict[str, Any]:
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
                "text": r.text,
                "time": r.time,
            }
            for r in item.replies
        ],
        "responses": [
            {
                "member": r.member,
                "member_name": names.get(r.member, ""),
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
    }


def render_item(board: Board, item: Item, now_ms: int) -> str:
    name = board.member_name
    lines = [
        f"{item.title}",
        f"{item.kind.value} · {item.status.value} · by {name(item.author)} · "
        f"{ago(item.created, now_ms)} · id {item.id[:8]}",
    ]
    if item.tags:
        lines.append("tags: " + " ".join("#" + t for t in item.tags))
    if item.kind is Kind.EVENT and (item.start or item.place):
        when_ = when(item.start, year=True) + (
            f" – {when(item.end, year=True)}" if item.end else ""
        )
        lines.append(f"when: {when_}" + (f" · where: {item.place}" if item.place else ""))
    if item.body:
        lines += ["", item.body]
    if item.tasks:
        lines += ["", "tasks:"]
        for n, t in enumerate(item.tasks, 1):
            who = f"taken by {', '.join(map(name, t.taken_by))}" if t.taken_by else "free"
            lines.append(f"  {n}. {'[done] ' if t.done else ''}{t.title} ({who})")
    if item.shifts:
        lines += ["", "shifts:"]
        for n, s in enumerate(item.shifts, 1):
            people = ", ".join(name(d) for d in s.signed_up) or "nobody yet"
            lines.append(f"  {n}. {s.when} ({len(s.signed_up)}/{s.slots}): {people}")
    if item.responses:
        lines += ["", "responses:"]
        for r in item.responses:
            note = f": {r.note}" if r.note else ""
            lines.append(f"  {name(r.member)} — {r.kind}{note}")
    if item.replies:
        lines += ["", "replies:"]
        for reply in item.replies:
            lines.append(f"  {name(reply.author)} ({ago(reply.time, now_ms)}): {reply.text}")
    return "\n".join(lines)
