"""Regenerate every figure the README quotes, from one run on this machine.

Runs, one after another and each in its own processes: the README's sample
(`python -m workbench io --clients 500`), every script's default run, the full test suite and the
fast loop, timing each. Then it reduces each run's JSON to the figures a reader is told (rates,
intervals, ratios, percentiles, verdicts, seconds) and writes them, with the commit, the date and
the machine, to one file: docs/readme_figures.json (`--figures`). The README quotes that file, and
tests/test_readme_figures.py checks that every number in the README's figure sections (between
`<!-- figures: SOURCE -->` and `<!-- /figures -->`) is one of that source's figures.

When the code changes a result, run this again and update the README from the new file:

    python scripts/readme_figures.py [--only sample,gil_claims,...] [--no-suite] [--quick]

About 50 minutes on 2 cores (the first run of compare_interpreters also prepares an
environment for each other interpreter). `--only` reruns some sources and keeps the others'
figures from the existing file; `--from DIR` reduces an earlier invocation's runs again.
Runs that miss a benchmark target still count (their exit code is recorded).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _script

from workbench.children import kill_group
from workbench.errors import UsageError
from workbench.report.results_file import write_json

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "readme_figures.json"
# The scripts whose default runs the README reports, in the order they run.
SCRIPTS = (
    "compare_asyncio_uvloop", "compare_threads_asyncio", "compare_libraries", "compare_file_apis",
    "compare_interpreters", "gil_claims", "bench_stability", "bench_network", "bench_disk",
    "bench_servers", "bench_overhead", "bench_cluster", "compare_tls",
)  # fmt: skip
SOURCES = ("sample", *SCRIPTS, "suite", "fast_loop")
SUMMARY = re.compile(r"(?:(\d+) failed, )?(\d+) passed(?:, (\d+) skipped)?.* in ([0-9.]+)s")


# --- running -------------------------------------------------------------------------------------


def command(source: str, out: Path, quick: bool) -> list[str]:
    py = sys.executable
    if source == "sample":
        sample = ["--clients", "10", "--duration", "0.3", "--warmup", "0.2"] if quick else []
        return [py, "-m", "workbench", "io", "--clients", "500", *sample, "--json",
                str(out / "sample.json")]  # fmt: skip
    if source == "suite":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if source == "fast_loop":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
    return [py, str(ROOT / "scripts" / f"{source}.py"), "--out", str(out / source)] + (
        ["--quick"] if quick else []
    )


def _interruptible() -> None:
    """In the child: Ctrl-C back to its default. A shell without job control starts background
    commands with SIGINT ignored, and an ignored signal survives exec: the suite's Ctrl-C tests
    would then measure a deaf process."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_one(cmd: Sequence[str], log: Path) -> tuple[int, float]:
    """Run one command with its output in `log`; (exit code, wall seconds). Ctrl-C stops it and
    its children before it propagates."""
    start = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_interruptible)  # fmt: skip
        try:
            code = proc.wait()
        except BaseException:
            kill_group(proc)
            proc.wait()
            raise
    return code, round(time.perf_counter() - start, 1)


# --- reducing a run to its figures ---------------------------------------------------------------


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
    return (row["workload"], row.get("file_size"), row.get("cache"), row.get("scenario"),
            row["clients_requested"], row.get("work"))  # fmt: skip


