"""The network layer never imports the UI: the node must run headless on a Pi without textual."""

from __future__ import annotations

import subprocess
import sys


def test_the_network_layer_imports_no_ui() -> None:
    code = (
        "import sys, potluck.p2p.net.node, potluck.tui.cli.main;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
        " or m.startswith('potluck.tui.') and not m.startswith('potluck.tui.cli'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
