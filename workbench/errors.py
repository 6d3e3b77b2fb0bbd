"""Errors the command line turns into one clear line and exit code 2 (never a traceback)."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: unknown names, bad numbers, unusable targets or directories."""


class MissingDependency(UsageError):
    """An optional package a model or client needs is not installed."""

    def __init__(self, package: str, needed_by: str) -> None:
        super().__init__(f"{needed_by} needs the package {package!r}: pip install {package}")
        self.package = package


class RunFailed(Exception):
    """A measurement could not be completed (a worker or server died): exit code 1."""
