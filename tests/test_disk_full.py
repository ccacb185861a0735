"""A full disk gives a clear message, loses nothing committed, and recovers when space returns."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_json, run_potluck


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for this test alone."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_posting_until_the_disk_is_full(small_disk: Path) -> None:
    home = small_disk / "home"
    run_potluck(home, "new-board", "Kitchen")
    filler = small_disk / "filler"
    acknowledged: list[str] = []
    failure = None
    filler.write_bytes(b"\0" * 1_400_000)
    for n in range(400):
        result = run_potluck(home, "post", "need", f"post {n}", "--body", "x" * 4000, check=False)
        if result.returncode != 0:
            failure = result
            break
        acknowledged.append(result.stdout.strip())
    assert failure is not None, "the disk never filled up"
    assert failure.returncode == 1
    assert "disk" in failure.stderr and "full" in failure.stderr
    assert "Traceback" not in failure.stderr
    assert acknowledged, "nothing was posted before the disk filled"

    filler.unlink()
    listed = {i["id"] for i in run_json(home, "ls")}
    assert set(acknowledged) == listed
    new = run_json(home, "post", "need", "after the clean-up")["id"]
    assert new in {i["id"] for i in run_json(home, "ls")}