def compact_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a table shows of a row, without its histogram and per-process metadata."""
    ci = row.get("mb_per_s_ci") if row.get("file_size") else row.get("ops_per_s_ci")
    rate = row["mb_per_s"] if row.get("file_size") else row["ops_per_s"]
    lat = row["latency_ms"]
    out = {
        "ops_per_s": row["ops_per_s"], "ci_pct": _half_pct(ci, rate),
        "clients": row["clients"], "users_warm": row["users_warm"], "errors": row["errors"],
        "p50_ms": lat.get("p50"), "p99_ms": lat.get("p99"), "p999_ms": lat.get("p999"),
        "cpu_us_per_op": row.get("cpu_us_per_op"),
        "server_cpu_pct": _r((row.get("server_cpu_util") or 0) * 100, 1),
        "peak_rss_mb": row.get("peak_rss_mb"), "flags": row.get("flags", []),
        "repeats": row["repeats"]["ops_per_s"], "spread_pct": _r(row["repeats"]["spread"] * 100, 1)
        if row["repeats"].get("spread") is not None else None,
    }  # fmt: skip
    for key in ("mb_per_s", "files_per_s", "hop_us", "hops_per_op", "minor_faults_per_op",
                "cpu_s_per_gb", "bound_ops_per_s", "bound_share"):  # fmt: skip
        if row.get(key) is not None and (key != "mb_per_s" or row.get("file_size")):
            out[key] = row[key]
    return out


def _half_pct(ci: Sequence[float] | None, rate: float) -> float | None:
    if not ci or not rate:
        return None
    return round((ci[1] - ci[0]) / 2 / rate * 100, 1)


def io_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Every row, compact, with its ratio to the best row answering the same question."""
    rows = doc["results"]
    best: dict[tuple[Any, ...], float] = {}
    for r in rows:
        key = group_of(r)
        best[key] = max(best.get(key, 0.0), _rate(r))
    from workbench.ranking import ranks_within

    rank_of = ranks_within(rows, group_of)
    out: dict[str, Any] = {}
    for r in rows:
        fig = compact_row(r)
        top = best[group_of(r)]
        fig["x_best"] = round(_rate(r) / top, 3) if top else None
        fig["rank"] = rank_of.get(id(r))
        out[row_label(r)] = fig
    return {"rows": out, "settings": doc["metadata"].get("settings"),
            "warm_limit_s": doc["metadata"].get("warm_limit_s")}  # fmt: skip


def _rate(row: Mapping[str, Any]) -> float:
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
        pool = _by(doc["results"], model="threads", client="os", clients=8,
                   file_size=r.get("file_size"), cache=r.get("cache"))  # fmt: skip
        if pool:
            over_pool[row_label(r)] = _ratio(r["mb_per_s"], pool[0]["mb_per_s"])
    return {**out, "x_pool_of_8": over_pool}


def gil_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Each claim's verdict and evidence as printed (the evidence carries its figures)."""
    return {
        "seconds": doc["metadata"].get("seconds"),
        "claims": {str(c["id"]): {"verdict": c["verdict"], "evidence": c["evidence"],
                                  "explanation": c.get("explanation"), "seconds": c.get("seconds")}
                   for c in doc["claims"]},
    }  # fmt: skip


def summarised(value: Any) -> Any:
    """A benchmark's own document with every list of runs reduced to median, min and max."""
    if isinstance(value, Mapping):
        return {k: summarised(v) for k, v in value.items() if k != "metadata"}
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        return {"median": _r(statistics.median(value)), "min": _r(min(value)),
                "max": _r(max(value)), "runs": value}  # fmt: skip
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
                    ratios[part] = {c: _ratio(statistics.median(v), base)
                                    for c, v in cells.items() if v}  # fmt: skip
        if ratios:
            out[f"{key}_over_reference"] = ratios
    return out


def stability_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = summarised(doc)
    for cell in out.get("io", []):
        for key, name in (("cv_between_runs", "cv_pct"), ("cpu_cv_between_runs", "cpu_cv_pct"),
                          ("half_width", "half_width_pct")):  # fmt: skip
            if cell.get(key) is not None:
                cell[name] = _r(cell[key] * 100, 1)
    coverage = out.get("coverage") or {}
    if coverage.get("share") is not None:
        coverage["share_pct"] = _r(coverage["share"] * 100, 0)
    return out


