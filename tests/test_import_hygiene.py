"""p2p/ never imports the UI: the node must run headless on a Pi without textual or rich."""

from __future__ import annotations

import subprocess
import sys


def test_the_network_layer_imports_no_ui() -> None:
    code = (
        "import sys, p2p.node, p2p.presence, p2p.discovery, p2p.session, p2p.secure;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
