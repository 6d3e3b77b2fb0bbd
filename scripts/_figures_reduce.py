"""What the README is told of each run: every source's JSON reduced to the figures its section
renders (rates, intervals, ranks, ratios, percentiles, verdicts, seconds). Pure: documents in,
figures out; scripts/readme_figures.py runs the sources and keeps the result."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import UsageError

SUMMARY = re.compile(r"(?:(\d+) failed, )?(\d+) passed(?:, (\d+) skipped)?.* in ([0-9.]+)s")


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def row_label(row: Mapping[str, Any]) -> str:
    parts = [row["model"], row["client"], row["workload"]]
    if row.get("file_size"):
        parts.append(f"{row['file_size']}B")
    if row.get("cache"):
        parts.append(str(row["cache"]))
    parts.append(f"c{row['clients']}")
    if row.get("scenario"):
        parts.append(str(row["scenario"]))
    if row.get("python"):
        parts.append(str(row["python"]))
    return " · ".join(parts)


def group_of(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Rows that answer the same question: the same workload, size, cache, latency, scenario."""
    return (
        row["workload"],
        row.get("file_size"),
        row.get("cache"),
        row.get("scenario"),
        row["clients_requested"],
        row.get("work"),
    )


def compact_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a table shows of a row, without its histogram and per-process metadata."""
    ci = row.get("mb_per_s_ci") if row.get("file_size") else row.get("ops_per_s_ci")
    lat = row["latency_ms"]
    spread = row["repeats"].get("spread")
    out = {
        "model": row["model"],
        "client": row["client"],
        "workload": row["workload"],
        "clients_requested": row["clients_requested"],
        "python": row.get("python"),
        "ops_per_s": row["ops_per_s"],
        "ci_pct": _half_pct(ci, rate_of(row)),
        "clients": row["clients"],
        "users_warm": row["users_warm"],
        "errors": row["errors"],
        "p50_ms": lat.get("p50"),
        "p99_ms": lat.get("p99"),
        "p999_ms": lat.get("p999"),
        "cpu_us_per_op": row.get("cpu_us_per_op"),
        "server_cpu_pct": _r((row.get("server_cpu_util") or 0) * 100, 1),
        "peak_rss_mb": row.get("peak_rss_mb"),
        "flags": row.get("flags", []),
        "repeats": row["repeats"]["ops_per_s"],
        "spread_pct": None if spread is None else _r(spread * 100, 1),
    }
    # The fields only some kinds of row have.
    optional = ("file_size", "cache", "scenario", "mb_per_s", "files_per_s", "hop_us",
                "hops_per_op", "minor_faults_per_op", "cpu_s_per_gb", "bound_ops_per_s",
                "bound_share", "users_started", "timer_late", "server_cpu_us_per_req",
                "server_peak_rss_mb", "server_threads", "loop_lag", "bound_by")  # fmt: skip
    for key in optional:
        if row.get(key) is not None and (key != "mb_per_s" or row.get("file_size")):
            out[key] = row[key]
    return out


def _half_pct(ci: Sequence[float] | None, rate: float) -> float | None:
    if not ci or not rate:
        return None
    return round((ci[1] - ci[0]) / 2 / rate * 100, 1)


def io_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Every row, compact, with what the terminal table decides of it: its rank among the rows
    answering the same question, its share of the best one's rate, whether the rounds tell it
    apart from the best (`tied_best`: the table's ≈), and which rows it is decidedly faster than
    (`faster_than`), all from `workbench.ranking`."""
    from workbench.ranking import FASTER, decide, ranks_within

    rows = doc["results"]
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(group_of(r), []).append(r)
    rank_of = ranks_within(rows, group_of)
    # Each ordered pair of a group decided once; the best row's list says which rows are ≈ it.
    faster_than = {
        id(r): [o for o in members if o is not r and decide(r, o).verdict == FASTER]  # type: ignore[arg-type]
        for members in groups.values()
        for r in members
    }
    out: dict[str, Any] = {}
    for members in groups.values():
        top = max(members, key=rate_of)
        for r in members:
            fig = compact_row(r)
            fig["x_best"] = round(rate_of(r) / rate_of(top), 3) if rate_of(top) else None
            fig["rank"] = rank_of.get(id(r))
            fig["tied_best"] = r is not top and r not in faster_than[id(top)]
            fig["faster_than"] = [row_label(o) for o in faster_than[id(r)]]
            out[row_label(r)] = fig
    out = {row_label(r): out[row_label(r)] for r in rows}  # the document's order, not the groups'
    meta = doc["metadata"]
    first = rows[0]["metadata"] if rows else {}
    return {"rows": out, "settings": meta.get("settings"), "warm_limit_s": meta.get("warm_limit_s"),
            "pinning": meta.get("pinning"), "python": first.get("python"),
            "libraries": first.get("libraries", {})}  # fmt: skip


