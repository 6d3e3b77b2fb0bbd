"""The served service, once as ASGI (`asgi`) and once as WSGI (`wsgi`), as plain callables, and the
same behind Starlette (`starlette_app`) and Flask (`flask_app`), for what users deploy.

What a request does is one scenario, read from the environment when the module is imported, so
every server starts the same app the same way (`python -m uvicorn workbench.served.apps:asgi`):

- `WORKBENCH_SCENARIO`:
  - `hello`: a small fixed JSON body, the server's own cost per request;
  - `downstream`: GET `WORKBENCH_DOWNSTREAM` (the mock HTTP server, which waits before it answers)
    and answer how many bytes came back, through the client each model would use: a pooled
    aiohttp session on asyncio (httpx on trio), a urllib3 pool per thread on WSGI;
  - `work`: `downstream`, then `WORKBENCH_WORK_US` µs of pure-Python work (`workbench.burn`);
  - `blocking`: an async handler that calls the blocking client on the event loop (the mistake);
  - `offloaded`: the same call moved to a thread (`anyio.to_thread.run_sync`).
- `WORKBENCH_FAIL_EVERY=N`: every Nth request raises, so the server answers 500.
- `WORKBENCH_LAG_FILE`: where an async app records its event loop's lag (a task that sleeps
  `LAG_PERIOD_S` and counts how late it woke, in `servers.timers`' histogram file).

`GET /__workbench__` answers the process's facts (interpreter, GIL) and is never counted.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import sysconfig
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from workbench.burn import burn, calibrate

SCENARIOS = ("hello", "downstream", "work", "blocking", "offloaded")
ASYNC_ONLY = ("blocking", "offloaded")  # a WSGI handler has no loop to block
INFO_PATH = "/__workbench__"
HELLO = json.dumps({"message": "hello, world"}).encode()
LAG_PERIOD_S = 0.005

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Service:
    """The scenario and what it needs, read once from the environment."""

    def __init__(self, env: MutableMapping[str, str] | os._Environ[str] = os.environ) -> None:
        self.scenario = env.get("WORKBENCH_SCENARIO", "hello")
        if self.scenario not in SCENARIOS:
            raise ValueError(f"WORKBENCH_SCENARIO={self.scenario!r}: one of {SCENARIOS}")
        self.downstream = env.get("WORKBENCH_DOWNSTREAM", "")
        if self.scenario != "hello" and not self.downstream:
            raise ValueError(f"scenario {self.scenario} needs WORKBENCH_DOWNSTREAM")
        work_us = float(env.get("WORKBENCH_WORK_US", "0") or 0)
        # Calibrated here, under this interpreter: "200 µs of pure Python" on its own build.
        self.work_n = calibrate(burn, work_us / 1e6) if self.scenario == "work" and work_us else 0
        self.fail_every = int(env.get("WORKBENCH_FAIL_EVERY", "0") or 0)
        self.lag_file = env.get("WORKBENCH_LAG_FILE") or None
        self._count = itertools.count(1)
        self._local = threading.local()

    def maybe_fail(self) -> None:
        if self.fail_every and next(self._count) % self.fail_every == 0:
            raise RuntimeError("injected failure (WORKBENCH_FAIL_EVERY)")

    def work(self) -> None:
        if self.work_n:
            burn(self.work_n)

    def body_for(self, nbytes: int) -> bytes:
        return b'{"downstream_bytes": %d}' % nbytes

    def blocking_get(self) -> int:
        """The downstream call with a blocking client: a urllib3 pool of this thread's own."""
        pool = getattr(self._local, "pool", None)
        if pool is None:
            import urllib3

            pool = urllib3.connection_from_url(self.downstream, maxsize=1, retries=False)
            self._local.pool = pool
        resp = pool.request("GET", "/", preload_content=True)
        if resp.status != 200:
            raise RuntimeError(f"downstream answered {resp.status}")
        return len(resp.data)

    def sync_body(self) -> bytes:
        """A WSGI request's answer (and a blocking one in an async handler)."""
        self.maybe_fail()
        if self.scenario == "hello":
            return HELLO
        n = self.blocking_get()
        self.work()
        return self.body_for(n)


# The servers whose versions a worker reports: its own interpreter's, which is not always the
# workbench's (--python 3.13t runs the servers from another environment).
DISTRIBUTIONS = ("uvicorn", "hypercorn", "granian", "gunicorn", "waitress")


