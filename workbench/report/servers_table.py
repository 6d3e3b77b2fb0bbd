"""The `servers` table: one row per server configuration and scenario, fastest first, ranked from
the rounds as `io`'s rows are (`workbench.ranking`); the server's own costs beside its rate, and
its Little's-law bound where a downstream wait sets one."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbench.harness.trust import ALL_FLAG_HELP
from workbench.ranking import FASTER, decide, ranks_within
from workbench.results import ResultDoc, Row, half_width
from workbench.units import format_rate

CSV_FIELDS = (
    "server", "app", "scenario", "python", "clients", "req_per_s", "ci_low", "ci_high", "p50_ms",
    "p99_ms", "errors", "errors_by_kind", "server_cpu_us_per_req", "server_peak_rss_mb",
    "server_threads", "bound_req_per_s", "bound_share", "bound_by", "loop_lag_p99_ms", "flags",
)  # fmt: skip


def served_rows(doc: ResultDoc) -> list[Row]:
    return [r for r in doc["results"] if r.get("served") is not None]


def _scenario(row: Row) -> str:
    return str(row.get("served", {}).get("scenario", "?"))


def _f(value: float | None, fmt: str = "{:,.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def servers_table(doc: ResultDoc) -> Table:
    rows = served_rows(doc)
    settings = doc["metadata"].get("settings", {})
    pythons = sorted({r.get("python", "?") for r in rows})
    title = (
        f"servers{'' if len(pythons) > 1 else ' · ' + pythons[0]} · "
        f"{settings.get('clients')} clients · load: uvloop · raw · "
        f"{settings.get('server_workers', 1)} worker(s), {settings.get('server_threads')} "
        f"threads each where threaded · downstream waits "
        f"{settings.get('downstream_latency', 0) * 1000:g} ms"
    )
    table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for name in ("server", "app", "scenario"):
        table.add_column(name)
    if len(pythons) > 1:
        table.add_column("python")
    for name in ("req/s", "±", "rank", "× best", "p50 ms", "p99 ms", "errors", "srv µs/req"):
        table.add_column(name, justify="right")
    for name in ("RSS MB", "threads", "of bound", "lag p99"):
        table.add_column(name, justify="right")
    table.add_column("flags")
    for scenario in dict.fromkeys(_scenario(r) for r in rows):
        chosen = sorted(
            (r for r in rows if _scenario(r) == scenario), key=lambda r: -r["ops_per_s"]
        )
        rank = ranks_within(chosen)
        top = chosen[0]
        best = top["ops_per_s"] or 1.0
        for r in chosen:
            tied = r is not top and rank[id(r)] is not None and decide(top, r).verdict != FASTER
            width = half_width(r["ops_per_s_ci"], r["ops_per_s"])
            lag = r.get("loop_lag") or {}
            bound = r.get("bound_share")
            cells: list[str | Text] = [r["model"], r["client"], scenario]
            if len(pythons) > 1:
                cells.append(str(r.get("python", "?")))
            cells += [
                format_rate(r["ops_per_s"]),
                "-" if width is None else f"±{width * 100:.0f}%",
                "-" if rank[id(r)] is None else str(rank[id(r)]),
                f"{'≈' if tied else ''}{r['ops_per_s'] / best:.2f}",
                _f(r["latency_ms"]["p50"], "{:.2f}"),
                _f(r["latency_ms"]["p99"], "{:.2f}"),
                _errors(r),
                _f(r.get("server_cpu_us_per_req")),
                _f(r.get("server_peak_rss_mb")),
                _f(r.get("server_threads"), "{:d}"),
                "-" if bound is None else f"{bound:.2f} of {format_rate(r['bound_ops_per_s'])}",
                _f(lag.get("p99_ms"), "{:.1f} ms"),
                Text(", ".join(r["flags"]), style="yellow" if r["flags"] else ""),
            ]
            table.add_row(*cells)
    return table


def _errors(row: Row) -> str:
    if not row["errors"]:
        return "0"
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(row["errors_by_kind"].items()))
    return f"{row['errors']:,} ({kinds})"


def notes(doc: ResultDoc) -> list[str]:
    rows = served_rows(doc)
    out = [
        "req/s: answered requests, 2xx only (any other status is an error, never an answer); "
        "±: where the next run's rate should land (95% from the rounds, each a fresh server and "
        "load process); rank and ≈ as in io. srv µs/req: the server's CPU (its whole process "
        "tree) per request; RSS MB: the busiest worker's peak; threads: its thread count; of "
        "bound: the share of Little's law's bound (clients / downstream wait, or threads x "
        "workers / wait for a threaded server, whichever is lower); lag p99: how long past its "
        "tick the app's event loop had gone, sampled every 5 ms by a thread (async apps only)."
    ]
    flags = sorted({f for r in rows for f in r["flags"]})
    out += [f"{f}: {ALL_FLAG_HELP[f]}" for f in flags if f in ALL_FLAG_HELP]
    skipped = doc["metadata"].get("skipped") or []
    out += [f"skipped {s['cell']} ({s.get('python', '')}): {s['reason']}" for s in skipped]
    return out


def print_servers(doc: ResultDoc, console: Console) -> None:
    console.print(servers_table(doc))
    for line in notes(doc):
        console.print(f"  {line}", highlight=False)


def csv_text(doc: ResultDoc) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for r in served_rows(doc):
        ci = r["ops_per_s_ci"]
        low, high = (None, None) if ci is None else (ci[0], ci[1])
        lag: dict[str, Any] = r.get("loop_lag") or {}
        writer.writerow(
            {
                "server": r["model"], "app": r["client"], "scenario": _scenario(r),
                "python": r.get("python"), "clients": r["clients"], "req_per_s": r["ops_per_s"],
                "ci_low": low, "ci_high": high, "p50_ms": r["latency_ms"]["p50"],
                "p99_ms": r["latency_ms"]["p99"], "errors": r["errors"],
                "errors_by_kind": ";".join(f"{k}={v}" for k, v in r["errors_by_kind"].items()),
                "server_cpu_us_per_req": r.get("server_cpu_us_per_req"),
                "server_peak_rss_mb": r.get("server_peak_rss_mb"),
                "server_threads": r.get("server_threads"),
                "bound_req_per_s": r.get("bound_ops_per_s"), "bound_share": r.get("bound_share"),
                "bound_by": r.get("bound_by"), "loop_lag_p99_ms": lag.get("p99_ms"),
                "flags": ";".join(r["flags"]),
            }
        )  # fmt: skip
    return buf.getvalue()
