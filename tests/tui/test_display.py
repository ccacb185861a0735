"""Text reaches the app's widgets one way only, tui/display.py, and that way shows it as written.

`TestOneWayToTheScreen` reads the source of every module of the app: each argument given to a
widget that would parse a `str` as markup (or pass its escapes to the terminal) must come from
the display module, or be a constant of our own words with no `[` in it. `TestDisplay` checks
with Hypothesis that what the display module makes is printable text, never markup.
"""

from __future__ import annotations

import ast
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from potluck.tui import display
from potluck.tui.cli.people import People, fingerprint
from potluck.tui.cli.printable import printable
from potluck.tui.display import Shown

ROOT = Path(__file__).resolve().parents[2] / "tui"

WIDGETS = {
    "Label": (0, {"renderable", "content"}),
    "Static": (0, {"renderable", "content"}),
    "Button": (0, {"label"}),
    "Tab": (0, {"label"}),
    "Option": (0, {"prompt"}),
    "Toast": (0, set()),
    "Tooltip": (0, set()),
    "Input": (0, {"value", "placeholder"}),
    "TextArea": (0, {"text"}),
    "Header": (None, set()),
}
"""Widgets whose text argument (by position, and by name) is shown, by the class name."""
METHODS = {"update": 0, "add_column": 0, "add_row": None, "add_columns": None}
"""Methods whose arguments are shown: the first one, or all (None)."""
ATTRIBUTES = {"label", "title", "sub_title", "border_title", "border_subtitle", "tooltip"}
ATTRIBUTES |= {"value", "text", "placeholder"}
"""Attributes whose value is shown when assigned."""
FORBIDDEN_NAMES = {"from_markup", "Content", "Text"}
"""Only the display module builds Textual or Rich text."""
SAFE_TYPES = ("Shown", "Choices")
"""Annotations that vouch for a value: mypy makes the caller pass what the display module made."""


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def app_modules(root: Path = ROOT) -> Iterator[tuple[str, str]]:
    """Every module of the app (not the command line, not the display module itself)."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] == "cli" or relative.name == "display.py":
            continue
        yield str(relative), path.read_text()


class Scan(ast.NodeVisitor):
    """Finds every shown argument that does not come from the display module."""

    def __init__(self, module: str, source: str) -> None:
        self.module = module
        self.tree = ast.parse(source)
        self.findings: list[Finding] = []
        self.sinks = 0
        self.stack: list[ast.AST] = []
        self.from_display = self._imported_from_display()
        self.constants = self._assignments(self.tree.body)
        self.returns_shown = {
            node.name
            for node in ast.walk(self.tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.returns is not None
            and any(t in ast.unparse(node.returns) for t in SAFE_TYPES)
        }

    def _imported_from_display(self) -> set[str]:
        names = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("display"):
                names |= {alias.asname or alias.name for alias in node.names}
        return names

    @staticmethod
    def _assignments(body: list[ast.stmt]) -> dict[str, list[ast.expr]]:
        found: dict[str, list[ast.expr]] = {}
        for statement in body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append(statement.value)
        return found

    # ------------------------------------------------------------ walking

    def visit(self, node: ast.AST) -> None:
        self.stack.append(node)
        super().visit(node)
        self.stack.pop()

    def enclosing(self, kind: type | tuple[type, ...]) -> ast.AST | None:
        for node in reversed(self.stack):
            if isinstance(node, kind):
                return node
        return None

    def flag(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(self.module, getattr(node, "lineno", 0), what))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        on_display = isinstance(func, ast.Attribute) and self.is_display(func.value)
        if name in FORBIDDEN_NAMES and not on_display:
            self.flag(node, f"{name}(…) builds text outside the display module")
        if name == "notify" and not on_display:
            self.flag(node, "notify(…) outside display.notify (Textual parses it as markup)")
        if any(k.arg == "markup" for k in node.keywords):
            self.flag(node, "markup=… given to a widget")
        if isinstance(func, ast.Name) and name in WIDGETS:
            position, keywords = WIDGETS[name]
            self.check_arguments(node, position, keywords, name)
        elif isinstance(func, ast.Attribute) and name in METHODS and not on_display:
            self.check_arguments(node, METHODS[name], set(), f".{name}")
        elif isinstance(func, ast.Name) and name == "Select" and node.args:
            self.sinks += 1
            if not self.safe_choices(node.args[0]):
                self.flag(node, "Select(…) choices not made by the display module")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr in ATTRIBUTES:
                self.sinks += 1
                if not self.safe(node.value):
                    self.flag(node, f".{target.attr} = … not made by the display module")
        self.generic_visit(node)

    def check_arguments(
        self, node: ast.Call, position: int | None, keywords: set[str], sink: str
    ) -> None:
        shown: list[ast.expr] = []
        if position is None:
            shown += node.args
        elif len(node.args) > position:
            shown.append(node.args[position])
        shown += [k.value for k in node.keywords if k.arg in keywords]
        for argument in shown:
            self.sinks += 1
            if not self.safe(argument):
                self.flag(
                    node, f"{sink}({ast.unparse(argument)[:60]}) not made by the display module"
                )

    # ------------------------------------------------------------ where a value comes from

    def is_display(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == "display"

    def safe(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> bool:
        """Whether the value of `node` was made by the display module (or is our own words)."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) and "[" not in node.value
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                return self.is_display(func.value) or (
                    isinstance(func.value, ast.Name)
                    and func.value.id == "self"
                    and func.attr in self.returns_shown
                )
            return isinstance(func, ast.Name) and (
                func.id in self.from_display or func.id in self.returns_shown
            )
        if isinstance(node, ast.IfExp):
            return self.safe(node.body, seen) and self.safe(node.orelse, seen)
        if isinstance(node, ast.Starred):
            return self.safe(node.value, seen)
        if isinstance(node, ast.GeneratorExp | ast.ListComp):
            return self.safe(node.elt, seen)
        if isinstance(node, ast.Name):
            return self.safe_name(node.id, seen)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return node.value.id == "self" and self.safe_attribute(node.attr, seen)
        return False  # f-strings, concatenations, anything read from elsewhere

    def safe_name(self, name: str, seen: frozenset[str]) -> bool:
        if name in seen:
            return False
        seen = seen | {name}
        function = self.enclosing((ast.FunctionDef, ast.AsyncFunctionDef))
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = function.args.args + function.args.kwonlyargs
            for argument in arguments:
                if argument.arg == name:
                    annotation = ast.unparse(argument.annotation) if argument.annotation else ""
                    return any(t in annotation for t in SAFE_TYPES)
            values = [
                statement.value
                for statement in ast.walk(function)
                if isinstance(statement, ast.Assign)
                for target in statement.targets
                if isinstance(target, ast.Name) and target.id == name
            ]
            if values:
                return all(self.safe(value, seen) for value in values)
        values = self.constants.get(name, [])
        return bool(values) and all(self.safe(value, seen) for value in values)

    def safe_attribute(self, attribute: str, seen: frozenset[str]) -> bool:
        """`self.<attribute>`: annotated as made by the display module in its class, or every
        value the class gives it is."""
        cls = self.enclosing(ast.ClassDef)
        if not isinstance(cls, ast.ClassDef) or f"self.{attribute}" in seen:
            return False
        seen = seen | {f"self.{attribute}"}
        values: list[ast.expr] = []
        for node in ast.walk(cls):
            if isinstance(node, ast.AnnAssign):
                target = node.target
                named = (isinstance(target, ast.Name) and target.id == attribute) or (
                    isinstance(target, ast.Attribute) and target.attr == attribute
                )
                if named and any(t in ast.unparse(node.annotation) for t in SAFE_TYPES):
                    return True
                if named and node.value is not None:
                    values.append(node.value)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Name) and target.id == attribute) or (
                        isinstance(target, ast.Attribute) and target.attr == attribute
                    ):
                        values.append(node.value)
        return bool(values) and all(self.safe(value, seen) for value in values)

    def safe_choices(self, node: ast.expr) -> bool:
        """Select's options: a value annotated as display-made choices, or (label, value)
        pairs whose labels are."""
        if isinstance(node, ast.Name | ast.Attribute):
            return self.safe(node)
        if isinstance(node, ast.ListComp | ast.GeneratorExp) and isinstance(node.elt, ast.Tuple):
            return self.safe(node.elt.elts[0])
        if isinstance(node, ast.List):
            return all(isinstance(e, ast.Tuple) and self.safe(e.elts[0]) for e in node.elts)
        return False


