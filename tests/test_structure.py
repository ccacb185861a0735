"""The code's shape is checked like its behaviour: lint, strict types, and which part may import
which (the core never the UI, the command line never Textual, the UI only the core's facade)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"p2p": "potluck.p2p", "tui": "potluck.tui"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

CORE_LAYERS = [
    {"errors", "clock", "keys", "invite"},
    {"model"},
    {"storage"},
    {"board", "exports", "home"},
    {"net"},
]
"""The core's parts, lowest first: a part imports only from its own layer or below."""


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the two packages, by its installed name."""
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join([package, *parts]), path


def imports(name: str, path: Path) -> Iterator[str]:
    """The absolute names a module imports (relative imports resolved), at any depth."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            for alias in node.names:  # `from . import clock` imports a module too
                yield f"{target}.{alias.name}"


def core_part(name: str) -> str:
    return name.removeprefix("potluck.p2p").lstrip(".").split(".")[0]


def layer(part: str) -> int:
    return next(n for n, parts in enumerate(CORE_LAYERS) if part in parts)


class TestImports:
    def test_the_core_never_imports_the_ui(self) -> None:
        bad = [
            (name, target)
            for name, path in modules()
            if name.startswith("potluck.p2p")
            for target in imports(name, path)
            if target.split(".")[0] in ("textual", "rich") or target.startswith("potluck.tui")
        ]
        assert bad == []

    def test_the_command_line_never_imports_textual_or_the_screens(self) -> None:
        bad = [
            (name, target)
            for name, path in modules()
            if name.startswith("potluck.tui.cli")
            for target in imports(name, path)
            if target.split(".")[0] in ("textual", "rich")
            or (target.startswith("potluck.tui") and not target.startswith("potluck.tui.cli"))
        ]
        assert bad == []

    def test_the_ui_and_command_line_use_only_the_cores_facade(self) -> None:
        bad = [
            (name, target)
            for name, path in modules()
            if name.startswith("potluck.tui")
            for target in imports(name, path)
            if target.startswith("potluck.p2p.")
            and not re.fullmatch(r"potluck\.p2p\.[A-Za-z_]+", target)  # `from potluck.p2p import X`
        ]
        facade_names = set(__import__("potluck.p2p", fromlist=["__all__"]).__all__)
        bad += [
            (name, target)
            for name, path in modules()
            if name.startswith("potluck.tui")
            for target in imports(name, path)
            if target.startswith("potluck.p2p.") and target.split(".")[2] not in facade_names
        ]
        assert bad == []

    def test_the_cores_parts_import_downwards_only(self) -> None:
        assert {p for layer_ in CORE_LAYERS for p in layer_} >= {
            core_part(name) for name, _ in modules() if name.startswith("potluck.p2p.")
        }
        bad = [
            (name, target)
            for name, path in modules()
            if name.startswith("potluck.p2p.")
            for target in imports(name, path)
            if target.startswith("potluck.p2p.")
            and layer(core_part(target)) > layer(core_part(name))
        ]
        assert bad == []

    def test_every_imported_distribution_is_declared(self) -> None:
        declared = {
            re.split(r"[<>=!~ \[;]", requirement)[0].lower().replace("_", "-")
            for requirement in PYPROJECT["project"]["dependencies"]
        }
        providers = importlib.metadata.packages_distributions()
        used = {
            target.split(".")[0]
            for name, path in modules()
            for target in imports(name, path)
            if target and not target.startswith("potluck")
        }
        third_party = {top for top in used if top not in sys.stdlib_module_names}
        undeclared = {
            top: providers.get(top)
            for top in third_party
            if not {d.lower().replace("_", "-") for d in providers.get(top, [])} & declared
        }
        assert undeclared == {}


class TestLayout:
    def test_every_package_folder_is_installed(self) -> None:
        listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
        found = {name for name, path in modules() if path.name == "__init__.py"}
        assert found == listed

    def test_every_module_opens_with_a_docstring(self) -> None:
        missing = [
            name
            for name, path in modules()
            if ast.get_docstring(ast.parse(path.read_text())) is None
        ]
        assert missing == []

    def test_the_command_line_runs_without_textual(self) -> None:
        """What `potluck serve` on a Pi loads: the command line and the node, no Textual."""
        code = (
            "import sys, potluck.tui.main, potluck.tui.cli.commands, potluck.p2p.net.node;"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
            " or m.startswith('potluck.tui.') and not m.startswith('potluck.tui.cli')"
            " and m != 'potluck.tui.main');"
            "print(bad); sys.exit(1 if bad else 0)"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


class TestChecks:
    def test_ruff_finds_nothing(self) -> None:
        targets = ["p2p", "tui", "tests", "bench"]
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", *targets],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr
        form = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *targets],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert form.returncode == 0, form.stdout + form.stderr

    def test_mypy_strict_finds_nothing(self, tmp_path: Path) -> None:
        """mypy reads the two folders under their installed names, through links."""
        namespace = tmp_path / "src" / "potluck"
        namespace.mkdir(parents=True)
        for folder in FOLDERS:
            (namespace / folder).symlink_to(ROOT / folder, target_is_directory=True)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--config-file",
                str(ROOT / "pyproject.toml"),
                "--cache-dir",
                str(tmp_path / "cache"),
                *(arg for package in FOLDERS.values() for arg in ("-p", package)),
            ],
            cwd=tmp_path / "src",
            env={"MYPYPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
