"""Planning a run: check the settings, then ask each kind of cell for its cells, in the order of
the workloads asked for."""

from __future__ import annotations

from workbench.errors import UsageError
from workbench.harness.cell import Cell
from workbench.harness.cell_kind_base import CellKind
from workbench.harness.cell_kinds import kind_of
from workbench.harness.settings import IoSettings, validate_common


def kinds_in(settings: IoSettings) -> list[CellKind]:
    """The kinds of cell the settings' workloads need, each once."""
    return list(dict.fromkeys(kind_of(w) for w in settings.workloads))


def validate(settings: IoSettings) -> None:
    validate_common(settings)
    for kind in kinds_in(settings):
        kind.validate(settings)


def plan_cells(settings: IoSettings) -> list[Cell]:
    cells = [cell for w in settings.workloads for cell in kind_of(w).plan(settings, w)]
    if not cells:
        raise UsageError("no (model, client, workload) combination fits the selection")
    return cells