def scan(module: str, source: str) -> Scan:
    checker = Scan(module, source)
    checker.visit(checker.tree)
    return checker


class TestOneWayToTheScreen:
    def test_every_shown_argument_of_the_app_comes_from_the_display_module(self) -> None:
        findings: list[Finding] = []
        sinks = 0
        for module, source in app_modules():
            checked = scan(module, source)
            findings += checked.findings
            sinks += checked.sinks
        assert findings == [], "\n".join(map(str, findings))
        assert sinks > 60, sinks  # the scan looks at the app's sinks, not at nothing

    def test_the_scan_catches_what_a_new_screen_could_forget(self) -> None:
        forgetful = """
from textual.widgets import Label, Static, Select, DataTable
from .. import display

class Careless:
    def compose(self, item, name):
        yield Label(item.title)
        yield Static(f"Reply to {item.title}")
        yield Select([(task.title, "t") for task in item.tasks])
        self.notify(item.title)
        self.query_one(Static).update("Hello " + name)
        self.query_one(DataTable).add_row(name, display.text(name))
        self.title = item.title
        yield Static(Content(name))
        yield Label("[b]ours[/b]")
"""
        found = [f.what for f in scan("careless.py", forgetful).findings]
        assert len(found) == 10, found

    def test_what_the_display_module_made_passes(self) -> None:
        careful = """
from textual.widgets import Label, Static, Select
from .. import display

class Careful:
    title_text: display.Shown = display.text("")

    def compose(self, item, line: display.Shown, choices: display.Choices):
        yield Label(self.title_text)
        yield Label(display.text("Reply to “", item.title, "”"))
        yield Static("Our own words")
        yield Select(choices)
        hint = display.text("Tags: ", " ".join(item.tags))
        self.query_one(Static).update(hint if item.tags else line)
        display.notify(self, display.text(item.title))
"""
        assert scan("careful.py", careful).findings == []


ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300
) | st.sampled_from(
    [
        "[@click=app.quit]Free bikes[/]",
        "Kitchen [/]",
        "[link=https://example.invalid]a[/link]",
        "\x1b]52;c;aGVsbG8=\x07",
        "\x9b31m",
        "\u202eevil\u202c",
    ]
)


