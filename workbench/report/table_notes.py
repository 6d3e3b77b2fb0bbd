"""The text around the terminal tables: each table's title (interpreters, clients, window,
latency, target, pinning, cluster) and the notes under it (what the intervals and ranks mean, each
flag that appears, what was skipped and why, what a cluster run lost)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.harness.trust import ALL_FLAG_HELP
from workbench.ranking import MIN_EFFECT
from workbench.results import ResultDoc, pythons_in
from workbench.units import format_rate


def title_of(doc: ResultDoc) -> str:
    md = doc["metadata"]
    s = md["settings"]
    parent = md["parent"]
    pin = md.get("pinning")
    cluster = md.get("cluster")
    where = ", ".join(
        v["url"] for v in [*md["servers"].values(), *md.get("databases", {}).values()]
    )
    if cluster and not s.get("url"):
        where = "each host's own mock server"
    pythons = pythons_in(doc["results"])
    parts = [
        f"Python {', '.join(pythons)}" if pythons else f"Python {parent['python']}",
        f"{s['clients']} clients",
        f"{s['duration']:g}s window after {s['warmup']:g}s warm-up",
        _latency(s),
        f"work per request {s['work']}" if s.get("work") else "no work per request",
        f"target {where}",
    ]
    if pin and pin["server_cpus"]:
        parts.append(f"server on CPU {pin['server_cpus']}, clients on {pin['client_cpus']}")
    if cluster:
        n = len(cluster["hosts"])
        spread = f", each cell on {cluster['spread']} at once" if cluster.get("spread") else ""
        parts.append(f"on {n} host{'s' if n != 1 else ''} of {cluster['scheduler']}{spread}")
    return " · ".join(parts)


def notes(doc: ResultDoc) -> list[str]:
    rows = doc["results"]
    out = []
    rounds = max((len(r["repeats"]["ops_per_s"]) for r in rows), default=1)
    if rounds > 1:
        out.append(
            f"±: where the next run's rate should land (a 95% prediction interval from the "
            f"{rounds} rounds, each a fresh worker, rounds interleaved across cells; Student's t "
            "on the log rates). rank: 1 + the rows decidedly faster (the 95% interval of the "
            "ratio, round by round, above 1, and the medians at least "
            f"{MIN_EFFECT:.0%} apart), shared by rows the run cannot "
            "tell apart; ≈ before × best: not told apart from the best row"
        )
    else:
        out.append(
            "one round per cell: no interval between runs, so nothing is ranked (rank -); one "
            "window's own steadiness says nothing about the next run: use --repeat 3 or more"
        )
    pythons = pythons_in(rows)
    if len(pythons) > 1:
        out.append(
            f"× {pythons[0].split()[0]}: the row's rate as a multiple of the same cell's under "
            f"Python {pythons[0]}, measured in the same run, cells interleaved"
        )
    out += cluster_notes(doc)
    for skip in doc["metadata"].get("skipped") or []:
        where = f" under Python {skip['python']}" if "python" in skip else ""
        out.append(f"skipped{where}: {skip['cell']}: {skip['reason']}")
    seen = sorted({f for r in rows for f in r["flags"]})
    for flag in seen:
        out.append(f"{flag}: {ALL_FLAG_HELP.get(flag, '')}")
    bounded = [r for r in rows if r.get("bound_ops_per_s")]
    if any(r.get("db_latency_ms") is None for r in bounded):
        bound = next(r["bound_ops_per_s"] for r in bounded if r.get("db_latency_ms") is None)
        out.append(
            f"of N/d: share of the Little's-law bound N/d = {format_rate(bound)} ops/s "
            "(N clients, d injected latency); 1.00 means the model adds no delay of its own"
        )
    if any(r.get("db_latency_ms") is not None for r in bounded):
        out.append(
            "of N/d (db rows): share of the row's own Little's-law bound N / (k x 2D): N users "
            "holding a connection (a pool holds at most its size per process), k round trips an "
            "operation takes (asyncpg's pool adds one, its reset), D the delay proxy's delay each "
            "way; 1.00 means the model adds no delay of its own"
        )
    disk = doc["metadata"].get("disk")
    if disk:
        out.append(
            "disk: hops/op = thread hops an async file API makes per file (µs/hop: one empty hop, "
            "measured; io_uring makes none); faults/op = minor page faults per file, mostly the "
            "allocator mapping fresh memory for each buffer (try --env "
            "MALLOC_MMAP_THRESHOLD_=...); reads check "
            "every length and the CRC-32 of every 64th; written files are read back after the "
            f"window. {disk['note']}."
        )
    for r in rows:
        where = f"{r['model']} · {r['client']} · {r['workload']}"
        if "not-warm" in r["flags"]:
            out.append(
                f"not warm in {where}: {r.get('users_started', r['users_warm']):,} of "
                f"{r['clients']:,} users finished an operation in the worst round"
            )
        if "late-warm" in r["flags"]:
            out.append(
                f"late warm-up in {where}: {r['users_warm']:,} of {r['clients']:,} users had "
                f"finished an operation after {doc['metadata']['warm_limit_s']:g}s, all by the end"
            )
        late = r.get("timer_late")
        if late and "timer-late" in r["flags"]:
            out.append(
                f"late timers in {where}: delayed writes went out {late['p50_ms']:g} ms late at "
                f"the median ({late['p99_ms']:g} ms at p99) on a {late['delay_ms']:g} ms delay"
            )
        if r["errors"]:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["errors_by_kind"].items()))
            per = r["repeats"].get("errors")
            by_round = f" (by round: {', '.join(map(str, per))})" if per and len(per) > 1 else ""
            out.append(f"errors in {where}: {kinds}{by_round}")
        if r.get("write_budget_spent"):
            out.append(f"write budget spent in {r['model']} · {r['client']}: rate undercounted")
    return out


def cluster_notes(doc: ResultDoc) -> list[str]:
    """Where a cluster run's rows were measured, and what went wrong out there."""
    cluster = doc["metadata"].get("cluster")
    if not cluster:
        return []
    out = []
    for name, h in cluster["hosts"].items():
        machine = h.get("machine") or {}
        cpu = machine.get("cpu_model") or "?"
        out.append(
            f"host {name}: {h['address']}, {h['cpus']} CPUs ({cpu}), Python {h['python']}, "
            f"clock {h['clock_offset_s'] * 1000:+.1f} ms ±{h['clock_error_s'] * 1000:.1f}"
        )
    for names in cluster.get("shared_machines") or []:
        out.append(f"one machine: {', '.join(names)} share its cores")
    for lost in cluster.get("lost") or []:
        out.append(
            f"worker lost: {lost['cell']} ({lost['job']}), tried on "
            f"{', '.join(lost['hosts']) or 'a worker that died'}"
        )
    for rerun in cluster.get("reruns") or []:
        out.append(
            f"re-run: {rerun['cell']} ({rerun['job']}) on {rerun['ran_on']}, its worker "
            f"{', '.join(rerun['lost_on'])} having died under it"
        )
    for r in doc["results"]:
        for h in r.get("per_host") or []:
            overlap = "-" if h.get("overlap") is None else f"{h['overlap']:.1%}"
            rounds = int(h.get("rounds", 1))
            over = f" in {rounds} rounds" if rounds > 1 else ""
            out.append(
                f"{r['model']} · {r['client']} on {h['host']}: {format_rate(h['ops_per_s'])} "
                f"ops/s, {h['ops']:,} ops{over}, {h['errors']} errors, p99 {h['p99_ms']} ms, "
                f"window overlap {overlap}"
            )
    return out


def _latency(settings: Mapping[str, Any]) -> str:
    if settings["latency"]:
        return f"server latency {settings['latency'] * 1000:g} ms"
    if settings.get("db_latency"):
        return f"db round trip +{settings['db_latency'] * 2000:g} ms (delay proxy)"
    return "no injected latency"
