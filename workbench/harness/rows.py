"""One result row per cell, built from its rounds (pure: no I/O).

Every round is a fresh worker process, so the rounds of a cell vary as whole runs vary: the rate
is their median, and its interval comes from them (`stats.next_run_interval`), not from slices of
one window, which only say how steady that one window was (kept as `window_ci`). Latency comes
from every round's histogram merged. Every round's errors, operations and bytes are summed, and
the figures the flags judge (users warm, server and client CPU, timer lateness) are the worst
round's, with each round's value kept under `repeats`: a failure or a cold start in a round that
was not the median one still shows. The remaining counters are the median round's (with an even
number of rounds, the lower of the two middle ones). The trust flags come last, from the row."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any, cast

from workbench.harness.cell import Cell, CellRun
from workbench.harness.cell_kinds import kind_of
from workbench.harness.settings import IoSettings
from workbench.harness.trust import flags_for
from workbench.interpreters import label_of
from workbench.metrics import Recording
from workbench.results import Repeats, Row
from workbench.stats import batch_means_interval, next_run_interval, window_drift


def _median_or_none(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


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


LATE_SHARE = 0.10  # CPU read this far (a share of the window) from the window's edges: read late


def _span_missed(run: CellRun) -> bool:
    """Whether the round's CPU readings span a longer or shorter interval than its window."""
    span, w = run.recording.usage_span_s, run.window_s
    return bool(w) and span > 0 and abs(span - w) > LATE_SHARE * w


def cpu_read_late(run: CellRun) -> bool:
    """Whether the round's CPU readings missed the window's edges: spanning a longer or shorter
    interval than the window, or one shifted from it, or read at a time not known closely."""
    rec, w = run.recording, run.window_s
    if not w or not rec.usage_span_s:
        return False
    return _span_missed(run) or rec.usage_off_s > LATE_SHARE * w


def window_cpu(run: CellRun) -> float:
    """The round's client CPU seconds over its window. The worker reads its CPU at the window's
    edges from a thread of its own; where that thread was starved (of the GIL, by thousands of
    threads) its reading spans another interval than the window, and the CPU is scaled to the
    window, an estimate that assumes an even load, and flagged (`cpu-late`)."""
    rec = run.recording
    cpu = rec.cpu_user_s + rec.cpu_sys_s
    return cpu * run.window_s / rec.usage_span_s if _span_missed(run) else cpu


def per_round(runs: list[CellRun], rates: list[float]) -> dict[str, list[Any]]:
    """What each round measured, in the order they ran: a row's every figure is judged on all of
    them, so a failure or a cold start in a round that was not the median one still shows."""
    out: dict[str, list[Any]] = {
        "ops_per_s": [round(r, 2) for r in rates],
        "ops": [r.recording.ops for r in runs],
        "errors": [sum(r.recording.errors.values()) for r in runs],
        "users_warm": [r.recording.users_warm for r in runs],
        "users_started": [r.recording.users_started for r in runs],
        "ramp_s": [None if r.ramp_s is None else round(r.ramp_s, 3) for r in runs],
        "client_cpu_util": [
            round(window_cpu(r) / r.window_s, 4) if r.window_s else 0.0 for r in runs
        ],
        "cpu_span_s": [round(r.recording.usage_span_s, 4) for r in runs],
        "server_cpu_util": [
            round(r.server_cpu_s / r.window_s, 4)
            if r.server_cpu_s is not None and r.window_s
            else None
            for r in runs
        ],
        "cpu_us_per_op": [
            round(window_cpu(r) / r.recording.ops * 1e6, 3) for r in runs if r.recording.ops
        ],
    }
    if any(r.timer is not None for r in runs):
        out["timer_late_ms"] = [None if r.timer is None else r.timer for r in runs]
    return out


def timer_lateness(runs: list[CellRun]) -> dict[str, Any] | None:
    """The server's (or the delay proxy's) timer lateness over every round: the worst round's p50
    and p99 of when a delayed write went out against when it was due."""
    known = [r.timer for r in runs if r.timer is not None and r.timer.get("count")]
    if not known:
        return None
    return {
        "delay_ms": known[0]["delay_ms"],
        "p50_ms": max(t["p50_ms"] for t in known),
        "p99_ms": max(t["p99_ms"] for t in known),
        "count": sum(int(t["count"]) for t in known),
    }


