"""A sweep: the same cells at several client counts, one `run_io` per count (each with its own
fresh servers and workers), merged into one document. Stops, keeping what it has, like `io`."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from workbench.errors import UsageError
from workbench.harness.cell import Observer
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.results import ResultDoc, Row

CSV_FIELDS = (
    "model", "client", "workload", "python", "clients_requested", "clients", "ops_per_s", "errors",
    "error_rate", "p50_ms", "p99_ms", "p999_ms", "cpu_us_per_op", "server_cpu_util",
    "peak_rss_mb", "flags",
)  # fmt: skip


def run_sweep(
    base: IoSettings,
    counts: list[int],
    observer: Observer | None = None,
    run: Callable[[IoSettings, Observer | None], ResultDoc] = run_io,
) -> ResultDoc:
    """`run` runs one count's cells: here by default, or on a cluster."""
    if not counts or any(n < 1 for n in counts):
        raise UsageError("--clients for a sweep is a list of counts of at least 1, e.g. 1,10,100")
    rows: list[Row] = []
    for n in sorted(set(counts)):
        doc = run(replace(base, clients=n), observer)
        rows += doc["results"]
        if doc["partial"]:
            break
    return {
        **doc,
        "kind": "sweep",
        "metadata": {**doc["metadata"], "sweep_clients": sorted(set(counts))},
        "results": rows,
    }


def csv_text(doc: ResultDoc) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for r in doc["results"]:
        fields: Mapping[str, Any] = r
        lat = r["latency_ms"]
        writer.writerow(
            {
                **{k: fields.get(k) for k in CSV_FIELDS},
                "p50_ms": lat["p50"],
                "p99_ms": lat["p99"],
                "p999_ms": lat["p999"],
                "flags": ";".join(r["flags"]),
            }
        )
    return out.getvalue()
