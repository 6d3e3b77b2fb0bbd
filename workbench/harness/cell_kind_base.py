"""What every kind of cell shares: the seam the runner asks through (`CellKind`), what a kind
starts for a run (`Prepared`), where servers and clients run (`Pinning`), and how a kind picks its
(model, client) pairs. The kinds themselves: `cell_kinds` (network, disk) and `db_cells`."""

from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from servers.lifetime import raise_nofile_limit
from workbench.cell_spec import CellSpec
from workbench.clients import CLIENTS, fits
from workbench.errors import UsageError
from workbench.harness.cell import Cell, CellRun
from workbench.harness.settings import IoSettings
from workbench.models import model_class, runs
from workbench.results import Row
from workbench.server_process import ServerHandle

if TYPE_CHECKING:
    from workbench.interpreters import Interpreter


@dataclass(frozen=True)
class Pinning:
    """Server on the last CPU, clients on the rest: they never compete for a core."""

    server_cpus: set[int] | None
    client_cpus: set[int] | None

    @classmethod
    def plan(cls, pin: bool) -> Pinning:
        available = sorted(os.sched_getaffinity(0))
        if not pin or len(available) < 2:
            return cls(None, None)
        return cls({available[-1]}, set(available[:-1]))


class Prepared(ABC):
    """What a kind started for one run, owned by the run's exit stack."""

    metadata: dict[str, Any]

    @abstractmethod
    def cell_spec(
        self, cell: Cell, common: dict[str, Any]
    ) -> contextlib.AbstractContextManager[tuple[CellSpec, ServerHandle | None]]:
        """The spec of one run of `cell` (and the server to watch), for as long as it runs."""


class CellKind(ABC):
    name: ClassVar[str]
    metadata_key: ClassVar[str]  # where its run-wide facts go in the document's metadata

    def validate(self, settings: IoSettings) -> None:
        """Check the settings this kind reads (only when the run has cells of this kind)."""

    @abstractmethod
    def plan(self, settings: IoSettings, workload: str) -> list[Cell]:
        """The cells of `workload` the settings ask for."""

    @abstractmethod
    def client_cpus(self, pinning: Pinning) -> set[int] | None:
        """CPUs the cell's worker is pinned to (None: all)."""

    def trust_cpus(self, pinning: Pinning) -> int:
        """How many CPUs the client can use, for the client-bound flag."""
        return len(self.client_cpus(pinning) or os.sched_getaffinity(0))

    @abstractmethod
    def prepare(
        self,
        settings: IoSettings,
        cells: list[Cell],
        pinning: Pinning,
        stack: contextlib.ExitStack,
        running: dict[str, ServerHandle] | None,
    ) -> Prepared:
        """Start what the cells need for the whole run; `stack` owns it."""

    @abstractmethod
    def complete_row(self, row: Row, cell: Cell, run: CellRun, settings: IoSettings) -> None:
        """Add this kind's own fields to a row."""

    def needs(self, cell: Cell) -> list[str] | None:
        """The modules the cell's interpreter must import; None: its model's and client's."""
        return None

    def refusal(self, cell: Cell, variant: Interpreter) -> str | None:
        """Why the cell cannot run under `variant` though everything imports (None: it can)."""
        return None


FD_MARGIN = 64  # open files a cell's process needs beyond one socket per client


def require_open_files(clients: int) -> None:
    """Refuse, in one line, a client count this process cannot hold a socket open for each of."""
    need = clients + FD_MARGIN
    if need > raise_nofile_limit(need):
        raise UsageError(
            f"--clients {clients} needs about {need} open files; "
            "raise the hard limit (ulimit -Hn) or use fewer clients"
        )


def models_and_libs(
    settings: IoSettings, workload: str, defaults: tuple[tuple[str, str], ...], every: bool
) -> Iterator[tuple[str, str]]:
    """(model, client) pairs that fit `workload`, model by model: --libs if given, else every
    client (with `every`), else the model's pairs in `defaults`."""
    for model in settings.models:
        family = model_class(model).family
        if not runs(model, workload):
            continue
        if settings.libs is not None:
            libs = list(settings.libs)
        elif every:
            libs = list(CLIENTS)
        else:
            libs = [lib for m, lib in defaults if m == model]
        for lib in libs:
            if fits(lib, family, workload):
                yield model, lib
