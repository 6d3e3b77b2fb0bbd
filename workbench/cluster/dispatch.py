"""The parent side of a run on a Dask cluster: the cells planned as for a local run, each run of a
cell sent to a host as one task, the rows built from what comes back, as one document.

How cells go out:
- Each host has its own mock server (started by the task, for that cell), so with the mock
  servers every cell can run at once, one per host (the `cell` resource), and Dask balances them.
- With `--url` every host loads the same server: one cell at a time, or they would measure each
  other.
- With `--spread K` one cell runs on K hosts at once against `--url`: all warm up, report warm,
  and the parent sends one start instant (on each host's clock, from the offsets it measured), so
  the windows open together. Their runs merge into one row; each host's figures stay in
  `per_host`.

A task whose worker dies is re-run once on another worker by Dask; if that worker dies too the
task gives up and the cell is flagged `worker-lost` (see `tasks.cell_task`). Ctrl-C raises the
run's stop flag, cancels every future, and waits until no task of the run is still running a cell.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from workbench.cluster import tasks
from workbench.cluster.cluster_rows import Job, Received, cluster_rows
from workbench.cluster.engine import (
    Host,
    connect,
    hosts_of,
    normalise_address,
    require_distributed,
    shared_machines,
)
from workbench.cluster.merge import (
    merge_spread,
    split_load,
)
from workbench.errors import RunFailed, UsageError, interrupted
from workbench.harness.cell import READY_TIMEOUT_S, CellRun, Observer
from workbench.harness.cell_kinds import kind_of
from workbench.harness.runner import RunPlan, document, needs, plan_run, row_of
from workbench.harness.settings import IoSettings, warm_limit
from workbench.results import ResultDoc, Stopped

if TYPE_CHECKING:
    from distributed import Client, Future

SPREAD_MARGIN_S = 1.0  # from the last host's "warm" to the common start: room for the message
POLL_S = 0.05
STOP_WAIT_S = 20.0  # after Ctrl-C, how long to wait for the hosts to stop their cells
CLOCK_SAMPLES = 3


def clock_offsets(client: Client, hosts: list[Host]) -> dict[str, tuple[float, float]]:
    """Each host's wall clock minus ours, and the uncertainty (half the round trip), best of a
    few tries: a spread cell's hosts open their windows at one instant of *our* clock."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(CLOCK_SAMPLES):
        t0 = time.time()
        answers = client.run(time.time, workers=[h.address for h in hosts])
        t1 = time.time()
        for h in hosts:
            if h.address in answers:
                sample = (float(answers[h.address]) - (t0 + t1) / 2, (t1 - t0) / 2)
                if h.name not in best or sample[1] < best[h.name][1]:
                    best[h.name] = sample
    return best


def _paths_needed(plan: RunPlan) -> list[str]:
    """Paths every host must have: client files and the interpreters' executables."""
    paths = list(plan.settings.client_files)
    if plan.settings.pythons:
        paths += [v.executable for v in plan.variants]
    return sorted(set(paths))


def run_io_on_cluster(
    settings: IoSettings,
    address: str,
    spread: int | None = None,
    observer: Observer | None = None,
) -> ResultDoc:
    """`run_io`, with every cell run on the cluster's hosts."""
    require_distributed()
    observer = observer or Observer()
    target = normalise_address(address)
    if spread is not None:
        if spread < 1:
            raise UsageError(f"--spread must be at least 1 (got {spread})")
        if settings.url is None:
            raise UsageError(
                "--spread loads one server from several hosts at once: give it with --url "
                "(yours, or a mock server started with `workbench serve http --host ...`)"
            )
    plan = plan_run(settings, observer)
    if spread is not None and any(kind_of(c.workload).name != "network" for c in plan.cells):
        raise UsageError("--spread is for network cells: run disk cells without it")
    if spread is not None and settings.clients < spread:
        raise UsageError(
            f"--spread {spread} splits --clients over {spread} hosts: give at least {spread} "
            f"clients (got {settings.clients})"
        )
    modules = sorted({m for c in plan.cells for m in needs(c)})
    with connect(target) as client:
        hosts = hosts_of(client, target, modules, _paths_needed(plan))
        if spread is not None and spread > len(hosts):
            names = ", ".join(h.name for h in hosts)
            raise UsageError(
                f"--spread {spread} needs {spread} hosts; the cluster has {len(hosts)} ({names})"
            )
        return _Dispatch(client, target, plan, hosts, spread, observer).run()


