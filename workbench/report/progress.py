"""A live rich progress display for long runs (stderr, so stdout keeps only the table)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from workbench.harness.cell import Cell, Observer
from workbench.results import Row
from workbench.units import format_rate


class RichObserver(Observer):
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.overall: TaskID | None = None
        self.current: TaskID | None = None

    def __enter__(self) -> RichObserver:
        self.progress.__enter__()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.__exit__(t, e, tb)

    def start(self, total: int) -> None:
        self.overall = self.progress.add_task("cells", total=total)
        self.current = self.progress.add_task("", total=100)

    def cell(self, index: int, cell: Cell, round_: int) -> None:
        assert self.current is not None
        suffix = f" (round {round_ + 1})" if round_ else ""
        self.progress.update(self.current, description=f"{cell.label}{suffix}", completed=0)

    def phase(self, name: str, fraction: float) -> None:
        assert self.current is not None
        self.progress.update(self.current, completed=fraction * 100)
        desc = self.progress.tasks[self.current].description.split(" — ")[0]
        self.progress.update(self.current, description=f"{desc} — {name}")

    def note(self, text: str) -> None:
        self.console.print(f"  {text}", highlight=False)

    def done(self, cell: Cell, row: Row) -> None:
        assert self.overall is not None
        self.progress.advance(self.overall)
        where = f" on {row['host']}" if row.get("host") else ""
        self.console.print(
            f"  {cell.label}{where}: {format_rate(row['ops_per_s'])} ops/s, "
            f"p99 {row['latency_ms']['p99']} ms, errors {row['errors']}",
            highlight=False,
        )


class LinesObserver(Observer):
    """No live display (stderr is a pipe or a log file): plain progress lines, at most one every
    `every_s` seconds (and the last), so a log shows the run moving without drowning in it; the
    slow steps that are not cells say what they are doing."""

    def __init__(self, console: Console, every_s: float = 5.0) -> None:
        self.console, self.every_s = console, every_s
        self.total = self.finished = 0
        self.started = self.said = time.monotonic()

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)  # one line each, for a log

    def start(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()

    def cell(self, index: int, cell: Cell, round_: int) -> None:
        # `index` counts cells over every round so far, from 1.
        where = (index - 1) % max(self.total, 1) + 1
        self._say(f"round {round_ + 1}, cell {where} of {self.total}: {cell.label}")

    def done(self, cell: Cell, row: Row) -> None:
        self.finished += 1
        rate = format_rate(row["ops_per_s"])
        last = self.finished == self.total
        self._say(f"{self.finished} of {self.total} cells done: {cell.label}, {rate} ops/s", last)

    def _say(self, what: str, last: bool = False) -> None:
        now = time.monotonic()
        if last or now - self.said >= self.every_s:
            self.said = now
            self.note(f"[{now - self.started:.0f} s] {what}")


@contextlib.contextmanager
def progress_on(console: Console, quiet: bool = False) -> Iterator[Observer | None]:
    """A live display on `console` when it is a terminal and not `quiet`; else plain progress
    lines (a pipe or a log file), or none if `quiet`."""
    if quiet:
        yield None
        return
    if not console.is_terminal:
        yield LinesObserver(console)
        return
    with RichObserver(console) as observer:
        yield observer
