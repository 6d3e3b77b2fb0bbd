"""The Dask cluster a run uses: the connection, and the checks made before any cell is sent to it.

Dask's `distributed` is an optional extra (`pip install 'workbench[cluster]'`): nothing outside
this package imports it, and it is imported only when `--cluster` is given.

A host is one Dask worker that offers the `cell` resource (`--resources cell=1`): Dask runs at
most one cell on it at a time, so two cells never share its cores. Two workers on one machine are
two hosts that do share cores; the checks find them (by boot id) and the rows say so.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import __version__
from workbench.errors import UsageError

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = "install the cluster extra: pip install 'workbench[cluster]'"
CELL_RESOURCE = "cell"
CONNECT_TIMEOUT_S = 5.0
WORKER_COMMAND = "dask worker {address} --nthreads 1 --resources cell=1"


def require_distributed() -> None:
    """Dask's distributed, or one line saying what to install."""
    if importlib.util.find_spec("distributed") is None:
        raise UsageError(f"--cluster needs Dask's distributed package; {INSTALL_HINT}")


def normalise_address(address: str) -> str:
    """`HOST:PORT` or `tcp://HOST:PORT` (tls:// too); anything else is one clear line."""
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls") or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"--cluster {address!r} is not a scheduler address like tcp://HOST:8786 or HOST:8786"
        )
    return f"{scheme}://{host}:{port}"


@contextlib.contextmanager
def connect(address: str, timeout: float = CONNECT_TIMEOUT_S) -> Iterator[Client]:
    """A client of the scheduler at `address`, closed on exit."""
    require_distributed()
    import distributed

    target = normalise_address(address)
    try:
        client = distributed.Client(target, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {target} within {timeout:g}s ({exc}); start one "
            "with `dask scheduler`, or try `workbench cluster local`"
        ) from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)


@cache
def source_digest() -> str:
    """A digest of this workbench's code (both packages): two installs that report the same
    version but hold different code must not be mixed in one run."""
    h = hashlib.sha256()
    for package in ("workbench", "servers"):
        spec = importlib.util.find_spec(package)
        assert spec is not None
        assert spec.submodule_search_locations
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            h.update(f"{package}/{path.relative_to(root).as_posix()}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def machine_id() -> str:
    """Which machine this is: two workers with the same id share its cores."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = "?"
    return f"{socket.gethostname()}/{boot}"


def worker_facts(modules: list[str], paths: list[str]) -> dict[str, Any]:
    """Run on each worker (by `Client.run`): what it has, to be checked against the parent."""
    return {
        "workbench": __version__,
        "source": source_digest(),
        "python": sys.version.split()[0],
        "missing": [m for m in modules if importlib.util.find_spec(m) is None],
        "absent_paths": [p for p in paths if not os.path.exists(p)],
        "machine_id": machine_id(),
        "hostname": socket.gethostname(),
        "cpus": len(os.sched_getaffinity(0)),
    }


@dataclass(frozen=True)
class Host:
    """A worker that runs cells: its name (the row's `host`), address, and facts."""

    name: str
    address: str
    machine_id: str
    facts: dict[str, Any]


def check_hosts(
    workers: dict[str, dict[str, Any]], facts: dict[str, dict[str, Any]], address: str
) -> list[Host]:
    """The hosts that can run the cells, or one line naming the worker that cannot and why.

    `workers` is the scheduler's view (address -> {name, resources}), `facts` what each worker
    said of itself (`worker_facts`). Every worker that offers the cell resource must match this
    workbench and have what the cells need, before any cell starts.
    """
    start = WORKER_COMMAND.format(address=address)
    if not workers:
        raise UsageError(f"the Dask scheduler at {address} has no workers; start some: {start}")
    hosts = []
    for addr, info in sorted(workers.items(), key=lambda kv: str(kv[1].get("name"))):
        if not (info.get("resources") or {}).get(CELL_RESOURCE):
            continue
        name = str(info.get("name") or addr)
        got = facts.get(addr)
        if got is None:
            raise UsageError(f"worker {name} ({addr}) did not answer the workbench's check")
        if (got["workbench"], got["source"]) != (__version__, source_digest()):
            raise UsageError(
                f"worker {name} runs workbench {got['workbench']} (source {got['source']}), this "
                f"is workbench {__version__} (source {source_digest()}): install the same on "
                "every worker"
            )
        if got["missing"]:
            raise UsageError(
                f"worker {name} lacks {', '.join(got['missing'])}: install it there (the "
                "cells planned import it)"
            )
        if got["absent_paths"]:
            raise UsageError(
                f"worker {name} has no {', '.join(got['absent_paths'])}: every worker needs the "
                "same paths for --client-file and --python"
            )
        hosts.append(Host(name, addr, got["machine_id"], got))
    if not hosts:
        raise UsageError(
            f"no worker of the Dask scheduler at {address} offers the resource "
            f"{CELL_RESOURCE}=1 (one cell at a time per host); start them as: {start}"
        )
    return hosts


def hosts_of(client: Client, address: str, modules: list[str], paths: list[str]) -> list[Host]:
    """Ask the scheduler and every worker, then check (see `check_hosts`)."""
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # distributed before 2025: every worker, always
        workers = client.scheduler_info()["workers"]
    if not workers:
        return check_hosts({}, {}, address)  # says how to start some
    try:
        facts = client.run(worker_facts, modules, paths, on_error="return")
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"the workers of {address} did not answer: {exc}") from None
    answered = {a: f for a, f in facts.items() if isinstance(f, dict)}
    return check_hosts(workers, answered, address)


def shared_machines(hosts: list[Host]) -> list[list[str]]:
    """Groups of hosts that are one machine (their cells, run at once, measure each other)."""
    by_machine: dict[str, list[str]] = {}
    for h in hosts:
        by_machine.setdefault(h.machine_id, []).append(h.name)
    return [names for names in by_machine.values() if len(names) > 1]
