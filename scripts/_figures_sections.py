"""One template per README figure section: figures in, the section's exact text out. A sentence
that says more than a figure (who leads, what was missed, where something pays off) is decided
here from the same data, so the README cannot claim what its figures do not show."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scripts._figures_allocators import allocators
from scripts._figures_benches import cluster, disk_bench, servers
from scripts._figures_databases import databases
from scripts._figures_gil import free_threaded, gil_claims, interpreters, stability_gil
from scripts._figures_long_lived import long_lived, long_lived_servers
from scripts._figures_scripts import SCRIPT_ROWS, httpx_pool, scripts_table
from scripts._figures_served import servers_section
from scripts._figures_text import (
    Figures,
    Row,
    Template,
    and_list,
    every,
    faster,
    find,
    fmt,
    label,
    plural,
    ranked,
    rate,
    rows,
    size,
    source,
    span,
    table,
    wrap,
    wrap_item,
)
from workbench.units import size_label


def suite_size(f: Figures) -> str:
    s, cores = source(f, "suite"), f["runs"]["suite"]["machine"]["cpu_count"]
    failed = f"; {s['failed']} of them failed in that run" if s["failed"] else ""
    return f"\nThe full suite: {s['tests']:,} tests in {fmt(s['seconds'], 'min')} on {cores} cores{failed}.\n"


def fast_loop(f: Figures) -> str:
    s, cores = source(f, "fast_loop"), f["runs"]["fast_loop"]["machine"]["cpu_count"]
    return f"\nThe fast loop: {s['tests']:,} tests in {fmt(s['seconds'], 's')} on {cores} cores.\n"


def sample_brief(f: Figures) -> str:
    """The README's sample: the network rows of the sample run, in the columns a reader needs
    first (docs/results/network.md has the whole table)."""
    s = source(f, "sample")
    st, run = s["settings"], f["runs"]["sample"]
    net = [r for r in rows(f, "sample").values() if not r.get("file_size")]
    brief = ("model", "client", "ops/s", "±", "rank", "× best", "p50 ms", "p99 ms", "CPU µs/op",
             "flags")  # fmt: skip
    said = wrap(
        f"`python -m workbench io --clients {st['clients']}` on a {run['machine']['cpu_count']}-core "
        f"VM, Python {s['python']}, {plural(st['repeat'], 'round')} of each cell "
        f"({fmt(run['seconds'], 's')} in all), network rows only:"
    )
    return f"\n{said}\n\n```\n{_net_table(net, brief)}\n```\n\n{wrap(_threads_asyncio(f))}\n"


def _threads_asyncio(f: Figures) -> str:
    """Threads against asyncio in the sample, as the rounds decided it, and the allocator's part
    (the question the README's readers ask first, and the one the allocator answer moved)."""
    t = rows(f, "sample")
    keys = {id(r): k for k, r in t.items()}
    th, aio = find(t, model="threads", client="raw"), find(t, model="asyncio", client="raw")
    if th is None or aio is None:
        return ""
    x = fmt(th["ops_per_s"] / aio["ops_per_s"], "x")
    if keys[id(aio)] in th["faster_than"]:
        out = (
            f"Here threads with the raw client ran decidedly faster than asyncio's ({x} its rate)."
        )
    elif keys[id(th)] in aio["faster_than"]:
        out = (
            f"Here threads with the raw client ran decidedly slower than asyncio's ({x} its rate)."
        )
    else:
        out = f"Here the rounds could not tell threads with the raw client from asyncio's ({x} its rate)."
    pair = (
        next(
            (p for p in source(f, "compare_allocators")["pairs"] if p["cell"] == "asyncio · raw"),
            None,
        )
        if "compare_allocators" in f["sources"]
        else None
    )
    if "allocator" in aio["flags"] and pair:
        out += (
            f" asyncio's row pays glibc's mmap and munmap of its transport's 256 KiB read buffer "
            f"on every operation ({fmt(aio.get('minor_faults_per_op'), 'f2')} page faults each, "
            f"`allocator`); without that churn (`--allocator no-mmap`) `compare_allocators` "
            f"measured it at {fmt(pair['ratio'], 'x')} ({pair['verdict']})."
        )
    return out


# The sample's network columns, each from a reduced row, in the order the terminal prints them.
NET_COLUMNS: dict[str, Callable[[Row], str]] = {
    "model": lambda r: r["model"], "client": lambda r: r["client"],
    "clients": lambda r: str(r["clients"]), "ops/s": rate,
    "±": lambda r: fmt(r["ci_pct"], "pm"), "rank": lambda r: str(r["rank"] or "-"),
    # ≈ only on a ranked row: an unranked one was told apart from nothing, not tied with the best.
    "× best": lambda r: ("≈" if r["tied_best"] and r["rank"] else "") + fmt(r["x_best"], "share"),
    "p50 ms": lambda r: fmt(r["p50_ms"], "ms"), "p99 ms": lambda r: fmt(r["p99_ms"], "ms"),
    "CPU µs/op": lambda r: fmt(r["cpu_us_per_op"], "f1"),
    "srv CPU": lambda r: f"{r['server_cpu_pct']:.0f}%", "flags": lambda r: ", ".join(r["flags"]),
}  # fmt: skip


def _net_table(net: list[Row], columns: Sequence[str] = tuple(NET_COLUMNS)) -> str:
    body = [[NET_COLUMNS[c](r) for c in columns] for r in ranked(net)]
    return table(list(columns), body, 2, flags=True)


def _disk_table(disk: list[Row]) -> str:
    head = [
        "model",
        "client",
        "workload",
        "size",
        "clients",
        "MB/s",
        "±",
        "files/s",
        "rank",
        "× best",
        "p50 ms",
        "CPU s/GB",
        "hops/op",
        "µs/hop",
        "faults/op",
    ]
    body = [
        [
            r["model"],
            r["client"],
            r["workload"],
            size_label(int(r["file_size"])),
            str(r["clients"]),
            rate(r),
            fmt(r["ci_pct"], "pm"),
            fmt(r.get("files_per_s"), "int"),
            str(r["rank"] or "-"),
            ("≈" if r["tied_best"] else "") + fmt(r["x_best"], "share"),
            fmt(r["p50_ms"], "ms"),
            fmt(r.get("cpu_s_per_gb"), "f2"),
            str(r.get("hops_per_op", 0)),
            fmt(r.get("hop_us"), "int"),
            fmt(r.get("minor_faults_per_op"), "int"),
        ]
        for r in ranked(disk)
    ]
    return table(head, body, 3)


def sample(f: Figures) -> str:
    s = source(f, "sample")
    st, table_rows = s["settings"], rows(f, "sample")
    net = [r for r in table_rows.values() if not r.get("file_size")]
    disk = [r for r in table_rows.values() if r.get("file_size")]
    libs = ", ".join(f"{k} {v}" for k, v in s["libraries"].items())
    pin = s.get("pinning") or {}
    pinned = (
        f"server pinned to CPU {and_list(map(str, pin['server_cpus']))}, network clients "
        f"to CPU {and_list(map(str, pin['client_cpus']))}; "
        if pin
        else ""
    )
    head = wrap(
        f"`python -m workbench io --clients {st['clients']} --json run.json` (Python "
        f"{s['python']}, {libs}; {pinned}{plural(st['repeat'], 'round')} of each cell, {st['warmup']} s "
        f"warm-up and {st['duration']} s windows; {fmt(f['runs']['sample']['seconds'], 's')} in "
        "all; columns trimmed):"
    )
    tables = "```\n" + _net_table(net) + "\n\n" + _disk_table(disk) + "\n```\n"
    out: list[str] = []
    errors = [r for r in table_rows.values() if r["errors"]]
    said = (
        "every row above had zero errors"
        if not errors
        else "errors: " + and_list(f"{label(r)} {r['errors']:,}" for r in errors)
    )
    out.append(
        f"(The real tables also have the rounds' spread, p99.9, peak RSS and errors; {said}.)"
    )
    bound = [r for r in net if "client-bound" in r["flags"]]
    server = [r for r in net if "server-bound" in r["flags"]]
    out.append(
        f" {len(bound)} of the {len(net)} network rows are `client-bound`, CPU-bound on their "
        "core with no injected latency, so there `CPU µs/op` is the price of one request in that "
        "model; "
        + (
            "no row measured the server (`srv CPU` under 90%)."
            if not server
            else f"{and_list(label(r) for r in server)} measured the server (`server-bound`)."
        )
    )
    out.append(
        f" `±` is where the next run's rate should land, a 95% prediction interval from the "
        f"cell's {plural(st['repeat'], 'round')}, each a fresh worker, and `rank` counts only what the "
        "rounds tell apart."
    )
    by_rank: dict[int, list[Row]] = {}
    for r in net:
        if r["rank"]:
            by_rank.setdefault(r["rank"], []).append(r)
    shared = [(k, v) for k, v in sorted(by_rank.items()) if len(v) > 1]
    if shared:
        out.append(
            " Rows the rounds could not tell apart share a rank: "
            + "; ".join(f"{and_list(label(r) for r in v)} (rank {k})" for k, v in shared)
            + "."
        )
    noisy = [r for r in ranked(net) if "noisy" in r["flags"] and r["rank"]]
    if noisy:
        out.append(
            " The rate of "
            + and_list(f"{label(r)} ({fmt(r['ci_pct'], 'pm')})" for r in noisy)
            + " moved within a round's window, or its rounds fell into two modes (`noisy`): "
            "what `±` cannot show, so the median may be neither mode's rate."
        )
    allocated = [r for r in ranked(net) if "allocator" in r["flags"]]
    if allocated:
        out.append(
            " "
            + and_list(
                f"{label(r)} ({fmt(r.get('minor_faults_per_op'), 'f2')} faults/op)"
                for r in allocated
            )
            + " paid glibc's mmap and munmap of a large read buffer on every operation "
            "(`allocator`): the stdlib asyncio transport reads 256 KiB at a time; see "
            '"The allocator, not the model" below.'
        )
    for r in (r for r in net if "not-warm" in r["flags"]):
        out.append(
            f" `{label(r)}` never warmed up: only {r.get('users_started', r['users_warm']):,} of "
            f"its {r['clients']:,} users had had one answer in its first round, at "
            f"{fmt(r['cpu_us_per_op'], 'us')} µs of CPU per request; a cell whose first round "
            "never warms up is not repeated (its row is a collapse, not a rate to rank: rank `-`)."
        )
    out.append(_sample_disk(disk))
    return f"\n{head}\n\n{tables}\n" + wrap("".join(out).strip()) + "\n"


def _sample_disk(disk: list[Row]) -> str:
    pool = next((r for r in disk if r["model"] == "threads" and r["client"] == "os"), None)
    others = [r for r in ranked(disk) if r is not pool]
    if pool is None or not others:
        return ""
    size_of = size(pool)
    out = (
        f" On disk, the other file APIs read cached {size_of} files at "
        + and_list(
            f"{fmt(r['mb_per_s'] / pool['mb_per_s'], 'share')} ({r['client']})" for r in others
        )
        + " of the thread pool's rate."
    )
    aio = next((r for r in others if r["client"] == "aiofiles"), None)
    pool_faults = pool.get("minor_faults_per_op") or 0
    if aio and (aio.get("minor_faults_per_op") or 0) >= max(10, 10 * pool_faults):
        out += (
            f" aiofiles took {fmt(aio['minor_faults_per_op'], 'int')} minor page faults per "
            f"{size_of} file against {fmt(pool_faults, 'int')} in the pool (`faults/op`)."
        )
    return out


def sample_hops(f: Figures) -> str:
    hops = [
        f"{fmt(r['hop_us'], 'int')} µs ({r['client']})"
        for r in ranked(rows(f, "sample").values())
        if r.get("hop_us")
    ]
    return (
        "\n"
        + wrap(f"One empty hop to a worker thread cost {and_list(hops)} in the sample run.")
        + "\n"
    )


def tls(f: Figures) -> str:
    s, t = source(f, "compare_tls"), rows(f, "compare_tls")
    versus: Mapping[str, Mapping[str, Any]] = s["tls_over_http"]
    st = s["settings"]
    keep = {k: v for k, v in versus.items() if k.endswith("· https")}
    hand = {k: v for k, v in versus.items() if k.endswith("· https-handshake")}
    out = [
        f"What TLS cost here (`python -m scripts.compare_tls`: {st['clients']} connections, "
        f"{plural(st['repeat'], 'round')} of each cell). On keep-alive connections, each row's rate over "
        "TLS as a share of its plain-HTTP rate, and the client CPU per request TLS added: "
    ]
    out.append(
        and_list(
            f"{k.removesuffix(' · https')} {fmt(v['x_http'], 'x')} "
            f"({'+' if (v['extra_cpu_us'] or 0) >= 0 else ''}{fmt(v['extra_cpu_us'], 'us')} µs)"
            for k, v in keep.items()
        )
        + "."
    )
    uv = find(t, model="uvloop", client="raw", workload="https")
    aio = find(t, model="asyncio", client="raw", workload="https")
    if uv and aio:
        verdict = (
            "uvloop still leads"
            if faster(uv, aio, t)
            else "asyncio leads"
            if faster(aio, uv, t)
            else "the rounds do not tell them apart"
        )
        out.append(
            f" Over TLS uvloop's raw client made {rate(uv)} requests/s and asyncio's "
            f"{rate(aio)}: {verdict}."
        )
    ref = s.get("handshake_reference") or {}
    if hand:
        per_s = [r["ops_per_s"] for r in every(t, workload="https-handshake")]
        extra = [v["extra_cpu_us"] for v in hand.values()]
        out.append(
            f" A new connection per request gave {span(per_s, 'int', ' to ')} requests/s, "
            f"{span(extra, 'us', ' to ')} µs more client CPU per request than keep-alive "
            "plain HTTP"
        )
        if ref:
            openssl = " ".join(str(ref.get("openssl", "")).split()[:2])
            out.append(
                f"; the reference, a plain loop of handshakes with the standard library's "
                f"ssl ({openssl}), spent {fmt(ref['cpu_ms'], 'f2')} ms of CPU on each"
            )
            if min(extra) >= 500 * ref["cpu_ms"]:  # µs added against ms per handshake: >= half
                out.append(
                    ": every model added at least half of that per request, so most of what a "
                    "new connection costs is the handshake. Reuse connections"
                )
        out.append(".")
    return "\n" + wrap("".join(out)) + "\n"


def stability_io(f: Figures) -> str:
    s = source(f, "bench_stability")
    cells, cov, pairs = s["io"], s["coverage"], s["pairs"]
    runs = pairs["decided_per_run"]["runs"]
    goal = s["setup"]["constants"]["COVERAGE_GOAL"]
    contra = pairs.get("contradicted") or []
    held = (
        "no pair was ranked one way in one run and the other way in another"
        if not contra
        else f"{len(contra)} pairs were ranked both ways ({and_list(contra)})"
    )
    out = [
        f"`python -m scripts.bench_stability` ran {len(cells)} raw cells {len(runs)} times in a "
        "row, each run as `io` runs by default:\n",
        f"- **Rankings**: {held}, and the runs decided {and_list(str(n) for n in runs)} of the "
        f"{pairs['pairs']} pairs (the rest: `≈`).\n",
        f"- **Intervals**: the next run's rate landed inside this run's `±` {cov['covered']} of "
        f"{cov['tried']} times ({fmt(cov['share'], 'pct0')}, against a goal of "
        f"{fmt(goal, 'pct0')}{'' if cov['share'] >= goal else ': missed'}); per cell "
        + and_list(f"{c['cell'].split(' · ')[0]} {c['covered']} of {c['next_runs']}" for c in cells)
        + ".\n",
    ]
    # Steadier: a coefficient of variation at least a tenth below the rate's, not a rounding.
    steadier = [c for c in cells if c["cpu_cv_pct"] < 0.9 * c["cv_pct"]]
    out.append(
        "- **Between runs** the rates moved by a coefficient of variation of "
        + and_list(
            f"{fmt(c['cv_pct'], 'f1')}% ({c['cell'].split(' · ')[0]}, `±` "
            f"{fmt(c['half_width_pct'], 'f1')}%)"
            for c in cells
        )
        + "; CPU µs/op by "
        + and_list(f"{fmt(c['cpu_cv_pct'], 'f1')}%" for c in cells)
        + f" in the same order: steadier than the rate by a tenth or more in {len(steadier)} "
        f"of the {len(cells)} cells.\n"
    )
    return "\n" + "".join(wrap_item(line) for line in out)


TEMPLATES: dict[str, Template] = {
    "sample-brief": sample_brief, "suite-size": suite_size, "sample": sample, "sample-hops": sample_hops, "tls": tls, "stability-io": stability_io,
    "stability-gil": stability_gil, "gil-claims": gil_claims, "interpreters": interpreters,
    "cluster": cluster, "disk-bench": disk_bench, "servers": servers, "scripts": scripts_table,
    "httpx-pool": httpx_pool, "fast-loop": fast_loop, "databases": databases,
    "free-threaded": free_threaded, "long-lived": long_lived,
    "long-lived-servers": long_lived_servers, "allocators": allocators,
    "servers-compared": servers_section,
}  # fmt: skip
__all__ = ["SCRIPT_ROWS", "TEMPLATES"]
