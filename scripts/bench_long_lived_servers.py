"""Are the WebSocket and HTTP/2 mock servers fast enough never to be what is measured?

HTTP/2: h2load (nghttp2's C load generator) against the mock h2c server and against nginx (one
worker, HTTP/2 in cleartext, a 64-byte file), each pinned to one core and h2load to the other,
interleaved runs; requests a second and the server's CPU per request.

WebSocket: Debian ships no C WebSocket load generator, so the reference is a second server:
`websockets`' own asyncio server (its echo example, compression and pings off) on the same loop,
under the same load (a uvloop process of `websockets` clients, one connection each, echoing 64
bytes back to back); messages a second and the server's CPU per message, from the kernel's count
of its CPU time over the load's window. Target: the mock server costs no more CPU per message
than the reference.

HTTP/2 has no such target: the mock h2c server runs the pure-Python `h2` state machine, nginx
its own C; what matters is that the server costs a request far less than any Python HTTP/2
client does (the `h2` rows' own server CPU share says so, and flags `server-bound` if not).

    python -m scripts.bench_long_lived_servers [--seconds 5] [--runs 3] [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psutil

from scripts import _script
from scripts._bench import cpus, median_spread, require_tool
from scripts.bench_servers import nginx
from workbench.children import owned_process
from workbench.report.plots import plot_bars
from workbench.server_process import run_server

TARGET = 1.0  # the mock WebSocket server's CPU per message, at most this many times the reference's
MESSAGE = b"x" * 64
WARM_UP_S = 0.5
_H2_RPS = re.compile(r"finished in [\d.]+\w*, ([\d.]+) req/s")
_H2_FAILED = re.compile(r"(\d+) failed, (\d+) errored")


def cpu_s(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def h2load(url: str, seconds: float, load_cpus: set[int], pid: int) -> tuple[float, float]:
    """(requests a second, server CPU µs per request) from one h2load run."""
    cmd = [require_tool("h2load", "nghttp2-client"), "-c", "10", "-m", "100", "-t", "1"]
    cmd = ["taskset", "-c", ",".join(map(str, sorted(load_cpus))), *cmd]
    cmd += ["--warm-up-time", f"{WARM_UP_S * 1000:.0f}ms", "-D", f"{seconds:g}s", url]
    before = cpu_s(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    used = cpu_s(pid) - before
    rps, failed = _H2_RPS.search(out), _H2_FAILED.search(out)
    if rps is None or failed is None or failed.groups() != ("0", "0"):
        raise RuntimeError(f"h2load failed or saw errors:\n{out}")
    rate = float(rps.group(1))
    # The CPU spans the warm-up too: per request over all the requests h2load made in both.
    return rate, used / (rate * (seconds + WARM_UP_S)) * 1e6


async def _echo_load(url: str, clients: int, seconds: float) -> int:
    from websockets.asyncio.client import connect

    conns = [
        await connect(url, compression=None, ping_interval=None, max_size=None)
        for _ in range(clients)
    ]
    done = 0
    end = time.monotonic() + seconds
    print("go", flush=True)  # the parent starts its CPU count here, once every user is connected

    async def user(ws: Any) -> None:
        nonlocal done
        while time.monotonic() < end:
            await ws.send(MESSAGE)
            if await ws.recv() != MESSAGE:
                raise RuntimeError("the echo differs from the message sent")
            done += 1

    await asyncio.gather(*(user(ws) for ws in conns))
    for ws in conns:
        await ws.close()
    return done


def _load_main(url: str, clients: int, seconds: float) -> None:
    import uvloop

    print(uvloop.run(_echo_load(url, clients, seconds)), flush=True)


def ws_load(
    url: str, clients: int, seconds: float, load_cpus: set[int], pid: int
) -> tuple[float, float]:
    """(messages a second, server CPU µs per message) from one run of the load process."""
    code = "import sys; from scripts.bench_long_lived_servers import _load_main as m; "
    code += f"m({url!r}, {clients}, {seconds})"
    with owned_process([sys.executable, "-c", code], cpus=load_cpus) as proc:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"go":
            raise RuntimeError("the WebSocket load process did not start")
        before, t0 = cpu_s(pid), time.monotonic()
        done = int(proc.stdout.readline() or b"0")
        used, took = cpu_s(pid) - before, time.monotonic() - t0
        proc.wait(10)
    if not done:
        raise RuntimeError("the WebSocket load process echoed nothing")
    return done / took, used / done * 1e6


REFERENCE_WS = """
import asyncio, sys, uvloop
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", {port}, compression=None, ping_interval=None,
                     max_size=None):
        print("READY", flush=True)
        await asyncio.Future()
