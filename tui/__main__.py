"""`python -m potluck.tui` runs the potluck command."""

import sys

from .main import main

sys.exit(main())
