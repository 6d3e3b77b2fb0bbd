"""The parent's side of the db cells: a user's `--pg-url` / `--redis-url` checked (loopback unless
`--allow-remote`, reachable, credentials that log in), and the data every operation verifies
seeded into the server before the first cell. Seeding touches only the workbench's own tables and
keys (`workbench_*`, `workbench:*`)."""

from __future__ import annotations

import urllib.parse
from dataclasses import replace
from typing import Any

from workbench.db_servers import pg_connect
from workbench.errors import MissingDependency, UsageError
from workbench.harness.target import check_target
from workbench.workloads.base import Target
from workbench.workloads.db import (
    ITEMS_TABLE,
    LOG_TABLE,
    REDIS_PREFIX,
    REDIS_SET_PREFIX,
    DbOptions,
    payload,
)

DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379}
SEED_BATCH = 2000


def _redis(url: str, timeout: float = 5.0) -> Any:
    try:
        import redis
    except ModuleNotFoundError:
        raise MissingDependency("redis", "the redis cells (pip install '.[db]')") from None
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def parse_db_url(url: str, option: str) -> tuple[Target, DbOptions]:
    """A postgresql:// or redis:// URL as a target and its credentials, or one clear line."""
    parts = urllib.parse.urlsplit(url)
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    want = "postgresql" if option == "--pg-url" else "redis"
    if scheme != want:
        raise UsageError(f"{option} {_shown(url)!r}: expected a {want}:// URL")
    if not parts.hostname:
        raise UsageError(f"{option} {_shown(url)!r} has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise UsageError(f"{option} {_shown(url)!r} has a bad port") from None
    database = parts.path.lstrip("/") or None
    if scheme == "redis" and database is not None and not database.isdigit():
        raise UsageError(f"{option} {_shown(url)!r}: a Redis database is a number")
    options = DbOptions(
        user=urllib.parse.unquote(parts.username) if parts.username else None,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        database=database,
    )
    return Target(scheme, parts.hostname, port, "/"), options


def _shown(url: str) -> str:
    """The URL with its password hidden: it goes into error lines and metadata."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def check_db_url(url: str, option: str, allow_remote: bool) -> tuple[Target, DbOptions]:
    """Parse, refuse non-loopback without --allow-remote, reach it, and log in once: a wrong
    password or a missing database is one line now, not an error per operation later."""
    target, options = parse_db_url(url, option)
    target = check_target(target, allow_remote)
    probe = _dsn(target, options)
    try:
        if target.scheme == "postgresql":
            with pg_connect(probe) as conn:
                conn.execute("SELECT 1")
        else:
            _redis(probe).ping()
    except MissingDependency:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{option} {_shown(url)}: {first}") from None
    return target, options


def _dsn(target: Target, options: DbOptions) -> str:
    from workbench.workloads.db import DbWorkload

    return DbWorkload(target, options).dsn()


def seed_postgres(target: Target, options: DbOptions) -> None:
    """The rows pg-select reads (exactly `keys` of them, payloads as `payload` makes them) and the
    table pg-insert appends to, emptied."""
    size = options.value_size
    with pg_connect(_dsn(target, options)) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {ITEMS_TABLE} (id integer PRIMARY KEY, "
            "payload text NOT NULL)"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} (id bigserial PRIMARY KEY, "
            "user_id integer NOT NULL, payload text NOT NULL)"
        )
        conn.execute(f"TRUNCATE {ITEMS_TABLE}, {LOG_TABLE}")
        # The same text `payload` makes, built by the server: head repeated, cut to size.
        head = "'item-' || (i - 1) || '-'"
        conn.execute(
            f"INSERT INTO {ITEMS_TABLE} SELECT i, left(repeat({head}, %s / length({head}) + 1), %s)"
            " FROM generate_series(1, %s) AS i",
            (size, size, options.keys),
        )
        conn.execute(f"ANALYZE {ITEMS_TABLE}")
        got = conn.execute(f"SELECT payload FROM {ITEMS_TABLE} WHERE id = 1").fetchone()
    if got is None or got[0] != payload(0, size):
        raise UsageError(f"seeding {ITEMS_TABLE} went wrong: id 1 holds {got!r:.60}")


def seed_redis(target: Target, options: DbOptions) -> None:
    """The keys redis-get reads, and none of the keys redis-set writes."""
    client = _redis(_dsn(target, options))
    size = options.value_size
    for start in range(0, options.keys, SEED_BATCH):
        end = min(options.keys, start + SEED_BATCH)
        client.mset({f"{REDIS_PREFIX}{i}": payload(i, size) for i in range(start, end)})
    stale = list(client.scan_iter(f"{REDIS_SET_PREFIX}*", count=1000))
    for start in range(0, len(stale), SEED_BATCH):
        client.delete(*stale[start : start + SEED_BATCH])
    client.close()


def with_address(target: Target, host: str, port: int) -> Target:
    """The target moved to another address (the delay proxy in front of the server)."""
    return replace(target, address=host, port=port)
