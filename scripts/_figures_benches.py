"""The figure sections of the benchmarks that have a section of their own: the cluster's dispatch
cost, the mock server's capacity, and the disk benchmark against fio."""

from __future__ import annotations

from scripts._figures_text import Figures, and_list, fmt, plural, source, spaced, span, target, wrap


def cluster(f: Figures) -> str:
    s = source(f, "bench_cluster")
    wall, share = s["wall_s"], s["overhead_share"]
    return (
        "\n"
        + wrap(
            "What the dispatch costs: `python -m scripts.bench_cluster` ran the same "
            f"{s['cells']} cells here and through a local cluster of one worker (so both run one "
            f"cell at a time), {plural(s['rounds'], 'round')} alternating: "
            f"{fmt(wall['local']['median'], 's')} here against "
            f"{fmt(wall['cluster']['median'], 's')} through the cluster (medians), a dispatch "
            f"overhead of {fmt(s['overhead_median'], 'pct')} of the cluster run's wall time "
            f"({span(share['runs'], 'pct', ' to ')} over the rounds; "
            f"{target(s['overhead_median'], s['target'], 'pct0', above=False)}), about "
            f"{fmt(s['overhead_ms_per_cell']['median'], 'int')} ms per cell (connecting, the "
            "checks, the task's round trips, and each cell's own mock server started on its host)."
        )
        + "\n"
    )


def servers(f: Figures) -> str:
    s = source(f, "bench_servers")
    goal = s["setup"]["constants"]["TARGET"]
    req, tls_ = s["req_per_s"], s["tls"]
    out = (
        f"Capacity (`scripts/bench_servers.py`, `wrk -t1 -c100` pinned to the other core): "
        f"{fmt(req['mock']['median'], 'int')} req/s against nginx's "
        f"{fmt(req['nginx']['median'], 'int')} ({fmt(s['ratio'], 'x')}, medians of "
        f"{len(req['mock']['runs'])} runs; {target(s['ratio'], goal, 'x')}; the mock server's runs "
        f"{span(req['mock']['runs'], 'int', ' to ')}, nginx's "
        f"{span(req['nginx']['runs'], 'int', ' to ')}). Over TLS, on keep-alive connections with "
        f"the same certificate on both: {fmt(tls_['req_per_s']['mock']['median'], 'int')} req/s "
        f"against nginx's {fmt(tls_['req_per_s']['nginx']['median'], 'int')} "
        f"({fmt(tls_['ratio'], 'x')})."
    )
    cost = s.get("cost")
    if cost:  # recorded since the script measured CPU beside the rates
        mock, ref = _median_cost(cost["mock"]), _median_cost(cost["nginx"])
        out += (
            f" Server CPU per request: {fmt(mock['server_us_per_request'], 'us')} µs for the mock "
            f"server, {fmt(mock['server_kernel_share'], 'pct0')} of it in the kernel (its one read "
            f"and one write per request), against nginx's "
            f"{fmt(ref['server_us_per_request'], 'us')} µs; wrk used "
            f"{fmt(mock['wrk_core_share'], 'pct0')} of its core against the mock server, so a "
            "faster server would mostly measure wrk."
        )
    if tls_["ratio"] < 1:
        out += (
            " The TLS server is the slower one, so an `https` row near that rate is likely "
            "to carry the `server-bound` flag rather than measure the client."
        )
    return "\n" + wrap(out) + "\n"


def disk_bench(f: Figures) -> str:
    s = source(f, "bench_disk")
    c = s["setup"]["constants"]
    checks = s.get("reference_checks") or {}
    mb = s["mb_per_s"]
    out = [
        f"What it measured here (`python -m scripts.bench_disk`: warm cache, {c['USERS']} "
        "users on one event loop, medians of its rounds). fio psync with "
        f"{s['fio_jobs']} jobs read "
        + and_list(f"{fmt(mb[k]['fio']['median'], 'int')} MB/s on {spaced(k)} files" for k in mb)
        + ", "
        + and_list(f"{fmt(v['fio_over_one_reader'], 'x')}" for v in checks.values())
        + " one plain Python reader on the same files (the set was read, and checked "
        "resident with `fincore`, before every fio run). On 1 MiB files the best thread pool "
        f"({s['threads_cell']}) read {fmt(s['threads_vs_fio_1mib'], 'x')} fio "
        f"({target(s['threads_vs_fio_1mib'], c['TARGET'], 'x')})."
    ]
    for k, u in (s.get("io_uring") or {}).items():
        goal = f"; {target(u['x_best_hopping'], c['URING_TARGET'], 'x')}" if k == "16KiB" else ""
        out.append(
            f" On {spaced(k)} files io_uring ({u['io_uring']}) read "
            f"{fmt(u['io_uring_mb_per_s'], 'int')} MB/s, {fmt(u['x_best_hopping'], 'x')} the "
            "best API that hops to a thread "
            f"({u['best_hopping']}, {fmt(u['best_hopping_mb_per_s'], 'int')}{goal}), "
            + and_list(f"{fmt(v, 'x')} {k2}" for k2, v in u["x_others"].items())
            + f", and {fmt(u.get('x_fio_io_uring'), 'x')} fio's own io_uring engine."
        )
    return "\n" + wrap("".join(out)) + "\n"


def _median_cost(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median server CPU per request, whole (its shares belong to it)."""
    return sorted(runs, key=lambda r: r["server_us_per_request"])[len(runs) // 2]
