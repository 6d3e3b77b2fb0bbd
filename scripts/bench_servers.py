"""Is the mock HTTP server fast enough never to be what is measured, in plain HTTP and in TLS?

Starts the mock server pinned to one core and runs `wrk -t1 -c100` pinned to the other, three
times; does the same against nginx (one worker, a 64-byte static file, access log off, keep-alive
unlimited so neither side closes connections); prints both medians and their ratio.
Target: mock server >= 2x nginx.

Beside each rate it prints the server's CPU per request, the share of it spent in the kernel, and
wrk's own CPU share: a server with most of its time in the kernel already makes the fewest system
calls a keep-alive exchange allows (one read, one write), and a wrk near a full core is the limit
of the measurement itself, not of the server.

Then the same over TLS (keep-alive, so it is the cost of encryption, not of handshakes): both
servers serve one certificate, from a throw-away CA made for the run (`servers.tls`). wrk does not
verify it; the workbench's clients do. The TLS ratio is reported, with no target: there the mock
server runs OpenSSL through Python's ssl module, nginx calls it from C.

    python -m scripts.bench_servers [--seconds 5] [--runs 3] [--quick]
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from scripts import _script
from scripts._bench import WrkRun, cpus, fmt, median_spread, require_tool, wrk, wrk_run
from servers.tls import TlsFiles, make_ca
from workbench.children import owned_process
from workbench.report.plots import plot_bars
from workbench.server_process import run_server

TARGET = 2.0
NGINX_CONF = """
worker_processes 1;
daemon off;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  server {{ listen 127.0.0.1:{port}{ssl}; root {dir}/www;{certs} }}
}}
"""
NGINX_CERTS = " ssl_certificate {cert}; ssl_certificate_key {key};"


@contextlib.contextmanager
def nginx(server_cpus: set[int], tls: TlsFiles | None = None, h2c: bool = False) -> Iterator[str]:
    """nginx serving a 64-byte file, one worker; `h2c`: HTTP/2 in cleartext (prior knowledge)."""
    binary = require_tool("nginx", "nginx-light")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as d:
        Path(d).chmod(0o755)  # nginx's workers run as an unprivileged user and must read it
        (Path(d) / "www").mkdir()
        (Path(d) / "www" / "index.html").write_bytes(b"x" * 64)
        conf = Path(d) / "nginx.conf"
        certs = "" if tls is None else NGINX_CERTS.format(cert=tls.cert, key=tls.key)
        ssl = ("" if tls is None else " ssl") + (" http2" if h2c else "")
        conf.write_text(NGINX_CONF.format(dir=d, port=port, ssl=ssl, certs=certs))
        with owned_process(
            [binary, "-c", str(conf)], cpus=server_cpus, stdin=subprocess.DEVNULL
        ) as master:
            for _ in range(100):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.05)
            NGINX_MASTERS[port] = master.pid
            try:
                yield f"{'http' if tls is None else 'https'}://127.0.0.1:{port}/index.html"
            finally:
                NGINX_MASTERS.pop(port, None)


NGINX_MASTERS: dict[int, int] = {}


def nginx_workers(url: str) -> list[int]:
    """The worker processes behind an `nginx()` URL: they, not the master, serve requests."""
    port = int(url.split(":")[2].split("/")[0])
    return [c.pid for c in psutil.Process(NGINX_MASTERS[port]).children()]


def cost(runs: list[WrkRun]) -> str:
    """The median run's server CPU per request, its kernel share, and wrk's CPU share."""
    mid = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
    return (
        f"{mid.server_us_per_request:.1f} µs ({mid.server_kernel_share:.0%} kernel); "
        f"wrk {mid.wrk_cpu / mid.seconds:.0%} of a core"
    )


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--loop", default="uvloop", choices=("uvloop", "asyncio"))
    a = p.parse_args()
    if a.quick:  # one 1-second run each
        a.seconds, a.runs = 1.0, 1
    out = _script.out_dir(a, "bench-servers")
    require_tool("wrk", "wrk")
    server_cpus, load_cpus = cpus()
    mock_runs: list[WrkRun] = []
    ref_runs: list[WrkRun] = []
    with (
        run_server("http", cpus=server_cpus, body_size=64, loop=a.loop) as server,
        nginx(server_cpus) as nginx_url,
    ):
        workers = nginx_workers(nginx_url)
        for _ in range(a.runs):  # interleaved, so drift hits both alike
            args = (a.connections, a.seconds, load_cpus)
            mock_runs.append(wrk_run(server.url, *args, server_pids=[server.pid]))
            ref_runs.append(wrk_run(nginx_url, *args, server_pids=workers))
    mock = [r.rate for r in mock_runs]
    ref = [r.rate for r in ref_runs]
    tls_mock: list[float] = []
    tls_ref: list[float] = []
    with tempfile.TemporaryDirectory() as d:
        Path(d).chmod(0o755)  # nginx's master reads the key as root; the directory must be open
        files = make_ca(Path(d))
        tls_args = ["--tls", "--tls-cert", str(files.cert), "--tls-key", str(files.key)]
        with (
            run_server(
                "http", cpus=server_cpus, body_size=64, loop=a.loop, extra_args=tls_args
            ) as server,
            nginx(server_cpus, files) as nginx_url,
        ):
            for _ in range(a.runs):
                tls_mock.append(wrk(server.url, a.connections, a.seconds, load_cpus))
                tls_ref.append(wrk(nginx_url, a.connections, a.seconds, load_cpus))
    ratio = median_spread(mock)[0] / median_spread(ref)[0]
    tls_ratio = median_spread(tls_mock)[0] / median_spread(tls_ref)[0]
    _script.table(
        f"wrk -t1 -c{a.connections} -d{a.seconds:g}s, server on CPU {sorted(server_cpus)}, "
        f"wrk on CPU {sorted(load_cpus)}, {a.runs} run(s) each",
        ["server", "req/s: median ±spread (runs)", "× nginx", "server CPU/request; wrk CPU"],
        [
            [f"mock server ({a.loop})", fmt(mock), f"{ratio:.2f}", cost(mock_runs)],
            ["nginx (1 worker)", fmt(ref), "1.00", cost(ref_runs)],
            [f"mock server ({a.loop}), TLS", fmt(tls_mock), f"{tls_ratio:.2f}", ""],
            ["nginx (1 worker), TLS", fmt(tls_ref), "1.00", ""],
        ],
    )
    print(f"TLS (keep-alive): mock/nginx {tls_ratio:.2f}x")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"ratio mock/nginx: {ratio:.2f}x ({verdict} the {TARGET}x target)")
    nginx_med = median_spread(ref)[0]
    plots = plot_bars(
        {
            f"mock server ({a.loop})": {"× nginx": [m / nginx_med for m in mock]},
            "nginx (1 worker)": {"× nginx": [r / nginx_med for r in ref]},
        },
        out / "bench-servers",
        lines={f"target {TARGET}x nginx": TARGET},
        xlabel="requests per second as a multiple of nginx's (whiskers: range over runs)",
        title=f"mock HTTP server against nginx under wrk -c{a.connections}",
    )
    doc = {"kind": "bench-servers", "req_per_s": {"mock": mock, "nginx": ref}, "ratio": ratio,
           "cost": {"mock": [_cost(r) for r in mock_runs], "nginx": [_cost(r) for r in ref_runs]},
           "tls": {"req_per_s": {"mock": tls_mock, "nginx": tls_ref}, "ratio": tls_ratio},
           "metadata": _script.run_metadata(["wrk", "nginx"])}  # fmt: skip
    _script.save(out, "bench-servers", doc, plots)
    return 0 if a.quick or ratio >= TARGET else 1


def _cost(run: WrkRun) -> dict[str, float]:
    return {
        "server_us_per_request": run.server_us_per_request,
        "server_kernel_share": run.server_kernel_share,
        "wrk_core_share": run.wrk_cpu / run.seconds,
    }


if __name__ == "__main__":
    _script.main(main)