def rate_of(row: Mapping[str, Any]) -> float:
    """The figure a row is ranked by: MB/s for a disk row, operations per second otherwise (a
    compact row carries mb_per_s only when it is a disk row, so this reads both kinds)."""
    return float(row["mb_per_s"] if row.get("file_size") else row["ops_per_s"])


def _by(rows: Sequence[Mapping[str, Any]], **match: Any) -> list[Mapping[str, Any]]:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def asyncio_uvloop_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = io_figures(doc)
    pairs = {}
    for r in _by(doc["results"], model="uvloop"):
        (slow,) = _by(doc["results"], model="asyncio", client=r["client"], scenario=r["scenario"])
        pairs[f"{r['client']} · {r['scenario']}"] = {
            "speed_up": _ratio(r["ops_per_s"], slow["ops_per_s"]),
            "cpu_ratio": _ratio(slow["cpu_us_per_op"], r["cpu_us_per_op"]),
        }
    return {**out, "uvloop_over_asyncio": pairs}


def libraries_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = io_figures(doc)
    over_raw = {}
    for r in doc["results"]:
        raw = _by(doc["results"], model=r["model"], client="raw")
        if raw and r["client"] != "raw":
            over_raw[f"{r['model']} · {r['client']}"] = _ratio(r["ops_per_s"], raw[0]["ops_per_s"])
    return {**out, "x_raw_same_model": over_raw}


def tls_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Each TLS row against the same model and client on plain HTTP: the rate as a multiple, and
    the client CPU per request it adds."""
    out = io_figures(doc)
    versus = {}
    for r in doc["results"]:
        plain = _by(doc["results"], model=r["model"], client=r["client"], workload="http")
        if plain and r["workload"] != "http":
            cpu, base = r["cpu_us_per_op"], plain[0]["cpu_us_per_op"]
            versus[f"{r['model']} · {r['client']} · {r['workload']}"] = {
                "x_http": _ratio(r["ops_per_s"], plain[0]["ops_per_s"]),
                "extra_cpu_us": None if cpu is None or base is None else _r(cpu - base, 1),
            }
    return {**out, "tls_over_http": versus, "handshake_reference": doc.get("handshake_reference")}


def file_apis_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = io_figures(doc)
    over_pool = {}
    for r in doc["results"]:
        pool = _by(
            doc["results"],
            model="threads",
            client="os",
            clients=8,
            file_size=r.get("file_size"),
            cache=r.get("cache"),
        )
        if pool:
            over_pool[row_label(r)] = _ratio(r["mb_per_s"], pool[0]["mb_per_s"])
    return {**out, "x_pool_of_8": over_pool}


def gil_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Each claim's verdict and evidence as printed (the evidence carries its figures)."""
    return {
        "seconds": doc["metadata"].get("seconds"),
        "claims": {
            str(c["id"]): {k: c.get(k) for k in ("verdict", "evidence", "explanation", "seconds")}
            for c in doc["claims"]
        },
    }


def summarised(value: Any) -> Any:
    """A benchmark's own document with every list of runs reduced to median, min and max."""
    if isinstance(value, Mapping):
        return {k: summarised(v) for k, v in value.items() if k != "metadata"}
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        return {
            "median": _r(statistics.median(value)),
            "min": _r(min(value)),
            "max": _r(max(value)),
            "runs": value,
        }
    if isinstance(value, list):
        return [summarised(v) for v in value]
    return value


def bench_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A benchmark's figures, plus each cell's median as a ratio to its reference's median."""
    out: dict[str, Any] = summarised(doc)
    for key in ("mb_per_s", "ops_per_s", "req_per_s"):
        table = doc.get(key)
        if not isinstance(table, Mapping):
            continue
        ratios: dict[str, Any] = {}
        for part, cells in table.items():
            if isinstance(cells, Mapping):
                ref = next((c for c in ("fio", "wrk") if c in cells), None)
                if ref:
                    base = statistics.median(cells[ref])
                    ratios[part] = {
                        c: _ratio(statistics.median(v), base) for c, v in cells.items() if v
                    }
        if ratios:
            out[f"{key}_over_reference"] = ratios
    return out


def stability_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = summarised(doc)
    for cell in out.get("io", []):
        for key, name in (
            ("cv_between_runs", "cv_pct"),
            ("cpu_cv_between_runs", "cpu_cv_pct"),
            ("half_width", "half_width_pct"),
        ):
            if cell.get(key) is not None:
                cell[name] = _r(cell[key] * 100, 1)
    coverage = out.get("coverage") or {}
    if coverage.get("share") is not None:
        coverage["share_pct"] = _r(coverage["share"] * 100, 0)
    return out


