"""A Dask scheduler and N workers on 127.0.0.1: `workbench cluster local`, for trying `--cluster`
on one machine, and what the tests run against. Each is Dask's own command in its own process,
owned here: stopped on exit, Ctrl-C or any error, and by the kernel if this process dies.

Workers run without Dask's nanny: a worker that dies stays dead (the nanny would restart it under
a new address, and a test of a lost worker needs it lost), and there is one process less each.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.children import owned_process, read_stderr
from workbench.cluster.engine import CELL_RESOURCE, connect, require_distributed
from workbench.errors import RunFailed, UsageError

START_TIMEOUT_S = 60.0


@dataclass
class LocalCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench.cluster.child", *args]


def _last_line(proc: subprocess.Popen[bytes]) -> str:
    lines = [ln for ln in read_stderr(proc).splitlines() if ln.strip()]
    return lines[-1].strip() if lines else f"exit code {proc.returncode}"


@contextlib.contextmanager
def local_cluster(
    workers: int, port: int = 0, worker_env: Mapping[str, str] | None = None
) -> Iterator[LocalCluster]:
    """Start the scheduler and `workers` workers (named local-0, local-1, ...); yield once all
    have joined. `worker_env` is the workers' environment (default: this one's)."""
    require_distributed()
    if workers < 1:
        raise UsageError(f"--workers must be at least 1 (got {workers})")
    if not 0 <= port < 65536:
        raise UsageError(f"--port must be 0-65535 (got {port})")
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="workbench-cluster-")))
        file = tmp / "scheduler.json"
        scheduler = stack.enter_context(
            owned_process(
                _command(
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                    "--scheduler-file",
                    str(file),
                ),
                stdin=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not file.exists():
            if scheduler.poll() is not None:
                reason = _last_line(scheduler)
                if port and "in use" in reason.lower():
                    raise UsageError(f"port {port} is in use; choose another or 0 (any free port)")
                raise RunFailed(f"the Dask scheduler did not start: {reason}")
            if time.monotonic() > deadline:
                raise RunFailed(f"the Dask scheduler did not start in {START_TIMEOUT_S:.0f}s")
            time.sleep(0.05)
        time.sleep(0.05)  # Dask writes the file in one go, but give the write a moment to land
        address = str(json.loads(file.read_text())["address"])
        procs = {}
        for i in range(workers):
            name = f"local-{i}"
            procs[name] = stack.enter_context(
                owned_process(
                    _command(
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--resources",
                        f"{CELL_RESOURCE}=1",
                        "--name",
                        name,
                        "--no-dashboard",
                        "--no-nanny",
                        "--host",
                        "127.0.0.1",
                    ),
                    stdin=subprocess.DEVNULL,
                    env=worker_env,
                )
            )
        with connect(address) as client:
            while len(client.scheduler_info()["workers"]) < workers:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        raise RunFailed(f"Dask worker {name} did not start: {_last_line(proc)}")
                if time.monotonic() > deadline:
                    raise RunFailed(f"the Dask workers did not join in {START_TIMEOUT_S:.0f}s")
                time.sleep(0.05)
        yield LocalCluster(address, scheduler, procs)


def serve(workers: int, port: int, say: Callable[[str], None]) -> int:
    """Run a local cluster until Ctrl-C (or SIGTERM); say READY with its address once it is up."""
    import signal

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with local_cluster(workers, port) as cluster:
            say(f"READY {cluster.address}")
            say(
                f"  {workers} worker{'s' if workers > 1 else ''} on 127.0.0.1 "
                f"({', '.join(cluster.workers)}); Ctrl-C stops them"
            )
            if workers > 1:
                say(
                    "  note: they share this machine's cores, so cells run at once measure each "
                    "other (rows say shared-machine); use it to try --cluster, not to measure"
                )
            while True:
                time.sleep(0.5)
                if cluster.scheduler.poll() is not None:
                    raise RunFailed(f"the Dask scheduler stopped: {_last_line(cluster.scheduler)}")
    except KeyboardInterrupt:
        say("stopped the scheduler and its workers")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
