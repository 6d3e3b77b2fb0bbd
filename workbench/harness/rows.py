"""One result row per cell, built from its rounds (pure: no I/O).

Every round is a fresh worker process, so the rounds of a cell vary as whole runs vary: the rate
is their median, and its interval comes from them (`stats.next_run_interval`), not from slices of
one window, which only say how steady that one window was (kept as `window_ci`). Latency comes
from every round's histogram merged; the remaining counters are the median round's (with an even
number of rounds, the lower of the two middle ones). The trust flags come last, from the row."""

from __future__ import annotations

import statistics

from workbench.harness.cell import Cell, CellRun
from workbench.harness.cell_kinds import kind_of
from workbench.harness.settings import IoSettings
from workbench.harness.trust import flags_for
from workbench.interpreters import label_of
from workbench.metrics import Recording
from workbench.results import Row
from workbench.stats import batch_means_interval, next_run_interval


def rate_interval(slice_ops: list[int], ops: int, window_s: float) -> list[float] | None:
    """The 95% interval of a window's rate, by batch means over its slices (see stats)."""
    if ops == 0:
        return [0.0, 0.0]
    ci = batch_means_interval(slice_ops, window_s)
    return None if ci is None else [round(ci[0], 2), round(ci[1], 2)]


def between_rounds(values: list[float], median: float) -> list[float] | None:
    """Where the next run's rate should land (95%, from the rounds), widened if need be to hold
    their median (the row's figure); None with a single round, which says nothing about the next
    run."""
    ci = next_run_interval(values)
    if ci is None:
        return [0.0, 0.0] if len(values) > 1 and not any(values) else None
    return [round(min(ci[0], median), 2), round(max(ci[1], median), 2)]


def summarise(
    cell: Cell, runs: list[CellRun], settings: IoSettings, requested: int, client_cpus: int
) -> Row:
    """One result row: the median of the rounds, with its interval between them."""
    rates = [r.recording.ops / r.window_s if r.window_s else 0.0 for r in runs]
    order = sorted(range(len(runs)), key=lambda i: rates[i])
    median_run = runs[order[(len(order) - 1) // 2]]
    rec, window = median_run.recording, median_run.window_s
    median_rate = statistics.median(rates)
    cpu = rec.cpu_user_s + rec.cpu_sys_s
    cpu_per_op = [
        (r.recording.cpu_user_s + r.recording.cpu_sys_s) / r.recording.ops * 1e6
        for r in runs
        if r.recording.ops
    ]
    errors = sum(rec.errors.values())
    server_cpu = median_run.server_cpu_s
    merged = Recording()  # every round's latencies, not one round's
    for r in runs:
        merged.latency_counts.update(r.recording.latency_counts)
    histogram = merged.histogram
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
        "ops_per_s": round(median_rate, 2),
        "ops_per_s_ci": between_rounds(rates, median_rate),
        "window_ci": rate_interval(rec.slice_ops, rec.ops, window),
        "errors": errors,
        "error_rate": round(errors / (errors + rec.ops), 5) if errors else 0.0,
        "errors_by_kind": dict(rec.errors),
        "bytes": rec.bytes,
        "mb_per_s": round(rec.bytes / rec.ops * median_rate / 1e6, 3) if rec.ops else 0.0,
        "latency_ms": merged.latency_ms(histogram),
        "cpu_s": round(cpu, 4),
        "cpu_user_s": round(rec.cpu_user_s, 4),
        "cpu_sys_s": round(rec.cpu_sys_s, 4),
        "cpu_us_per_op": round(statistics.median(cpu_per_op), 2) if cpu_per_op else None,
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
            "cpu_us_per_op": [round(c, 3) for c in cpu_per_op],
        },
        "metadata": median_run.metadata,
        "histogram": histogram.encode().decode("ascii"),
        "flags": [],
    }
    kind_of(cell.workload).complete_row(row, cell, median_run, settings)
    if "file_size" in row:
        per_op = rec.bytes / rec.ops / 1e6 if rec.ops else 0.0
        row["files_per_s"] = round(median_rate, 2)
        ci = row["ops_per_s_ci"]
        row["mb_per_s_ci"] = None if ci is None else [round(v * per_op, 3) for v in ci]
    if settings.rate:
        row["rate_target"] = settings.rate
        row["rate_share"] = round(row["ops_per_s"] / settings.rate, 4)
    row["flags"] = flags_for(row, client_cpus)
    return row
