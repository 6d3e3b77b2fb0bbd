"""Start one server configuration as an owned process, as users start it, and read what it costs.

The server is started from the command line its users type (`configs.ServerConfig.command`) in a
fresh process group, pinned to the server's CPUs, and is ready once `GET /__workbench__` answers
200 on the port it was given. Its CPU, peak memory and threads are read off the whole process tree
(gunicorn's and granian's workers are children of a master), and the group is killed on any exit.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

from workbench.children import owned_process, read_stderr
from workbench.errors import RunFailed, UsageError
from workbench.served.apps import INFO_PATH
from workbench.server_process import ServerHandle

READY_TIMEOUT_S = 30.0


class ServedStartError(RunFailed):
    """The server under test exited or never answered."""


def check_port_free(host: str, port: int) -> None:
    """A clear error for a port in use, before a server fails on it with its own words."""
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def tree(process: psutil.Process) -> list[psutil.Process]:
    """The process and every descendant still alive."""
    with contextlib.suppress(psutil.NoSuchProcess):
        return [process, *process.children(recursive=True)]
    return []


def peak_rss_kb(process: psutil.Process) -> int:
    """The process's peak resident set (VmHWM), in KiB; 0 if it is gone."""
    with contextlib.suppress(OSError, psutil.Error), open(f"/proc/{process.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


@dataclass
class ServedHandle(ServerHandle):
    """A running server under test: `cpu_seconds` counts its whole tree, and `facts` what its
    worker said about itself (interpreter, GIL)."""

    facts: dict[str, Any] = field(default_factory=dict)

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in tree(self.process):
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def workers(self) -> list[psutil.Process]:
        """The processes that serve requests: the leaves of the tree (a single-process server
        is its own worker)."""
        procs = tree(self.process)
        leaves = []
        for p in procs:
            with contextlib.suppress(psutil.Error):
                if not p.children():
                    leaves.append(p)
        return leaves or procs[:1]

    def sample(self) -> dict[str, int]:
        """Peak RSS (KiB) and threads of its busiest worker, read now."""
        rss = threads = 0
        for p in self.workers():
            rss = max(rss, peak_rss_kb(p))
            with contextlib.suppress(psutil.Error):
                threads = max(threads, p.num_threads())
        return {"peak_rss_kb": rss, "threads": threads}


def gil_culprit(stderr: str) -> str:
    """The module CPython names when it turns the GIL back on to load it (3.13+ warns so)."""
    match = re.search(r"GIL\)? has been enabled to load module '([^']+)'", stderr)
    return f"module {match.group(1)!r}" if match else "a module it imported"


def get(host: str, port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@contextlib.contextmanager
def run_served(
    name: str,
    cmd: list[str],
    env: Mapping[str, str],
    host: str,
    port: int,
    cpus: set[int] | None,
    ready_timeout: float = READY_TIMEOUT_S,
) -> Iterator[ServedHandle]:
    """Start `cmd` (which listens on host:port), wait until it answers, yield its handle; the
    whole process group is killed on exit, whatever happened."""
    with owned_process(cmd, env=dict(env), cpus=cpus, stdin=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + ready_timeout
        facts: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, body = get(host, port, INFO_PATH)
                if status == 200:
                    facts = json.loads(body)
                    break
            time.sleep(0.05)
        if facts is None:
            lines = [ln for ln in read_stderr(proc).strip().splitlines() if ln.strip()]
            why = lines[-1] if lines else f"it did not answer within {ready_timeout:g} s"
            raise ServedStartError(f"{name} did not start: {why}")
        if facts.get("free_threaded") and facts.get("gil_enabled") and env.get("PYTHON_GIL") != "1":
            raise RunFailed(
                f"{name} ran with its GIL switched back on by {gil_culprit(read_stderr(proc))}: "
                "a free-threaded figure measured with the GIL on is refused (PYTHON_GIL=1 "
                "measures that build with its GIL on, on purpose)"
            )
        yield ServedHandle(
            kind=name,
            url=f"http://{host}:{port}/",
            host=host,
            port=port,
            pid=proc.pid,
            cpus=cpus,
            process=psutil.Process(proc.pid),
            facts=facts,
        )
