"""The GIL lab's and the interpreters' sections: how still the verdicts hold, each claim's
verdict, interpreters side by side, and threads against asyncio on a GIL build and a
free-threaded one (`scripts/compare_free_threaded.py`'s summary). Each sentence says only what its
figures do: which side is faster is the ranking's decision from the rounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scripts._figures_text import (
    Figures,
    Row,
    and_list,
    faster,
    find,
    fmt,
    source,
    span,
    wrap,
    wrap_item,
)


def _rate(side: Mapping[str, Any] | None) -> str:
    if not side:
        return "-"
    ci, rate = side.get("ci"), side["ops_per_s"]
    half = "" if not ci or not rate else f" {fmt((ci[1] - ci[0]) / 2 / rate * 100, 'pm')}"
    return f"{fmt(rate, 'int')}{half}"


def _cores(v: Mapping[str, Any]) -> str:
    got = [v.get(m, {}).get("cores") for m in ("threads", "asyncio")]
    return " / ".join(fmt(c, "f2") for c in got)


def _flags_differ(builds: Mapping[str, Any], names: list[str]) -> str:
    """Whether the two builds differ in more than --disable-gil (and where they install)."""

    def rest(name: str) -> list[str]:
        args = str(builds[name].get("config_args") or "").split()
        return [a for a in args if not a.startswith("'--prefix=") and a != "'--disable-gil'"]

    if rest(names[0]) == rest(names[1]):
        return "the two builds differ only in --disable-gil"
    return "the two builds differ in other configure flags too"


def free_threaded(f: Figures) -> str:
    s = source(f, "compare_free_threaded")
    names = list(s["pythons"])
    builds = s["builds"]
    head = wrap(
        f"What `python -m scripts.compare_free_threaded` measured under {and_list(names)} (the "
        "raw client against the mock HTTP server, every cell in rounds, each a fresh worker). "
        "Rates in requests per second with the next run's interval; `decided` is the ranking's "
        "verdict between threads and asyncio from the rounds; cores are the client's CPU per "
        "request times its rate (the work cells run unpinned, so the client may use both)."
    )
    lines = [
        "| cells | interpreter | threads | asyncio | uvloop | asyncio loop per thread "
        "| threads ÷ asyncio | decided | client cores, threads / asyncio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cells in s["versus"][names[0]]:
        for name in names:
            v = s["versus"][name][cells]
            lines.append(
                f"| {cells} | {name} | {_rate(v.get('threads'))} | {_rate(v.get('asyncio'))} "
                f"| {_rate(v.get('uvloop'))} | {_rate(v.get('asyncio-threads'))} "
                f"| {fmt(v.get('ratio'), 'x')} "
                f"| {v.get('decided', '-')} | {_cores(v)} |"
            )
    flags = "\n".join(f"{n}: {builds[n].get('config_args') or '(none)'}" for n in names)
    out = [head, "\n".join(lines), f"Their configure flags:\n\n```\n{flags}\n```"]
    cpu = s["single_cpu_us"]
    base, free = (cpu.get(n) for n in names)
    if base and free:
        more = free / base - 1
        said = f"{fmt(more, 'pct0')} more" if more >= 0 else f"{fmt(-more, 'pct0')} less"
        within = "within" if more <= s["pep_779"] else "above"
        out.append(wrap(
            f"One sequential client (the sync model) spent {fmt(base, 'us')} µs of CPU per "
            f"request under {names[0]} and {fmt(free, 'us')} under {names[1]}: {said}, "
            f"{within} the {fmt(s['pep_779'], 'pct0')} that PEP 779 sets as the free-threaded "
            f"build's single-thread cost (for 3.14t); {_flags_differ(builds, names)}."
        ))  # fmt: skip
    mem = s.get("memory_kib_per_connection")
    if mem:

        def kib(model: str) -> str:
            return and_list(f"{fmt(mem[n].get(model), 'f1')} KiB under {n}" for n in names)

        per = and_list(f"{model} {kib(model)}" for model in ("threads", "asyncio"))
        out.append(wrap(f"Peak memory each further idle connection added, from 100 to 500: {per}."))
    for name in names:
        for claim in s["claims"].get(name, []):
            out.append(wrap(
                f"Claim {claim['id']} under {name}, **{claim['verdict']}**: "
                f"{claim['explanation']}."
            ))  # fmt: skip
    return "\n" + "\n\n".join(out) + "\n"


def stability_gil(f: Figures) -> str:
    g = source(f, "bench_stability")["gil"]
    seconds = g["seconds_per_run"]
    n = len(seconds["runs"])
    tally: Mapping[str, Mapping[str, int]] = g["tally"]
    same = all(set(v) == {"holds"} for v in tally.values())
    said = (
        f"every claim held in all {n} runs"
        if same
        else "; ".join(
            f"claim {k}: " + ", ".join(f"{verdict} {count}" for verdict, count in v.items())
            for k, v in tally.items()
        )
    )
    return (
        "\n"
        + wrap(
            f"**How still they hold**: `python -m scripts.bench_stability` ran the lab {n} times in a "
            f"row: {said}, and a run took {span(seconds['runs'], 'f1')} s."
        )
        + "\n"
    )


def gil_claims(f: Figures) -> str:
    claims: Mapping[str, Mapping[str, Any]] = source(f, "gil_claims")["claims"]
    out = [
        "What the default run of `gil_claims.py` said, claim by claim: the verdict, and the "
        f"explanation the lab built from its evidence ({fmt(source(f, 'gil_claims')['seconds'], 's')}"
        " for all of them):\n"
    ]
    for k, c in claims.items():
        out.append(wrap_item(f"- {k}, **{c['verdict']}**: {c.get('explanation') or ''}."))
    return "\n" + wrap_item(out[0]) + "".join(out[1:])


def interpreters(f: Figures) -> str:
    s = source(f, "compare_interpreters")
    scenarios: Mapping[str, Mapping[str, Any]] = s["scenarios"]
    first = next(iter(scenarios.values()))
    pythons = list(dict.fromkeys(r["python"] for r in first["rows"].values()))
    counts = sorted({r["clients_requested"] for r in first["rows"].values()})
    head = "| work per request | clients | " + " | ".join(p.split()[0] for p in pythons) + " |"
    lines = [head, "|---|---|" + "---|" * len(pythons)]
    notes = []
    for name, sc in scenarios.items():
        for c in counts:
            cells = []
            for p in pythons:
                versus = sc["threads_over_asyncio"].get(f"{p} · c{c}")
                if isinstance(versus, Mapping):  # since every verdict is decided on its rounds
                    cells.append(f"{fmt(versus['ratio'], 'share')} ({versus['decided']})")
                else:
                    cells.append(fmt(versus, "share"))
                th = find(sc["rows"], model="threads", python=p, clients_requested=c)
                bad = [x for x in ("no-ops", "not-warm") if th and x in th["flags"]]
                if th and bad:
                    notes.append(
                        f"{p.split()[0]} at {c:,} clients{' with work' if sc['settings']['work'] else ''}: "
                        f"{th.get('users_started', th['users_warm']):,} of {c:,} threads ever "
                        f"started ({', '.join(bad)})"
                    )
            lines.append(f"| {name} | {c:,} | " + " | ".join(cells) + " |")
    uv = [r for r in first["rows"].values() if r["model"] == "uvloop"]
    text = (
        f"What `python -m scripts.compare_interpreters` found here under "
        f"{and_list(p.split()[0] for p in pythons)} ({and_list(sorted({' '.join(p.split()[1:]) for p in pythons}))}; "
        f"raw client, mock server, {first['settings']['duration']} s windows): threads' rate as "
        "a share of asyncio's, by interpreter and clients."
    )
    out = "\n" + wrap(text) + "\n\n" + "\n".join(lines) + "\n\n"
    tail = []
    if notes:
        tail.append("Threads that never all warmed up: " + "; ".join(notes) + ".")
    if uv:
        tail.append(
            f"uvloop made {span([r['ops_per_s'] for r in uv], 'k', ' to ')} ops/s in "
            "that scenario" + _uvloop_lead(uv, first["rows"]) + "."
        )
    gil = s.get("gil") or {}
    if gil:
        verdicts = {v: tuple(c["verdict"] for c in claims.values()) for v, claims in gil.items()}
        tail.append(
            "The GIL lab gave every claim the same verdict under all of them."
            if len(set(verdicts.values())) == 1
            else "The GIL lab's verdicts differed: "
            + "; ".join(f"{v}: {', '.join(x)}" for v, x in verdicts.items())
            + "."
        )
    return out + (wrap(" ".join(tail)) + "\n" if tail else "")


def _uvloop_lead(uv: list[Row], table_rows: Mapping[str, Row]) -> str:
    """Whether the rounds put uvloop ahead of asyncio, row by row (one round decides nothing)."""
    if any(r.get("rank") is None for r in uv):
        return " (one round a cell: the rounds decide nothing between the rows)"
    ahead = sum(
        faster(
            r,
            find(
                table_rows,
                model="asyncio",
                python=r["python"],
                clients_requested=r["clients_requested"],
            ),
            table_rows,
        )
        for r in uv
    )
    return f", decidedly ahead of asyncio in {ahead} of its {len(uv)} rows"
