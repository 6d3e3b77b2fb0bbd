"""Cells and load on a Dask cluster.

The fast tests check what needs no engine: merging a spread cell's hosts, the checks that refuse a
worker, the command line's refusals, the table. The slow ones start a real `dask scheduler` and two
real `dask worker` processes on 127.0.0.1 (no mock of Dask) and run the workbench against them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from hdrh.histogram import HdrHistogram

from tests.conftest import _SHARED
from tests.helpers import run_cli
from workbench import __version__
from workbench.cli import main
from workbench.cluster.engine import check_hosts, normalise_address, source_digest
from workbench.cluster.merge import (
    common_overlap,
    concurrent_on_one_machine,
    hosts_over_rounds,
    merge_spread,
    skewed_hosts,
    split_load,
)
from workbench.errors import UsageError
from workbench.harness.cell import CellRun
from workbench.harness.trust import CLUSTER_FLAG_HELP
from workbench.metrics import Recording, hdr_bucket
from workbench.report.table_notes import cluster_notes

# -- merging a spread cell ----------------------------------------------------------------------


def _run(host: str, ops: int, latency_us: int, window: tuple[float, float]) -> CellRun:
    rec = Recording(
        ops=ops,
        bytes=ops * 100,
        latency_counts=Counter({hdr_bucket(latency_us): ops}),
        cpu_user_s=0.5,
        clients=10,
        users_warm=10,
        slice_ops=[ops // 4] * 4,
    )
    return CellRun(rec, None, window[1] - window[0], {"python": "3.x"}, 0.2, window, host)


def test_a_spread_cell_sums_its_hosts_and_merges_their_histograms_losslessly() -> None:
    runs = [_run("b", 3000, 900, (100.0, 102.0)), _run("a", 1000, 5000, (100.0, 102.0))]
    merged = merge_spread(runs)
    assert merged.recording.ops == 4000
    assert merged.recording.histogram.get_total_count() == 4000
    assert merged.recording.clients == 20
    assert merged.host == "a,b"  # hosts in name order
    per_host = merged.metadata["per_host"]
    assert [h["host"] for h in per_host] == ["a", "b"]
    assert [h["ops"] for h in per_host] == [1000, 3000]
    assert (
        sum(h["histogram_count"] for h in per_host) == merged.recording.histogram.get_total_count()
    )
    assert [h["ops_per_s"] for h in per_host] == [500.0, 1500.0]
    # The merged p50 lies between the hosts' own: a's 1,000 at 5 ms, b's 3,000 at 0.9 ms.
    assert merged.recording.latency_ms()["p50"] == pytest.approx(0.9, rel=0.01)
    assert merged.recording.latency_ms()["max"] == pytest.approx(5.0, rel=0.01)
    assert skewed_hosts(per_host) == []


def test_a_spread_rows_hosts_add_up_over_every_round() -> None:
    """The row sums every round's operations, so each host's part does too: over three rounds
    the hosts' ops add up to the row's, their rate is the median round's, their overlap the
    worst round's."""
    rounds = [
        merge_spread([_run("a", 1000 + k, 5000, (100.0, 102.0)), _run("b", 3000, 900, w)])
        for k, w in ((0, (100.0, 102.0)), (200, (100.2, 102.2)), (400, (100.0, 102.0)))
    ]
    hosts = hosts_over_rounds([r.metadata["per_host"] for r in rounds])
    assert [h["host"] for h in hosts] == ["a", "b"]
    assert sum(h["ops"] for h in hosts) == sum(r.recording.ops for r in rounds) == 12_600
    assert sum(h["histogram_count"] for h in hosts) == 12_600
    a, b = hosts
    assert (a["ops"], a["rounds"], a["ops_per_s"]) == (3600, 3, 600.0)  # 1,200 ops in 2 s
    assert b["overlap"] == pytest.approx(0.9)
    assert len(b["wall_window"]) == 3
    assert skewed_hosts(hosts) == ["a", "b"]  # round 2 skewed both


