"""Workloads by name, imported lazily, in the shape models and clients have (anyio's `BACKENDS`):
a table from name to `"module:Class"`. Each workload is written once; raw clients drive its sans-I/O
`Exchange`, library clients use its method, URL, body and `check`.

`PROTOCOLS` holds, in one place, what each protocol needs around it: which mock server answers it,
the URL scheme of its targets, and which kind of cell runs it (the harness keys its cell kinds on
that name).
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from typing import Any

from workbench.errors import UsageError
from workbench.workloads.base import Exchange, Target, Workload, WorkloadError


@dataclass(frozen=True)
class ProtocolEntry:
    server: str | None  # the mock server module under `servers/` (None: no server)
    scheme: str  # of a target URL
    cells: str  # "network", "disk" or "db": the kind of cell that runs it
    tls: bool = False  # its server serves TLS, with a certificate from a throw-away CA


PROTOCOLS: dict[str, ProtocolEntry] = {
    "http": ProtocolEntry(server="http", scheme="http", cells="network"),
    "https": ProtocolEntry(server="http", scheme="https", cells="network", tls=True),
    "echo": ProtocolEntry(server="echo", scheme="tcp", cells="network"),
    "ws": ProtocolEntry(server="websocket", scheme="ws", cells="network"),
    # HTTP/2 with prior knowledge (h2c) on an http:// URL: the workload, not the URL, says which.
    "h2": ProtocolEntry(server="h2", scheme="http", cells="network"),
    "file": ProtocolEntry(server=None, scheme="file", cells="disk"),
    # Real servers, not mocks: the db cells start PostgreSQL and Redis themselves.
    "postgres": ProtocolEntry(server=None, scheme="postgresql", cells="db"),
    "redis": ProtocolEntry(server=None, scheme="redis", cells="db"),
    # HTTP to a server under test (uvicorn, gunicorn, ...): the served cells start it.
    "served": ProtocolEntry(server=None, scheme="http", cells="served"),
}
SERVER_KINDS = tuple(dict.fromkeys(p.server for p in PROTOCOLS.values() if p.server is not None))


@dataclass(frozen=True)
class WorkloadEntry:
    path: str  # "module:Class"
    protocol: str  # a key of PROTOCOLS


WORKLOADS: dict[str, WorkloadEntry] = {
    "http": WorkloadEntry("workbench.workloads.http:HttpGet", "http"),
    "http-upload": WorkloadEntry("workbench.workloads.http:HttpUpload", "http"),
    "https": WorkloadEntry("workbench.workloads.http:HttpsGet", "https"),
    "https-handshake": WorkloadEntry("workbench.workloads.http:HttpsHandshake", "https"),
    "echo": WorkloadEntry("workbench.workloads.echo:EchoWorkload", "echo"),
    "h2": WorkloadEntry("workbench.workloads.http:H2Get", "h2"),
    "idle": WorkloadEntry("workbench.workloads.echo:IdleWorkload", "echo"),
    "ws-echo": WorkloadEntry("workbench.workloads.websocket:WsEcho", "ws"),
    "ws-push": WorkloadEntry("workbench.workloads.websocket:WsPush", "ws"),
    "file-read": WorkloadEntry("workbench.workloads.files:FileWorkload", "file"),
    "file-read-chunked": WorkloadEntry("workbench.workloads.files:FileWorkload", "file"),
    "file-write": WorkloadEntry("workbench.workloads.files:FileWorkload", "file"),
    "pg-select": WorkloadEntry("workbench.workloads.db:PgSelect", "postgres"),
    "pg-insert": WorkloadEntry("workbench.workloads.db:PgInsert", "postgres"),
    "redis-get": WorkloadEntry("workbench.workloads.db:RedisGet", "redis"),
    "redis-set": WorkloadEntry("workbench.workloads.db:RedisSet", "redis"),
    **{
        f"served-{scenario}": WorkloadEntry("workbench.workloads.http:ServedGet", "served")
        for scenario in ("hello", "downstream", "work", "blocking", "offloaded")
    },
}
WORKLOAD_NAMES = tuple(WORKLOADS)
WORKLOAD_PROTOCOLS = {name: entry.protocol for name, entry in WORKLOADS.items()}


def workload_entry(name: str) -> WorkloadEntry:
    try:
        return WORKLOADS[name]
    except KeyError:
        raise UsageError(
            f"unknown workload {name!r}; choose from {', '.join(WORKLOAD_NAMES)}"
        ) from None


def protocol_of(name: str) -> ProtocolEntry:
    """What the workload `name` needs around it (its server, its kind of cell)."""
    return PROTOCOLS[workload_entry(name).protocol]


def workloads_of(cells: str) -> list[str]:
    """The workloads that one kind of cell runs ("network", "disk" or "db")."""
    return [name for name in WORKLOAD_NAMES if protocol_of(name).cells == cells]


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
    db: dict[str, Any] | None = None  # DbOptions, for the database workloads
    share: float = 1.0  # this process's share of a cell's budgets (a fan-out splits them)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkloadSettings:
        return cls(**{**d, "target": Target(**d["target"])})


def build_workload(settings: WorkloadSettings) -> Workload:
    module_name, _, attr = workload_entry(settings.name).path.partition(":")
    cls: type[Workload] = getattr(importlib.import_module(module_name), attr)
    return cls.from_settings(settings)


__all__ = [
    "PROTOCOLS",
    "SERVER_KINDS",
    "WORKLOADS",
    "WORKLOAD_NAMES",
    "WORKLOAD_PROTOCOLS",
    "Exchange",
    "Target",
    "Workload",
    "WorkloadError",
    "WorkloadSettings",
    "build_workload",
    "protocol_of",
    "workload_entry",
    "workloads_of",
]
