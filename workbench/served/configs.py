"""Every server configuration `servers` runs: how users start it (its command line), which app
interface it serves, and its concurrency limit.

A configuration's name is `SERVER-VARIANT` (`uvicorn-uvloop`, `gunicorn-gthread`); `--servers`
takes either whole names or a server's name, which selects all of its configurations. The
framework rows (`+starlette`, `+flask`) are the same servers with the app users deploy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.errors import UsageError

APPS = {
    "asgi": "workbench.served.apps:asgi",
    "wsgi": "workbench.served.apps:wsgi",
    "starlette": "workbench.served.apps:starlette_app",
    "flask": "workbench.served.apps:flask_app",
}
# What each app imports beyond the server: the downstream clients, and the framework.
APP_MODULES = {
    "asgi": ("aiohttp", "anyio"),
    "wsgi": ("urllib3",),
    "starlette": ("aiohttp", "anyio", "starlette"),
    "flask": ("urllib3", "flask"),
}
# The pip extra that installs every server (pyproject.toml).
EXTRA = "servers"


@dataclass(frozen=True)
class ServerConfig:
    name: str
    server: str  # the PyPI distribution, whose version each row records
    interface: str  # "asgi" or "wsgi"
    family: str  # "async" (an event loop per worker) or "threads" (a thread per request)
    modules: tuple[str, ...]  # what must import for it to run (the server, its loop, its parser)
    # Modules that switch a free-threaded interpreter's GIL back on when imported (C extensions
    # without free-threading support): a row that needs them cannot run with the GIL off.
    gil_modules: tuple[str, ...] = ()
    app: str = ""  # "": the plain callable of its interface
    summary: str = ""

    @property
    def app_name(self) -> str:
        return self.app or self.interface

    @property
    def imports(self) -> list[str]:
        """What its interpreter must import to run it: the server's modules and its app's."""
        return [*self.modules, *APP_MODULES[self.app_name]]

    def concurrency(self, threads: int, workers: int) -> int | None:
        """Requests it can have in progress at once: threads x workers for a threaded server
        (one for gunicorn's sync worker), None for an event loop (as many as connect)."""
        if self.family != "threads":
            return None
        per_worker = 1 if self.name.startswith("gunicorn-sync") else threads
        return per_worker * self.processes(workers)

    def processes(self, workers: int) -> int:
        """Worker processes it runs when asked for `workers`: waitress has one, whatever."""
        return 1 if self.server == "waitress" else workers

    def command(
        self, python: str, app: str, host: str, port: int, workers: int, threads: int
    ) -> list[str]:
        """The command line users would type, with this run's address and sizes."""
        base = self.name.split("+")[0]
        bind = f"{host}:{port}"
        if base.startswith("uvicorn-"):
            loop, http = ("uvloop", "httptools") if base == "uvicorn-uvloop" else ("asyncio", "h11")
            return [
                python, "-m", "uvicorn", app, "--host", host, "--port", str(port),
                "--workers", str(workers), "--loop", loop, "--http", http,
                "--no-access-log", "--log-level", "warning", "--lifespan", "on",
            ]  # fmt: skip
        if base.startswith("hypercorn-"):
            worker = base.split("-", 1)[1]
            return [python, "-m", "hypercorn", app, "-b", bind, "-w", str(workers), "-k", worker]
        if base.startswith("granian-"):
            return [
                python, "-m", "granian", "--interface", self.interface, "--host", host,
                "--port", str(port), "--workers", str(workers), "--blocking-threads",
                str(threads if self.interface == "wsgi" else 1), "--no-ws", "--log-level",
                "warning", app,
            ]  # fmt: skip
        if base.startswith("gunicorn-"):
            kind = base.split("-", 1)[1]
            worker = {"uvicorn": "uvicorn_worker.UvicornWorker"}.get(kind, kind)
            cmd = [python, "-m", "gunicorn", "-b", bind, "-w", str(workers), "-k", worker]
            cmd += ["--log-level", "warning", "--keep-alive", "75"]
            if kind == "gthread":
                cmd += ["--threads", str(threads)]
            if kind == "gevent":
                cmd += ["--worker-connections", "10000"]
            return [*cmd, app]
        if base == "waitress":
            return [
                python, "-m", "waitress", "--host", host, "--port", str(port),
                "--threads", str(threads), "--connection-limit", "10000", app,
            ]  # fmt: skip
        raise AssertionError(f"no command for {self.name}")


def _cfg(
    name: str, server: str, interface: str, family: str, modules: Sequence[str], summary: str,
    gil: Sequence[str] = (), app: str = "",
) -> ServerConfig:  # fmt: skip
    return ServerConfig(name, server, interface, family, tuple(modules), tuple(gil), app, summary)


CONFIGS: dict[str, ServerConfig] = {
    c.name: c
    for c in (
        _cfg("uvicorn-asyncio", "uvicorn", "asgi", "async", ["uvicorn", "h11"],
             "uvicorn on the stdlib loop with h11 (pure Python)"),
        _cfg("uvicorn-uvloop", "uvicorn", "asgi", "async", ["uvicorn", "uvloop", "httptools"],
             "uvicorn's fast path: uvloop and httptools", gil=["uvloop", "httptools"]),
        _cfg("hypercorn-asyncio", "hypercorn", "asgi", "async", ["hypercorn"],
             "hypercorn's asyncio worker"),
        _cfg("hypercorn-uvloop", "hypercorn", "asgi", "async", ["hypercorn", "uvloop"],
             "hypercorn's uvloop worker", gil=["uvloop"]),
        _cfg("hypercorn-trio", "hypercorn", "asgi", "async", ["hypercorn", "trio", "httpx"],
             "hypercorn's trio worker (downstream through httpx)"),
        _cfg("granian-asgi", "granian", "asgi", "async", ["granian"],
             "granian (Rust, hyper) serving ASGI, its default loop"),
        _cfg("granian-wsgi", "granian", "wsgi", "threads", ["granian"],
             "granian serving WSGI on --blocking-threads"),
        _cfg("gunicorn-sync", "gunicorn", "wsgi", "threads", ["gunicorn"],
             "gunicorn's sync worker: one request at a time per worker"),
        _cfg("gunicorn-gthread", "gunicorn", "wsgi", "threads", ["gunicorn"],
             "gunicorn's gthread worker: --threads per worker"),
        _cfg("gunicorn-gevent", "gunicorn", "wsgi", "async", ["gunicorn", "gevent"],
             "gunicorn's gevent worker: a greenlet per request", gil=["gevent"]),
        _cfg("gunicorn-uvicorn", "gunicorn", "asgi", "async",
             ["gunicorn", "uvicorn_worker", "uvloop", "httptools"],
             "gunicorn managing uvicorn workers (uvicorn-worker)", gil=["uvloop", "httptools"]),
        _cfg("waitress", "waitress", "wsgi", "threads", ["waitress"],
             "waitress: one asyncore loop and --threads"),
        _cfg("uvicorn-uvloop+starlette", "uvicorn", "asgi", "async",
             ["uvicorn", "uvloop", "httptools", "starlette"],
             "Starlette on uvicorn's fast path", gil=["uvloop", "httptools"], app="starlette"),
        _cfg("gunicorn-gthread+flask", "gunicorn", "wsgi", "threads", ["gunicorn", "flask"],
             "Flask on gunicorn's gthread worker", app="flask"),
    )
}  # fmt: skip
# What `servers` runs without --servers: every configuration the done-when asks for, one of each
# server's kinds (the framework rows and the managers of other servers' workers are asked for).
DEFAULT_CONFIGS = (
    "uvicorn-asyncio", "uvicorn-uvloop", "hypercorn-asyncio", "granian-asgi", "granian-wsgi",
    "gunicorn-sync", "gunicorn-gthread", "gunicorn-gevent", "waitress",
)  # fmt: skip
SERVERS = tuple(dict.fromkeys(c.server for c in CONFIGS.values()))


def select(names: str | None) -> list[ServerConfig]:
    """The configurations `--servers` names: whole names, a server's name (all of its
    configurations), or `all`; None: the default set."""
    if names is None:
        return [CONFIGS[n] for n in DEFAULT_CONFIGS]
    out: list[ServerConfig] = []
    for raw in names.split(","):
        name = raw.strip()
        if not name:
            continue
        if name == "all":
            out += CONFIGS.values()
        elif name in CONFIGS:
            out.append(CONFIGS[name])
        elif name in SERVERS:
            out += [c for c in CONFIGS.values() if c.server == name]
        else:
            choices = ", ".join([*SERVERS, *CONFIGS])
            raise UsageError(f"unknown server {name!r}; choose from {choices}, or all")
    if not out:
        raise UsageError("--servers names no server")
    return list(dict.fromkeys(out))