class _Dispatch:
    def __init__(
        self,
        client: Client,
        address: str,
        plan: RunPlan,
        hosts: list[Host],
        spread: int | None,
        observer: Observer,
    ) -> None:
        self.client = client
        self.address = address
        self.plan = plan
        self.hosts = {h.name: h for h in hosts}
        self.spread = spread
        self.observer = observer
        self.run_id = f"workbench-{uuid.uuid4().hex[:12]}"
        self.offsets = clock_offsets(client, hosts)
        self.received: dict[str, Received] = {}
        self.host_metadata: dict[str, dict[str, Any]] = {}
        self.futures: list[Future[Any]] = []
        self.done = 0

    def offset(self, host: str) -> float:
        """The host's wall clock minus ours (0 for a host not measured)."""
        return self.offsets.get(host, (0.0, 0.0))[0]

    # -- sending ------------------------------------------------------------------------------

    def submit(
        self, job: Job, task_key: str, spread: bool, plan: RunPlan | None = None
    ) -> Future[Any]:
        group = job.key if spread else None
        future = self.client.submit(
            tasks.cell_task,
            plan or self.plan,
            job.cell,
            self.run_id,
            task_key,
            group,
            key=f"{self.run_id}-{task_key}",
            resources={"cell": 1},
            pure=False,
        )
        self.futures.append(future)
        return future

    def run(self) -> ResultDoc:
        settings = self.plan.settings
        jobs = [
            Job(cell, round_, f"c{i}-r{round_}")
            for round_ in range(settings.repeat)
            for i, cell in enumerate(self.plan.cells)
        ]
        self.observer.start(len(jobs))
        started = time.monotonic()
        stopped: Stopped | None = None
        self.client.set_metadata([self.run_id], {"stop": False})
        try:
            if self.spread is not None:
                for job in jobs:
                    self.run_spread(job)
            elif settings.url is not None:
                for job in jobs:  # one shared target: one cell at a time
                    self.collect(job, [self.submit(job, job.key, False)])
            else:
                futures = {self.submit(job, job.key, False): job for job in jobs}
                from distributed import as_completed

                for future in as_completed(list(futures), loop=self.client.loop):
                    self.collect(futures[future], [future])
        except KeyboardInterrupt as exc:
            stopped = interrupted(exc)
            self.stop()
        except RunFailed as exc:
            stopped = {"reason": str(exc), "exit_code": 1}
            self.stop()
        except BaseException:
            self.stop()
            raise
        finally:
            with contextlib.suppress(Exception):
                self.client.set_metadata([self.run_id], None)
        return self.document(jobs, stopped, time.monotonic() - started)

    def run_spread(self, job: Job) -> None:
        """One round of a spread cell: K tasks, each with its share of the load (`split_load`:
        the row's rate_share is then against the whole --rate), one common start, then their
        runs."""
        assert self.spread is not None
        shares = split_load(self.plan.settings, self.spread)
        futures = [
            self.submit(job, f"{job.key}-h{i}", True, replace(self.plan, settings=share))
            for i, share in enumerate(shares)
        ]
        s = self.plan.settings
        deadline = time.monotonic() + READY_TIMEOUT_S + warm_limit(s) + s.warmup + 30.0
        warm_path = [self.run_id, "spread", f"{job.key}", "warm"]
        while True:
            warm: dict[str, float] = self.client.get_metadata(warm_path, default={})
            finished = [f for f in futures if f.done()]
            for f in finished:
                if f.status == "error":
                    self.result_of(job, f)  # raises what the task raised
            if warm and len(warm) + len(finished) >= len(futures):
                break
            if len(finished) == len(futures):
                break
            if time.monotonic() > deadline:
                raise RunFailed(f"the hosts of {job.cell.label} did not all warm up in time")
            time.sleep(POLL_S)
        if warm:
            # Each host's earliest start, on our clock; the latest of them, plus room to say it.
            ours = {h: t - self.offset(h) for h, t in warm.items()}
            start = max(ours.values()) + SPREAD_MARGIN_S
            per_host = {h: start + self.offset(h) for h in warm}
            self.client.set_metadata([self.run_id, "spread", job.key, "start"], per_host)
        self.collect(job, futures)

    # -- receiving ----------------------------------------------------------------------------

    def result_of(self, job: Job, future: Future[Any]) -> dict[str, Any] | None:
        """A task's answer; None if its worker was lost beyond the one re-run Dask gives it."""
        from distributed import KilledWorker

        try:
            answer: dict[str, Any] = future.result()
        except KilledWorker:
            return None
        except (RunFailed, UsageError, KeyboardInterrupt):
            raise
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise RunFailed(f"{job.cell.label} failed on a host: {reason}") from None
        return answer

    def collect(self, job: Job, futures: Sequence[Future[Any]]) -> None:
        got = self.received.setdefault(job.key, Received())
        for future in futures:  # each blocks until done
            answer = self.result_of(job, future)
            if answer is None or "lost" in answer:
                got.given_up = True
                got.lost += [] if answer is None else list(answer["lost"])
                continue
            run = CellRun.from_dict(answer["run"])
            host = answer["host"]
            if answer.get("lost_on"):
                got.lost += list(answer["lost_on"])
                got.reruns.append(
                    {
                        "cell": job.cell.label,
                        "job": job.key,
                        "lost_on": list(answer["lost_on"]),
                        "ran_on": host,
                    }
                )
            if run.wall_window is not None:  # onto our clock, to line hosts up
                off = self.offset(host)
                run.wall_window = (run.wall_window[0] - off, run.wall_window[1] - off)
            got.runs.append(run)
            got.trust_cpus[host] = int(answer["trust_cpus"])
            self.host_metadata[host] = answer["host_metadata"]
        self.done += 1
        self.observer.cell(self.done, job.cell, job.round_)
        for run in self.merged(got.runs):  # this job's runs: one, or a spread cell's hosts
            row = row_of(self.plan, job.cell, [run], sum(got.trust_cpus.values()) or 1)
            row["host"] = run.host or "?"
            self.observer.done(job.cell, row)

    def merged(self, runs: list[CellRun]) -> list[CellRun]:
        return [merge_spread(runs)] if self.spread is not None and runs else runs

    def stop(self) -> None:
        """Raise the stop flag, cancel every future, wait until no cell of ours still runs."""
        with contextlib.suppress(Exception):
            self.client.set_metadata([self.run_id, "stop"], True)
        with contextlib.suppress(Exception):
            self.client.cancel(self.futures, force=True)
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            try:
                running = self.client.get_metadata([self.run_id, "running"], default={})
            except Exception:
                return
            if not any(running.values()):
                return
            time.sleep(0.1)

    # -- the document -------------------------------------------------------------------------

    def document(self, jobs: list[Job], stopped: Stopped | None, wall_s: float) -> ResultDoc:
        machine_of = {name: h.machine_id for name, h in self.hosts.items()}
        rows, lost = cluster_rows(self.plan, jobs, self.received, machine_of, self.spread)
        first = next(iter(self.host_metadata.values()), {})
        hosts = {
            name: {
                "address": h.address,
                "machine_id": h.machine_id,
                "workbench": h.facts["workbench"],
                "source": h.facts["source"],
                "python": h.facts["python"],
                "cpus": h.facts["cpus"],
                "clock_offset_s": round(self.offset(name), 6),
                "clock_error_s": round(self.offsets.get(name, (0.0, 0.0))[1], 6),
                **self.host_metadata.get(name, {}),
            }
            for name, h in self.hosts.items()
        }
        return document(
            self.plan,
            rows,
            stopped,
            {
                "servers": first.get("servers", {}),
                "disk": first.get("disk"),
                "processes_per_cell": first.get("processes_per_cell"),
                "pinning": None,
                "cluster": {
                    "scheduler": self.address,
                    "run_id": self.run_id,
                    "hosts": hosts,
                    "spread": self.spread,
                    "one_cell_at_a_time": self.spread is not None
                    or self.plan.settings.url is not None,
                    "shared_machines": shared_machines(list(self.hosts.values())),
                    "lost": lost,
                    "reruns": [r for got in self.received.values() for r in got.reruns],
                    "tasks": len(self.futures),
                    "wall_s": round(wall_s, 3),
                },
            },
        )
