"""PostgreSQL drivers as clients: asyncpg (asyncio family: asyncio and uvloop), psycopg 3 async
(asyncio family) and sync (blocking family: sync, threads, processes, gevent). Each asks what the
workload says and hands the answer to the workload's `check`.

A user holds one connection of its own, or, with `--pool-size N`, borrows one for each operation
from a pool of N per process that all its users share (asyncpg's `create_pool`, psycopg_pool's
`ConnectionPool` / `AsyncConnectionPool`), as each library is meant to be used. pg-insert runs
BEGIN, INSERT ... RETURNING and COMMIT as an explicit transaction on every driver; a SELECT runs
outside any transaction (psycopg's connections are in autocommit, as asyncpg's are).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from abc import abstractmethod
from collections.abc import Iterator
from typing import Any

from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
    ClientContext,
    package_missing,
)
from workbench.workloads.db import DbWorkload, PgInsert, PgSelect


def asyncpg_missing() -> str | None:
    return package_missing("asyncpg", "asyncpg", "db")


def psycopg_missing() -> str | None:
    return package_missing("psycopg", "psycopg", "db")


def psycopg_pool_missing() -> str | None:
    return psycopg_missing() or package_missing("psycopg_pool", "psycopg_pool", "db")


def _psycopg_sql(sql: str) -> str:
    """The workload's $n placeholders as psycopg's %s."""
    for n in range(9, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


class _Users:
    """Hands each new user its own index: the keys it asks for start at a place of their own."""

    def __init__(self) -> None:
        self._next = itertools.count()

    def keys(self, workload: DbWorkload) -> Iterator[int]:
        return workload.keys(next(self._next))


# --- the async drivers: asyncpg and psycopg's AsyncConnection ------------------------------------


class _AsyncDriver(AsyncClient):
    """What the two async drivers share: the workload, the keys per user, the optional pool, and
    one operation's shape (a connection of the user's own, or one borrowed from the pool, all of
    it inside --timeout). Each driver says how it connects, pools and asks."""

    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, DbWorkload)
        self.workload: DbWorkload = ctx.workload
        self.pool: Any = None
        self.users = _Users()

    async def start(self) -> None:
        size = self.workload.options.pool_size
        if size:
            self.pool = await self.open_pool(size)

    @abstractmethod
    async def open_pool(self, size: int) -> Any: ...

    @abstractmethod
    async def connect(self) -> Any: ...

    @abstractmethod
    def borrow(self) -> contextlib.AbstractAsyncContextManager[Any]: ...

    @abstractmethod
    async def run(self, conn: Any, key: int) -> int:
        """One verified operation of the workload on `conn`."""

    @abstractmethod
    async def close_conn(self, conn: Any) -> None: ...

    def connection(self) -> AsyncConnection:
        return _AsyncDriverConnection(self)

    async def aclose(self) -> None:
        if self.pool is not None:
            await self.pool.close()


class _AsyncDriverConnection(AsyncConnection):
    def __init__(self, client: _AsyncDriver) -> None:
        self.client = client
        self.keys = client.users.keys(client.workload)
        self.conn: Any = None

    async def op(self) -> int:
        c = self.client
        async with asyncio.timeout(c.ctx.timeout):
            if c.pool is not None:
                async with c.borrow() as conn:
                    return await c.run(conn, next(self.keys))
            if self.conn is None:
                self.conn = await c.connect()
            return await c.run(self.conn, next(self.keys))

    async def reset(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            await self.client.close_conn(conn)


class AsyncpgClient(_AsyncDriver):
    async def open_pool(self, size: int) -> Any:
        import asyncpg

        return await asyncpg.create_pool(
            self.workload.dsn(), min_size=size, max_size=size, timeout=self.ctx.timeout
        )

    async def connect(self) -> Any:
        import asyncpg

        return await asyncpg.connect(self.workload.dsn())

    def borrow(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.pool.acquire()  # type: ignore[no-any-return]

    async def run(self, conn: Any, key: int) -> int:
        w = self.workload
        if isinstance(w, PgSelect):
            rows = await conn.fetch(w.sql, w.param(key))
            return w.check(key, [tuple(r) for r in rows])
        assert isinstance(w, PgInsert)
        async with conn.transaction():
            rows = await conn.fetch(w.sql, key, w.value(key))
        return w.check([tuple(r) for r in rows])

    async def close_conn(self, conn: Any) -> None:
        conn.terminate()  # after a timeout or an error its state is unknown: no goodbye


class PsycopgAsyncClient(_AsyncDriver):
    async def open_pool(self, size: int) -> Any:
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            self.workload.dsn(),
            min_size=size,
            max_size=size,
            timeout=self.ctx.timeout,
            open=False,
            kwargs={"autocommit": True},
        )
        await pool.open(wait=True, timeout=self.ctx.timeout)
        return pool

    async def connect(self) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(self.workload.dsn(), autocommit=True)

    def borrow(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.pool.connection()  # type: ignore[no-any-return]

    async def run(self, conn: Any, key: int) -> int:
        w = self.workload
        if isinstance(w, PgSelect):
            cur = await conn.execute(_psycopg_sql(w.sql), (w.param(key),), prepare=True)
            return w.check(key, [tuple(r) for r in await cur.fetchall()])
        assert isinstance(w, PgInsert)
        async with conn.transaction():
            cur = await conn.execute(_psycopg_sql(w.sql), (key, w.value(key)), prepare=True)
            rows = await cur.fetchall()
        return w.check([tuple(r) for r in rows])

    async def close_conn(self, conn: Any) -> None:
        await conn.close()


# --- psycopg, blocking ------------------------------------------------------------------------


class PsycopgClient(BlockingClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, DbWorkload)
        self.workload: DbWorkload = ctx.workload
        self.users = _Users()
        self.pool: Any = None
        size = self.workload.options.pool_size
        if size:
            from psycopg_pool import ConnectionPool

            self.pool = ConnectionPool(
                self.workload.dsn(),
                min_size=size,
                max_size=size,
                timeout=ctx.timeout,
                kwargs=_sync_options(ctx),
                open=True,
            )
            self.pool.wait(timeout=ctx.timeout)

        self.deadlines = Deadlines(ctx.timeout)

    def connection(self) -> BlockingConnection:
        return PsycopgConnection(self)

    def close(self) -> None:
        self.deadlines.close()
        if self.pool is not None:
            self.pool.close()


class Deadlines:
    """One deadline per operation for a blocking driver: a watchdog thread cancels any query
    still running --timeout after its operation began (psycopg's cancel_safe, a cancel request on
    a connection of its own), so the operation fails with QueryCanceled as an async one would
    with its timeout. The server's statement_timeout stays as a second bound."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._running: dict[int, tuple[Any, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def bound(self, conn: Any) -> Iterator[None]:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._watch, daemon=True)
                    self._thread.start()
        key = threading.get_ident()
        self._running[key] = (conn, time.monotonic() + self.timeout)
        try:
            yield
        finally:
            self._running.pop(key, None)

    def _watch(self) -> None:
        tick = min(0.05, self.timeout / 10)
        while not self._stop.wait(tick):
            now = time.monotonic()
            for key, (conn, due) in list(self._running.items()):
                if due <= now and self._running.pop(key, None) is not None:
                    with contextlib.suppress(Exception):  # a broken connection fails anyway
                        conn.cancel_safe(timeout=self.timeout)

    def close(self) -> None:
        self._stop.set()


