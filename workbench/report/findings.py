"""Findings: what a run's numbers say, in plain words (pure: rows in, sentences out).

Every sentence is computed from the rows, and says only what they support:
- the fastest model per group of comparable rows, and by how much, only where `ranking` decides it
  from the rounds (between-run noise, and at least its MIN_EFFECT); otherwise that the run does
  not rank them;
- where a library collapses: users never warm, or CPU per operation far above the raw client's
  on the same model;
- which rows not to trust, and why (every flag but `client-bound`, which is a finding, not a
  doubt: such a row measures what the client costs);
- with injected latency, each row's share of the Little's-law bound N/d.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.harness.trust import ALL_FLAG_HELP
from workbench.ranking import FASTER, MIN_EFFECT, UNRANKED, decide, times
from workbench.results import Row, is_disk, pythons_in
from workbench.units import format_rate, size_label

COLLAPSE_CPU = 5.0  # a library at 5x the raw client's CPU per operation has collapsed
INFORMATIVE = {"client-bound"}  # flags that describe the row rather than doubt it


def _label(row: Row, multi_python: bool) -> str:
    text = f"{row['model']} · {row['client']}"
    if multi_python and row.get("python"):
        text += f" · {row.get('python')}"
    if row.get("host"):
        text += f" on {row.get('host')}"
    return text


def _where(row: Row) -> str:
    if is_disk(row):
        cache = f", {row.get('cache')} cache" if row.get("cache") else ""
        return f"{row['workload']} of {size_label(row.get('file_size', 0))} files{cache}"
    work = f", {row['work']} of work per request" if row["work"] else ""
    return f"{row['workload']} at {row['clients_requested']:,} clients{work}"


def _groups(rows: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(_where(r), []).append(r)
    return out


def _rate_of(row: Row) -> float:
    return float(row["mb_per_s"]) if is_disk(row) else float(row["ops_per_s"])


def _unit(row: Row) -> str:
    return "MB/s" if is_disk(row) else "ops/s"


def fastest(rows: Sequence[Row]) -> list[str]:
    """Per group of comparable rows, the fastest model, where the run can tell (see ranking)."""
    out = []
    multi = len(pythons_in(list(rows))) > 1
    for where, members in _groups(rows).items():
        live = [r for r in members if "no-ops" not in r["flags"] and _rate_of(r) > 0]
        best: dict[str, Row] = {}
        for r in sorted(live, key=_rate_of, reverse=True):
            best.setdefault(f"{r['model']}{' · ' + str(r.get('python')) if multi else ''}", r)
        if len(best) < 2:
            continue
        ranked = list(best.items())
        top_name, top = ranked[0]
        unit = _unit(top)
        decisions = {n: decide(top, r) for n, r in ranked[1:]}
        if all(d.verdict == UNRANKED for d in decisions.values()):
            out.append(
                f"{where}: one round per cell, so this run ranks nothing (a single window says "
                "nothing about the next run's); run with --repeat 3 or more."
            )
            continue
        tied = [(n, r) for n, r in ranked if r is top or decisions[n].verdict != FASTER]
        rest = [(n, r) for n, r in ranked if r is not top and decisions[n].verdict == FASTER]
        if len(tied) == 1:
            name, nxt = rest[0]
            d = decisions[name]
            assert d.ratio is not None
            assert d.lo is not None
            assert d.hi is not None
            out.append(
                f"{where}: {top_name} is the fastest model ({_label(top, multi)}, "
                f"{format_rate(_rate_of(top))} {unit}), {times(d.ratio)}x the next, {name} "
                f"({_label(nxt, multi)}, {format_rate(_rate_of(nxt))} {unit}), 95% "
                f"interval {times(d.lo)}-{times(d.hi)}x over {_rounds(top, nxt)}."
            )
            continue
        names = ", ".join(f"{n} ({format_rate(_rate_of(r))})" for n, r in tied)
        text = (
            f"{where}: {names} {unit} lead together: between rounds they cannot be told apart "
            f"or differ by under {MIN_EFFECT:.0%}, so this run does not rank them"
        )
        if rest:
            name, nxt = rest[0]
            text += f"; the next, {name}, reached {times(_rate_of(nxt) / _rate_of(top))}x the top"
        out.append(text + ".")
    return out


def _rounds(a: Row, b: Row) -> str:
    na, nb = len(a["repeats"]["ops_per_s"]), len(b["repeats"]["ops_per_s"])
    return f"{na} rounds each" if na == nb else f"{na} and {nb} rounds"


def collapses(rows: Sequence[Row]) -> list[str]:
    """Library clients that never got their users going, or that burn far more CPU per
    operation than the raw client on the same model."""
    out = []
    multi = len(pythons_in(list(rows))) > 1
    for r in rows:
        if is_disk(r) or r["client"] == "raw":
            continue
        same = [
            x
            for x in rows
            if x["client"] == "raw"
            and x["model"] == r["model"]
            and not is_disk(x)
            and _where(x) == _where(r)
            and x.get("python") == r.get("python")
        ]
        raw = same[0] if same else None
        name = f"{r['client']} on {r['model']}" + (f" ({r.get('python')})" if multi else "")
        if "not-warm" in r["flags"] or "no-ops" in r["flags"]:
            out.append(
                f"{name} collapsed at {r['clients_requested']:,} clients: only "
                f"{r.get('users_started', r['users_warm']):,} of {r['clients']:,} users finished "
                f"an operation in a round, and it completed {format_rate(r['ops_per_s'])} ops/s."
            )
            continue
        cpu, raw_cpu = r["cpu_us_per_op"], raw["cpu_us_per_op"] if raw else None
        if cpu and raw and raw_cpu and cpu >= COLLAPSE_CPU * raw_cpu:
            out.append(
                f"{name} costs {cpu:,.0f} µs of CPU per operation, {cpu / raw_cpu:,.0f}x the "
                f"raw client on the same model ({raw_cpu:,.1f} µs), and reached "
                f"{times(r['ops_per_s'] / raw['ops_per_s'])}x its rate: the library, not the "
                "network, is the limit."
            )
    return out


def distrust(rows: Sequence[Row]) -> list[str]:
    """One sentence per flag that casts doubt, naming its rows."""
    multi = len(pythons_in(list(rows))) > 1
    where = len(_groups(rows)) > 1  # name each row's group only when there are several
    by_flag: dict[str, list[str]] = {}
    for r in rows:
        for flag in r["flags"]:
            if flag not in INFORMATIVE:
                label = _label(r, multi) + (f" ({_where(r)})" if where else "")
                by_flag.setdefault(flag, []).append(label)
    return [
        f"Do not trust {', '.join(labels)} as measured: {flag}, {ALL_FLAG_HELP.get(flag, '')}."
        for flag, labels in by_flag.items()
    ]


def _share(row: Row, multi: bool, own_bound: bool) -> str:
    own = f" of {format_rate(float(row.get('bound_ops_per_s') or 0))}" if own_bound else ""
    late = row.get("timer_late")
    # What the server added to the delay it was asked for, measured: part of any shortfall.
    said = f" (server's writes {late['p50_ms']:g} ms late at p50)" if late else ""
    return f"{_label(row, multi)} {times(float(row.get('bound_share') or 0))}{own}{said}"


def littles_law(rows: Sequence[Row], latency_s: float) -> list[str]:
    """With injected latency d and N clients no closed loop passes N/d: each row's share.

    A db row's bound is its own, N / (round trips x 2D) through the delay proxy: a pool holds
    fewer connections than there are users, and asyncpg's pool adds a round trip."""
    out = []
    multi = len(pythons_in(list(rows))) > 1
    for where, members in _groups([r for r in rows if r.get("bound_share") is not None]).items():
        shares = sorted(members, key=lambda r: -float(r.get("bound_share") or 0))
        bounds = {float(r.get("bound_ops_per_s") or 0) for r in shares}
        each = len(bounds) > 1
        listed = ", ".join(_share(r, multi, each) for r in shares)
        db_ms = shares[0].get("db_latency_ms")
        if db_ms is not None:
            cause = (
                f"{db_ms:g} ms each way through the delay proxy: Little's law allows "
                "N / (round trips x 2D)"
            )
        else:
            cause = f"{latency_s * 1000:g} ms injected: Little's law allows N/d"
        allowed = "" if each else f" = {format_rate(bounds.pop())} ops/s"
        out.append(f"{where}, {cause}{allowed}; share reached: {listed}.")
    return out


def findings(doc: Mapping[str, Any]) -> list[str]:
    """Every finding of an io, disk or sweep run, in the order a reader wants them."""
    rows: list[Row] = list(doc.get("results") or [])
    if not rows:
        return []
    latency = float((doc.get("metadata") or {}).get("settings", {}).get("latency") or 0.0)
    return [*fastest(rows), *collapses(rows), *littles_law(rows, latency), *distrust(rows)]
