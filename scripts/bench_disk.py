"""How close does each file API get to fio on the same files, and does io_uring beat the hops?

For each file size (16 KiB and 1 MiB by default), warm page cache, fio reads the workbench's own
file set twice: `--ioengine=psync` (`--bs` equal to the file size so one I/O is one whole file,
one job per CPU the process may use, as the thread pool can use them) and `--ioengine=io_uring`
(one job, `--iodepth` equal to the async models' users: one submitting thread, as an event loop
is); both `--invalidate=0` so the cache stays warm. Then every model x file API runs `file-read` on
the same files; rounds interleaved. Prints each cell's median MB/s as a ratio to both, and which
pool size the best thread pool had.

Targets: threads >= 1.0x fio psync on 1 MiB warm reads; on 16 KiB warm reads, the io_uring client
>= 3x the best async file API that hops to a thread, in the same run. The io_uring rows are also
put beside the blocking reads (one reader, the thread pools, processes), and whichever is fastest
is named.

Before each fio run the set is read once (warm), and util-linux `fincore` checks that every page
is resident: fio's `--invalidate=0` keeps a warm cache warm but does not warm a cold one, and a
set evicted by an earlier cold run made fio read from the disk on its first pass (slower than one
Python reader on "warm" files, which is how it showed). Beside fio, one plain Python reader (open,
read, close every file of the set, in a loop) is timed in the same round; where fio reads less
than that loop, the run says so, since the reference is then suspect. What remains between them
is fio's open files: fio opens its files once, at its start, and reads them again and again into
one buffer, where the workbench opens, reads and closes every file. Cold reads are not compared:
fio can only invalidate the cache once, at its start, while the workbench evicts before every read.
`python -m workbench disk --cache cold` measures them.

    python -m scripts.bench_disk [--sizes 16KiB,1MiB] [--rounds 3] [--seconds 2] [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from typing import Any

from scripts import _script
from scripts._bench import fmt, require_tool
from workbench import fileset
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars
from workbench.units import parse_size, size_label

TARGET = 1.0
URING_TARGET = 3.0  # io_uring over the best thread-hopping async file API, 16 KiB warm reads
SET_BYTES = 128 << 20
USERS = 8  # each async model's users, and fio io_uring's iodepth


def fio_jobs() -> int:
    """One fio job per CPU this process may use: the thread pool spreads over them too, so the
    reference reads with the same parallelism the best model can use."""
    return len(os.sched_getaffinity(0))


def fio_mb_per_s(fs: fileset.FileSet, size: int, seconds: float, engine: str = "psync") -> float:
    """fio's read bandwidth over the set's directory, MB/s (10^6 bytes), summed over its jobs.

    `--opendir` rather than a `--filename` list, which fio refuses past some thousands of names;
    it also reads the set's manifest and marker, two small files among thousands.
    """
    jobs = (
        [f"--numjobs={fio_jobs()}"] if engine == "psync" else ["--numjobs=1", f"--iodepth={USERS}"]
    )
    cmd = [
        require_tool("fio", "fio"),
        "--name=ref",
        "--rw=read",
        f"--ioengine={engine}",
        f"--bs={size}",
        *jobs,
        "--group_reporting",
        "--thread",
        "--invalidate=0",
        "--time_based",
        f"--runtime={int(seconds * 1000)}ms",
        "--file_service_type=sequential",
        f"--opendir={fs.directory}",
        "--output-format=json",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if out.returncode != 0:
        raise SystemExit(f"fio failed (exit {out.returncode}): {out.stderr.strip()[-300:]}")
    # fio prints a line ("opendir added N files") before its JSON.
    job = json.loads(out.stdout[out.stdout.index("{") :])["jobs"][0]
    return float(job["read"]["bw_bytes"]) / 1e6


def warm(fs: fileset.FileSet) -> float | None:
    """Read every file of the set once; the share of its bytes then resident (None: no fincore)."""
    paths = [fs.path(e) for e in fs.files]
    fileset.warm(paths)
    resident = fileset.resident_bytes(paths)
    total = sum(os.path.getsize(p) for p in paths)
    return None if resident is None or not total else resident / total


def one_reader_mb_per_s(fs: fileset.FileSet, seconds: float) -> float:
    """One plain Python reader: open, read, close every file of the set, for `seconds`; MB/s."""
    paths = [fs.path(e) for e in fs.files]
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for path in paths:
            with open(path, "rb", buffering=0) as f:
                done += len(f.read())
    return done / (time.perf_counter() - start) / 1e6


def uring_verdict(cells: dict[str, list[float]], hops: dict[str, int]) -> dict[str, Any] | None:
    """The io_uring client against the thread-hopping async APIs, one blocking reader and the
    thread pools, by median MB/s; None when no io_uring cell ran (skipped: see the run's notes)."""
    med = {k: statistics.median(v) for k, v in cells.items()}
    uring = {k: v for k, v in med.items() if k.startswith("io_uring on")}
    hopping = {k: v for k, v in med.items() if hops.get(k, 0) >= 1}
    if not uring or not hopping:
        return None
    best_uring = max(uring, key=uring.__getitem__)
    best_hop = max(hopping, key=hopping.__getitem__)
    # The blocking reads: one reader (sync), the thread pools, the processes.
    others = {k: v for k, v in med.items() if k not in uring and k not in hopping}
    fastest = max({**uring, **hopping, **others}.items(), key=lambda kv: kv[1])[0]
    return {
        "io_uring": best_uring,
        "io_uring_mb_per_s": uring[best_uring],
        "best_hopping": best_hop,
        "best_hopping_mb_per_s": hopping[best_hop],
        "x_best_hopping": round(uring[best_uring] / hopping[best_hop], 2),
        "x_others": {k: round(uring[best_uring] / v, 2) for k, v in others.items()},
        "fastest": fastest,
    }


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--sizes", default="16KiB,1MiB")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--models", default="sync,threads,processes,asyncio,trio,anyio-asyncio")
    a = p.parse_args()
    sizes = [parse_size(s, "--sizes") for s in a.sizes.split(",")]
    models = a.models.split(",")
    set_bytes = SET_BYTES
    if a.quick:  # 1 round of 0.5 s, 1 MiB files only, two models, a small set
        a.rounds, a.seconds, sizes, models, set_bytes = (
            1,
            0.5,
            [1 << 20],
            ["threads", "asyncio"],
            32 << 20,
        )
    out = _script.out_dir(a, "bench-disk")
    require_tool("fio", "fio")
    root = fileset.default_dir()
    threads_ratio: float | None = None
    threads_cell = ""  # which pool size gave it
    plot: dict[str, dict[str, list[float]]] = {}
    figures: dict[str, dict[str, list[float]]] = {}
    uring: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    for size in sizes:
        fs = fileset.generate(root, max(16, set_bytes // size), (size,))
        settings = IoSettings(
            models=models,
            workloads=["file-read"],
            duration=a.seconds,
            warmup=0.5,
            file_sizes=[size],
            file_set_bytes=set_bytes,
            disk_cells="every",
            pool_sizes=[8, 32],
            disk_clients=USERS,
        )
        ref: list[float] = []
        ref_uring: list[float] = []
        resident: list[float | None] = []
        cells: dict[str, list[float]] = {}
        hops: dict[str, int] = {}
        reader: list[float] = []
        for _ in range(a.rounds):  # interleaved, so drift hits fio and the models alike
            resident.append(warm(fs))
            ref.append(fio_mb_per_s(fs, size, a.seconds))
            ref_uring.append(fio_mb_per_s(fs, size, a.seconds, "io_uring"))
            reader.append(one_reader_mb_per_s(fs, a.seconds))
            io_doc = run_io(settings)
            _script.stop_if_stopped(f"{size_label(size)} files", io_doc)
            for row in io_doc["results"]:
                key = f"{row['client']} on {row['model']} ({row['clients']})"
                cells.setdefault(key, []).append(row["mb_per_s"])
                hops[key] = row.get("hops_per_op") or 0
            for skip in io_doc["metadata"].get("skipped") or []:
                print(f"skipped: {skip['cell']}: {skip['reason']}")
        ref_med, uring_med = statistics.median(ref), statistics.median(ref_uring)
        reader_med = statistics.median(reader)
        cached = [r for r in resident if r is not None]
        if cached and min(cached) < 0.99:
            print(
                f"{size_label(size)}: only {min(cached):.0%} of the set was in the page cache "
                "before a fio run: fio read from the disk"
            )
        if ref_med < reader_med:
            print(
                f"{size_label(size)}: fio psync ({ref_med:,.0f} MB/s) read less than one plain "
                f"Python reader ({reader_med:,.0f} MB/s): the reference is suspect"
            )
        where = fileset.filesystem_of(fs.directory)
        rows = [
            [f"fio psync, {fio_jobs()} job(s)", fmt(ref), "1.00", f"{ref_med / uring_med:.2f}"],
            [
                f"fio io_uring, 1 job, iodepth {USERS}",
                fmt(ref_uring),
                f"{uring_med / ref_med:.2f}",
                "1.00",
            ],
            [
                "one Python reader, open/read/close (check)",
                fmt(reader),
                f"{reader_med / ref_med:.2f}",
                f"{reader_med / uring_med:.2f}",
            ],
        ]
        for key, rates in sorted(cells.items(), key=lambda kv: -statistics.median(kv[1])):
            ratio = statistics.median(rates) / ref_med
            rows.append(
                [key, fmt(rates), f"{ratio:.2f}", f"{statistics.median(rates) / uring_med:.2f}"]
            )
            plot.setdefault(key, {})[size_label(size)] = [r / ref_med for r in rates]
            if size == 1 << 20 and key.startswith("os on threads") and ratio > (threads_ratio or 0):
                threads_ratio, threads_cell = ratio, key
        figures[size_label(size)] = {
            "fio": ref,
            "fio io_uring": ref_uring,
            "one Python reader": reader,
            **cells,
        }
        checks[size_label(size)] = {
            "resident_before_fio": resident,
            "fio_over_one_reader": round(ref_med / reader_med, 3),
        }
        _script.table(
            f"{size_label(size)} files, warm cache, {len(fs.files)} files on {where}; "
            f"{a.rounds} round(s) of {a.seconds:g}s",
            [
                "file API on model (concurrency)",
                "MB/s: median ±spread (rounds)",
                "× fio psync",
                "× fio io_uring",
            ],
            rows,
        )
        found = uring_verdict(cells, hops)
        if found is not None:
            found["x_fio_io_uring"] = round(found["io_uring_mb_per_s"] / uring_med, 2)
            uring[size_label(size)] = found
            others = ", ".join(f"{v:.2f}x {k}" for k, v in found["x_others"].items())
            print(
                f"{size_label(size)} warm: {found['io_uring']} is {found['x_best_hopping']:.2f}x "
                f"the best thread-hopping API ({found['best_hopping']}), {others}, "
                f"{found['x_fio_io_uring']:.2f}x fio io_uring; fastest: {found['fastest']}"
            )
    missed = []
    if threads_ratio is not None:
        verdict = "meets" if threads_ratio >= TARGET else "MISSES"
        missed += [] if threads_ratio >= TARGET else ["threads"]
        print(
            f"best thread pool ({threads_cell}) vs fio ({fio_jobs()} job(s)) on 1 MiB warm "
            f"reads: {threads_ratio:.2f}x ({verdict} the {TARGET:g}x target)"
        )
    small = uring.get(size_label(16 * 1024))
    if small is not None:
        x = small["x_best_hopping"]
        missed += [] if x >= URING_TARGET else ["io_uring"]
        said = "meets" if x >= URING_TARGET else "MISSES"
        print(
            f"io_uring vs the best thread-hopping async API on 16 KiB warm reads: {x:.2f}x "
            f"({said} the {URING_TARGET:g}x target)"
        )
    plots = plot_bars(
        plot,
        out / "bench-disk",
        log=True,
        xlabel="MB/s as a multiple of fio's on the same files (log scale; whiskers: rounds)",
        title=f"file APIs against fio (psync, {fio_jobs()} job(s), bs = file size), warm cache",
        lines={"fio = 1": 1.0},
    )
    doc = {"kind": "bench-disk", "mb_per_s": figures, "threads_vs_fio_1mib": threads_ratio,
           "threads_cell": threads_cell, "fio_jobs": fio_jobs(), "io_uring": uring,
           "reference_checks": checks,
           "metadata": _script.run_metadata(["fio"])}  # fmt: skip
    _script.save(out, "bench-disk", doc, plots)
    return 0 if a.quick or not missed else 1


if __name__ == "__main__":
    _script.main(main)