def summarise(
    cell: Cell, runs: list[CellRun], settings: IoSettings, requested: int, client_cpus: int
) -> Row:
    """One result row: the median of the rounds' rates with its interval between them; errors,
    operations and bytes summed over every round, and the warm-up and CPU figures the flags judge
    taken from the worst round."""
    rates = [r.recording.ops / r.window_s if r.window_s else 0.0 for r in runs]
    order = sorted(range(len(runs)), key=lambda i: rates[i])
    median_run = runs[order[(len(order) - 1) // 2]]
    rec, window = median_run.recording, median_run.window_s
    median_rate = statistics.median(rates)
    rounds = per_round(runs, rates)
    cpu = window_cpu(median_run)
    cpu_per_op = rounds["cpu_us_per_op"]
    errors_by_kind: Counter[str] = Counter()
    merged = Recording()  # every round's latencies, not one round's
    for r in runs:
        merged.latency_counts.update(r.recording.latency_counts)
        errors_by_kind.update(r.recording.errors)
    errors = sum(errors_by_kind.values())
    ops = sum(rounds["ops"])
    nbytes = sum(r.recording.bytes for r in runs)
    faults = sum(r.recording.minor_faults for r in runs)
    histogram = merged.histogram
    known_server = [
        (u, r) for u, r in zip(rounds["server_cpu_util"], runs, strict=True) if u is not None
    ]
    worst_server = max(known_server, key=lambda p: p[0], default=None)
    row: Row = {
        "model": cell.model,
        "python": label_of(median_run.metadata),
        "client": cell.client,
        "workload": cell.workload,
        "work": None,
        "clients": rec.clients,
        "clients_requested": requested,
        "users_warm": min(rounds["users_warm"]),
        "users_started": min(rounds["users_started"]),
        "ramp_s": None if None in rounds["ramp_s"] else max(rounds["ramp_s"]),
        "processes": rec.processes,
        "rounds": len(runs),
        "ops": ops,
        "ops_per_s": round(median_rate, 2),
        "ops_per_s_ci": between_rounds(rates, median_rate),
        "window_ci": rate_interval(rec.slice_ops, rec.ops, window),
        # The median round's: a drift in one round of three is noise the interval already
        # shows; in most of them, a trend within the window that it cannot.
        "window_drift": _median_or_none(
            [d for r in runs if (d := window_drift(r.recording.slice_ops)) is not None]
        ),
        "errors": errors,
        "error_rate": round(errors / (errors + ops), 5) if errors else 0.0,
        "errors_by_kind": dict(errors_by_kind),
        "bytes": nbytes,
        "mb_per_s": round(nbytes / ops * median_rate / 1e6, 3) if ops else 0.0,
        "latency_ms": merged.latency_ms(histogram),
        "cpu_s": round(cpu, 4),
        "cpu_late": any(cpu_read_late(r) for r in runs),
        "cpu_user_s": round(rec.cpu_user_s, 4),
        "cpu_sys_s": round(rec.cpu_sys_s, 4),
        "client_cpu_util": max(rounds["client_cpu_util"]),
        "cpu_us_per_op": round(statistics.median(cpu_per_op), 2) if cpu_per_op else None,
        "server_cpu_s": None
        if worst_server is None or worst_server[1].server_cpu_s is None
        else round(worst_server[1].server_cpu_s, 4),
        "server_cpu_util": None if worst_server is None else worst_server[0],
        "timer_late": timer_lateness(runs),
        "peak_rss_mb": round(max(r.recording.peak_rss_kb for r in runs) / 1024, 1),
        "ctx_switches": {"voluntary": rec.ctx_voluntary, "involuntary": rec.ctx_involuntary},
        "minor_faults_per_op": round(faults / ops, 2) if ops else None,
        "window_s": round(window, 4),
        "repeats": cast(
            Repeats,
            {
                **rounds,
                "median": round(median_rate, 2),
                "spread": round((max(rates) - min(rates)) / median_rate, 4)
                if len(rates) > 1 and median_rate
                else None,
            },
        ),
        "metadata": median_run.metadata,
        "histogram": histogram.encode().decode("ascii"),
        "flags": [],
    }
    kind_of(cell.workload).complete_row(row, cell, median_run, settings)
    if "file_size" in row:
        per_op = nbytes / ops / 1e6 if ops else 0.0
        row["files_per_s"] = round(median_rate, 2)
        ci = row["ops_per_s_ci"]
        row["mb_per_s_ci"] = None if ci is None else [round(v * per_op, 3) for v in ci]
    if settings.rate:
        row["rate_target"] = settings.rate
        row["rate_share"] = round(row["ops_per_s"] / settings.rate, 4)
    row["flags"] = flags_for(row, client_cpus)
    return row