def version_of(distribution: str) -> str | None:
    """An installed distribution's version here (None: not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def info() -> bytes:
    """This process's facts: which interpreter, and whether its GIL is on (None: a GIL build)."""
    is_gil = getattr(sys, "_is_gil_enabled", None)
    return json.dumps(
        {
            "pid": os.getpid(),
            "python": sys.version.split()[0],
            "executable": sys.executable,
            "gil_enabled": None if is_gil is None else is_gil(),
            "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
            "threads": threading.active_count(),
            "versions": {d: version_of(d) for d in DISTRIBUTIONS},
        }
    ).encode()


class AsyncSide:
    """What the async handlers share in one process: the pooled client, made on first use in the
    loop that uses it, and the lag probe."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._client: Any = None
        self._library = ""
        self.probing = False
        self.last_tick = 0.0

    async def get(self) -> int:
        import sniffio

        library = sniffio.current_async_library()
        if self._client is None or library != self._library:
            self._library = library
            if library == "asyncio":
                import aiohttp

                # limit=0: no cap of the session's own, so the server's concurrency is the limit.
                self._client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            else:
                import httpx

                limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
                self._client = httpx.AsyncClient(limits=limits)
        if library == "asyncio":
            async with self._client.get(self.service.downstream) as resp:
                data = await resp.read()
                status = resp.status
        else:
            resp = await self._client.get(self.service.downstream)
            data, status = resp.content, resp.status_code
        if status != 200:
            raise RuntimeError(f"downstream answered {status}")
        return len(data)

    async def body(self) -> bytes:
        service = self.service
        service.maybe_fail()
        scenario = service.scenario
        if scenario == "hello":
            return HELLO
        if scenario == "blocking":
            n = service.blocking_get()  # on the loop's own thread: every other request waits
        elif scenario == "offloaded":
            import anyio.to_thread

            n = await anyio.to_thread.run_sync(service.blocking_get)
        else:
            n = await self.get()
        service.work()
        return service.body_for(n)

    async def probe_lag(self) -> None:
        """Tick every LAG_PERIOD_S on the loop, while a watchdog thread reads, every
        LAG_PERIOD_S, how long ago the last tick was beyond its period. Counting late wake-ups
        instead would miss what matters: a loop blocked for seconds wakes once, late once, and
        a window may hold no wake-up at all. Sampled on the clock, the lag is what a request
        arriving at a random moment would wait before the loop even saw it."""
        if self.service.lag_file is None:
            return
        import anyio

        from servers.timers import Lateness

        lateness = Lateness(self.service.lag_file)
        self.last_tick = time.monotonic()

        def watch() -> None:
            while True:
                time.sleep(LAG_PERIOD_S)
                lateness.add(time.monotonic() - self.last_tick - LAG_PERIOD_S)

        threading.Thread(target=watch, name="workbench-lag", daemon=True).start()
        while True:
            await anyio.sleep(LAG_PERIOD_S)
            self.last_tick = time.monotonic()


SERVICE = Service()
ASYNC = AsyncSide(SERVICE)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Start the lag probe for the process's life (servers run lifespan once per worker)."""
    import anyio

    message = await receive()
    if message["type"] != "lifespan.startup":
        return
    async with anyio.create_task_group() as tg:
        ASYNC.probing = True
        tg.start_soon(ASYNC.probe_lag)
        await send({"type": "lifespan.startup.complete"})
        while (await receive())["type"] != "lifespan.shutdown":
            pass
        tg.cancel_scope.cancel()
    await send({"type": "lifespan.shutdown.complete"})


async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """The service as a plain ASGI 3 callable."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["path"] == INFO_PATH:
        body = info()
    else:
        body = await ASYNC.body()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The service as a plain WSGI callable."""
    body = info() if environ.get("PATH_INFO") == INFO_PATH else SERVICE.sync_body()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def root(request: Request) -> Response:
        return Response(await ASYNC.body(), media_type="application/json")

    async def facts(request: Request) -> Response:
        return Response(info(), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        import anyio

        async with anyio.create_task_group() as tg:
            tg.start_soon(ASYNC.probe_lag)
            yield
            tg.cancel_scope.cancel()

    return Starlette(routes=[Route("/", root), Route(INFO_PATH, facts)], lifespan=lifespan)


def _flask() -> Any:
    from flask import Flask, Response

    flask = Flask("workbench-served")

    @flask.get("/")
    def root() -> Response:
        return Response(SERVICE.sync_body(), mimetype="application/json")

    @flask.get(INFO_PATH)
    def facts() -> Response:
        return Response(info(), mimetype="application/json")

    return flask


def __getattr__(name: str) -> Any:
    # The framework apps are built only when a server asks for them: the plain ones import
    # neither framework.
    if name == "starlette_app":
        return _starlette()
    if name == "flask_app":
        return _flask()
    raise AttributeError(name)
