"""Run a mock server as an owned subprocess: the only way tests and the harness start servers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil

from workbench.children import LineReader, owned_process, read_stderr
from workbench.errors import RunFailed, UsageError
from workbench.workloads import SERVER_KINDS


class ServerStartError(RunFailed):
    """The server exited or stayed silent instead of printing its READY line."""


@dataclass
class ServerHandle:
    """A running mock server: where it listens and what it has cost so far."""

    kind: str
    url: str
    host: str
    port: int
    pid: int
    cpus: set[int] | None
    process: psutil.Process = field(repr=False)
    final: dict[str, Any] | None = None
    ca_file: str | None = None  # a TLS server's throw-away CA certificate, which clients trust
    # Its CPU is sampled this much before each window edge, over a span as long as the window: a
    # server whose processes end with their connections (PostgreSQL) is read while they all live.
    cpu_lead_s: float = 0.0
    # Where the server keeps its delayed writes' lateness histogram (servers.timers), and the
    # delay it was asked for; None: a server that does not keep one (a database without a proxy).
    timer_stats: str | None = None
    timer_delay_s: float = 0.0

    def timer_counts(self) -> list[int] | None:
        """The server's lateness counts as they stand (None: it keeps none)."""
        if self.timer_stats is None:
            return None
        from servers.timers import read_counts

        return read_counts(self.timer_stats)

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the server has used since it started."""
        t = self.process.cpu_times()
        return float(t.user + t.system)

    def alive(self) -> bool:
        try:
            return self.process.is_running() and self.process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False


def server_command(
    kind: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    loop: str = "uvloop",
    latency: float = 0.0,
    jitter: float = 0.0,
    body_size: int | None = None,
    faults: Sequence[str] = (),
    framing: str | None = None,
    tls_dir: str | None = None,
    timer_stats: str | None = None,
    extra_args: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    if kind not in SERVER_KINDS:
        raise UsageError(f"unknown server kind {kind!r}; choose from {', '.join(SERVER_KINDS)}")
    cmd = [python, "-m", f"servers.{kind}", "--host", host, "--port", str(port), "--loop", loop]
    cmd += ["--latency", repr(latency), "--jitter", repr(jitter), "--die-with-parent"]
    if body_size is not None:
        cmd += ["--body-size", str(body_size)]
    if framing is not None:
        cmd += ["--framing", framing]
    for fault in faults:
        cmd += ["--fault", fault]
    if tls_dir is not None:
        cmd += ["--tls", "--tls-dir", tls_dir]
    if timer_stats is not None:
        cmd += ["--timer-stats", timer_stats]
    return cmd + list(extra_args)


@contextmanager
def run_server(
    kind: str = "http",
    *,
    cpus: set[int] | None = None,
    ready_timeout: float = 15.0,
    tls: bool = False,
    **options: Any,
) -> Iterator[ServerHandle]:
    """Start a mock server, wait for READY, yield its handle; stop it (SIGTERM, then kill) on exit.

    `options` are those of `server_command` (host, port, latency, body_size, faults, ...).
    `cpus` pins the server to those CPUs. The final JSON stats line lands in `handle.final`.
    With `tls`, the server serves TLS with a certificate from a throw-away CA it makes at start-up,
    in a directory this owns (so nothing is left even if the server is killed); the CA's
    certificate is `handle.ca_file`.
    """
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if tls:
            options["tls_dir"] = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="workbench-ca-")
            )
        if "timer_stats" not in options:
            options["timer_stats"] = timer_stats_file(stack)
        cmd = server_command(kind, **options)
        handle = stack.enter_context(owned_server(kind, cmd, env, cpus, ready_timeout))
        handle.timer_stats = options["timer_stats"]
        handle.timer_delay_s = float(options.get("latency", 0.0))
        yield handle


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (another process may take it before the caller binds it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def timer_stats_file(stack: contextlib.ExitStack) -> str:
    """A path for a server's lateness histogram, in a directory `stack` removes."""
    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="workbench-timers-"))
    return os.path.join(directory, "lateness")


@contextmanager
def owned_server(
    kind: str, cmd: list[str], env: dict[str, str], cpus: set[int] | None, ready_timeout: float
) -> Iterator[ServerHandle]:
    with owned_process(cmd, env=env, cpus=cpus, stdin=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        reader = LineReader(proc.stdout)
        line = reader.readline(time.monotonic() + ready_timeout)
        if not line or not line.startswith(b"READY "):
            if line is not None:  # stdout closed: the server is exiting; get its exit code
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=3)
            detail = read_stderr(proc).strip().splitlines()
            reason = detail[-1] if detail else f"no READY line within {ready_timeout:g}s"
            if proc.returncode == 2:  # the server's own clear usage error (port in use, ...)
                raise UsageError(reason.split("error: ", 1)[-1])
            raise ServerStartError(f"{kind} server did not start: {reason}")
        words = line.decode().split()
        url = words[1]
        extras = dict(w.split("=", 1) for w in words[2:] if "=" in w)
        hostport = url.split("://", 1)[1]
        host, _, port = hostport.rpartition(":")
        handle = ServerHandle(
            kind,
            url,
            host.strip("[]"),
            int(port),
            proc.pid,
            cpus,
            psutil.Process(proc.pid),
            ca_file=extras.get("ca"),
        )
        yield handle
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            final = reader.readline(time.monotonic() + 3.0)
            if final:
                try:
                    handle.final = json.loads(final)
                except ValueError:
                    handle.final = None
