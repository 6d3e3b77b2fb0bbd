"""Workloads by name. Each is written once; raw clients drive its sans-I/O `Exchange`, library
clients use its method, URL, body and `check`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.errors import UsageError
from workbench.workloads.base import Exchange, Target, Workload, WorkloadError

WORKLOAD_PROTOCOLS = {
    "http": "http",
    "http-upload": "http",
    "echo": "echo",
    "file-read": "file",
    "file-read-chunked": "file",
    "file-write": "file",
}
WORKLOAD_NAMES = tuple(WORKLOAD_PROTOCOLS)


@dataclass(frozen=True)
class WorkloadSettings:
    """Everything a worker process needs to rebuild the workload (it travels as JSON)."""

    name: str
    target: Target
    body_size: int | None = 64  # GET body the server sends; None: unknown, check status only
    upload_size: int = 1024
    message_size: int = 64
    framing: str = "length"
    files: dict[str, Any] | None = None  # FileOptions, for the disk workloads
    share: float = 1.0  # this process's share of a cell's budgets (a fan-out splits them)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkloadSettings:
        return cls(**{**d, "target": Target(**d["target"])})


def build_workload(settings: WorkloadSettings) -> Workload:
    from workbench.workloads.echo import EchoWorkload
    from workbench.workloads.http import HttpGet, HttpUpload

    if settings.name == "http":
        return HttpGet(settings.target, settings.body_size)
    if settings.name == "http-upload":
        return HttpUpload(settings.target, settings.upload_size, settings.body_size is not None)
    if settings.name == "echo":
        return EchoWorkload(settings.target, settings.message_size, settings.framing)
    if WORKLOAD_PROTOCOLS.get(settings.name) == "file":
        from workbench.workloads.files import FileOptions, FileWorkload

        if settings.files is None:
            raise UsageError(f"workload {settings.name!r} needs a file set")
        return FileWorkload(settings.name, FileOptions(**settings.files), settings.share)
    raise UsageError(f"unknown workload {settings.name!r}; choose from {', '.join(WORKLOAD_NAMES)}")


__all__ = [
    "WORKLOAD_NAMES",
    "WORKLOAD_PROTOCOLS",
    "Exchange",
    "Target",
    "Workload",
    "WorkloadError",
    "WorkloadSettings",
    "build_workload",
]