def dangerous(char: str) -> bool:
    """A character a terminal would act on, or that reorders or hides what follows (a
    zero-width joiner is kept between the two halves of an emoji)."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char not in "\n\u200d"


class TestDisplay:
    @given(ANY_TEXT)
    def test_one_line_text_is_printable_and_never_markup(self, words: str) -> None:
        shown = display.text(words)
        assert isinstance(shown, Shown)
        expected = printable(words)
        if len(expected) <= display.ONE_LINE_MAX:
            assert shown.plain == expected
        else:
            assert shown.plain == expected[: display.ONE_LINE_MAX - 1] + "…"
        assert "\n" not in shown.plain
        assert not [c for c in shown.plain if dangerous(c)]
        assert not shown.spans  # no style, no link, no action came out of the words
        segments = list(shown.render_segments())
        assert all(not (s.style and (s.style.link or s.style.meta)) for s in segments)

    @given(ANY_TEXT, ANY_TEXT)
    def test_parts_and_looks_keep_the_words(self, first: str, second: str) -> None:
        shown = display.text(first, (second, "title"))
        assert shown.plain == display.text(first).plain + display.text(second).plain
        assert all("@click" not in str(span.style) for span in shown.spans)

    @given(ANY_TEXT)
    def test_several_lines_keep_their_breaks_and_nothing_else(self, words: str) -> None:
        shown = display.lines(words)
        assert shown.plain == printable(words, multiline=True)
        assert not [c for c in shown.plain if dangerous(c)]

    @given(st.dictionaries(st.text(alphabet="0123456789abcdef", min_size=12), ANY_TEXT))
    def test_names_are_printable(self, names: dict[str, str]) -> None:
        people = People(names)
        for device in names:
            assert display.name(people, device).plain == people.name(device)
            shown = display.name_and_fingerprint(people, device).plain
            assert not [c for c in shown if dangerous(c)]
            assert shown.endswith(f"({fingerprint(device)})")  # however long the name

    def test_a_long_name_keeps_its_fingerprint_in_sight(self) -> None:
        people = People({"ab" * 16: "x" * 10_000, "cd" * 16: "x" * 10_000})
        for device in people.names:
            shown = display.name(people, device).plain
            assert len(shown) < 80 and shown.endswith(f"({fingerprint(device)})")
