"""What does TLS cost each model and client, on keep-alive connections and per handshake?

The same cells on `http`, `https` (keep-alive: the cost of encryption) and `https-handshake` (a new
connection per request: a TCP and a TLS handshake each), at 50 connections, 3 rounds interleaved:
the blocking raw socket on threads and on gevent (it releases the GIL inside OpenSSL), requests
on both, asyncio's and uvloop's SSL transports, and trio's SSLStream. The server's CPU is counted
apart, so a row that measured the TLS server rather than the client says so (server-bound).
Prints, per model and client, the rate on each workload and what TLS adds to the client's CPU per
request, and writes a bar chart. The reference: one plain loop of 300 handshakes with the standard
library's ssl against the same kind of server, in this process, timed by its own CPU: what a
handshake costs with no model around it.

    python -m scripts.compare_tls [--clients 50] [--repeat 3] [--quick]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars

WORKLOADS = ["http", "https", "https-handshake"]
HANDSHAKES = 300
MODELS = ["threads", "gevent", "asyncio", "uvloop", "trio"]
LIBS = ["raw", "requests", "aiohttp"]


def handshake_reference(count: int) -> dict[str, Any]:
    """`count` sequential TLS handshakes (connect, handshake, close) with one shared context:
    the client's CPU and wall time for each, in ms, after 20 unmeasured ones."""
    import resource
    import socket
    import ssl
    import time

    from workbench.server_process import run_server

    with run_server("http", tls=True) as server:
        context = ssl.create_default_context(cafile=server.ca_file)

        def once() -> None:
            raw = socket.create_connection((server.host, server.port), timeout=5)
            context.wrap_socket(raw, server_hostname=server.host).close()

        for _ in range(20):
            once()
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in range(count):
            once()
        r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return {
        "cpu_ms": 1e3 * cpu / count,
        "wall_ms": 1e3 * (t1 - t0) / count,
        "openssl": ssl.OPENSSL_VERSION,
    }


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3, help="rounds, interleaved (default 3)")
    p.add_argument("--models", default=",".join(MODELS))
    a = p.parse_args()
    out = _script.out_dir(a, "tls")
    settings = IoSettings(
        models=a.models.split(","),
        libs=LIBS,
        workloads=WORKLOADS,
        clients=a.clients,
        duration=2.0,
        repeat=a.repeat,
    )
    if a.quick:
        settings = replace(
            _script.quick(settings),
            models=["gevent", "asyncio"],
            libs=["raw"],
            workloads=["http", "https"],
        )
    doc = _script.run(settings, f"TLS against plain HTTP at {settings.clients} connections")
    _script.show(doc)
    reference = handshake_reference(30 if a.quick else HANDSHAKES)
    print(
        f"reference: {reference['cpu_ms']:.2f} ms of client CPU ({reference['wall_ms']:.2f} ms "
        f"wall) per handshake in a plain loop, {reference['openssl']}"
    )
    doc["handshake_reference"] = reference  # type: ignore[typeddict-unknown-key]
    rows = {(r["model"], r["client"], r["workload"]): r for r in doc["results"]}
    summary = []
    for (model, client, workload), plain in rows.items():
        if workload != "http":
            continue
        cells = [f"{client} on {model}", f"{plain['ops_per_s']:,.0f}"]
        for tls in settings.workloads[1:]:
            r = rows.get((model, client, tls))
            if r is None:
                cells += ["-", "-"]
                continue
            cpu, base = r["cpu_us_per_op"], plain["cpu_us_per_op"]
            extra = "-" if cpu is None or base is None else f"{cpu - base:+,.1f}"
            cells += [f"{r['ops_per_s']:,.0f} ({r['ops_per_s'] / plain['ops_per_s']:.2f}x)", extra]
        summary.append(cells)
    columns = ["client on model", "http ops/s"]
    for tls in settings.workloads[1:]:
        columns += [f"{tls} ops/s (× http)", "TLS CPU µs/op"]
    _script.table(
        f"TLS at {settings.clients} connections (TLS CPU: what the client spends per request "
        "beyond plain HTTP)",
        columns,
        summary,
    )
    groups: dict[str, dict[str, list[float]]] = {}
    for r in doc["results"]:
        groups.setdefault(f"{r['client']} on {r['model']}", {})[r["workload"]] = _script.rates(r)
    plots = plot_bars(
        groups,
        out / "tls",
        log=True,
        xlabel="throughput (requests per second, log scale)",
        title=f"plain HTTP and TLS at {settings.clients} connections, mock HTTP(S) server",
    )
    _script.save(out, "tls", doc, plots)
    return 0


if __name__ == "__main__":
    _script.main(main)
