"""Clients by name and family. A client is one way to perform a workload's operation; it has one
implementation per family of models it fits, imported lazily."""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass

from workbench.clients.base import AsyncClient, BlockingClient
from workbench.errors import MissingDependency, UsageError


@dataclass(frozen=True)
class ClientEntry:
    name: str
    implementations: dict[str, str]  # family -> "module:Class"
    protocols: tuple[str, ...]  # workload protocols it can perform
    package: str | None  # what to pip install, if not the standard library
    summary: str
    skips: tuple[str, ...] = ()  # workloads of those protocols it does not do
    # "module:function" -> why this machine cannot run it, or None (checked before a run plans
    # its cells, so that a missing kernel feature skips them with the reason instead of failing)
    unavailable: str | None = None
    pooled: bool = False  # the users of a process share a pool of --pool-size connections


def _db_entries() -> tuple[ClientEntry, ...]:
    """The database drivers, each twice: one connection per user, and a shared pool (named
    `NAME-pool`, of `--pool-size` connections per process), the two ways they are used. Each
    module says itself what it misses (`PACKAGE_missing`)."""
    pg, rd = "workbench.clients.db_postgres:", "workbench.clients.db_redis:"
    drivers = (
        ("asyncpg", pg, {"asyncio": "AsyncpgClient"}, "postgres", "asyncpg", "asyncpg"),
        ("psycopg", pg, {"blocking": "PsycopgClient", "asyncio": "PsycopgAsyncClient"},
         "postgres", "psycopg", "psycopg 3: Connection / AsyncConnection"),
        ("redis", rd, {"blocking": "RedisClient", "asyncio": "RedisAsyncClient"},
         "redis", "redis", "redis-py: redis.Redis / redis.asyncio.Redis"),
    )  # fmt: skip
    out = []
    for name, module, classes, protocol, package, what in drivers:
        impls = {family: module + cls for family, cls in classes.items()}
        out.append(
            ClientEntry(
                name,
                impls,
                (protocol,),
                package,
                f"{what}, a connection per user",
                unavailable=f"{module}{package}_missing",
            )
        )
        pooled = "psycopg_pool" if name == "psycopg" else package
        out.append(
            ClientEntry(
                f"{name}-pool",
                impls,
                (protocol,),
                pooled,
                f"{what}, users share a pool of --pool-size per process",
                unavailable=f"{module}{pooled}_missing",
                pooled=True,
            )
        )
    return tuple(out)