def interpreters_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Each scenario's rows, threads against asyncio per interpreter and client count, and the
    GIL lab's verdicts under each interpreter."""
    out: dict[str, Any] = {"pythons": doc["pythons"], "scenarios": {}}
    for scenario, run in doc["runs"].items():
        fig = io_figures(run)
        versus = {}
        rows = run["results"]
        for r in _by(rows, model="threads"):
            loop = _by(rows, model="asyncio", python=r.get("python"),
                       clients_requested=r["clients_requested"])  # fmt: skip
            if loop:
                key = f"{r.get('python')} · c{r['clients_requested']}"
                versus[key] = _ratio(r["ops_per_s"], loop[0]["ops_per_s"])
        fig["threads_over_asyncio"] = versus
        out["scenarios"][scenario] = fig
    if doc.get("gil"):
        out["gil"] = {
            run["interpreter"]["version"]: {str(c["id"]): {"verdict": c["verdict"],
                                                           "evidence": c["evidence"]}
                                            for c in run["claims"]}
            for run in doc["gil"]["by_interpreter"]
        }  # fmt: skip
    return out


REDUCERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
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

        return {"thresholds": {k: v for k, v in vars(trust).items()
                               if k.isupper() and isinstance(v, int | float)},
                "flag_help": dict(trust.ALL_FLAG_HELP)}  # fmt: skip
    import importlib

    module = importlib.import_module(source)
    constants = {k: v for k, v in vars(module).items()
                 if k.isupper() and isinstance(v, int | float)}  # fmt: skip
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
    return {"tests": failed + passed + skipped, "passed": passed, "skipped": skipped,
            "failed": failed, "seconds": seconds, "minutes": round(seconds / 60, 1)}  # fmt: skip


# --- checking the README against the figures ----------------------------------------------------

