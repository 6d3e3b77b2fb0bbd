"""A live rich progress display for long runs (stderr, so stdout keeps only the table)."""

from __future__ import annotations

import contextlib
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


class NotesObserver(Observer):
    """No live display (stderr is a pipe or a log), but the slow steps that are not cells still
    say what they are doing."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False)


@contextlib.contextmanager
def progress_on(console: Console, quiet: bool = False) -> Iterator[Observer | None]:
    """A live display on `console` when it is a terminal and not `quiet`; else only the notes of
    slow steps (a pipe or a log file gets only those and the final table), or none if `quiet`."""
    if quiet:
        yield None
        return
    if not console.is_terminal:
        yield NotesObserver(console)
        return
    with RichObserver(console) as observer:
        yield observer
