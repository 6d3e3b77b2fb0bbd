"""The allocator, not the model: how much of each row is glibc's malloc?

Under glibc's defaults a read of 128 KiB or more is a fresh mmap, mremap and munmap: the stdlib
asyncio transport reads `recv(256 KiB)` per read, and pays two page faults an operation. The
workbench's own raw clients read through buffers they keep (or at 64 KiB), so what is left to
show is what users' code pays. Two parts, each one run with its variants interleaved:
- this interpreter: every network row of the default run (`io --clients 500`: each model's raw
  client and the default library cells) under glibc's default allocator and under `--allocator
  no-mmap` (its mmap threshold raised to 1 MiB); then, in a run of their own, `raw-buffered` on
  asyncio and uvloop, the cheapest read asyncio has, under both;
- 3.13 and 3.13t, where found (`workbench pythons build 3.13.5` / `3.13t`): asyncio, uvloop and
  threads raw at 100 clients under pymalloc and mimalloc on the GIL build, beside the
  free-threaded build (mimalloc, its only allocator): how much of 3.13t's asyncio gain over its GIL
  twin is the allocator.
Each pair is decided from the rounds (the ranking's rule); the table gives no-mmap / default per
row, and faults per operation on each side.

    python -m scripts.compare_allocators [--clients 500] [--repeat 3] [--quick]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scripts import _script
from workbench.cli import build_parser
from workbench.cli.options import io_settings
from workbench.errors import UsageError
from workbench.harness.settings import IoSettings
from workbench.interpreter_discovery import find
from workbench.ranking import SAID, decide
from workbench.report.plots import plot_bars
from workbench.results import ResultDoc, Row

TWINS = ["3.13.5", "3.13t"]  # a GIL build and its free-threaded twin, from one tarball
TWIN_MODELS = ["asyncio", "uvloop", "threads"]
TWIN_CLIENTS = 100


def default_run(clients: int) -> IoSettings:
    """What `io --only net --clients N` runs, as the command line builds it."""
    a = build_parser().parse_args(["io", "--only", "net", "--clients", str(clients)])
    return io_settings(a)


def pairs(doc: ResultDoc, a_label: str, b_label: str) -> list[dict[str, Any]]:
    """Each (model, client) measured under both labels (python · allocator): B against A."""
    by: dict[tuple[str, str], dict[str, Row]] = {}
    for r in doc["results"]:
        by.setdefault((r["model"], r["client"]), {})[str(r.get("python"))] = r
    out = []
    for (model, client), rows in by.items():
        a, b = rows.get(a_label), rows.get(b_label)
        if a is None or b is None:
            continue
        d = decide(b, a)
        out.append(
            {
                "cell": f"{model} · {client}",
                "a": a_label,
                "b": b_label,
                "a_ops_per_s": a["ops_per_s"],
                "b_ops_per_s": b["ops_per_s"],
                "a_rounds": _script.rates(a),
                "b_rounds": _script.rates(b),
                "ratio": None if d.ratio is None else round(d.ratio, 4),
                "interval": None if d.lo is None else [round(d.lo, 4), round(d.hi or 0, 4)],
                "verdict": SAID[d.verdict],
                "a_faults_per_op": a.get("minor_faults_per_op"),
                "b_faults_per_op": b.get("minor_faults_per_op"),
                "a_flags": a["flags"],
                "b_flags": b["flags"],
            }
        )
    return out


def labels(doc: ResultDoc) -> list[str]:
    return list(dict.fromkeys(str(r.get("python")) for r in doc["results"]))


def by_allocator(doc: ResultDoc, suffix: str) -> tuple[str, str]:
    """(the default allocator's label, the label ending in `suffix`) among a run's rows."""
    names = labels(doc)
    other = next(n for n in names if n.endswith(suffix))
    return next(n for n in names if n != other), other


def show(title: str, found: list[dict[str, Any]]) -> None:
    rows = [
        [
            p["cell"],
            f"{p['a']} → {p['b']}",
            f"{p['a_ops_per_s']:,.0f}",
            f"{p['b_ops_per_s']:,.0f}",
            "-" if p["ratio"] is None else f"{p['ratio']:.2f}x",
            p["verdict"],
            f"{p['a_faults_per_op']} → {p['b_faults_per_op']}",
        ]
        for p in found
    ]
    header = ["cell", "A → B", "A ops/s", "B ops/s", "B / A", "verdict", "faults/op"]
    _script.table(title, header, rows)


def twins() -> list[str]:
    found = []
    for spec in TWINS:
        try:
            find(spec)
        except UsageError:
            continue
        found.append(spec)
    return found


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--clients", type=int, default=500, help="clients of the default-run part")
    p.add_argument("--repeat", type=int, default=3, help="rounds, interleaved (default 3)")
    a = p.parse_args()
    out = _script.out_dir(a, "allocators")
    base = replace(default_run(a.clients), repeat=a.repeat, allocators=["default", "no-mmap"])
    buffered = replace(base, models=["asyncio", "uvloop"], libs=["raw-buffered"])
    if a.quick:
        base = replace(_script.quick(base), models=["asyncio", "threads"], libs=["raw"])
        buffered = replace(_script.quick(buffered), models=["asyncio"])
    here: list[dict[str, Any]] = []
    results: list[Row] = []
    for settings, what in (
        (base, "the default run's network rows under two allocators"),
        (buffered, "raw-buffered under two allocators"),
    ):
        doc = _script.run(settings, what)
        _script.show(doc)
        results += doc["results"]
        here += pairs(doc, *by_allocator(doc, "· no-mmap"))
    show(f"no-mmap against glibc's default, {base.clients} clients", here)
    record: dict[str, Any] = {**doc, "results": results, "pairs": here, "twins": None}
    groups = {p["cell"]: {"default": p["a_rounds"], "no-mmap": p["b_rounds"]} for p in here}
    found = twins()
    if len(found) == len(TWINS):
        twin_settings = replace(
            base if a.quick else default_run(TWIN_CLIENTS),
            models=TWIN_MODELS[:2] if a.quick else TWIN_MODELS,
            libs=["raw"],
            workloads=["http"],
            clients=10 if a.quick else TWIN_CLIENTS,
            repeat=1 if a.quick else a.repeat,
            pythons=found,
            allocators=["pymalloc", "mimalloc"],
        )
        twin_doc = _script.run(twin_settings, f"{' and '.join(found)}: pymalloc and mimalloc")
        _script.show(twin_doc)
        names = labels(twin_doc)
        gil_builds = [n for n in names if "t GIL" not in n]
        free = [n for n in names if "t GIL" in n]
        pymalloc = next(n for n in gil_builds if n.endswith("pymalloc"))
        mimalloc = next(n for n in gil_builds if n.endswith("mimalloc"))
        # The allocator on the GIL build, then the free-threaded build against each: the gain
        # left once both allocate alike is the build's, not its allocator's.
        twin_pairs = pairs(twin_doc, pymalloc, mimalloc)
        for gil_side in (pymalloc, mimalloc):
            twin_pairs += [p for f in free for p in pairs(twin_doc, gil_side, f)]
        show("3.13: B against A, per cell", twin_pairs)
        record["twins"] = {"results": twin_doc["results"], "pairs": twin_pairs, "pythons": found}
    else:
        print(
            "the 3.13 twins were not both found (`python -m workbench pythons build 3.13.5`, "
            "and 3.13t): that part is skipped"
        )
    plots = plot_bars(
        groups,
        out / "allocators",
        log=True,
        xlabel="throughput (operations per second, log scale)",
        title=f"glibc's default allocator against no-mmap, {base.clients} clients",
    )
    _script.save(out, "allocators", record, plots)
    return 0


if __name__ == "__main__":
    _script.main(main)
