"""Threads against asyncio without a GIL: the same cells on a GIL build and a free-threaded one.

Interpreters: the free-threaded 3.13 (`python -m workbench pythons build 3.13t` makes it) and the
GIL build nearest it: the same release where one is found (`pythons build 3.13.5` makes it from
the same tarball with the same flags), else the same minor version, else this one. Every cell
runs under both, interleaved, 3 rounds each, the raw client against the mock HTTP server:
- plain I/O at 100 and 500 clients: threads, asyncio, uvloop, and a loop per thread on each
  (asyncio-threads, uvloop-threads; uvloop has no free-threaded build, and says so);
- I/O with pure-Python work per request (`--work python:500us`) behind 2 ms of server latency at
  50 clients, unpinned: the server stays nearly idle (each request waits on a timer), so the rate
  is the client's, and without a GIL a thread pool may use both cores where one event loop
  cannot;
- the single-thread cost: the sync model's CPU per request on each build, beside PEP 779's
  target of at most 15% for the free-threaded build;
- memory per connection: each model's peak RSS at 100 and 500 clients behind 50 ms of latency
  (idle connections), the growth per connection: a thread's stack against a task;
- the GIL lab's claims 1 and 3 (pure-Python threads: the cores they keep busy, the speed-up).

Which of threads and asyncio is faster is the ranking's decision from the rounds (one rule
everywhere); the printed ratio is the ratio of medians.

    python -m scripts.compare_free_threaded [--gil-python 3.13] [--quick]
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from rich.console import Console

from scripts import _script
from workbench.errors import UsageError
from workbench.gil.lab import run_lab
from workbench.harness.settings import IoSettings
from workbench.interpreter_discovery import find
from workbench.interpreter_envs import env_python
from workbench.interpreters import probe
from workbench.ranking import SAID, decide
from workbench.report.gil_table import print_gil
from workbench.report.plots import plot_bars
from workbench.results import ResultDoc, Row

FREE_THREADED = "3.13t"
PLAIN_MODELS = ["threads", "asyncio", "asyncio-threads", "uvloop", "uvloop-threads"]
PLAIN_COUNTS = [100, 500]
WORK = "python:500us"
WORK_CLIENTS = 50
WORK_LATENCY = 0.002
MEMORY_COUNTS = [100, 500]
MEMORY_LATENCY = 0.05
PEP_779_TARGET = 0.15  # the free-threaded build's single-thread cost, at most (PEP 779, 3.14t)
CLAIMS = [1, 3]
ROUNDS = 3  # a decision needs rounds: one ranks nothing


def interpreters(gil_spec: str | None) -> tuple[str, str]:
    try:
        free = find(FREE_THREADED)
    except UsageError:
        raise UsageError(
            f"no free-threaded {FREE_THREADED} here: python -m workbench pythons build "
            f"{FREE_THREADED} makes one"
        ) from None
    if gil_spec is not None:
        return find(gil_spec), free
    # The GIL build nearest the free-threaded one, so that the GIL is what differs: the same
    # release (`pythons build 3.13.5` makes it from the same tarball, with the same flags but
    # --disable-gil), else the same minor version, else this interpreter.
    version = str(probe(free)["version"])
    for spec in (version, FREE_THREADED.removesuffix("t")):
        try:
            return find(spec), free
        except UsageError:
            continue
    return sys.executable, free


def by(rows: list[Row], python: str, **match: Any) -> dict[str, Row]:
    return {
        r["model"]: r
        for r in rows
        if r.get("python") == python and all(r.get(k) == v for k, v in match.items())
    }


def cores_used(row: Row) -> float | None:
    """The client's cores: its CPU per request times its requests per second."""
    cpu = row.get("cpu_us_per_op")
    return None if cpu is None else round(cpu * row["ops_per_s"] / 1e6, 2)


def versus(rows: list[Row], python: str, **match: Any) -> dict[str, Any]:
    """threads against asyncio on one interpreter: both rates with their intervals, the ratio of
    medians and the ranking's decision, and the cores each used."""
    got = by(rows, python, **match)
    threads, loop = got.get("threads"), got.get("asyncio")
    out: dict[str, Any] = {
        m: {
            "ops_per_s": r["ops_per_s"],
            "ci": r["ops_per_s_ci"],
            "cores": cores_used(r),
            "flags": r["flags"],
        }
        for m, r in got.items()
    }
    if threads and loop:
        out["ratio"] = round(threads["ops_per_s"] / loop["ops_per_s"], 3)
        out["decided"] = SAID[decide(threads, loop).verdict]
    return out


