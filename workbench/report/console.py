"""The terminal, for the CLI and the scripts alike: a console sized for where stdout goes, and a
quiet end when the reader of stdout has gone."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def stdout_console(width: int) -> Console:
    """The terminal as it is; a file or pipe gets `width` columns, not an 80-column squeeze."""
    out = Console()
    return out if out.is_terminal else Console(width=width)


def reader_gone() -> int:
    """stdout's reader left (`workbench ... | head`): stop quietly, as Unix tools do. stdout is
    pointed at /dev/null so that the interpreter's final flush cannot fail a second time."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it
