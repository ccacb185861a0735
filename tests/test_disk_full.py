"""A full disk gives a clear message, loses nothing committed, and recovers when space returns."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import mounted_tmpfs, run_json, run_potluck


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for this test alone."""
    with mounted_tmpfs(tmp_path / "disk", 2 * 1024 * 1024) as disk:
        yield disk


def test_posting_until_the_disk_is_full(small_disk: Path) -> None:
    home = small_disk / "home"
    run_potluck(home, "new-board", "Kitchen")
    filler = small_disk / "filler"
    acknowledged: list[str] = []
    failure = None
    filler.write_bytes(b"\0" * 1_400_000)
    for n in range(400):
        # Text that does not compress (the home packs its documents), and never starts
        # with "-", which would read as an option.
        body = "b" + secrets.token_urlsafe(3000)
        result = run_potluck(home, "post", "need", f"post {n}", "--body", body, check=False)
        if result.returncode != 0:
            failure = result
            break
        acknowledged.append(result.stdout.strip())
    assert failure is not None, "the disk never filled up"
    assert failure.returncode == 1
    assert "disk" in failure.stderr and "full" in failure.stderr
    assert "Traceback" not in failure.stderr
    assert acknowledged, "nothing was posted before the disk filled"
    # Still full: the board can be read, since opening a home writes nothing.
    assert set(acknowledged) <= {i["id"] for i in run_json(home, "ls")}

    filler.unlink()
    listed = {i["id"] for i in run_json(home, "ls")}
    assert set(acknowledged) == listed
    new = run_json(home, "post", "need", "after the clean-up")["id"]
    assert new in {i["id"] for i in run_json(home, "ls")}