def memory(rows: list[Row], python: str) -> dict[str, float | None]:
    """KiB of peak RSS each further connection added, per model, from 100 to 500 clients."""
    out: dict[str, float | None] = {}
    for model in ("threads", "asyncio"):
        lo, hi = (by(rows, python, clients_requested=n).get(model) for n in MEMORY_COUNTS)
        grew = None if not lo or not hi else (hi["peak_rss_mb"] - lo["peak_rss_mb"]) * 1024
        out[model] = (
            None if grew is None else round(grew / (MEMORY_COUNTS[1] - MEMORY_COUNTS[0]), 1)
        )
    return out


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument(
        "--gil-python",
        default=None,
        metavar="PYTHON",
        help="the GIL build to compare with (default: 3.13 if found, else this one)",
    )
    a = p.parse_args()
    out = _script.out_dir(a, "free-threaded")
    gil, free = interpreters(a.gil_python)
    pythons = [gil, free]
    base = IoSettings(libs=["raw"], workloads=["http"], pythons=pythons, warmup=0.3, duration=0.75,
                      repeat=ROUNDS)  # fmt: skip
    plain_counts, memory_counts, claims = PLAIN_COUNTS, MEMORY_COUNTS, CLAIMS
    work_clients = WORK_CLIENTS
    if a.quick:
        base, plain_counts, memory_counts, claims = _script.quick(base), [10], [], [1]
        work_clients = 10
    runs: dict[str, ResultDoc] = {
        "plain": _script.run(replace(base, models=PLAIN_MODELS), "plain I/O", sweep=plain_counts),
        "work": _script.run(
            replace(
                base,
                models=PLAIN_MODELS,
                work=WORK,
                latency=WORK_LATENCY,
                clients=work_clients,
                pin=False,  # the client may use both cores: the server, waiting on timers, idles
            ),
            f"I/O with {WORK} of work per request",
        ),
        "single": _script.run(replace(base, models=["sync"], clients=1), "one sequential client"),
    }
    if memory_counts:
        runs["memory"] = _script.run(
            replace(base, models=["threads", "asyncio"], latency=MEMORY_LATENCY),
            "idle connections",
            sweep=memory_counts,
        )
    err = Console(stderr=True)
    lab = run_lab(claims, [env_python(py) for py in pythons],
                  lambda what: err.print(f"  measuring {what}", highlight=False))  # fmt: skip
    _script.stop_if_stopped("gil", lab)
    print_gil(lab, _script.console())
    # Each interpreter's label as its rows carry it (`3.13.5t GIL off`), in the order given.
    names = [str(i["name"]) for i in runs["single"]["metadata"]["interpreters"]]
    summary = summarise(runs, lab, names, plain_counts, work_clients)
    rows = [
        [name, cells, str(d.get("ratio", "-")), str(d.get("decided", "-"))]
        for name in names
        for cells, d in summary["versus"][name].items()
    ]
    _script.table(
        "threads against asyncio, per interpreter",
        ["python", "cells", "threads ÷ asyncio", "decided"],
        rows,
    )
    groups: dict[str, dict[str, list[float]]] = {}
    for scenario, d in runs.items():
        for r in d["results"]:
            key = f"{r['model']} · {scenario} · {r['clients_requested']}"
            groups.setdefault(key, {})[str(r["python"])] = _script.rates(r)
    plots = plot_bars(
        groups,
        out / "free-threaded",
        log=True,
        xlabel="requests per second (log scale; whiskers: range over rounds)",
        title=" against ".join(names),
    )
    saved = {
        "kind": "free-threaded",
        "runs": runs,
        "gil": lab,
        "summary": summary,
        "interpreters": dict(zip(names, (probe(py) for py in pythons), strict=True)),
        "metadata": _script.run_metadata(),
    }
    _script.save(out, "free-threaded", saved, plots)
    return 0


def summarise(
    runs: dict[str, ResultDoc],
    lab: dict[str, Any],
    names: list[str],
    plain_counts: list[int],
    work_clients: int,
) -> dict[str, Any]:
    """What the page says, per interpreter label: threads against asyncio per cell, the single
    thread's CPU per request, memory per connection, and claims 1 and 3 with their evidence."""
    out: dict[str, Any] = {
        "pythons": names,
        "work": WORK,
        "work_clients": work_clients,
        "work_latency_ms": WORK_LATENCY * 1000,
        "pep_779": PEP_779_TARGET,
    }
    out["versus"] = {
        name: {
            **{
                f"plain · {n} clients": versus(runs["plain"]["results"], name, clients_requested=n)
                for n in plain_counts
            },
            f"work · {work_clients} clients": versus(runs["work"]["results"], name),
        }
        for name in names
    }
    out["single_cpu_us"], out["builds"] = {}, {}
    for name in names:
        row = by(runs["single"]["results"], name).get("sync")
        out["single_cpu_us"][name] = None if row is None else row.get("cpu_us_per_op")
        md = {} if row is None else row["metadata"]
        out["builds"][name] = {k: md.get(k) for k in ("python", "free_threaded_build",
                                                       "config_args", "compiler")}  # fmt: skip
    if "memory" in runs:
        out["memory_kib_per_connection"] = {n: memory(runs["memory"]["results"], n) for n in names}
    # The lab's runs come in the order the interpreters were given, as the io runs' do.
    out["claims"] = {
        name: [
            {
                "id": c["id"],
                "verdict": c["verdict"],
                "explanation": c["explanation"],
                "evidence": c["evidence"],
            }
            for c in run["claims"]
        ]
        for name, run in zip(names, lab.get("by_interpreter", []), strict=False)
    }
    return out


if __name__ == "__main__":
    _script.main(main)