# A number as the README writes it: 61,233  0.86  96.5k  11%  2.39x  ±16%  0.51-0.56; not part
# of a word (p99, -c100, --flag=3, 3.11.7), so names and versions are not mistaken for figures.
NUMBER = re.compile(
    r"(?<![\w./=])(?<![A-Za-z]-)(?<!--)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(k?)(?![\w.]*\d)"
)
# Any number inside the figures' own strings (evidence, docstrings: "N=500", "2 threads").
ANY_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?()")
SECTION = re.compile(r"<!-- figures: ([\w, ]+) -->(.*?)<!-- /figures -->", re.S)
VERSION = re.compile(r"\d+\.\d+\.\d+|\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def numbers(value: Any) -> Iterator[float]:
    """Every number in a figures document, including those written inside its strings."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, str):
        for m in ANY_NUMBER.finditer(VERSION.sub(" ", value)):
            yield quoted(m)[0]
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str):  # keys name figures too: claim "1", "os on threads (32)"
                yield from numbers(k)
            yield from numbers(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from numbers(v)


def quoted(m: re.Match[str]) -> tuple[float, int]:
    """(value, decimal places) of a number as written."""
    whole, frac, k = m.group(1), m.group(2) or "", m.group(3)
    value = float(whole.replace(",", "") + frac) * (1000 if k else 1)
    places = len(frac) - 1 if frac else 0
    return value, places - (3 if k else 0)


def matches(written: float, places: int, values: Sequence[float]) -> bool:
    """Is `written` one of `values` rounded as the README rounds it (also as a percentage)?"""
    half = 0.5 * 10.0**-places + 1e-9  # either way at a half: 34.15 may be written 34.2
    return any(abs(c - written) <= half for v in values for c in (v, v * 100))


def unmatched(readme: str, figures: Mapping[str, Any]) -> list[str]:
    """Each number in the README's figure sections that is not among its sources' figures (or
    their metadata: versions, dates, settings), as 'source: number in context'."""
    missing = []
    for m in SECTION.finditer(readme):
        names = [n.strip() for n in m.group(1).split(",")]
        body = m.group(2)
        for name in names:
            if name not in figures["sources"]:
                missing.append(f"{name}: no such source in the figures file")
        for line in body.splitlines():
            row_source = [n for n in names if f"`{n}.py`" in line]
            scope = row_source or names
            values = [v for n in scope if n in figures["sources"]
                      for v in numbers(figures["sources"][n])]  # fmt: skip
            for version in VERSION.findall(line):
                if not any(version in s for s in strings(figures)):
                    missing.append(f"{'/'.join(scope)}: {version} in {line.strip()[:100]!r}")
            for n in NUMBER.finditer(VERSION.sub(" ", line)):
                value, places = quoted(n)
                if not matches(value, places, values):
                    missing.append(f"{'/'.join(scope)}: {n.group(0)} in {line.strip()[:100]!r}")
    return missing


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)


# --- the script --------------------------------------------------------------------------------


def git_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                         check=False)  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    return out.stdout.strip() + ("+changes" if dirty else "") if out.returncode == 0 else "unknown"


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--only", default=None, help=f"comma-separated sources of {', '.join(SOURCES)}")
    p.add_argument("--no-suite", action="store_true", help="leave out the test suite's timings")
    p.add_argument("--figures", default=str(FIGURES), help="the figures file (default %(default)s)")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="run nothing: reduce the runs left in DIR")  # fmt: skip
    a = p.parse_args()
    sources = list(SOURCES) if a.only is None else [s.strip() for s in a.only.split(",")]
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise UsageError(f"unknown source {', '.join(unknown)} (known: {', '.join(SOURCES)})")
    if a.no_suite or a.quick:  # a quick run is itself run by the suite: never the suite again
        sources = [s for s in sources if s not in ("suite", "fast_loop")]
    out = Path(a.from_dir) if a.from_dir else _script.out_dir(a, "readme-figures")
    # What each run took and returned, kept beside its output as soon as it is known.
    ledger = out / "runs.json"
    done: dict[str, Any] = json.loads(ledger.read_text()) if a.from_dir else {}
    if a.from_dir:
        sources = [s for s in sources if s in done]
        if not sources:
            raise UsageError(f"{ledger} records none of the sources asked for")
    path = Path(a.figures)
    # A partial regeneration (--only, or --from a run of some sources) keeps the others' figures.
    keep = path.exists() and (a.only or a.from_dir)
    old = json.loads(path.read_text()) if keep else {"sources": {}, "runs": {}}
    from workbench.metadata import machine, process_metadata

    doc: dict[str, Any] = {
        "kind": "readme-figures", "commit": git_commit(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": a.quick, "machine": machine(), "process": process_metadata(),
        "tools": {t: _script.tool_version(t) for t in ("wrk", "fio", "nginx")},
        "sources": dict(old.get("sources", {})), "runs": dict(old.get("runs", {})),
    }  # fmt: skip
    if a.from_dir:  # the figures are that run's: so are its date and commit
        doc["date"], doc["commit"] = done[sources[0]]["date"], done[sources[0]]["commit"]
    rows = []
    for source in sources:
        if a.from_dir:
            doc["runs"][source] = run = done[source]
            code, seconds = run["exit_code"], run["seconds"]
        else:
            print(f"{source} ...", file=sys.stderr, flush=True)
            cmd = command(source, out, a.quick)
            code, seconds = run_one(cmd, out / f"{source}.log")
            shown = ["python" if c == sys.executable else c for c in cmd]
            shown = [c.replace(str(out), "OUT").replace(str(ROOT) + "/", "") for c in shown]
            doc["runs"][source] = done[source] = {
                "command": " ".join(shown), "exit_code": code, "seconds": seconds,
                "date": doc["date"], "commit": doc["commit"],
            }  # fmt: skip
            write_json(ledger, done)
        if source in ("suite", "fast_loop"):
            figures = suite_figures(out / f"{source}.log", seconds)
        elif code not in (0, 1):  # 1 is a missed target: its figures stand, and say so
            raise UsageError(f"{source} exited {code}; see {out / f'{source}.log'}")
        else:
            figures = reduce(source, out)
        figures["seconds_run"] = seconds
        if source not in ("suite", "fast_loop"):
            figures["setup"] = setup(source)
        doc["sources"][source] = figures
        rows.append([source, f"{seconds:.0f}", str(code)])
    _script.table("the runs behind the README's figures", ["source", "seconds", "exit"], rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, doc)
    print(f"written: {path} (raw runs under {out})")
    return 0


if __name__ == "__main__":
    _script.main(main)
