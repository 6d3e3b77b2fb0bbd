"""How late the servers' delayed writes go out: the figures the test suite no longer asserts.

The suite checks that no timer fires early and that every delayed write's lateness is recorded;
how late they fire depends on the machine's load, so it is measured here, in rounds, against a
reference taken in the same process:
- timers: 200 due times 1-5 ms ahead, out of order, on asyncio and on uvloop, through the
  servers' timerfd heap (`servers.timers.Timers`) and through the loop's own `call_at` (the
  reference: uvloop counts its timers in whole milliseconds);
- the delay proxy (the db cells' 1 ms each way) under 100 echo clients at once: its own record of
  its lateness, as a db row carries it.

    python -m scripts.bench_timers [--rounds 5] [--quick]
"""

from __future__ import annotations

import asyncio
import functools
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from scripts import _script
from servers.timers import Timers, percentile_ms
from workbench.db_servers import run_delay_proxy
from workbench.report.plots import plot_bars
from workbench.server_process import run_server

TIMERS = 200


def _lateness_ms(new_loop: Callable[[], asyncio.AbstractEventLoop], heap: bool) -> list[float]:
    """Lateness (ms) of TIMERS timers 1-5 ms ahead, on the servers' heap or the loop's call_at."""
    loop = new_loop()
    late: list[float] = []

    async def main() -> None:
        timers = Timers(loop) if heap else None
        done = asyncio.Event()
        rng = random.Random(1)

        def fire(due: float) -> None:
            late.append((time.monotonic() - due) * 1e3)
            if len(late) == TIMERS:
                done.set()

        for _ in range(TIMERS):
            due = time.monotonic() + rng.uniform(0.001, 0.005)
            if timers is not None:
                timers.call_at(due, functools.partial(fire, due))
            else:  # the loop's clock is time.monotonic on both loops
                loop.call_at(due, fire, due)
            await asyncio.sleep(rng.uniform(0, 0.0005))
        await asyncio.wait_for(done.wait(), 10)
        if timers is not None:
            timers.close()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return late


async def _echo_users(host: str, port: int, users: int, times: int) -> None:
    async def one() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in range(times):
                message = f"{i:063d}\n".encode()
                writer.write(message)
                await reader.readexactly(len(message))
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(users)))


def _proxy_lateness_ms(users: int, times: int) -> tuple[float, float]:
    """(p50, p99) ms of the delay proxy's own lateness record over one burst of echo users."""
    with (
        run_server("echo", framing="line") as echo,
        run_delay_proxy(echo.host, echo.port, 0.001, None) as proxy,
    ):
        before = proxy.timer_counts()
        asyncio.run(_echo_users(proxy.host, proxy.port, users, times))
        after = proxy.timer_counts()
    if before is None or after is None:
        raise RuntimeError("the delay proxy kept no lateness record")
    counts = [b - a for a, b in zip(before, after, strict=True)]
    p50, p99 = percentile_ms(counts, 0.5), percentile_ms(counts, 0.99)
    if p50 is None or p99 is None:
        raise RuntimeError("the delay proxy recorded no delayed write")
    return p50, p99


def main() -> int:
    import uvloop

    p = _script.parser(__doc__ or "")
    p.add_argument("--rounds", type=int, default=5, help="rounds of each measurement")
    a = p.parse_args()
    out = _script.out_dir(a, "bench-timers")
    rounds, times = (2, 5) if a.quick else (a.rounds, 20)
    loops = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    p50: dict[str, list[float]] = {}
    p99: dict[str, list[float]] = {}
    for _ in range(rounds):  # interleaved: a drift in the machine's load spreads over all rows
        for name, new_loop in loops.items():
            for heap in (True, False):
                key = f"{name} · {'timerfd heap' if heap else 'call_at (reference)'}"
                late = sorted(_lateness_ms(new_loop, heap))
                p50.setdefault(key, []).append(statistics.median(late))
                p99.setdefault(key, []).append(late[int(0.99 * (len(late) - 1))])
        mid, tail = _proxy_lateness_ms(100, times)
        p50.setdefault("delay proxy · 100 clients", []).append(mid)
        p99.setdefault("delay proxy · 100 clients", []).append(tail)
    rows = [[k, _fmt(p50[k]), _fmt(p99[k])] for k in p50]
    _script.table(f"lateness of delayed writes, ms, {rounds} rounds", ["", "p50", "p99"], rows)
    doc: dict[str, Any] = {
        "metadata": _script.run_metadata(),
        "rounds": rounds,
        "lateness_ms": {k: {"p50": p50[k], "p99": p99[k]} for k in p50},
    }
    groups = {k: {"p50": p50[k], "p99": p99[k]} for k in p50}
    plots = plot_bars(
        groups, out / "timers", xlabel="lateness (ms)", title="How late a delayed write goes out"
    )
    _script.save(out, "bench-timers", doc, plots)
    return 0


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


if __name__ == "__main__":
    _script.main(main)