def test_a_host_whose_window_missed_the_others_is_named() -> None:
    assert common_overlap([(0.0, 2.0), (0.0, 2.0)]) == [1.0, 1.0]
    assert common_overlap([(0.0, 2.0), (0.2, 2.2)]) == pytest.approx([0.9, 0.9])
    merged = merge_spread([_run("a", 100, 500, (0.0, 2.0)), _run("b", 100, 500, (0.05, 2.05))])
    assert skewed_hosts(merged.metadata["per_host"]) == []  # 97.5% overlap
    merged = merge_spread([_run("a", 100, 500, (0.0, 2.0)), _run("b", 100, 500, (0.5, 2.5))])
    assert skewed_hosts(merged.metadata["per_host"]) == ["a", "b"]


def test_cells_run_at_once_on_one_machine_are_found() -> None:
    runs = [
        ("w0", "m1", (0.0, 2.0)),
        ("w1", "m1", (1.0, 3.0)),  # overlaps w0 on the same machine
        ("w2", "m2", (0.0, 2.0)),  # another machine
        ("w0", "m1", (5.0, 6.0)),  # alone
    ]
    assert concurrent_on_one_machine(runs) == {0, 1}  # type: ignore[arg-type]


def test_a_spread_cell_splits_its_clients_and_rate_between_the_hosts() -> None:
    from workbench.harness.settings import IoSettings

    shares = split_load(IoSettings(clients=500, rate=10_000.0), 3)
    assert [s.clients for s in shares] == [167, 167, 166]
    assert sum(s.clients for s in shares) == 500
    assert sum(s.rate or 0 for s in shares) == pytest.approx(10_000.0)
    # Every user keeps the pace it would have on one machine: rate per user is unchanged.
    assert {round((s.rate or 0) / s.clients, 9) for s in shares} == {20.0}
    assert [s.rate for s in split_load(IoSettings(clients=4), 2)] == [None, None]
    with pytest.raises(ValueError, match="cannot be spread"):
        split_load(IoSettings(clients=2), 3)


def test_a_cluster_raises_its_own_flags_and_keeps_what_was_measured() -> None:
    from workbench.cluster.cluster_rows import Job, Received, cluster_rows
    from workbench.harness.cell import Observer
    from workbench.harness.runner import plan_run
    from workbench.harness.settings import IoSettings

    settings = IoSettings(models=["asyncio", "threads"], libs=["raw"], repeat=2)
    plan = plan_run(settings, Observer())
    jobs = [Job(c, r, f"c{i}-r{r}") for r in range(2) for i, c in enumerate(plan.cells)]
    machines = {"a": "m1", "b": "m1", "c": "m2"}
    received = {
        # asyncio: round 0 on a while b ran threads (one machine), round 1 lost twice.
        "c0-r0": Received([_run("a", 1000, 500, (0.0, 1.0))], {"a": 1}),
        "c0-r1": Received([], {}, ["a", "c"], given_up=True),
        # threads: on b (at once with a) and on c (alone).
        "c1-r0": Received([_run("b", 900, 500, (0.5, 1.5))], {"b": 1}),
        "c1-r1": Received([_run("c", 800, 500, (3.0, 4.0))], {"c": 1}),
    }
    rows, lost = cluster_rows(plan, jobs, received, machines, None)
    assert [(r["model"], r["host"], r["ops"]) for r in rows] == [
        ("asyncio", "a", 1000),
        ("threads", "b", 900),
        ("threads", "c", 800),
    ]
    assert rows[0]["flags"][-2:] == ["worker-lost", "shared-machine"]
    assert "shared-machine" in rows[1]["flags"]
    assert lost == [{"cell": plan.cells[0].label, "job": "c0-r1", "hosts": ["a", "c"]}]
    # A spread cell whose hosts' windows missed each other.
    apart = [_run("a", 100, 500, (0.0, 1.0)), _run("c", 100, 500, (0.5, 1.5))]
    spread = {"c0-r0": Received(apart, {"a": 1, "c": 1})}
    (row,) = cluster_rows(plan, jobs, spread, machines, 2)[0]
    assert row["host"] == "a,c"
    assert row["ops"] == 200
    assert row["flags"][-1] == "window-skew"
    raised = {f for r in [*rows, row] for f in r["flags"]}
    assert set(CLUSTER_FLAG_HELP) <= raised


