"""One result row per cell, built from its runs (pure: no I/O). The figures are the median run's;
the spread of all repeats rides along, and the trust flags come last, from the row itself."""

from __future__ import annotations

import statistics

from workbench.harness.cell import Cell, CellRun
from workbench.harness.cell_kinds import kind_of
from workbench.harness.settings import IoSettings
from workbench.harness.trust import flags_for
from workbench.interpreters import label_of
from workbench.results import Row
from workbench.stats import batch_means_interval


def rate_interval(slice_ops: list[int], ops: int, window_s: float) -> list[float] | None:
    """The 95% interval of a window's rate, by batch means over its slices (see stats)."""
    if ops == 0:
        return [0.0, 0.0]
    ci = batch_means_interval(slice_ops, window_s)
    return None if ci is None else [round(ci[0], 2), round(ci[1], 2)]


def summarise(
    cell: Cell, runs: list[CellRun], settings: IoSettings, requested: int, client_cpus: int
) -> Row:
    """One result row: the median run's figures, with the spread of all repeats."""
    rates = [r.recording.ops / r.window_s for r in runs]
    order = sorted(range(len(runs)), key=lambda i: rates[i])
    median_run = runs[order[len(order) // 2]]
    rec, window = median_run.recording, median_run.window_s
    median_rate = statistics.median(rates)
    cpu = rec.cpu_user_s + rec.cpu_sys_s
    errors = sum(rec.errors.values())
    server_cpu = median_run.server_cpu_s
    row: Row = {
        "model": cell.model,
        "python": label_of(median_run.metadata),
        "client": cell.client,
        "workload": cell.workload,
        "work": None,
        "clients": rec.clients,
        "clients_requested": requested,
        "users_warm": rec.users_warm,
        "ramp_s": None if median_run.ramp_s is None else round(median_run.ramp_s, 3),
        "processes": rec.processes,
        "ops": rec.ops,
        "ops_per_s": round(rec.ops / window, 2),
        "ops_per_s_ci": rate_interval(rec.slice_ops, rec.ops, window),
        "errors": errors,
        "error_rate": round(errors / (errors + rec.ops), 5) if errors else 0.0,
        "errors_by_kind": dict(rec.errors),
        "bytes": rec.bytes,
        "mb_per_s": round(rec.bytes / window / 1e6, 3),
        "latency_ms": rec.latency_ms(),
        "cpu_s": round(cpu, 4),
        "cpu_user_s": round(rec.cpu_user_s, 4),
        "cpu_sys_s": round(rec.cpu_sys_s, 4),
        "cpu_us_per_op": round(cpu / rec.ops * 1e6, 2) if rec.ops else None,
        "server_cpu_s": None if server_cpu is None else round(server_cpu, 4),
        "server_cpu_util": None if server_cpu is None else round(server_cpu / window, 4),
        "peak_rss_mb": round(rec.peak_rss_kb / 1024, 1),
        "ctx_switches": {"voluntary": rec.ctx_voluntary, "involuntary": rec.ctx_involuntary},
        "minor_faults_per_op": round(rec.minor_faults / rec.ops, 2) if rec.ops else None,
        "window_s": round(window, 4),
        "repeats": {
            "ops_per_s": [round(r, 2) for r in rates],
            "median": round(median_rate, 2),
            "spread": round((max(rates) - min(rates)) / median_rate, 4)
            if len(rates) > 1 and median_rate
            else None,
        },
        "metadata": median_run.metadata,
        "histogram": rec.histogram.encode().decode("ascii"),
        "flags": [],
    }
    kind_of(cell.workload).complete_row(row, cell, median_run, settings)
    if "file_size" in row:
        per_op = rec.bytes / rec.ops / 1e6 if rec.ops else 0.0
        ci = row["ops_per_s_ci"]
        row["mb_per_s_ci"] = None if ci is None else [round(v * per_op, 3) for v in ci]
    if settings.rate:
        row["rate_target"] = settings.rate
        row["rate_share"] = round(row["ops_per_s"] / settings.rate, 4)
    row["flags"] = flags_for(row, client_cpus)
    return row
