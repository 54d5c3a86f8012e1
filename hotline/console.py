"""Rich consoles for the CLI: reports stay readable when piped to a file or a CI log."""

from __future__ import annotations

import os
import sys

from rich.console import Console

REPORT_WIDTH = 140


def report_console() -> Console:
    """Standard output; a terminal's own width, else wide enough for the report tables."""
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return Console()
    return Console(width=REPORT_WIDTH)
