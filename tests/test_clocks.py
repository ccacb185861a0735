"""Wrong clocks on peers: nothing breaks and an item from the future is not pinned on top."""

from __future__ import annotations

import time

from potluck.p2p.clock import now_ms
from potluck.p2p.home import Home
from potluck.p2p.model import item_document as docs
from potluck.p2p.model.types import Kind

from tests.test_merge import copy_documents

DAY = 86_400_000
YEAR = 365 * DAY


def tick() -> None:
    """Let the millisecond clock move on, so that the next write sorts strictly later (two
    writes in one millisecond tie, and a tie is ordered by item id)."""
    start = now_ms()
    deadline = time.monotonic() + 1.0
    while now_ms() == start and time.monotonic() < deadline:
        time.sleep(0.0005)


def test_items_from_skewed_clocks_sort_sensibly(home: Home, other_home: Home) -> None:
    a = home.new_board("Kitchen")
    b, _ = other_home.join(a.invite())
    ahead = docs.new_id()
    behind = docs.new_id()
    store = other_home.store
    for item_id, title, skew in ((ahead, "from next year", YEAR), (behind, "from yesterday", -DAY)):
        store.documents.update(
            b.board_id,
            item_id,
            lambda doc, title=title, skew=skew: docs.init_item(
                doc,
                kind=Kind.NEED,
                title=title,
                body="",
                tags=[],
                now=now_ms() + skew,
            ),
            create=True,
        )
    copy_documents(b, a)
    tick()
    fresh = a.post(Kind.NEED, "posted just now")
    order = [s.title for s in a.items()]
    assert order == ["posted just now", "from next year", "from yesterday"]
    assert a.item(ahead).created > now_ms() + YEAR // 2
    tick()
    a.reply(ahead, "your clock is a year ahead")
    assert a.items()[0].id == ahead
    tick()
    a.reply(fresh, "and now this one")
    assert a.items()[0].id == fresh

    # A reply stamped by a clock a day behind is new activity too: it never sinks the item.
    copy_documents(a, b)
    store.documents.update(
        b.board_id,
        fresh,
        lambda doc: docs.add_reply(doc, text="from yesterday", now=now_ms() - DAY),
    )
    copy_documents(b, a)
    assert a.items()[0].id == fresh
    assert len(a.item(fresh).replies) == 2
