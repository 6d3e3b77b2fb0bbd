"""The db cells: the same models against real PostgreSQL and Redis servers, through the drivers
users pick (asyncpg, psycopg, redis-py), a connection per user or a shared pool.

The servers are this run's own (started, seeded, pinned to the server CPU and removed like the mock
servers; see `workbench.db_servers`), or the user's `--pg-url` / `--redis-url`, checked first.
With `--db-latency D` a delay proxy sits in front of each server and delays each direction by D,
so a round trip gains 2D and Little's law gives a bound, N / (round trips x 2D), for each row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from workbench.cell_spec import CellSpec
from workbench.clients import CLIENTS, fits
from workbench.errors import UsageError
from workbench.harness.cell import Cell, CellRun
from workbench.harness.cell_kind_base import CellKind, Pinning, Prepared, require_open_files
from workbench.harness.settings import IoSettings
from workbench.models import DEFAULT_MODELS, model_class, runs
from workbench.results import Row
from workbench.server_process import ServerHandle
from workbench.workloads import WORKLOAD_PROTOCOLS, Target, WorkloadSettings, protocol_of
from workbench.workloads.db import DbOptions, PgInsert, PgSelect, RedisGet, RedisSet

ROUND_TRIPS = {w.name: w.round_trips for w in (PgSelect, PgInsert, RedisGet, RedisSet)}
# Round trips a client adds to every operation of its own. asyncpg's pool resets each connection
# it takes back (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`, one
# round trip: MagicStack/asyncpg#780); psycopg_pool's connections are in autocommit, so returning
# one sends nothing; redis-py's pools send nothing either.
CLIENT_TRIPS = {"asyncpg-pool": 1}
# What `io --only db` runs without --models/--libs: each driver on the models it is used with,
# a connection per user, and a pool where users reach for one (psycopg_pool on threads, asyncpg's
# pool on uvloop). gevent is in: it is what many sync-driver users run under.
DEFAULT_DB_CELLS = (
    ("asyncio", "asyncpg"), ("uvloop", "asyncpg"), ("uvloop", "asyncpg-pool"),
    ("asyncio", "psycopg"), ("asyncio", "psycopg-pool"),
    ("threads", "psycopg"), ("threads", "psycopg-pool"), ("processes", "psycopg"),
    ("gevent", "psycopg"),
    ("asyncio", "redis"), ("uvloop", "redis"), ("threads", "redis"), ("threads", "redis-pool"),
    ("processes", "redis"), ("gevent", "redis"),
)  # fmt: skip


def round_trips(workload: str, client: str) -> int:
    """Round trips one operation takes: the workload's, and any its client adds."""
    return ROUND_TRIPS[workload] + CLIENT_TRIPS.get(client, 0)


def pool_size_of(client: str, settings: IoSettings) -> int:
    entry = CLIENTS.get(client)  # a user's client file is no pool of ours
    return settings.pool_size if entry is not None and entry.pooled else 0


class DbCells(CellKind):
    name = "db"
    metadata_key = "databases"

    def validate(self, settings: IoSettings) -> None:
        from workbench.harness.db_data import parse_db_url

        if settings.pool_size < 1:
            raise UsageError("--pool-size must be at least 1")
        if settings.db_latency < 0:
            raise UsageError("--db-latency must be >= 0")
        if settings.pg_url is not None:
            parse_db_url(settings.pg_url, "--pg-url")
        if settings.redis_url is not None:
            parse_db_url(settings.redis_url, "--redis-url")
        require_open_files(settings.clients)

    def plan(self, settings: IoSettings, workload: str) -> list[Cell]:
        default_models = settings.models == list(DEFAULT_MODELS)
        if settings.libs is None:
            pairs = [
                (m, lib) for m, lib in DEFAULT_DB_CELLS if default_models or m in settings.models
            ]
        else:
            pairs = [(m, lib) for m in settings.models for lib in settings.libs]
        return [
            Cell(m, lib, workload)
            for m, lib in pairs
            if runs(m, workload) and fits(lib, model_class(m).family, workload)
        ]

    def client_cpus(self, pinning: Pinning) -> set[int] | None:
        return pinning.client_cpus

    def prepare(
        self,
        settings: IoSettings,
        cells: list[Cell],
        pinning: Pinning,
        stack: contextlib.ExitStack,
        running: dict[str, ServerHandle] | None,
    ) -> Prepared:
        protocols = sorted({WORKLOAD_PROTOCOLS[c.workload] for c in cells})
        return _Databases(settings, protocols, pinning, stack)

    def complete_row(self, row: Row, cell: Cell, run: CellRun, settings: IoSettings) -> None:
        row["work"] = None
        pool = pool_size_of(cell.client, settings)
        row["connections"] = f"a pool of {pool} per process" if pool else "one per user"
        row["db_latency_ms"] = round(settings.db_latency * 1000, 3)
        trips = round_trips(cell.workload, cell.client)
        row["round_trips"] = trips
        if settings.db_latency > 0:
            users = row["clients"] if not pool else min(row["clients"], pool * row["processes"])
            bound = users / (trips * 2 * settings.db_latency)
            row["bound_ops_per_s"] = round(bound, 2)
            row["bound_share"] = round(row["ops_per_s"] / bound, 4)


