"""Wrong clocks on peers: nothing breaks and an item from the future is not pinned on top."""

from __future__ import annotations

from p2p import docs
from p2p.home import Home
from p2p.model import Kind
from p2p.store import now_ms
from tests.test_merge import copy_documents

DAY = 86_400_000
YEAR = 365 * DAY


def test_items_from_skewed_clocks_sort_sensibly(home: Home, other_home: Home) -> None:
    a = home.new_board("Kitchen")
    b, _ = other_home.join(a.invite())
    ahead = docs.new_id()
    behind = docs.new_id()
    store = other_home.store
    for item_id, title, skew in ((ahead, "from next year", YEAR), (behind, "from yesterday", -DAY)):
        store.update(
            b.board_id,
            item_id,
            lambda doc, title=title, skew=skew: docs.init_item(
                doc,
                kind=Kind.NEED,
                title=title,
                body="",
                tags=[],
                author=b.me,
                now=now_ms() + skew,
            ),
            create=True,
        )
    copy_documents(b, a)
    fresh = a.post(Kind.NEED, "posted just now")
    order = [s.title for s in a.items()]
    assert order == ["posted just now", "from next year", "from yesterday"]
    assert a.item(ahead).created > now_ms() + YEAR // 2
    a.reply(ahead, "your clock is a year ahead")
    assert a.items()[0].id == ahead
    a.reply(fresh, "and now this one")
    assert a.items()[0].id == fresh