# -- the checks before any cell starts ----------------------------------------------------------


def _facts(**changes: Any) -> dict[str, Any]:
    facts = {"workbench": __version__, "source": source_digest(), "python": "3.11.7",
             "missing": [], "absent_paths": [], "machine_id": "m/1", "hostname": "m",
             "cpus": 2}  # fmt: skip
    return {**facts, **changes}


WORKERS = {
    "tcp://10.0.0.1:1": {"name": "alpha", "resources": {"cell": 1}},
    "tcp://10.0.0.2:1": {"name": "beta", "resources": {"cell": 1}},
    "tcp://10.0.0.3:1": {"name": "gamma", "resources": {}},  # not offered for cells: ignored
}


def test_matching_workers_with_the_cell_resource_are_the_hosts() -> None:
    facts = {a: _facts() for a in WORKERS}
    hosts = check_hosts(WORKERS, facts, "tcp://s:8786")
    assert [h.name for h in hosts] == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"source": "0123456789ab"}, "worker beta runs workbench"),
        ({"workbench": "9.9.9"}, "9.9.9"),
        ({"missing": ["uvloop"]}, "worker beta lacks uvloop"),
        (
            {"absent_paths": ["/opt/py/bin/python3.13t"]},
            "worker beta has no /opt/py/bin/python3.13t",
        ),
    ],
    ids=["source", "version", "dependency", "path"],
)
def test_a_worker_that_differs_is_refused_by_name(changes: dict[str, Any], says: str) -> None:
    facts = {a: _facts() for a in WORKERS}
    facts["tcp://10.0.0.2:1"] = _facts(**changes)
    with pytest.raises(UsageError, match=says):
        check_hosts(WORKERS, facts, "tcp://s:8786")


def test_a_cluster_without_cell_workers_says_how_to_start_them() -> None:
    with pytest.raises(UsageError, match="has no workers; start some: dask worker tcp://s:8786"):
        check_hosts({}, {}, "tcp://s:8786")
    only = {"tcp://10.0.0.3:1": WORKERS["tcp://10.0.0.3:1"]}
    with pytest.raises(UsageError, match="--resources cell=1"):
        check_hosts(only, {a: _facts() for a in only}, "tcp://s:8786")


def test_scheduler_addresses() -> None:
    assert normalise_address("10.1.2.3:8786") == "tcp://10.1.2.3:8786"
    assert normalise_address("tls://h:8786") == "tls://h:8786"
    for bad in ("h", "http://h:8786", "h:port", "h:70000"):
        with pytest.raises(UsageError, match="is not a scheduler address"):
            normalise_address(bad)


def test_bad_cluster_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["io", "--spread", "2"], "give --cluster too"),
        (["io", "--cluster", "h:8786", "--spread", "2"], "give it with --url"),
        (["io", "--cluster", "h:8786", "--spread", "0", "--url", "http://127.0.0.1:1/"],
         "--spread must be at least 1"),
        (["io", "--only", "net", "--cluster", "h:8786", "--spread", "3", "--clients", "2",
          "--url", "http://127.0.0.1:1/"], "give at least 3 clients (got 2)"),
        (["io", "--cluster", "nowhere"], "is not a scheduler address"),
        (["cluster", "local", "--workers", "0"], "--workers must be at least 1"),
    ]  # fmt: skip
    for args, says in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert says in err, (args, err)
        assert len(err.strip().splitlines()) == 1


