"""redis-py as a client: `redis.Redis` on the blocking family (sync, threads, processes, gevent)
and `redis.asyncio.Redis` on the asyncio family (asyncio, uvloop). A user holds a client with one
connection of its own (`single_connection_client`), or, with `--pool-size N`, all the users of a
process share one client over a blocking pool of N connections, as redis-py is meant to be shared.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
    ClientContext,
    package_missing,
)
from workbench.workloads.db import DbWorkload, RedisGet, RedisSet


def redis_missing() -> str | None:
    return package_missing("redis", "redis", "db")


def _kwargs(workload: DbWorkload, timeout: float) -> dict[str, Any]:
    o, t = workload.options, workload.target
    return {
        "host": t.connect_host,
        "port": t.port,
        "db": int(o.database or 0),
        "username": o.user,
        "password": o.password,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }


class RedisClient(BlockingClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        import redis

        assert isinstance(ctx.workload, DbWorkload)
        self.workload: DbWorkload = ctx.workload
        self.users = itertools.count()
        self.shared: Any = None
        size = self.workload.options.pool_size
        if size:
            kwargs = _kwargs(self.workload, ctx.timeout)
            pool = redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
                max_connections=size, timeout=ctx.timeout, **kwargs
            )
            self.shared = redis.Redis(connection_pool=pool)

    def connection(self) -> BlockingConnection:
        return RedisConnection(self)

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
            self.shared.connection_pool.disconnect()


class RedisConnection(BlockingConnection):
    def __init__(self, client: RedisClient) -> None:
        self.client = client
        self.keys = client.workload.keys(next(client.users))
        self.own: Any = None

    def op(self) -> int:
        c = self.client
        r = c.shared
        if r is None:
            if self.own is None:
                import redis

                self.own = redis.Redis(
                    single_connection_client=True, **_kwargs(c.workload, c.ctx.timeout)
                )
            r = self.own
        w, key = c.workload, next(self.keys)
        if isinstance(w, RedisGet):
            return w.check(key, r.get(w.key(key)))
        assert isinstance(w, RedisSet)
        return w.check(r.set(w.key(key), w.value(key)))

    def reset(self) -> None:
        own, self.own = self.own, None
        if own is not None:
            own.close()


class RedisAsyncClient(AsyncClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, DbWorkload)
        self.workload: DbWorkload = ctx.workload
        self.users = itertools.count()
        self.shared: Any = None

    async def start(self) -> None:
        import redis.asyncio as aredis

        size = self.workload.options.pool_size
        if size:
            kwargs = _kwargs(self.workload, self.ctx.timeout)
            pool = aredis.BlockingConnectionPool(
                max_connections=size, timeout=self.ctx.timeout, **kwargs
            )
            self.shared = aredis.Redis(connection_pool=pool)

    def connection(self) -> AsyncConnection:
        return RedisAsyncConnection(self)

    async def aclose(self) -> None:
        if self.shared is not None:
            await self.shared.aclose()
            await self.shared.connection_pool.disconnect()


class RedisAsyncConnection(AsyncConnection):
    def __init__(self, client: RedisAsyncClient) -> None:
        self.client = client
        self.keys = client.workload.keys(next(client.users))
        self.own: Any = None

    async def op(self) -> int:
        # One deadline for the whole operation (a pooled connection, the command, its answer),
        # as the HTTP clients have: socket_timeout alone bounds each read, not the operation.
        async with asyncio.timeout(self.client.ctx.timeout):
            return await self._op()

    async def _op(self) -> int:
        c = self.client
        r = c.shared
        if r is None:
            if self.own is None:
                import redis.asyncio as aredis

                self.own = aredis.Redis(
                    single_connection_client=True, **_kwargs(c.workload, c.ctx.timeout)
                )
            r = self.own
        w, key = c.workload, next(self.keys)
        if isinstance(w, RedisGet):
            return w.check(key, await r.get(w.key(key)))
        assert isinstance(w, RedisSet)
        return w.check(await r.set(w.key(key), w.value(key)))

    async def reset(self) -> None:
        own, self.own = self.own, None
        if own is not None:
            await own.aclose()
