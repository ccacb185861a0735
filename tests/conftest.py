"""Shared fixtures: real homes in temporary directories and the real console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from potluck.p2p.home import Home

POTLUCK = str(Path(sys.executable).with_name("potluck"))


@pytest.fixture
def home(tmp_path: Path) -> Home:
    h = Home.open(tmp_path / "home")
    h.set_profile(name="Ana")
    yield h
    h.close()


@pytest.fixture
def other_home(tmp_path: Path) -> Home:
    h = Home.open(tmp_path / "other")
    h.set_profile(name="Bo")
    yield h
    h.close()


def run_potluck(
    home: Path,
    *args: str,
    check: bool = True,
    input: str | None = None,
    prefix: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run the installed `potluck` console script against `home` (under `prefix`, such as
    `ip netns exec NAME`, when given)."""
    env = {k: v for k, v in os.environ.items() if k != "POTLUCK_HOME"}
    result = subprocess.run(
        [*prefix, POTLUCK, "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        input=input,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"potluck {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
        )
    return result


CATCH_UP_ITEMS = 1_500


@pytest.fixture(scope="session")
def catch_up_homes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Made once a run (posting takes ~4 ms an item): Ana's home with CATCH_UP_ITEMS offers,
    Bo's joined and empty. Tests copy them (`copied`), since a node writes to its home."""
    from tests.p2p_helpers import board_of_many

    return board_of_many(tmp_path_factory.mktemp("catch-up"), CATCH_UP_ITEMS)


def copied(homes: tuple[Path, Path, str], where: Path) -> tuple[Path, Path, str]:
    """A fresh copy of two closed homes under `where`."""
    ana, bo, board_id = homes
    return (
        Path(shutil.copytree(ana, where / "ana")),
        Path(shutil.copytree(bo, where / "bo")),
        board_id,
    )


@pytest.fixture
def potluck() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_potluck


def run_json(home: Path, *args: str) -> Any:
    return json.loads(run_potluck(home, *args, "--json").stdout)


@contextmanager
def mounted_tmpfs(where: Path, size: int) -> Iterator[Path]:
    """A tmpfs of `size` bytes mounted at `where` (made here), unmounted at the end; the test
    is skipped, with the reason, where mounting needs a root this run does not have."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
