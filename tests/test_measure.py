"""The measuring of a peer's automerge bytes counts every row a column's runs describe: a
change chunk is built here column by column from known runs, and what `document_size` counts
must be what the runs hold (or more than the limit, for one that holds more)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from potluck.p2p.errors import DamagedDocument
from potluck.p2p.model import measure
from potluck.p2p.model.chunks import uleb

ULEB, DELTA, BOOLEAN, STRING = 2, 3, 4, 5
"""Column types of automerge's binary format (the low three bits of a column's spec)."""


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def value(kind: int, n: int) -> bytes:
    if kind == STRING:
        text = ("v" * (n % 300)).encode()
        return uleb(len(text)) + text
    return sleb(n - 1000) if kind == DELTA else uleb(n)


Run = tuple[str, int, list[int]]
runs = st.lists(
    st.one_of(
        st.tuples(
            st.just("repeat"),
            st.integers(1, 100_000),
            st.lists(st.integers(0, 10**6), min_size=1, max_size=1),
        ),
        st.tuples(
            st.just("literal"), st.just(0), st.lists(st.integers(0, 10**6), min_size=1, max_size=40)
        ),
        st.tuples(st.just("null"), st.integers(1, 100_000), st.just([])),
    ),
    max_size=12,
)


def column(kind: int, column_runs: list[Run]) -> tuple[bytes, int]:
    """A column of this kind holding these runs, and how many rows they make."""
    data, rows = bytearray(), 0
    for how, count, values in column_runs:
        if kind == BOOLEAN:
            data += uleb(count or len(values))
            rows += count or len(values)
        elif how == "repeat":
            data += sleb(count) + value(kind, values[0])
            rows += count
        elif how == "literal":
            data += sleb(-len(values)) + b"".join(value(kind, v) for v in values)
            rows += len(values)
        else:
            data += sleb(0) + uleb(count)
            rows += count
    return bytes(data), rows


def change_chunk(columns: list[tuple[int, bytes]]) -> bytes:
    """An uncompressed change chunk (no dependencies, one actor) with these columns."""
    body = bytearray(uleb(0) + uleb(16) + bytes(16) + uleb(1) + uleb(1) + sleb(0) + uleb(0))
    body += uleb(0) + uleb(len(columns))
    for n, (kind, data) in enumerate(columns):
        body += uleb(((n + 1) << 4) | kind) + uleb(len(data))
    for _, data in columns:
        body += data
    return measure.MAGIC + bytes(4) + b"\x01" + uleb(len(body)) + bytes(body)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([ULEB, DELTA, BOOLEAN, STRING]), runs), max_size=6))
def test_every_row_of_every_run_is_counted(columns: list[tuple[int, list[Run]]]) -> None:
    built = [column(kind, column_runs) for kind, column_runs in columns]
    rows = max((r for _, r in built), default=0)
    chunk = change_chunk(
        [(kind, data) for (kind, _), (data, _) in zip(columns, built, strict=True)]
    )
    if rows > measure.MAX_CHANGE_OPS:
        with pytest.raises(measure.TooLarge):
            measure.document_size(chunk)
    else:
        assert measure.document_size(chunk).ops == rows


def test_a_run_past_the_limit_is_refused_whatever_it_claims() -> None:
    data = sleb(0) + uleb(1 << 60)  # one run of nulls, a billion billion rows
    with pytest.raises(measure.TooLarge, match="operations"):
        measure.document_size(change_chunk([(ULEB, data)]))


@pytest.mark.parametrize(
    "data",
    [
        sleb(-3) + uleb(1),  # a literal run of three values with one there
        sleb(2),  # a repeated run with no value
        sleb(-1) + uleb(3) + b"ab",  # a string cut short
        b"\x80" * 11 + b"\x01",  # a number of more than 64 bits
        sleb(0),  # a run of nulls with no count
    ],
)
def test_a_column_cut_short_is_damaged(data: bytes) -> None:
    kind = STRING if b"ab" in data else ULEB
    with pytest.raises(DamagedDocument):
        measure.document_size(change_chunk([(kind, data)]))
