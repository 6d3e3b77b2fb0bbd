"""Splitting a spread cell's load over its hosts, and combining what they measured (pure: no I/O,
no Dask).

A spread cell runs on K hosts at once against one target, each with its share of --clients and
--rate (`split_load`), so the total is what was asked for. Its runs merge into one (operations,
bytes and CPU add up; the HDR histograms merge losslessly), and each host's own figures ride
along in `per_host`. Its windows were opened at one agreed wall-clock instant; how much each
host's window overlapped all the others' is measured, not assumed.
"""

from __future__ import annotations

import copy
import statistics
from dataclasses import replace
from typing import Any

from workbench.harness.cell import CellRun
from workbench.harness.settings import IoSettings
from workbench.metrics import Recording

MIN_OVERLAP = 0.95  # a host whose window shared less than this with the others is flagged


def split_load(settings: IoSettings, hosts: int) -> list[IoSettings]:
    """Each host's settings for a spread cell: --clients split as evenly as whole users allow
    (the first hosts take one more), and --rate in proportion to each host's users, so every
    user keeps the pace it would have on one machine and the hosts together offer the total."""
    if hosts < 1 or settings.clients < hosts:
        raise ValueError(f"{settings.clients} clients cannot be spread over {hosts} hosts")
    base, extra = divmod(settings.clients, hosts)
    shares = [base + (1 if i < extra else 0) for i in range(hosts)]
    return [
        replace(
            settings,
            clients=n,
            rate=None if settings.rate is None else settings.rate * n / settings.clients,
        )
        for n in shares
    ]


def common_overlap(windows: list[tuple[float, float]]) -> list[float]:
    """For each window, the share of it that lies inside every other window."""
    lo = max(w[0] for w in windows)
    hi = min(w[1] for w in windows)
    shared = max(0.0, hi - lo)
    return [min(1.0, shared / (w[1] - w[0])) if w[1] > w[0] else 0.0 for w in windows]


def host_figures(run: CellRun, overlap: float | None) -> dict[str, Any]:
    rec = run.recording
    lat = rec.latency_ms()
    cpu = rec.cpu_user_s + rec.cpu_sys_s
    return {
        "host": run.host,
        "ops": rec.ops,
        "ops_per_s": round(rec.ops / run.window_s, 2) if run.window_s else 0.0,
        "errors": sum(rec.errors.values()),
        "histogram_count": sum(rec.latency_counts.values()),
        "p50_ms": lat["p50"],
        "p99_ms": lat["p99"],
        "cpu_us_per_op": round(cpu / rec.ops * 1e6, 2) if rec.ops else None,
        "clients": rec.clients,
        "users_warm": rec.users_warm,
        "wall_window": None if run.wall_window is None else list(run.wall_window),
        "overlap": None if overlap is None else round(overlap, 4),
    }


def hosts_over_rounds(rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each host's figures over every round of a spread cell, so that they add up to the row:
    its operations, errors and latency samples summed over the rounds (as the row's are); its
    rate, latencies and CPU per operation the median of its rounds'; its overlap the worst."""
    by_host: dict[str, list[dict[str, Any]]] = {}
    for per_host in rounds:
        for h in per_host:
            by_host.setdefault(str(h["host"]), []).append(h)

    def median(hs: list[dict[str, Any]], key: str) -> Any:
        known = [h[key] for h in hs if h.get(key) is not None]
        return round(statistics.median(known), 4) if known else None

    out = []
    for host, hs in by_host.items():
        overlaps = [h["overlap"] for h in hs if h.get("overlap") is not None]
        out.append(
            {
                **hs[-1],
                "host": host,
                "rounds": len(hs),
                "ops": sum(h["ops"] for h in hs),
                "errors": sum(h["errors"] for h in hs),
                "histogram_count": sum(h["histogram_count"] for h in hs),
                "ops_per_s": median(hs, "ops_per_s"),
                "p50_ms": median(hs, "p50_ms"),
                "p99_ms": median(hs, "p99_ms"),
                "cpu_us_per_op": median(hs, "cpu_us_per_op"),
                "users_warm": min(h["users_warm"] for h in hs),
                "wall_window": [h["wall_window"] for h in hs],
                "overlap": min(overlaps) if overlaps else None,
            }
        )
    return out


def merge_spread(runs: list[CellRun]) -> CellRun:
    """One run from the K hosts' runs of a spread cell (one round)."""
    assert runs
    runs = sorted(runs, key=lambda r: r.host or "")
    walls = [r.wall_window for r in runs]
    overlaps: list[float | None] = (
        list(common_overlap([w for w in walls if w is not None]))
        if all(w is not None for w in walls)
        else [None] * len(runs)
    )
    merged = Recording.from_dict(runs[0].recording.to_dict())  # a copy: the runs stay as given
    for r in runs[1:]:
        # Slices add up only as far as the windows line up: the overlap check says how far.
        merged.merge(r.recording)
    metadata = copy.deepcopy(runs[0].metadata)
    metadata["per_host"] = [host_figures(r, o) for r, o in zip(runs, overlaps, strict=True)]
    ramps = [r.ramp_s for r in runs]
    known = [w for w in walls if w is not None]
    wall = (min(w[0] for w in known), max(w[1] for w in known)) if known else None
    return CellRun(
        recording=merged,
        server_cpu_s=None,  # the target is the user's server: its CPU is not ours to read
        window_s=max(r.window_s for r in runs),
        metadata=metadata,
        ramp_s=None if None in ramps else max(r for r in ramps if r is not None),
        wall_window=wall,
        host=",".join(r.host or "?" for r in runs),
    )


def skewed_hosts(per_host: list[dict[str, Any]]) -> list[str]:
    """Hosts whose window overlapped the others' by less than MIN_OVERLAP."""
    return [
        str(h["host"]) for h in per_host if h["overlap"] is not None and h["overlap"] < MIN_OVERLAP
    ]


def concurrent_on_one_machine(
    runs: list[tuple[str, str, tuple[float, float] | None]],
) -> set[int]:
    """Indexes of runs (host, machine id, wall window) whose window overlapped a run of another
    host on the same machine: two cells measured at once on shared cores."""
    out: set[int] = set()
    for i, (host_a, machine_a, wa) in enumerate(runs):
        for j, (host_b, machine_b, wb) in enumerate(runs):
            if j <= i or host_a == host_b or machine_a != machine_b or wa is None or wb is None:
                continue
            if wa[0] < wb[1] and wb[0] < wa[1]:
                out.update((i, j))
    return out
