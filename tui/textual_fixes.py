"""Two leaks in Textual 8.2 that made every dialog opened grow the heap, and with it the pauses
of the garbage collector, which hold the screen's loop (80-100 ms after a hundred dialogs).

- The footer redraws its keys whenever the bindings change (a dialog opens or closes, the focus
  moves), and each new key watches the footer's `compact`; Textual drops the watcher of a
  removed key only when that value changes, which for us is never, so every key ever drawn
  stayed alive. `Footer` prunes them after each redraw.
- `StylesCache.get_inner_outer` is an `lru_cache` on a method: it keeps up to 1,024 styles
  caches of removed widgets alive, each with the strips it drew. `forget_removed_widgets`
  empties it (it only saves building two Style objects); the app calls it when a dialog closes.

Both rely on Textual's internals (pinned below 9 in pyproject.toml); tests/tui/test_memory.py
fails if the heap grows again with every dialog.
"""

from __future__ import annotations

from textual._styles_cache import StylesCache
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """The footer, forgetting the keys it removed."""

    async def recompose(self) -> None:
        await super().recompose()
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, "__watchers", {})
        for found in watchers.values():
            found[:] = [(node, callback) for node, callback in found if _alive(node)]


def forget_removed_widgets() -> None:
    """Let go of what Textual's method cache keeps of removed widgets."""
    StylesCache.get_inner_outer.cache_clear()


def _alive(node: object) -> bool:
    return not (getattr(node, "_closing", False) or getattr(node, "_closed", False))