_RAW = "workbench.clients.raw_"
_FILES = "workbench.clients.files_"
FILE_PREFIX = "file:"  # client names for users' client files: file:/path/to/client.py
CLIENTS: dict[str, ClientEntry] = {
    e.name: e
    for e in (
        ClientEntry(
            "raw",
            {
                "blocking": _RAW + "blocking:RawSocketClient",
                "asyncio": _RAW + "asyncio:RawProtocolClient",
                "trio": _RAW + "trio:TrioStreamClient",
                "anyio": _RAW + "anyio:AnyioStreamClient",
            },
            ("http", "https", "echo", "served"),
            None,
            "each family's own socket API (and TLS) with one shared sans-I/O framing",
        ),
        ClientEntry(
            "raw-buffered",
            {"asyncio": _RAW + "asyncio:BufferedProtocolClient"},
            ("http", "https", "echo"),
            None,
            "raw on asyncio.BufferedProtocol: recv_into one kept buffer, the cheapest read",
        ),
        ClientEntry(
            "aiohttp",
            {"asyncio": "workbench.clients.aiohttp_client:AiohttpClient"},
            ("http", "https"),
            "aiohttp",
            "one shared aiohttp.ClientSession",
        ),
        ClientEntry(
            "httpx",
            {
                "blocking": "workbench.clients.httpx_client:HttpxSyncClient",
                "asyncio": "workbench.clients.httpx_client:HttpxAsyncClient",
                "trio": "workbench.clients.httpx_client:HttpxAsyncClient",
                "anyio": "workbench.clients.httpx_client:HttpxAsyncClient",
            },
            ("http", "https"),
            "httpx",
            "one shared httpx.Client / httpx.AsyncClient",
        ),
        ClientEntry(
            "urllib3",
            {"blocking": "workbench.clients.urllib3_client:Urllib3Client"},
            ("http", "https"),
            "urllib3",
            "one shared urllib3.HTTPConnectionPool",
        ),
        ClientEntry(
            "http.client",
            {"blocking": "workbench.clients.stdlib_http_client:StdlibClient"},
            ("http", "https"),
            None,
            "the standard library's http.client, one connection per user",
        ),
        ClientEntry(
            "requests",
            {"blocking": "workbench.clients.requests_client:RequestsClient"},
            ("http", "https"),
            "requests",
            "one requests.Session per user",
        ),
        ClientEntry(
            "os",
            {"blocking": _FILES + "os:OsFileClient"},
            ("file",),
            None,
            "plain open/read/write in the user's own thread",
        ),
        ClientEntry(
            "aiofiles",
            {"asyncio": _FILES + "asyncio:AiofilesClient"},
            ("file",),
            "aiofiles",
            "aiofiles.open: each call hops to the loop's default executor",
        ),
        ClientEntry(
            "to_thread",
            {"asyncio": _FILES + "asyncio:ToThreadClient"},
            ("file",),
            None,
            "asyncio.to_thread around the whole blocking read or write: one hop per file",
        ),
        ClientEntry(
            "anyio-file",
            {"anyio": _FILES + "anyio:AnyioFileClient"},
            ("file",),
            "anyio",
            "anyio.open_file: each call hops to a worker thread",
        ),
        ClientEntry(
            "anyio-path",
            {"anyio": _FILES + "anyio:AnyioPathClient"},
            ("file",),
            "anyio",
            "anyio.Path.read_bytes / write_bytes: one hop per file",
            skips=("file-read-chunked",),
        ),
        ClientEntry(
            "trio-file",
            {"trio": _FILES + "trio:TrioFileClient"},
            ("file",),
            "trio",
            "trio.open_file: each call hops to a worker thread",
        ),
        ClientEntry(
            "trio-path",
            {"trio": _FILES + "trio:TrioPathClient"},
            ("file",),
            "trio",
            "trio.Path.read_bytes / write_bytes: one hop per file",
            skips=("file-read-chunked",),
        ),
        ClientEntry(
            "io_uring",
            dict.fromkeys(("asyncio", "trio", "anyio"), _FILES + "uring:UringFileClient"),
            ("file",),
            "liburing",
            "a ring the event loop drives itself (eventfd, linked open/read/close): no thread hop",
            unavailable="workbench.clients.uring_ring:unavailable",
        ),
        ClientEntry(
            "httpx-h2",
            # No blocking implementation: httpx's sync HTTP/2 client shared by threads sends
            # stream IDs out of order (measured: 50 threads, 100 resets in 15,000 requests, each a
            # conforming server's StreamIDTooLowError; pydantic/httpx2#1153 is the fix).
            {
                "asyncio": "workbench.clients.httpx_h2:HttpxH2AsyncClient",
                "trio": "workbench.clients.httpx_h2:HttpxH2AsyncClient",
                "anyio": "workbench.clients.httpx_h2:HttpxH2AsyncClient",
            },
            ("h2",),
            "h2",
            "httpx over HTTP/2 (h2c): one connection per 100 users, a stream per request; none "
            "on threads (httpx's sync HTTP/2 is not safe to share between threads)",
        ),
        ClientEntry(
            "wsproto",
            {
                "blocking": "workbench.clients.ws_raw:WsSocketClient",
                "asyncio": "workbench.clients.ws_raw:WsAsyncioClient",
                "trio": "workbench.clients.ws_raw:WsTrioClient",
                "anyio": "workbench.clients.ws_raw:WsAnyioClient",
            },
            ("ws",),
            "wsproto",
            "each family's own socket API with one shared sans-I/O WebSocket session (wsproto)",
        ),
        ClientEntry(
            "websockets",
            {
                "blocking": "workbench.clients.ws_websockets:WebsocketsSyncClient",
                "asyncio": "workbench.clients.ws_websockets:WebsocketsAsyncClient",
            },
            ("ws",),
            "websockets",
            "websockets' asyncio client, or its threading client on blocking models",
        ),
        ClientEntry(
            "trio-websocket",
            {"trio": "workbench.clients.ws_trio:TrioWebsocketClient"},
            ("ws",),
            "trio_websocket",
            "trio-websocket: a connection per user, each with its reader task in its own nursery",
        ),
        ClientEntry(
            "aiohttp-ws",
            {"asyncio": "workbench.clients.ws_aiohttp:AiohttpWsClient"},
            ("ws",),
            "aiohttp",
            "aiohttp's WebSocket client: one ClientSession, a ws_connect per user",
        ),
        *_db_entries(),
    )
}
CLIENT_NAMES = tuple(CLIENTS)


def client_entry(name: str) -> ClientEntry:
    try:
        return CLIENTS[name]
    except KeyError:
        raise UsageError(
            f"unknown client {name!r}; choose from {', '.join(CLIENT_NAMES)}"
        ) from None


def fits(client: str, family: str, workload: str) -> bool:
    """Whether `client` has an implementation for `family` that can perform `workload`."""
    from workbench.workloads import WORKLOAD_PROTOCOLS

    entry = client_entry(client)
    protocol = WORKLOAD_PROTOCOLS[workload]
    return (
        family in entry.implementations
        and protocol in entry.protocols
        and workload not in entry.skips
    )


@functools.cache
def unavailable(name: str) -> str | None:
    """Why client `name` cannot run on this machine at all (not: under this model), or None."""
    if name.startswith(FILE_PREFIX):
        return None
    hook = client_entry(name).unavailable
    if hook is None:
        return None
    module_name, _, attr = hook.partition(":")
    reason: str | None = getattr(importlib.import_module(module_name), attr)()
    return reason


def load_client(name: str, family: str) -> type[BlockingClient] | type[AsyncClient]:
    if name.startswith(FILE_PREFIX):  # a user's own client file (io --client-file)
        from workbench.clients.client_file import client_class

        return client_class(name.removeprefix(FILE_PREFIX), family)
    entry = client_entry(name)
    path = entry.implementations.get(family)
    if path is None:
        fit = ", ".join(entry.implementations)
        raise UsageError(f"client {name!r} has no {family} implementation (it fits: {fit})")
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise MissingDependency(entry.package or exc.name or "?", f"client {name!r}") from None
    cls: type[BlockingClient] | type[AsyncClient] = getattr(module, attr)
    return cls


__all__ = ["CLIENTS", "CLIENT_NAMES", "client_entry", "fits", "load_client", "unavailable"]
