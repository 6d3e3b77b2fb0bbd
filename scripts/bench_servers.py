"""Is the mock HTTP server fast enough never to be what is measured?

Starts the mock server pinned to one core and runs `wrk -t1 -c100` pinned to the other, three
times; does the same against nginx (one worker, a 64-byte static file, access log off, keep-alive
unlimited so neither side closes connections); prints both medians and their ratio.
Target: mock server >= 1.5x nginx.

    python scripts/bench_servers.py [--seconds 5] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import cpus, fmt, median_spread, require_tool, wrk

from workbench.children import owned_process
from workbench.server_process import run_server

TARGET = 1.5
NGINX_CONF = """
worker_processes 1;
daemon off;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  server {{ listen 127.0.0.1:{port}; root {dir}/www; }}
}}
"""


@contextlib.contextmanager
def nginx(server_cpus: set[int]) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("nginx is not installed: apt-get install nginx-light")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as d:
        Path(d).chmod(0o755)  # nginx's workers run as an unprivileged user and must read it
        (Path(d) / "www").mkdir()
        (Path(d) / "www" / "index.html").write_bytes(b"x" * 64)
        conf = Path(d) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=d, port=port))
        with owned_process([binary, "-c", str(conf)], cpus=server_cpus, stdin=subprocess.DEVNULL):
            for _ in range(100):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}/index.html"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--loop", default="uvloop", choices=("uvloop", "asyncio"))
    p.add_argument("--quick", action="store_true", help="one 1-second run each (smoke test)")
    a = p.parse_args()
    if a.quick:
        a.seconds, a.runs = 1.0, 1
    require_tool("wrk", "wrk")
    server_cpus, load_cpus = cpus()
    mock: list[float] = []
    ref: list[float] = []
    with (
        run_server("http", cpus=server_cpus, body_size=64, loop=a.loop) as server,
        nginx(server_cpus) as nginx_url,
    ):
        for _ in range(a.runs):  # interleaved, so drift hits both alike
            mock.append(wrk(server.url, a.connections, a.seconds, load_cpus))
            ref.append(wrk(nginx_url, a.connections, a.seconds, load_cpus))
    ratio = median_spread(mock)[0] / median_spread(ref)[0]
    print(f"wrk -t1 -c{a.connections} -d{a.seconds:g}s, server on CPU {sorted(server_cpus)}, "
          f"wrk on CPU {sorted(load_cpus)}, {a.runs} runs each")  # fmt: skip
    print(f"mock server ({a.loop}): {fmt(mock)} req/s")
    print(f"nginx (1 worker):      {fmt(ref)} req/s")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"ratio mock/nginx: {ratio:.2f}x ({verdict} the {TARGET}x target)")
    return 0 if a.quick or ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
