"""The board's status line in words: who else is here, whether they confirmed everything this
laptop holds (never only that it was sent), who stopped answering, how far a long catch-up has
got, and the open places of the week ahead (places, never people)."""

from __future__ import annotations

from . import display
from .cli.people import People
from .cli.words import plural
from .node_bridge import Presence


def others(n: int) -> str:
    """'1 other person here', '3 other people here'."""
    return f"{n} other {'person' if n == 1 else 'people'} here"


def network(presence: Presence) -> display.Shown:
    """How syncing goes, in the fewest true words."""
    if not presence.running:
        words = "on this laptop only (p: why)" if presence.problem else "starting sync…"
        return display.text(words)
    peers = presence.peers
    if not peers:
        if presence.unreachable:
            return display.text(
                "nobody else here right now · ",
                plural(len(presence.unreachable), "address", "addresses"),
                " not answering (p)",
            )
        return display.text("nobody else here right now (p: peers)")
    here = others(len(peers))
    quiet = presence.quiet
    if quiet:
        first = quiet[0]
        people = People({p.device_id: p.name for p in peers})
        more = f" and {plural(len(quiet) - 1, 'other')}" if len(quiet) > 1 else ""
        return display.text(
            display.name(people, first.device_id),
            f"{more} not answering since {first.quiet_since}",
        )
    catch_up = presence.catch_up
    if catch_up is not None:
        arrived, expected = catch_up
        return display.text(f"getting the board: {arrived:,} of {expected:,} items")
    if presence.in_sync:
        return display.text(f"{here} · all in sync")
    waiting = presence.waiting
    if waiting:
        return display.text(f"{here} · syncing {plural(waiting, 'change')}…")
    return display.text(f"{here} · syncing…")


def open_places(n: int | None) -> str:
    """'4 open places this week' (or '' when none, or not read yet)."""
    if not n:
        return ""
    return f"{plural(n, 'open place')} this week"


def status_line(
    board_name: str,
    presence: Presence,
    places: int | None,
    people: People,
    me: str,
    width: int,
) -> display.Shown:
    """The whole line, cut to `width`: what matters most first (the board, the network, the
    week's open places, then who you are, which is left out before anything is cut)."""
    parts = [display.text(" ", board_name), network(presence)]
    week = open_places(places)
    if week:
        parts.append(display.text(week))
    line = display.join(" · ", parts)
    if people.names.get(me):
        mine = display.text(line, " · you are ", display.name(people, me))
        if width <= 0 or len(mine.plain) <= width:
            return mine
    return display.cropped(line, width) if width > 4 else line
