"""The database workloads: one-row primary-key SELECT, INSERT + COMMIT, Redis GET and SET.

What each operation asks and what its answer must be is decided here, once, and every driver
(asyncpg, psycopg, redis-py, on any model) asks the same and checks the same: the row a SELECT
returns must be the row seeded for that key, an INSERT must return a new id, a GET must return the
value seeded for its key byte for byte, a SET must be acknowledged. There is no sans-I/O exchange:
the drivers speak the wire protocols, and the workbench measures them as released.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.workloads.base import Exchange, Target, Workload, WorkloadError

if TYPE_CHECKING:
    from workbench.workloads import WorkloadSettings

ITEMS_TABLE = "workbench_items"  # seeded: id 1..keys, payload = payload(id)
LOG_TABLE = "workbench_log"  # pg-insert appends here
REDIS_PREFIX = "workbench:item:"  # seeded: PREFIX + i -> payload(i), i in 0..keys-1
REDIS_SET_PREFIX = "workbench:set:"


def payload(key: int, size: int) -> str:
    """The value seeded for `key`: deterministic, `size` characters, different for every key."""
    head = f"item-{key}-"
    return (head * (size // len(head) + 1))[:size]


@dataclass(frozen=True)
class DbOptions:
    """What travels to the worker besides the target: credentials, the data's shape, the pool."""

    user: str | None = None
    password: str | None = None
    database: str | None = None  # PostgreSQL's database, or Redis's db number as a string
    keys: int = 10_000  # seeded rows / keys
    value_size: int = 64  # payload characters
    pool_size: int = 0  # 0: one connection per user; else a shared pool of this many per process

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class DbWorkload(Workload):
    """What the database workloads share: the target, the credentials, the keys to ask for."""

    protocol: ClassVar[str]
    round_trips: ClassVar[int] = 1  # round trips one operation takes (for Little's law)

    def __init__(self, target: Target, options: DbOptions) -> None:
        super().__init__(target)
        self.options = options

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> DbWorkload:
        return cls(settings.target, DbOptions(**(settings.db or {})))

    def exchange(self) -> Exchange:
        raise TypeError(f"{self.name} is spoken by database drivers, not the raw client")

    def keys(self, user: int) -> Iterator[int]:
        """The keys one user asks for, in turn: spread over the whole set, different per user."""
        n = self.options.keys
        step = 7919 % n or 1  # a prime stride visits every key before repeating
        return (((user * 104729) + i * step) % n for i in itertools.count())

    def dsn(self) -> str:
        """The URL a driver connects with (the checked address, never a second resolution)."""
        o = self.options
        auth = ""
        if o.user:
            from urllib.parse import quote

            auth = quote(o.user, safe="") + (f":{quote(o.password, safe='')}" if o.password else "")
            auth += "@"
        host = self.target.connect_host
        host = f"[{host}]" if ":" in host else host
        return f"{self.target.scheme}://{auth}{host}:{self.target.port}/{o.database or ''}"

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        pool = self.options.pool_size
        d.update(
            keys=self.options.keys,
            value_bytes=self.options.value_size,
            connections=f"a pool of {pool}" if pool else "one per user",
            round_trips=self.round_trips,
        )
        return d


class PgSelect(DbWorkload):
    name = "pg-select"
    protocol = "postgres"
    sql = f"SELECT id, payload FROM {ITEMS_TABLE} WHERE id = $1"

    def check(self, key: int, rows: list[tuple[Any, ...]]) -> int:
        """The rows a SELECT of `key` returned; the bytes of the payload when they are right."""
        if len(rows) != 1:
            raise WorkloadError("wrong-rows", f"{len(rows)} rows for id {key}, expected 1")
        got_id, got = rows[0]
        want = payload(key, self.options.value_size)
        if got_id != key + 1 or got != want:
            raise WorkloadError("wrong-row", f"id {key} came back as {got_id}, {got[:20]!r}")
        return len(want)

    def param(self, key: int) -> int:
        return key + 1  # ids start at 1


class PgInsert(DbWorkload):
    name = "pg-insert"
    protocol = "postgres"
    round_trips = 3  # BEGIN, the INSERT, COMMIT
    sql = f"INSERT INTO {LOG_TABLE} (user_id, payload) VALUES ($1, $2) RETURNING id"

    def check(self, rows: list[tuple[Any, ...]]) -> int:
        if len(rows) != 1 or not isinstance(rows[0][0], int):
            raise WorkloadError("wrong-rows", f"INSERT ... RETURNING gave {rows!r:.60}")
        return self.options.value_size

    def value(self, key: int) -> str:
        return payload(key, self.options.value_size)


class RedisGet(DbWorkload):
    name = "redis-get"
    protocol = "redis"

    def key(self, key: int) -> str:
        return f"{REDIS_PREFIX}{key}"

    def check(self, key: int, value: bytes | None) -> int:
        want = payload(key, self.options.value_size).encode()
        if value != want:
            shown = None if value is None else value[:20]
            raise WorkloadError("wrong-value", f"GET {self.key(key)} gave {shown!r}")
        return len(want)


class RedisSet(DbWorkload):
    name = "redis-set"
    protocol = "redis"

    def key(self, key: int) -> str:
        return f"{REDIS_SET_PREFIX}{key}"

    def value(self, key: int) -> bytes:
        return payload(key, self.options.value_size).encode()

    def check(self, answer: object) -> int:
        if answer is not True and answer != b"OK":
            raise WorkloadError("not-acknowledged", f"SET answered {answer!r:.40}")
        return self.options.value_size
