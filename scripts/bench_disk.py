"""How close does each file API get to fio on the same files?

For each file size (16 KiB and 1 MiB by default), warm page cache: fio reads the workbench's own
file set (`--ioengine=psync`, `--bs` equal to the file size so one I/O is one whole file, one job
per CPU the process may use, as the thread pool can use them, `--invalidate=0` so it keeps the
cache warm), then every model x file API runs `file-read` on the same files; rounds interleaved.
Prints each cell's median MB/s as a ratio to fio's median, and which pool size the best thread
pool had. Target: threads >= 1.0x fio on 1 MiB warm reads.

Cold reads are not compared: fio can only invalidate the cache once, at its start, while the
workbench evicts before every read. `python -m workbench disk --cache cold` measures them.

    python scripts/bench_disk.py [--sizes 16KiB,1MiB] [--rounds 3] [--seconds 2] [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _script
from _bench import fmt, require_tool

from workbench import fileset
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars
from workbench.units import parse_size, size_label

TARGET = 1.0
SET_BYTES = 128 << 20


def fio_jobs() -> int:
    """One fio job per CPU this process may use: the thread pool spreads over them too, so the
    reference reads with the same parallelism the best model can use."""
    return len(os.sched_getaffinity(0))


def fio_mb_per_s(fs: fileset.FileSet, size: int, seconds: float) -> float:
    """fio's read bandwidth over the set's directory, MB/s (10^6 bytes), summed over its jobs.

    `--opendir` rather than a `--filename` list, which fio refuses past some thousands of names;
    it also reads the set's manifest and marker, two small files among thousands.
    """
    cmd = [
        require_tool("fio", "fio"), "--name=ref", "--rw=read", "--ioengine=psync",
        f"--bs={size}", f"--numjobs={fio_jobs()}", "--group_reporting", "--thread",
        "--invalidate=0", "--time_based",
        f"--runtime={int(seconds * 1000)}ms", "--file_service_type=sequential",
        f"--opendir={fs.directory}", "--output-format=json",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if out.returncode != 0:
        raise SystemExit(f"fio failed (exit {out.returncode}): {out.stderr.strip()[-300:]}")
    # fio prints a line ("opendir added N files") before its JSON.
    job = json.loads(out.stdout[out.stdout.index("{") :])["jobs"][0]
    return float(job["read"]["bw_bytes"]) / 1e6


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
    for size in sizes:
        fs = fileset.generate(root, max(16, set_bytes // size), (size,))
        settings = IoSettings(
            models=models, workloads=["file-read"], duration=a.seconds, warmup=0.5,
            file_sizes=[size], file_set_bytes=set_bytes, every_disk_cell=True, pool_sizes=[8, 32],
        )  # fmt: skip
        ref: list[float] = []
        cells: dict[str, list[float]] = {}
        for _ in range(a.rounds):  # interleaved, so drift hits fio and the models alike
            ref.append(fio_mb_per_s(fs, size, a.seconds))
            io_doc = run_io(settings)
            _script.stop_if_stopped(f"{size_label(size)} files", io_doc)
            for row in io_doc["results"]:
                key = f"{row['client']} on {row['model']} ({row['clients']})"
                cells.setdefault(key, []).append(row["mb_per_s"])
        ref_med = statistics.median(ref)
        where = fileset.filesystem_of(fs.directory)
        rows = [[f"fio psync, {fio_jobs()} job(s)", fmt(ref), "1.00"]]
        for key, rates in sorted(cells.items(), key=lambda kv: -statistics.median(kv[1])):
            ratio = statistics.median(rates) / ref_med
            rows.append([key, fmt(rates), f"{ratio:.2f}"])
            plot.setdefault(key, {})[size_label(size)] = [r / ref_med for r in rates]
            if size == 1 << 20 and key.startswith("os on threads") and ratio > (threads_ratio or 0):
                threads_ratio, threads_cell = ratio, key
        figures[size_label(size)] = {"fio": ref, **cells}
        _script.table(
            f"{size_label(size)} files, warm cache, {len(fs.files)} files on {where}; "
            f"{a.rounds} round(s) of {a.seconds:g}s",
            ["file API on model (concurrency)", "MB/s: median ±spread (rounds)", "× fio"], rows,
        )  # fmt: skip
    if threads_ratio is not None:
        verdict = "meets" if threads_ratio >= TARGET else "MISSES"
        print(f"best thread pool ({threads_cell}) vs fio ({fio_jobs()} job(s)) on 1 MiB warm "
              f"reads: {threads_ratio:.2f}x ({verdict} the {TARGET:g}x target)")  # fmt: skip
    plots = plot_bars(
        plot, out / "bench-disk", log=True,
        xlabel="MB/s as a multiple of fio's on the same files (log scale; whiskers: rounds)",
        title=f"file APIs against fio (psync, {fio_jobs()} job(s), bs = file size), warm cache",
        lines={"fio = 1": 1.0},
    )  # fmt: skip
    doc = {"kind": "bench-disk", "mb_per_s": figures, "threads_vs_fio_1mib": threads_ratio,
           "threads_cell": threads_cell, "fio_jobs": fio_jobs(),
           "metadata": _script.run_metadata(["fio"])}  # fmt: skip
    _script.save(out, "bench-disk", doc, plots)
    return 0 if a.quick or threads_ratio is None or threads_ratio >= TARGET else 1


if __name__ == "__main__":
    _script.main(main)