def test_without_the_extra_cluster_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def without_distributed(name: str, *args: Any) -> Any:
        return None if name == "distributed" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_distributed)
    for args in (
        ["io", "--cluster", "h:8786"],
        ["gil", "--cluster", "h:8786"],
        ["cluster", "local"],
    ):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "pip install 'workbench[cluster]'" in err, err


def test_the_table_names_each_rows_host_and_the_hosts() -> None:
    doc: Any = {
        "metadata": {
            "cluster": {
                "scheduler": "tcp://s:8786",
                "spread": 2,
                "shared_machines": [["a", "b"]],
                "hosts": {
                    n: {
                        "address": f"tcp://{n}:1",
                        "cpus": 2,
                        "python": "3.11.7",
                        "clock_offset_s": 0.0012,
                        "clock_error_s": 0.0004,
                        "machine": {"cpu_model": "EPYC"},
                    }
                    for n in ("a", "b")
                },
                "lost": [{"cell": "asyncio · raw · http", "job": "c0-r0", "hosts": ["a", "b"]}],
                "reruns": [
                    {
                        "cell": "threads · raw · http",
                        "job": "c1-r0",
                        "lost_on": ["a"],
                        "ran_on": "b",
                    }
                ],
            }
        },
        "results": [
            {
                "model": "asyncio",
                "client": "raw",
                "per_host": [
                    {
                        "host": "a",
                        "ops": 1000,
                        "ops_per_s": 500.0,
                        "errors": 0,
                        "p99_ms": 1.5,
                        "overlap": 0.9912,
                    }
                ],
            }
        ],
    }
    text = "\n".join(cluster_notes(doc))
    assert "host a: tcp://a:1, 2 CPUs (EPYC), Python 3.11.7, clock +1.2 ms ±0.4" in text
    assert "one machine: a, b share its cores" in text
    assert "worker lost: asyncio · raw · http (c0-r0), tried on a, b" in text
    assert "re-run: threads · raw · http (c1-r0) on b, its worker a having died under it" in text
    assert (
        "asyncio · raw on a: 500 ops/s, 1,000 ops, 0 errors, p99 1.5 ms, window overlap 99.1%"
        in text
    )


# -- a real scheduler and real workers ----------------------------------------------------------

# One round a cell: these tests are about where cells run, not how rows rank (rows_of is).
QUICK = ["--clients", "10", "--warmup", "0.2", "--duration", "0.6", "--repeat", "1", "--quiet"]
MATRIX = ["--only", "net", "--models", "asyncio,threads,trio", "--libs", "raw", *QUICK]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """`dask scheduler` and two `dask worker --nthreads 1 --resources cell=1` on 127.0.0.1."""
    from workbench.cluster.local import local_cluster

    with local_cluster(2) as c:
        pids = [c.scheduler.pid, *(p.pid for p in c.workers.values())]
        _SHARED.update(pids)
        yield c.address
        _SHARED.difference_update(pids)


def _cell_processes(pids: list[int]) -> list[psutil.Process]:
    """The cell workers and mock servers under these processes."""
    out = []
    for pid in pids:
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        for child in children:
            try:
                line = " ".join(child.cmdline())
            except psutil.NoSuchProcess:
                continue
            if "workbench.harness.worker" in line or "servers." in line:
                out.append(child)
    return out


