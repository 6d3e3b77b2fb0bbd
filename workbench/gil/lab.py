"""Run the GIL experiments, each in a fresh process, under one or more interpreters; judge them."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from workbench import __version__
from workbench.children import LineReader, owned_process, read_stderr
from workbench.errors import RunFailed, UsageError, interrupted
from workbench.gil.claims import CLAIM_NUMBERS, judge
from workbench.interpreters import check_python, package_path
from workbench.metadata import machine
from workbench.results import SCHEMA_VERSION, Stopped

EXPERIMENT_TIMEOUT_S = 120.0


def run_experiment(python: str, number: int) -> dict[str, Any]:
    """One experiment in a fresh process of `python`; its JSON document."""
    # The probe imports only the standard library and this package: put the package on the path
    # so an interpreter without the workbench installed (a free-threaded build, say) can run it.
    path = package_path()
    env = {**os.environ, "PYTHONPATH": path}
    cmd = [python, "-m", "workbench.gil.probe", str(number)]
    with owned_process(cmd, env=env, stdin=subprocess.DEVNULL, cwd=path) as proc:
        assert proc.stdout is not None
        reader = LineReader(proc.stdout)
        deadline = time.monotonic() + EXPERIMENT_TIMEOUT_S
        while True:
            line = reader.readline(deadline)
            if line is None:
                raise RunFailed(f"GIL experiment {number} took longer than {EXPERIMENT_TIMEOUT_S}s")
            if not line:
                proc.wait(timeout=5)
                tail = read_stderr(proc).strip().splitlines()
                reason = tail[-1] if tail else f"exit code {proc.returncode}"
                raise RunFailed(f"GIL experiment {number} under {python} failed: {reason}")
            if line.startswith(b"{"):
                doc: dict[str, Any] = json.loads(line)
                return doc


# Runs (python, claim number) pairs, yielding (python, number, document, host) as each finishes:
# here one after another (host None), or on a cluster's hosts (see workbench.cluster.dispatch).
Experiments = Callable[
    [list[tuple[str, int]]],
    contextlib.AbstractContextManager[Iterator[tuple[str, int, dict[str, Any], str | None]]],
]


def local_experiments(
    progress: Callable[[str], None],
) -> Experiments:
    @contextlib.contextmanager
    def run(
        pairs: list[tuple[str, int]],
    ) -> Iterator[Iterator[tuple[str, int, dict[str, Any], str | None]]]:
        def each() -> Iterator[tuple[str, int, dict[str, Any], str | None]]:
            for python, number in pairs:
                progress(f"claim {number} under {python}")
                yield python, number, run_experiment(python, number), None

        yield each()

    return run


def run_lab(
    numbers: Sequence[int],
    pythons: Sequence[str],
    progress: Callable[[str], None] = lambda _: None,
    experiments: Experiments | None = None,
) -> dict[str, Any]:
    for n in numbers:
        if n not in CLAIM_NUMBERS:
            raise UsageError(f"there is no claim {n}; choose from 1-{len(CLAIM_NUMBERS)}")
    interpreters = [check_python(p) for p in pythons]
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()
    verdicts: dict[tuple[str, int], dict[str, Any]] = {}
    info_of = dict(zip(pythons, interpreters, strict=True))
    stopped: Stopped | None = None
    pairs = [(python, n) for python in pythons for n in numbers]
    t = time.monotonic()
    try:
        with (experiments or local_experiments(progress))(pairs) as finished:
            for python, n, doc, host in finished:
                verdict = judge(n, doc["measurements"]).as_dict()
                # Locally, each experiment's own time; on a cluster, since the previous answer.
                verdict["seconds"] = round(time.monotonic() - t, 2)
                t = time.monotonic()
                verdict["measurements"] = doc["measurements"]
                if host is not None:
                    verdict["host"] = host
                    verdict["host_machine"] = doc.get("host_machine")
                    progress(f"claim {n} under {python} done on {host}")
                verdicts[python, n] = verdict
                info = info_of[python]
                info.setdefault("gil_enabled", doc["interpreter"]["gil_enabled"])
                info.setdefault("details", doc["interpreter"])
    except KeyboardInterrupt as exc:
        stopped = interrupted(exc)
    except RunFailed as exc:
        stopped = {"reason": str(exc), "exit_code": 1}
    runs = [
        {
            "python": python,
            "interpreter": info_of[python],
            "claims": [verdicts[python, n] for n in numbers if (python, n) in verdicts],
        }
        for python in pythons
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "gil",
        "metadata": {
            "tool": f"workbench {__version__}",
            "started_at": started,
            "seconds": round(time.monotonic() - t0, 2),
            "command": sys.argv,
            "machine": machine(),
        },
        "partial": stopped is not None,
        "stopped": stopped,
        "claims": runs[0]["claims"] if runs else [],
        "by_interpreter": runs,
        "results": [],
    }
