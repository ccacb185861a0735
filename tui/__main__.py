"""`python -m tui` runs the potluck command."""

import sys

from tui.cli import main

sys.exit(main())
