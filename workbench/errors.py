"""Errors the command line turns into one clear line and exit code 2 (never a traceback)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.results import Stopped


class UsageError(Exception):
    """Bad input from the user: unknown names, bad numbers, unusable targets or directories."""


class MissingDependency(UsageError):
    """An optional package a model or client needs is not installed."""

    def __init__(self, package: str, needed_by: str) -> None:
        super().__init__(f"{needed_by} needs the package {package!r}: pip install {package}")
        self.package = package


class RunFailed(Exception):
    """A measurement could not be completed (a worker or server died): exit code 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (what `timeout`, systemd and CI send), raised where Ctrl-C would be, so a run ends
    the same way: partial results kept and marked, every child gone; exit code 143."""


def interrupted(exc: KeyboardInterrupt) -> Stopped:
    """How a stopped run records what stopped it."""
    if isinstance(exc, Terminated):
        return {"reason": "terminated (SIGTERM)", "exit_code": 143}
    return {"reason": "interrupted (Ctrl-C)", "exit_code": 130}
