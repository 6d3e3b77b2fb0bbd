"""Async or threaded serving: the same service under uvicorn, hypercorn, granian, gunicorn and
waitress, and what a free-threaded build changes.

`python -m workbench servers` runs, in three scenarios:
  hello       100 clients: the server's own cost per request decides;
  downstream  200 clients, each request waits 20 ms on the mock server: Little's law bounds an
              event loop at N / d and a threaded server at T x W / d (32 threads here);
  work        downstream plus 200 µs of pure-Python work per request, under this interpreter and,
              where one is found (`workbench pythons build 3.13t` makes one), a free-threaded 3.13
              with its GIL off: where threads without a GIL should show.
The servers run one worker each, pinned to their own core; the load and the downstream share the
other. Prints every row, then the pairs below, declared before anything runs, in every scenario
and build where both rows exist: each decided under Holm's correction for the number of pairs,
none where either row's load, not its server, was the limit. Writes a bar chart.

    python -m scripts.compare_servers [--repeat 3] [--quick]
"""

from __future__ import annotations

from dataclasses import replace

from scripts import _script
from workbench.errors import UsageError
from workbench.harness.settings import IoSettings
from workbench.report.declared import Pair, declared_verdicts
from workbench.report.plots import plot_bars
from workbench.report.servers_table import print_servers
from workbench.results import Row

CONFIGS = (
    "uvicorn-uvloop", "uvicorn-asyncio", "hypercorn-asyncio", "granian-asgi", "granian-wsgi",
    "gunicorn-gthread", "waitress",
)  # fmt: skip
SCENARIOS = {
    "hello": {"clients": 100},
    "downstream": {"clients": 200},
    "work": {"clients": 200},
}
THREADS = 32
# Each async serving against threaded serving, or a server's two interfaces. The work pair uses
# uvicorn on the stdlib loop, which runs on both builds (uvloop turns a free-threaded GIL back on).
PAIRS = (
    Pair("uvicorn against gunicorn gthread", ("uvicorn-uvloop", "asgi"),
         ("gunicorn-gthread", "wsgi")),
    Pair("granian's ASGI against its WSGI", ("granian-asgi", "asgi"), ("granian-wsgi", "wsgi")),
    Pair("threads against the event loop (gunicorn gthread, uvicorn asyncio)",
         ("gunicorn-gthread", "wsgi"), ("uvicorn-asyncio", "asgi")),
)  # fmt: skip


def free_threaded() -> str | None:
    from workbench.interpreter_discovery import find

    try:
        return find("3.13t")
    except UsageError:
        return None


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--repeat", type=int, default=3, help="rounds, interleaved (default 3)")
    a = p.parse_args()
    out = _script.out_dir(a, "compare-servers")
    base = IoSettings(
        models=["uvloop"], libs=["raw"], duration=1.0, warmup=0.3, repeat=a.repeat,
        served=list(CONFIGS), downstream_latency=0.02, served_work="python:200us",
        server_threads=THREADS,
    )  # fmt: skip
    ft = None if a.quick else free_threaded()  # a smoke run checks the script, not the builds
    builds = ["this"] + (["3.13t"] if ft else [])
    if a.quick:
        base = replace(_script.quick(base), served=["uvicorn-asyncio", "gunicorn-gthread"])
    results: list[Row] = []
    groups: dict[str, dict[str, list[float]]] = {}
    by_group: dict[str, list[Row]] = {}
    doc = None
    for scenario, size in SCENARIOS.items():
        pythons: list[list[str]] = [[]] + ([[ft]] if ft and scenario == "work" else [])
        for python in pythons:
            clients = min(size["clients"], base.clients) if a.quick else size["clients"]
            settings = replace(
                base, workloads=[f"served-{scenario}"], clients=clients, pythons=python
            )
            under = f" under {python[0]}" if python else ""
            doc = _script.run(settings, f"{scenario}: every server{under}")
            print_servers(doc, _script.console())
            for r in doc["results"]:
                where = f"{scenario} · {r.get('python', '?')}"
                results.append({**r, "scenario": where})  # type: ignore[typeddict-unknown-key]
                by_group.setdefault(where, []).append(r)
                groups.setdefault(where, {})[f"{r['model']} · {r['client']}"] = _script.rates(r)
    verdicts = declared_verdicts(by_group, PAIRS)
    _script.table(
        f"declared pairs, Holm-corrected over {len(verdicts)} (builds: {', '.join(builds)})",
        ["pair", "scenario · python", "A req/s", "B req/s", "A/B", "interval", "verdict", "flags"],
        [_script.pair_line(v) for v in verdicts],
    )
    plots = plot_bars(
        groups,
        out / "compare-servers",
        log=True,
        xlabel="requests per second (log scale; whiskers: range over rounds)",
        title="one service under each server, one worker on its own core",
    )
    assert doc is not None
    _script.save(out, "compare-servers", {**doc, "results": results}, plots)
    return 0


if __name__ == "__main__":
    _script.main(main)