def _sync_options(ctx: ClientContext) -> dict[str, Any]:
    """A blocking driver cannot be interrupted mid-wait by the harness: the server ends a query
    that outlasts --timeout, and the connection attempt gives up at it."""
    ms = max(1, int(ctx.timeout * 1000))
    return {
        "connect_timeout": max(1, round(ctx.timeout)),
        "autocommit": True,
        "options": f"-c statement_timeout={ms}",
    }


class PsycopgConnection(BlockingConnection):
    def __init__(self, client: PsycopgClient) -> None:
        self.client = client
        self.keys = client.users.keys(client.workload)
        self.conn: Any = None

    def op(self) -> int:
        if self.client.pool is not None:
            with self.client.pool.connection() as conn, self.client.deadlines.bound(conn):
                return self._run(conn)
        if self.conn is None:
            import psycopg

            self.conn = psycopg.connect(
                self.client.workload.dsn(), **_sync_options(self.client.ctx)
            )
        with self.client.deadlines.bound(self.conn):
            return self._run(self.conn)

    def _run(self, conn: Any) -> int:
        w, key = self.client.workload, next(self.keys)
        if isinstance(w, PgSelect):
            rows = conn.execute(_psycopg_sql(w.sql), (w.param(key),), prepare=True).fetchall()
            return w.check(key, [tuple(r) for r in rows])
        assert isinstance(w, PgInsert)
        with conn.transaction():
            rows = conn.execute(_psycopg_sql(w.sql), (key, w.value(key)), prepare=True).fetchall()
        return w.check([tuple(r) for r in rows])

    def reset(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()
