"""workbench: measure Python I/O concurrency models on your own machine."""

from __future__ import annotations

__version__ = "0.1.0"
