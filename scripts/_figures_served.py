"""docs/results/servers.md's figures and its row in the scripts' table, from
`scripts/compare_servers.py`: every row by scenario and build, and the declared pairs, decided
under Holm's correction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scripts._figures_reduce import REDUCERS, io_figures, pair_figures
from scripts._figures_text import Figures, fmt, rows, source, wrap

SOURCE = "compare_servers"
CHART = "compare-servers.svg"  # the script's chart, kept beside the record (docs/figures/)


def servers_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    from scripts.compare_servers import PAIRS
    from workbench.report.declared import declared_verdicts

    groups: dict[str, list[Any]] = {}
    for r in doc["results"]:
        groups.setdefault(str(r.get("scenario")), []).append(r)
    pairs = [pair_figures(v) for v in declared_verdicts(groups, PAIRS)]
    versions: dict[str, dict[str, str | None]] = {}
    for r in doc["results"]:
        by_server = versions.setdefault(str(r.get("python")), {})
        by_server[r["served"]["server"]] = r["served"].get("version")
    return {**io_figures(doc), "pairs": pairs, "versions": versions}


REDUCERS[SOURCE] = servers_figures


def _rate(row: Mapping[str, Any] | None) -> str:
    return "-" if row is None else fmt(row["ops_per_s"], "int")


def _bound(row: Mapping[str, Any]) -> str:
    share = row.get("bound_share")
    if share is None:
        return "-"
    return f"{fmt(share, 'share')} of {fmt(row['bound_ops_per_s'], 'int')}"


def _lag(row: Mapping[str, Any]) -> str:
    lag = row.get("loop_lag") or {}
    return "-" if lag.get("p99_ms") is None else f"{fmt(lag['p99_ms'], 'ms')} ms"


def servers_section(f: Figures) -> str:
    s, t = source(f, SOURCE), rows(f, SOURCE)
    st = s["settings"]
    versions = "; ".join(
        f"under {python}: " + ", ".join(f"{k} {v}" for k, v in sorted(servers.items()) if v)
        for python, servers in s["versions"].items()
    )
    head = wrap(
        f"What `python -m scripts.compare_servers` measured here: {st['repeat']} rounds of "
        f"each cell, every server with one worker pinned to its own core, the load (uvloop · "
        f"raw) and the downstream mock server on the other; {st['server_threads']} threads "
        f"per threaded worker; the downstream waits "
        f"{fmt(st['downstream_latency'] * 1000, 'f1')} ms ({versions})."
    )
    lines = [
        "| scenario · python | server | app | req/s | ± | × best | p99 ms | srv µs/req | RSS MB "
        "| threads | of bound | lag p99 | flags |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t.values():
        lines.append(
            f"| {r.get('scenario')} | {r['model']} | {r['client']} | {_rate(r)} | "
            f"{fmt(r['ci_pct'], 'pm') if r['ci_pct'] is not None else '-'} | "
            f"{'≈' if r['tied_best'] and r['rank'] is not None else ''}"
            f"{fmt(r['x_best'], 'share')} | {fmt(r['p99_ms'], 'ms')} | "
            f"{fmt(r.get('server_cpu_us_per_req'), 'us')} | "
            f"{fmt(r.get('server_peak_rss_mb'), 'f1')} | {r.get('server_threads', '-')} | "
            f"{_bound(r)} | {_lag(r)} | {', '.join(r['flags']) or '-'} |"
        )
    pair_lines = [
        "| pair | scenario · python | A req/s | B req/s | A/B | interval | decided |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in s["pairs"]:
        a, b = t.get(v["a"] or ""), t.get(v["b"] or "")
        lo_hi = v["interval"]
        interval = "-" if lo_hi is None else f"{fmt(lo_hi[0], 'x')}–{fmt(lo_hi[1], 'x')}"
        pair_lines.append(
            f"| {v['pair']} | {v['where']} | {_rate(a)} | {_rate(b)} | "
            f"{fmt(v['ratio'], 'x') if v['ratio'] else '-'} | {interval} | {v['decided']} |"
        )
    pairs_head = wrap(
        f"The pairs the script declares before it runs, in every scenario and build where both "
        f"rows exist, {len(s['pairs'])} in all, each decided under Holm's correction for that "
        "many, and none where either row was `load-bound`:"
    )
    return (
        "\n" + head + "\n\n" + "\n".join(lines) + "\n\n" + pairs_head + "\n\n"
        + "\n".join(pair_lines) + "\n\n" + f"![Requests per second by server and scenario "
        f"(log scale; whiskers: range over rounds)](../figures/{CHART})\n"
    )  # fmt: skip


def servers_row(f: Figures) -> str:
    said = [p["decided"] for p in source(f, SOURCE)["pairs"]]
    return (
        f"{len(said)} declared pairs, Holm-corrected: {said.count('faster')} decided faster, "
        f"{said.count('slower')} slower, {said.count('not told apart')} not told apart, "
        f"{sum(x.startswith('no verdict') for x in said)} given no verdict (a row missing, or "
        "its load the limit)"
    )