uvloop.run(main())
"""


@contextlib.contextmanager
def websockets_server(server_cpus: set[int]) -> Iterator[tuple[str, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-c", REFERENCE_WS.format(port=port)]
    with owned_process(cmd, cpus=server_cpus) as proc:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"READY":
            raise RuntimeError("websockets' reference server did not start")
        yield f"ws://127.0.0.1:{port}/echo", proc.pid


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--clients", type=int, default=100, help="WebSocket connections")
    a = p.parse_args()
    if a.quick:
        a.seconds, a.runs = 1.0, 1
    out = _script.out_dir(a, "bench-long-lived-servers")
    require_tool("h2load", "nghttp2-client")
    server_cpus, load_cpus = cpus()
    runs: dict[str, list[tuple[float, float]]] = {
        "mock h2c (uvloop)": [], "nginx h2c (1 worker)": [],
        "mock WebSocket (uvloop)": [], "websockets' server (uvloop)": [],
    }  # fmt: skip
    with (
        run_server("h2", cpus=server_cpus, body_size=64) as h2,
        nginx(server_cpus, h2c=True) as nginx_url,
    ):
        nginx_pid = next(c.pid for c in psutil.Process().children() if c.name() == "nginx")
        nginx_worker = psutil.Process(nginx_pid).children()[0].pid
        for _ in range(a.runs):  # interleaved, so drift hits both alike
            runs["mock h2c (uvloop)"].append(h2load(h2.url, a.seconds, load_cpus, h2.pid))
            runs["nginx h2c (1 worker)"].append(
                h2load(nginx_url, a.seconds, load_cpus, nginx_worker)
            )
    with (
        run_server("websocket", cpus=server_cpus) as ws,
        websockets_server(server_cpus) as (ref_url, ref_pid),
    ):
        mock_url = ws.url.rstrip("/") + "/echo"
        for _ in range(a.runs):
            runs["mock WebSocket (uvloop)"].append(
                ws_load(mock_url, a.clients, a.seconds, load_cpus, ws.pid)
            )
            runs["websockets' server (uvloop)"].append(
                ws_load(ref_url, a.clients, a.seconds, load_cpus, ref_pid)
            )
    cost = {name: median_spread([c for _, c in r])[0] for name, r in runs.items()}
    h2_ratio = cost["mock h2c (uvloop)"] / cost["nginx h2c (1 worker)"]
    ws_ratio = cost["mock WebSocket (uvloop)"] / cost["websockets' server (uvloop)"]
    rows = []
    for name, r in runs.items():
        rate, spread = median_spread([x for x, _ in r])
        ref = "nginx h2c (1 worker)" if "h2c" in name else "websockets' server (uvloop)"
        rows.append([name, f"{rate:,.0f} ±{spread * 100:.0f}%", f"{cost[name]:.1f}",
                     f"{cost[name] / cost[ref]:.2f}"])  # fmt: skip
    _script.table(
        f"server on CPU {sorted(server_cpus)}, load on CPU {sorted(load_cpus)}, "
        f"{a.runs} run(s) of {a.seconds:g} s each; h2load -c10 -m100; "
        f"{a.clients} WebSocket echo clients",
        ["server", "per second: median ±spread", "server CPU µs each", "× reference"],
        rows,
    )
    verdict = "meets" if ws_ratio <= TARGET else "MISSES"
    print(f"WebSocket: mock/websockets CPU per message {ws_ratio:.2f}x ({verdict} <= {TARGET}x)")
    print(f"HTTP/2: mock/nginx CPU per request {h2_ratio:.2f}x")
    plots = plot_bars(
        {name: {"server CPU µs": [c for _, c in r]} for name, r in runs.items()},
        out / "bench-long-lived-servers",
        xlabel="server CPU µs per message or request (whiskers: range over runs)",
        title="mock WebSocket and HTTP/2 servers against a reference",
    )
    doc = {"kind": "bench-long-lived-servers",
           "per_s": {n: [x for x, _ in r] for n, r in runs.items()},
           "server_cpu_us": {n: [c for _, c in r] for n, r in runs.items()},
           "ratio": {"websocket": ws_ratio, "h2": h2_ratio},
           "metadata": _script.run_metadata(["h2load", "nginx"])}  # fmt: skip
    _script.save(out, "bench-long-lived-servers", doc, plots)
    return 0 if a.quick or ws_ratio <= TARGET else 1


if __name__ == "__main__":
    _script.main(main)
