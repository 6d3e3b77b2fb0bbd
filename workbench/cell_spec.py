"""What a worker is asked to run: a cell, serialisable to one JSON line."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from workbench.workloads import WorkloadSettings, build_workload

if TYPE_CHECKING:
    from workbench.workloads.base import Workload


@dataclass(frozen=True)
class CellSpec:
    model: str
    client: str
    workload: WorkloadSettings
    clients: int  # concurrent users in this process (a fan-out gives each worker its share)
    timeout: float = 10.0  # per operation, seconds
    procs: int = 2  # worker processes, for the processes models
    python: str = field(default=sys.executable)
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the worker
    work: str | None = None  # per-operation work, KIND:DURATION (see workbench.work)
    thread_stack: int | None = None  # bytes of stack per thread on the threads model (None: ours)

    @property
    def label(self) -> str:
        return f"{self.model}/{self.client}/{self.workload.name}"

    def build_workload(self) -> Workload:
        return self._workload

    @cached_property
    def _workload(self) -> Workload:
        return build_workload(self.workload)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["workload"] = self.workload.as_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CellSpec:
        return cls(**{**d, "workload": WorkloadSettings.from_dict(d["workload"])})
