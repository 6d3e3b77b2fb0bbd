"""The README's table of what each script measured: one short template per script, each from
that script's figures, with its target and whether it was met."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scripts._figures_allocators import allocators_row
from scripts._figures_databases import databases_row
from scripts._figures_long_lived import long_lived_row, long_lived_servers_row
from scripts._figures_served import servers_row
from scripts._figures_text import (
    Figures,
    and_list,
    every,
    find,
    fmt,
    rows,
    source,
    spaced,
    span,
    target,
    wrap,
)
from workbench.units import size_label

Cell = Callable[[Figures], str]


def _asyncio_uvloop(f: Figures) -> str:
    s, t = source(f, "compare_asyncio_uvloop"), rows(f, "compare_asyncio_uvloop")
    pairs: Mapping[str, Mapping[str, float]] = s["uvloop_over_asyncio"]
    scenarios = list(dict.fromkeys(r["scenario"] for r in t.values()))
    parts = []
    for sc in scenarios:
        clients = next(r["clients_requested"] for r in t.values() if r["scenario"] == sc)
        speed = and_list(
            f"{fmt(v['speed_up'], 'x')} with {k.split(' · ')[0]}"
            for k, v in pairs.items()
            if k.endswith(f"· {sc}")
        )
        part = f"{sc}, {clients} clients: uvloop over asyncio {speed}"
        shares = [r for r in t.values() if r["scenario"] == sc and r.get("bound_share")]
        if shares:
            part += "; of N/d " + and_list(
                f"{r['client']} on {r['model']} {fmt(r['bound_share'], 'share')}" for r in shares
            )
        parts.append(part)
    return "; ".join(parts)


def _threads_asyncio(f: Figures) -> str:
    t = rows(f, "compare_threads_asyncio")
    counts = sorted({r["clients_requested"] for r in t.values()})
    parts = []
    for c in counts:
        here = [r for r in t.values() if r["clients_requested"] == c]
        part = f"{c:,} clients: " + ", ".join(
            f"{r['model']} {fmt(r.get('bound_share'), 'share')}" for r in here
        )
        cold = [r for r in here if "not-warm" in r["flags"]]
        part += "".join(f" ({r['model']}: {r['users_warm']:,} of {c:,} warm)" for r in cold)
        parts.append(part)
    return "share of N/d by clients, " + "; ".join(parts)


def _libraries(f: Figures) -> str:
    s, t = source(f, "compare_libraries"), rows(f, "compare_libraries")
    over: Mapping[str, float] = s["x_raw_same_model"]
    c = next(iter(t.values()))["clients_requested"]
    items = []
    for key, x in over.items():
        model, client = key.split(" · ")
        r = find(t, model=model, client=client)
        extra = ""
        if r and (r["users_warm"] < r["clients"] or r["errors"]):
            extra = f" ({r['users_warm']:,} of {r['clients']:,} warm, {r['errors']:,} errors)"
        items.append(f"{client} on {model} {fmt(x, 'x')}{extra}")
    return f"at {c:,} connections, each library's rate as a multiple of the raw client on the same model: {and_list(items)}"


def _file_apis(f: Figures) -> str:
    over: Mapping[str, float] = source(f, "compare_file_apis")["x_pool_of_8"]
    t = rows(f, "compare_file_apis")
    parts = []
    for size in dict.fromkeys(r["file_size"] for r in t.values()):
        here = {k: v for k, v in over.items() if t[k]["file_size"] == size}
        pool = find(t, model="threads", client="os", clients=8, file_size=size)
        kinds = {
            "one blocking reader": [v for k, v in here.items() if t[k]["model"] == "sync"],
            "io_uring": [v for k, v in here.items() if t[k]["client"] == "io_uring"],
            "the batched hops (`*-path`, `to_thread`)": [
                v
                for k, v in here.items()
                if t[k]["client"].endswith("-path") or t[k]["client"] == "to_thread"
            ],
            "the per-call hops (`*-file`, aiofiles)": [
                v
                for k, v in here.items()
                if t[k]["client"].endswith("-file") or t[k]["client"] == "aiofiles"
            ],
        }
        got = and_list(f"{name} {span(v, 'share')}" for name, v in kinds.items() if v)
        mb = fmt(pool["mb_per_s"], "int") if pool else "-"
        parts.append(
            f"{spaced(size_label(size))} warm: a pool of 8 threads {mb} MB/s; against it {got}"
        )
    return "; ".join(parts)


def _interpreters(f: Figures) -> str:
    sc = source(f, "compare_interpreters")["scenarios"]
    first = next(iter(sc.values()))
    pythons = list(dict.fromkeys(r["python"] for r in first["rows"].values()))
    versus = [v for v in first["threads_over_asyncio"].values() if v is not None]
    # Since every verdict is decided on rounds, each pair carries its ratio and its decision.
    decided = [v for v in versus if isinstance(v, Mapping)]
    ratios = [v["ratio"] for v in decided] if decided else versus
    said = ""
    if decided:
        slower = sum(1 for v in decided if v["decided"] == "slower")
        said = f", decided slower in {slower} of {len(decided)} pairs"
    return (
        f"{and_list(p.split()[0] for p in pythons)}: threads reached {span(ratios, 'share')} "
        f'of asyncio\'s rate with no work per request{said} (see "Interpreters side by side")'
    )


def _gil(f: Figures) -> str:
    claims: Mapping[str, Mapping[str, Any]] = source(f, "gil_claims")["claims"]
    verdicts: dict[str, list[str]] = {}
    for k, c in claims.items():
        verdicts.setdefault(c["verdict"], []).append(k)
    return "; ".join(f"claims {and_list(v)}: {k}" for k, v in verdicts.items()) + (
        ', each on 12 interleaved rounds (see "The GIL, measured")'
    )


def _stability(f: Figures) -> str:
    s = source(f, "bench_stability")
    g, cov, pairs = s["gil"], s["coverage"], s["pairs"]
    same = sum(1 for v in g["tally"].values() if len(v) == 1)
    runs = pairs["decided_per_run"]["runs"]
    goal = s["setup"]["constants"]["COVERAGE_GOAL"]
    return (
        f"the GIL lab {len(g['seconds_per_run']['runs'])} times: {same} of "
        f"{len(g['tally'])} claims gave one verdict every time; {len(s['io'])} raw cells "
        f"{len(runs)} times: {len(pairs.get('contradicted') or [])} pairs ranked both ways, "
        f"{span(runs, 'int')} of the {pairs['pairs']} pairs decided per run; the next run "
        f"inside `±` {cov['covered']} of {cov['tried']} times "
        f"({target(cov['share'], goal, 'pct0')})"
    )


def _network(f: Figures) -> str:
    s = source(f, "bench_network")
    c = s["setup"]["constants"]
    cap = {k: v for k, v in s["ops_per_s_over_reference"]["capacity"].items() if k != "wrk"}
    best = max(cap, key=lambda k: cap[k] or 0)
    wrk = s["ops_per_s"]["littles_law"]["wrk"]["median"]
    return (
        f"c=100: the best model ({best}) {fmt(s['best_vs_wrk'], 'x')} wrk "
        f"({target(s['best_vs_wrk'], c['CAPACITY_TARGET'], 'x')}); 500 clients at 20 ms: the "
        f"best model {fmt(s['best_vs_bound'], 'share')} of N/d "
        f"({target(s['best_vs_bound'], c['BOUND_TARGET'], 'share')}; wrk itself "
        f"{fmt(wrk, 'int')} ops/s there)"
    )


def _disk(f: Figures) -> str:
    s = source(f, "bench_disk")
    c = s["setup"]["constants"]
    u = (s.get("io_uring") or {}).get("16KiB") or {}
    checks = s.get("reference_checks") or {}
    reader = and_list(f"{fmt(v['fio_over_one_reader'], 'x')} on {k}" for k, v in checks.items())
    return (
        f"fio psync with {s['fio_jobs']} jobs, one per CPU, read {reader} one Python reader; "
        f"1 MiB warm: the best thread pool {fmt(s['threads_vs_fio_1mib'], 'x')} fio "
        f"({target(s['threads_vs_fio_1mib'], c['TARGET'], 'x')}); io_uring on 16 KiB "
        f"{fmt(u.get('x_best_hopping'), 'x')} the best thread-hopping API "
        f"({target(u.get('x_best_hopping'), c['URING_TARGET'], 'x')})"
    )


def _servers(f: Figures) -> str:
    s = source(f, "bench_servers")
    goal = s["setup"]["constants"]["TARGET"]
    return (
        f"mock server {fmt(s['ratio'], 'x')} nginx ({target(s['ratio'], goal, 'x')}: "
        f"{fmt(s['req_per_s']['mock']['median'], 'int')} against "
        f"{fmt(s['req_per_s']['nginx']['median'], 'int')} req/s, medians of "
        f"{len(s['req_per_s']['mock']['runs'])}); over TLS {fmt(s['tls']['ratio'], 'x')}"
    )


def _overhead(f: Figures) -> str:
    s = source(f, "bench_overhead")
    goal = s["setup"]["constants"]["TARGET"]
    uv = s["cpu_us_per_op"]["uvloop (async loop)"]
    return (
        f"recording costs {fmt(s['worst_share'], 'pct')} of a uvloop request at worst "
        f"({target(s['worst_share'], goal, 'pct0', above=False)}): an empty operation takes "
        f"{fmt(uv['null_recorded_us']['median'], 'f2')} µs recorded against "
        f"{fmt(uv['null_bare_us']['median'], 'f2')} µs bare"
    )


def _cluster(f: Figures) -> str:
    s = source(f, "bench_cluster")
    return (
        f"{s['cells']} cells through a one-worker local Dask cluster: "
        f"{fmt(s['overhead_median'], 'pct')} of wall time more than here "
        f"({target(s['overhead_median'], s['target'], 'pct0', above=False)}), about "
        f"{fmt(s['overhead_ms_per_cell']['median'], 'int')} ms per cell"
    )


def _tls(f: Figures) -> str:
    s, t = source(f, "compare_tls"), rows(f, "compare_tls")
    raw = {k: v for k, v in s["tls_over_http"].items() if k.endswith("raw · https")}
    hand = [r["ops_per_s"] for r in every(t, workload="https-handshake")]
    return (
        f"{next(iter(t.values()))['clients_requested']} connections: keep-alive TLS kept "
        + and_list(f"{fmt(v['x_http'], 'x')} on {k.split(' · ')[0]}" for k, v in raw.items())
        + f" of plain HTTP's rate with the raw client; a new connection per request gave "
        f"{span(hand, 'int')} requests/s"
    )


SCRIPT_ROWS: dict[str, Cell] = {
    "compare_asyncio_uvloop": _asyncio_uvloop, "compare_threads_asyncio": _threads_asyncio,
    "compare_libraries": _libraries, "compare_file_apis": _file_apis,
    "compare_interpreters": _interpreters, "gil_claims": _gil, "bench_stability": _stability,
    "bench_network": _network, "bench_disk": _disk, "bench_servers": _servers,
    "bench_overhead": _overhead, "bench_cluster": _cluster, "compare_tls": _tls,
    "compare_databases": databases_row, "compare_long_lived": long_lived_row,
    "bench_long_lived_servers": long_lived_servers_row, "compare_allocators": allocators_row,
    "compare_servers": servers_row,
}  # fmt: skip


def scripts_table(f: Figures) -> str:
    lines = ["", "| script | measured (seconds the default run took) |", "|---|---|"]
    for name, cell in SCRIPT_ROWS.items():
        run = f["runs"][name]
        code = "" if run["exit_code"] == 0 else f", exit {run['exit_code']}"
        lines.append(f"| `{name}.py` ({fmt(run['seconds'], 's')}{code}) | {cell(f)} |")
    return "\n".join(lines) + "\n"


def httpx_pool(f: Figures) -> str:
    t = rows(f, "compare_libraries")
    parts, raw = [], []
    for model in ("asyncio", "trio"):
        x = find(t, model=model, client="httpx")
        r = find(t, model=model, client="raw")
        if x and r:
            parts.append(f"{fmt(x['cpu_us_per_op'], 'us')} µs on {model}")
            raw.append(fmt(r["cpu_us_per_op"], "us"))
    if not parts:
        return "\nhttpx's `AsyncClient` did not run in this regeneration.\n"
    c = next(iter(t.values()))["clients_requested"]
    return (
        "\n"
        + wrap(
            f"httpx's `AsyncClient` spent {and_list(parts)} of CPU per request at {c:,} connections "
            f"in the run above, against {and_list(raw)} for the raw client on the same models:"
        )
        + "\n"
    )
