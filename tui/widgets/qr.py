"""A QR code drawn with half blocks, two modules per character cell."""

from __future__ import annotations

import segno


def qr_text(data: str, border: int = 2) -> str:
    """The QR of `data` as lines of '█▀▄ ': dark modules are drawn light-on-dark friendly."""
    matrix = [list(r) for r in segno.make(data, error="l", boost_error=False).matrix]
    size = len(matrix)
    pad = [[0] * (size + 2 * border) for _ in range(border)]
    rows = pad + [[0] * border + r + [0] * border for r in matrix] + pad
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        # A scanner wants dark modules on a light field: draw light (0) as block.
        chars = []
        for a, b in zip(top, bottom, strict=True):
            light_a, light_b = not a, not b
            chars.append(
                "█" if light_a and light_b else "▀" if light_a else "▄" if light_b else " "
            )
        lines.append("".join(chars))
    return "\n".join(lines)