def _doc(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


@pytest.mark.slow
def test_a_matrix_through_the_cluster_gives_the_rows_of_a_local_run(
    cluster: str, tmp_path: Path
) -> None:
    local, remote = tmp_path / "local.json", tmp_path / "cluster.json"
    done = run_cli("io", *MATRIX, "--json", str(local), timeout=120)
    assert done.returncode == 0, done.stderr
    done = run_cli("io", *MATRIX, "--cluster", cluster, "--json", str(remote), timeout=120)
    assert done.returncode == 0, done.stderr
    a, b = _doc(local), _doc(remote)

    def shape(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (r["model"], r["client"], r["workload"], r["clients"]) for r in doc["results"]
        )

    assert shape(a) == shape(b)
    assert len(b["results"]) == 3
    hosts = b["metadata"]["cluster"]["hosts"]
    assert set(hosts) == {"local-0", "local-1"}
    for row in b["results"]:
        assert row["host"] in hosts
        assert row["ops"] > 0
        assert row["errors"] == 0
        assert row["metadata"]["python"]  # the worker's own metadata rides along
    ran = [h for h in hosts.values() if "machine" in h]  # hosts that ran a cell say what they are
    assert ran
    assert all(h["machine"]["cpu_count"] and h["libraries"]["uvloop"] for h in ran)
    # Two workers on one machine ran cells at once: said, not hidden.
    assert b["metadata"]["cluster"]["shared_machines"] == [["local-0", "local-1"]]


@pytest.mark.slow
def test_spread_two_sums_the_hosts_against_one_server(cluster: str, tmp_path: Path) -> None:
    from workbench.server_process import run_server

    out = tmp_path / "spread.json"
    with run_server("http") as server:
        url = f"http://{server.host}:{server.port}/"
        done = run_cli(
            "io",
            "--only",
            "net",
            "--models",
            "asyncio",
            "--libs",
            "raw",
            *QUICK,
            "--url",
            url,
            "--cluster",
            cluster,
            "--spread",
            "2",
            "--json",
            str(out),
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    (row,) = _doc(out)["results"]
    per_host = row["per_host"]
    assert sorted(h["host"] for h in per_host) == ["local-0", "local-1"]
    assert row["ops"] == sum(h["ops"] for h in per_host) > 0
    assert row["clients"] == 10  # --clients 10 split over the two hosts, not 10 on each
    assert sorted(h["clients"] for h in per_host) == [5, 5]
    merged = HdrHistogram.decode(row["histogram"].encode("ascii"))
    assert merged.get_total_count() == sum(h["histogram_count"] for h in per_host) == row["ops"]
    for h in per_host:
        assert h["errors"] == 0
        # How well the hosts' windows coincide depends on how fast each worker got going: this
        # asserts the share is read and flagged by its rule (whose arithmetic is tested on made
        # windows above), not that the machine was quiet enough to meet it.
        assert 0 < h["overlap"] <= 1, h
    assert ("window-skew" in row["flags"]) == any(h["overlap"] < 0.95 for h in per_host)


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_rerun_elsewhere(tmp_path: Path) -> None:
    from workbench.cluster.local import local_cluster

    out = tmp_path / "run.json"
    with local_cluster(2) as c:
        args = [
            "io",
            "--only",
            "net",
            "--models",
            "asyncio,threads",
            "--libs",
            "raw",
            "--clients",
            "10",
            "--warmup",
            "0.2",
            "--duration",
            "2",
            "--quiet",
        ]
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", *args, "--cluster", c.address, "--json", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Kill the first worker seen running a cell, while it runs it.
        deadline = time.monotonic() + 30
        victim = None
        while victim is None and time.monotonic() < deadline:
            for name, worker in c.workers.items():
                if _cell_processes([worker.pid]):
                    victim = name
                    break
            time.sleep(0.05)
        assert victim is not None, "no cell started"
        time.sleep(0.3)
        os.killpg(c.workers[victim].pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        doc = _doc(out)
        survivor = next(n for n in c.workers if n != victim)
        assert len(doc["results"]) == 2
        assert {r["host"] for r in doc["results"]} == {survivor}
        reruns = doc["metadata"]["cluster"]["reruns"]
        assert [(r["lost_on"], r["ran_on"]) for r in reruns] == [([victim], survivor)]
        assert all(r["errors"] == 0 and r["ops"] > 0 for r in doc["results"])
        assert not _cell_processes([c.workers[survivor].pid])


@pytest.mark.slow
def test_ctrl_c_stops_every_cell_on_every_host(cluster: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench",
            "io",
            "--only",
            "net",
            "--models",
            "asyncio,threads,trio,uvloop",
            "--libs",
            "raw",
            "--clients",
            "10",
            "--warmup",
            "0.2",
            "--duration",
            "5",
            "--quiet",
            "--cluster",
            cluster,
            "--json",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers = [
        p.pid
        for p in psutil.Process().children()
        if "dask.cli" in " ".join(p.cmdline()) or "workbench.cluster.child" in " ".join(p.cmdline())
    ]
    deadline = time.monotonic() + 30
    while len(_cell_processes(workers)) < 4 and time.monotonic() < deadline:  # both hosts busy
        time.sleep(0.05)
    assert len(_cell_processes(workers)) >= 4, "two cells (worker and server each) never ran"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert time.monotonic() - t0 < 10
    assert _cell_processes(workers) == []  # nothing of the run left on any host
    doc = _doc(out)
    assert doc["partial"] is True
    assert doc["stopped"]["exit_code"] == 130
    # The cluster itself is fine and takes the next run.
    done = run_cli("io", *MATRIX, "--models", "asyncio", "--cluster", cluster, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    done = run_cli("io", *MATRIX, "--cluster", f"127.0.0.1:{port}", timeout=60)
    assert done.returncode == 2
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert time.monotonic() - t0 < 30


@pytest.mark.slow
def test_a_worker_with_other_code_is_refused_before_any_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.cluster.local import local_cluster

    root = Path(__file__).resolve().parent.parent
    for package in ("workbench", "servers"):
        shutil.copytree(
            root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    with (tmp_path / "workbench" / "units.py").open("a") as f:
        f.write("\n# changed on this worker only\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    monkeypatch.chdir(tmp_path)  # `python -m` puts the working directory first on the path
    with local_cluster(1, worker_env=env) as c:
        done = run_cli("io", *MATRIX, "--cluster", c.address, timeout=60, cwd=root)
        assert done.returncode == 2, done.stderr
        assert "worker local-0 runs workbench" in done.stderr
        assert "install the same on every worker" in done.stderr
        assert _cell_processes([c.workers["local-0"].pid]) == []


@pytest.mark.slow
def test_the_gil_lab_and_disk_cells_run_on_the_cluster(cluster: str, tmp_path: Path) -> None:
    gil, disk = tmp_path / "gil.json", tmp_path / "disk.json"
    done = run_cli(
        "gil", "--only", "5", "--cluster", cluster, "--quiet", "--json", str(gil), timeout=120
    )
    assert done.returncode == 0, done.stderr
    (claim,) = _doc(gil)["claims"]
    assert claim["host"] in ("local-0", "local-1")
    assert claim["verdict"] == "holds"
    done = run_cli(
        "disk",
        "--cluster",
        cluster,
        "--models",
        "threads",
        "--workloads",
        "file-read",
        "--file-sizes",
        "16KiB",
        "--set-size",
        "1MiB",
        "--pool-sizes",
        "8",
        "--dir",
        str(tmp_path / "files"),
        "--warmup",
        "0.2",
        "--duration",
        "0.5",
        "--quiet",
        "--json",
        str(disk),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = _doc(disk)["results"]
    assert rows
    assert all(r["host"] in ("local-0", "local-1") and r["errors"] == 0 for r in rows)


@pytest.mark.slow
def test_cluster_local_says_ready_and_leaves_nothing_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "cluster", "local", "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY tcp://127.0.0.1:"), line
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) == 2  # the scheduler and one worker
    done = run_cli("io", *MATRIX, "--models", "asyncio", "--cluster", line.split()[1], timeout=60)
    assert done.returncode == 0, done.stderr
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped the scheduler and its workers" in out
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive
