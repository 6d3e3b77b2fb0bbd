"""Async file APIs or a thread pool: which reads files fastest, and why?

Every file API on every model it fits (aiofiles and asyncio.to_thread on asyncio, trio's and
anyio's file and path APIs, io_uring on each loop, plain os reads from a pool of 8 or 32 threads,
and one blocking reader), reading whole 16 KiB and 1 MiB files of a generated set, each cell in
a fresh worker, rounds interleaved. Warm page cache by default: that compares the APIs' own
costs, not the disk (`--cache warm,cold` adds cold reads, evicted before every read and checked
with fincore).
Prints every row, then each cell's MB/s against the best thread pool of its size, and writes a
bar chart.

    python -m scripts.compare_file_apis [--sizes 16KiB,1MiB] [--cache warm] [--repeat 3] [--quick]
"""

from __future__ import annotations

from dataclasses import replace

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars
from workbench.results import Row
from workbench.units import parse_size, size_label

MODELS = ["sync", "threads", "asyncio", "trio", "anyio-asyncio", "anyio-trio"]


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--sizes", default="16KiB,1MiB", help="file sizes, one set each")
    p.add_argument("--cache", default="warm", help="warm, cold, or warm,cold")
    p.add_argument("--repeat", type=int, default=3, help="rounds, interleaved (default 3)")
    p.add_argument("--models", default=",".join(MODELS))
    a = p.parse_args()
    out = _script.out_dir(a, "file-apis")
    settings = IoSettings(
        models=a.models.split(","),
        workloads=["file-read"],
        disk_cells="every",
        file_sizes=[parse_size(s, "--sizes") for s in a.sizes.split(",")],
        cache=a.cache.split(","),
        duration=1.5,
        warmup=0.5,
        repeat=a.repeat,
    )
    if a.quick:
        settings = replace(
            _script.quick(settings),
            models=["threads", "asyncio"],
            file_sizes=[64 * 1024],
            file_set_bytes=8 << 20,
            pool_sizes=[8],
        )
    doc = _script.run(settings, "every file API reading whole files")
    _script.show(doc)
    groups: dict[str, dict[str, list[float]]] = {}
    summary = []
    for (size, cache), rows in _by_size(doc["results"]).items():
        pools = [r for r in rows if r["model"] == "threads"]
        best = max(pools, key=lambda r: r["mb_per_s"]) if pools else None
        for r in sorted(rows, key=lambda r: -r["mb_per_s"]):
            label = f"{r['client']} on {r['model']} ({r['clients']})"
            mb = [v * size / 1e6 for v in _script.rates(r)]  # one whole file per operation
            groups.setdefault(label, {})[f"{size_label(size)} {cache}"] = mb
            summary.append(
                [
                    f"{label} · {size_label(size)} {cache}",
                    f"{r['mb_per_s']:,.0f}",
                    f"{r['mb_per_s'] / best['mb_per_s']:.2f}" if best else "-",
                    f"{r['hops_per_op']}",
                    "-" if r["hop_us"] is None else f"{r['hop_us']:.0f}",
                    f"{r['minor_faults_per_op']:g}",
                    ", ".join(r["flags"]),
                ]
            )
    _script.table(
        "file APIs against the best thread pool of the same size (× pool)",
        [
            "API on model (concurrency) · file size",
            "MB/s",
            "× pool",
            "hops/op",
            "µs/hop",
            "faults/op",
            "flags",
        ],
        summary,
    )
    plots = plot_bars(
        groups,
        out / "file-apis",
        log=True,
        xlabel="MB/s reading whole files (log scale; whiskers: range over rounds)",
        title="file APIs and thread pools, whole-file reads",
    )
    _script.save(out, "file-apis", doc, plots)
    return 0


def _by_size(rows: list[Row]) -> dict[tuple[int, str], list[Row]]:
    out: dict[tuple[int, str], list[Row]] = {}
    for r in rows:
        out.setdefault((r.get("file_size", 0), r.get("cache") or ""), []).append(r)
    return dict(sorted(out.items()))


if __name__ == "__main__":
    _script.main(main)
