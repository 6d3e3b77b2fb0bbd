"""The servers' timers: never early on either loop, every write's lateness recorded, and that record
is what the harness reads (servers.timers, the delay proxy).

How late they are is a measured figure and depends on the machine's load, so it lives in
`scripts/bench_timers.py`, not here: a suite that asserts a timing fails for no fault of the code
(0.62 ms against a 0.5 ms bound failed a CI run on a quiet machine)."""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from servers.timers import BUCKETS, Lateness, Timers, bucket_of, percentile_ms, read_counts
from workbench.db_servers import run_delay_proxy
from workbench.server_process import run_server


def test_lateness_buckets_and_percentiles() -> None:
    assert bucket_of(0.0) == 0
    assert bucket_of(-1.0) == 0  # early never happens, but would not index backwards
    assert bucket_of(1e3) == BUCKETS - 1
    counts = [0] * BUCKETS
    for late_s in [0.0001] * 98 + [0.01] * 2:
        counts[bucket_of(late_s)] += 1
    assert percentile_ms(counts, 0.5) == pytest.approx(0.1, rel=0.05)
    assert percentile_ms(counts, 0.99) == pytest.approx(10, rel=0.05)
    assert percentile_ms([0] * BUCKETS, 0.5) is None


def test_lateness_in_a_file_is_read_as_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "late"
    late = Lateness(str(path))
    late.add(0.0002)
    late.add(0.0002)
    counts = read_counts(path)
    assert counts is not None
    assert sum(counts) == 2
    assert counts[bucket_of(0.0002)] == 2
    assert read_counts(tmp_path / "absent") is None


def _loops() -> list[Callable[[], asyncio.AbstractEventLoop]]:
    import uvloop

    return [asyncio.new_event_loop, uvloop.new_event_loop]


@pytest.mark.parametrize("new_loop", _loops(), ids=["asyncio", "uvloop"])
def test_timers_fire_on_time_on_either_loop(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    """200 timers 1-5 ms ahead, out of order: every one fires, none before its due time, and a
    cancelled one never runs. How late they fire is bench_timers' figure."""
    loop = new_loop()
    lateness: list[float] = []

    async def main() -> None:
        timers = Timers(loop)
        done = asyncio.Event()
        rng = random.Random(1)

        def fire(due: float) -> None:
            lateness.append(time.monotonic() - due)
            if len(lateness) == 200:
                done.set()

        cancelled = timers.call_at(time.monotonic() + 0.001, lambda: lateness.append(-1.0))
        timers.cancel(cancelled)
        for _ in range(200):
            due = time.monotonic() + rng.uniform(0.001, 0.005)
            timers.call_at(due, functools.partial(fire, due))
            await asyncio.sleep(rng.uniform(0, 0.0005))
        await asyncio.wait_for(done.wait(), 5)
        timers.close()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert len(lateness) == 200  # the cancelled one never ran
    assert min(lateness) >= 0


async def _echo_round_trips(host: str, port: int, times: int) -> list[float]:
    reader, writer = await asyncio.open_connection(host, port)
    out = []
    try:
        for i in range(times):
            message = f"{i:063d}\n".encode()
            t0 = time.monotonic()
            writer.write(message)
            got = await reader.readexactly(len(message))
            out.append(time.monotonic() - t0)
            assert got == message
    finally:
        writer.close()
    return out


@pytest.mark.slow
def test_the_delay_proxy_never_sends_early_and_records_every_write() -> None:
    """1 ms each way, 100 clients at once: no round trip under 2 ms (nothing leaves early), and the
    proxy's own record of its lateness (what a db row carries) counts every write it delayed, each
    in a bucket the summary reads. How late at p50 is bench_timers' figure."""

    async def main(host: str, port: int) -> list[list[float]]:
        return await asyncio.gather(*(_echo_round_trips(host, port, 20) for _ in range(100)))

    with (
        run_server("echo", framing="line") as echo,
        run_delay_proxy(echo.host, echo.port, 0.001, None) as proxy,
    ):
        before = proxy.timer_counts()
        trips = [t for user in asyncio.run(main(proxy.host, proxy.port)) for t in user]
        after = proxy.timer_counts()
    assert before is not None
    assert after is not None
    assert len(trips) == 2000
    assert min(trips) >= 0.002
    counts = [b - a for a, b in zip(before, after, strict=True)]
    assert sum(counts) >= 4000  # each message twice: to the server and back
    assert all(c >= 0 for c in counts)
    p50, p99 = percentile_ms(counts, 0.5), percentile_ms(counts, 0.99)
    assert p50 is not None
    assert p99 is not None
    assert 0 <= p50 <= p99