def interpreters_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Each scenario's rows, threads against asyncio per interpreter and client count, and the
    GIL lab's verdicts under each interpreter."""
    from workbench.ranking import SAID, decide

    out: dict[str, Any] = {"pythons": doc["pythons"], "scenarios": {}}
    for scenario, run in doc["runs"].items():
        fig = io_figures(run)
        versus = {}
        rows = run["results"]
        for r in _by(rows, model="threads"):
            loop = _by(
                rows,
                model="asyncio",
                python=r.get("python"),
                clients_requested=r["clients_requested"],
            )
            if loop:
                key = f"{r.get('python')} · c{r['clients_requested']}"
                verdict = decide(r, loop[0]).verdict  # type: ignore[arg-type]
                versus[key] = {
                    "ratio": _ratio(r["ops_per_s"], loop[0]["ops_per_s"]),
                    "decided": SAID[verdict],
                }
        fig["threads_over_asyncio"] = versus
        out["scenarios"][scenario] = fig
    if doc.get("gil"):
        # Keyed by version and build: 3.13.5 and 3.13.5t are two interpreters of one version.
        out["gil"] = {
            run["interpreter"]["version"]
            + ("t" if run["interpreter"]["free_threaded_build"] else ""): {
                str(c["id"]): {"verdict": c["verdict"], "evidence": c["evidence"]}
                for c in run["claims"]
            }
            for run in doc["gil"]["by_interpreter"]
        }
    return out


def databases_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Every row, and the script's declared pairs in every workload and scenario, decided under
    Holm's correction (workbench.report.declared), each with its interval and both rows."""
    from scripts.compare_databases import PAIRS
    from workbench.report.declared import declared_verdicts

    rows = doc["results"]
    groups: dict[str, list[Any]] = {}
    for r in rows:
        groups.setdefault(f"{r['workload']} · {r.get('scenario')}", []).append(r)
    pairs = [pair_figures(v) for v in declared_verdicts(groups, PAIRS)]
    servers = doc["metadata"].get("databases") or {}
    return {
        **io_figures(doc),
        "pairs": pairs,
        "servers": {k: v.get("version") for k, v in servers.items()},
    }


def pair_figures(v: Any) -> dict[str, Any]:
    """A declared pair's verdict (workbench.report.declared.PairVerdict) as the record keeps it."""
    return {
        "pair": v.pair.name,
        "where": v.where,
        "a": None if v.a is None else row_label(v.a),
        "b": None if v.b is None else row_label(v.b),
        "ratio": None if v.ratio is None else round(v.ratio, 3),
        "interval": None if v.lo is None or v.hi is None else [round(v.lo, 3), round(v.hi, 3)],
        "confidence": None if v.confidence is None else round(v.confidence, 5),
        "decided": v.said,
    }


# scripts._figures_long_lived adds compare_long_lived's own (it imports this module, not back).
REDUCERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    # The script's own summary (it holds each interpreter's version and build flags too).
    "compare_free_threaded": lambda doc: dict(doc["summary"]),
    "compare_databases": databases_figures,
    "sample": io_figures,
    "compare_asyncio_uvloop": asyncio_uvloop_figures,
    "compare_threads_asyncio": io_figures,
    "compare_libraries": libraries_figures,
    "compare_file_apis": file_apis_figures,
    "compare_tls": tls_figures,
    "compare_interpreters": interpreters_figures,
    "gil_claims": gil_figures,
    "bench_stability": stability_figures,
}


def setup(source: str) -> dict[str, Any]:
    """What a run was set up to do, as its code says: a script's docstring (its default run and
    its targets) and module constants; for the sample, the trust thresholds its flags apply."""
    if source == "sample":
        from workbench.harness import trust

        return {
            "thresholds": {
                k: v for k, v in vars(trust).items() if k.isupper() and isinstance(v, int | float)
            },
            "flag_help": dict(trust.ALL_FLAG_HELP),
        }
    import importlib

    module = importlib.import_module(f"scripts.{source}")
    constants = {
        k: v for k, v in vars(module).items() if k.isupper() and isinstance(v, int | float)
    }
    return {"doc": module.__doc__ or "", "constants": constants}


def reduce(source: str, out: Path) -> dict[str, Any]:
    """The figures of one finished run, from the JSON it wrote."""
    if source == "sample":
        path = out / "sample.json"
    else:
        docs = sorted(p for p in (out / source).glob("*.json") if p.name != "partial.json")
        if not docs:
            raise UsageError(f"{source} wrote no JSON under {out / source}")
        path = docs[0]
    doc = json.loads(path.read_text())
    return REDUCERS.get(source, bench_figures)(doc)


def suite_figures(log: Path, seconds: float) -> dict[str, Any]:
    text = log.read_text(errors="replace")
    found = list(SUMMARY.finditer(text))
    if not found:
        raise UsageError(f"no pytest summary line in {log}")
    m = found[-1]  # the last summary: the run's own, after any quoted in the output
    failed, passed, skipped = int(m.group(1) or 0), int(m.group(2)), int(m.group(3) or 0)
    return {
        "tests": failed + passed + skipped,
        "passed": passed,
        "skipped": skipped,
        "failed": failed,
        "seconds": seconds,
        "minutes": round(seconds / 60, 1),
    }