class _Databases(Prepared):
    """Each protocol's server (ours or the user's), seeded, behind a delay proxy if asked."""

    def __init__(
        self,
        settings: IoSettings,
        protocols: list[str],
        pinning: Pinning,
        stack: contextlib.ExitStack,
    ) -> None:
        from workbench import db_servers
        from workbench.harness import db_data

        self.settings = settings
        self.targets: dict[str, tuple[Target, DbOptions, ServerHandle | None]] = {}
        self.metadata: dict[str, Any] = {}
        cpus = pinning.server_cpus
        connections = max(100, settings.clients + settings.pool_size * (settings.procs or 2) + 20)
        base = DbOptions(keys=settings.db_keys, value_size=settings.value_size)
        for protocol in protocols:
            url = settings.pg_url if protocol == "postgres" else settings.redis_url
            handle: db_servers.DbServerHandle | None = None
            if url is not None:
                option = "--pg-url" if protocol == "postgres" else "--redis-url"
                target, given = db_data.check_db_url(url, option, settings.allow_remote)
                options = replace(
                    base, user=given.user, password=given.password, database=given.database
                )
            else:
                run = db_servers.run_postgres if protocol == "postgres" else db_servers.run_redis
                handle = stack.enter_context(run(cpus, connections))
                scheme = protocol_of_scheme(protocol)
                target = Target(scheme, handle.host, handle.port, "/", address=handle.host)
                options = (
                    replace(
                        base,
                        user=db_servers.PG_USER,
                        password=handle.password,
                        database=db_servers.PG_DATABASE,
                    )
                    if protocol == "postgres"
                    else base
                )
            (db_data.seed_postgres if protocol == "postgres" else db_data.seed_redis)(
                target, options
            )
            shown: dict[str, Any] = {"url": _shown_target(target), "external": handle is None}
            if handle is not None:
                shown.update(binary=handle.binary, version=handle.version)
            if settings.db_latency > 0:
                proxy = stack.enter_context(
                    db_servers.run_delay_proxy(
                        target.connect_host, target.port, settings.db_latency, cpus
                    )
                )
                target = db_data.with_address(target, proxy.host, proxy.port)
                if handle is not None:  # the proxy's CPU and timers count as the server's
                    handle.helpers.append(proxy.process)
                    handle.timer_stats, handle.timer_delay_s = (
                        proxy.timer_stats,
                        proxy.timer_delay_s,
                    )
                shown["delay_proxy"] = {
                    "url": proxy.url,
                    "each_direction_ms": round(settings.db_latency * 1000, 3),
                }
            self.targets[protocol] = (target, options, handle)
            self.metadata[protocol] = shown

    @contextlib.contextmanager
    def cell_spec(
        self, cell: Cell, common: dict[str, Any]
    ) -> Iterator[tuple[CellSpec, ServerHandle | None]]:
        target, options, handle = self.targets[WORKLOAD_PROTOCOLS[cell.workload]]
        options = replace(options, pool_size=pool_size_of(cell.client, self.settings))
        workload = WorkloadSettings(cell.workload, target, db=options.as_dict())
        yield CellSpec(workload=workload, **common), handle


def protocol_of_scheme(protocol: str) -> str:
    from workbench.workloads import PROTOCOLS

    return PROTOCOLS[protocol].scheme


def _shown_target(target: Target) -> str:
    return f"{target.scheme}://{target.host}:{target.port}/"


__all__ = ["DEFAULT_DB_CELLS", "DbCells", "pool_size_of", "protocol_of", "round_trips"]
