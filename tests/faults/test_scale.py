"""A short run of bench/bench_scale.py: six `potluck serve` nodes split in two halves that each
make twenty changes, healed: every node converges in time with every change, exactly once."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.faults.scale import ScaleLan
from tests.netns import netns_unavailable

REASON = netns_unavailable()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(REASON is not None, reason=f"namespaced LAN unavailable: {REASON}"),
]

NODES = 6
CHANGES = 20
DEADLINE = 60.0


def test_six_nodes_in_two_halves_converge_after_heal(tmp_path: Path) -> None:
    with ExitStack() as stack:
        run = ScaleLan(tmp_path, NODES, stack)
        try:
            run.start(60)
            run.seed(4, 60)
            result = run.split_round(CHANGES, apart=0, timeout=DEADLINE)
            for i in range(NODES):
                run.nothing_lost(i)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{run.logs()[-8000:]}") from None
    assert result.converged < DEADLINE
    print(
        f"{NODES} nodes, {CHANGES} changes per side: converged {result.converged:.1f} s after "
        f"the heal, {result.bytes_per_change:,.0f} bytes per change"
    )
