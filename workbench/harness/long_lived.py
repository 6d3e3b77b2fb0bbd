"""What a row of a long-lived workload adds to the common figures (pure: no I/O).

`idle`: memory per connection and CPU per idle connection-second, and the thread stack size where
the model runs a thread per connection (the figure a thread's memory depends on).

`ws-push`: the loop's latency of a listener is only its wait for the next push, so the row
carries the delivery latency apart (server send time to client receive time, every listener's
pushes in the window, from the median round), and how far behind the slowest listener fell: the
largest of the listeners' own median delivery latencies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from workbench.metrics import Recording


def idle_figures(cpu: float, rec: Recording, window_s: float, clients: int) -> dict[str, Any]:
    """What holding `clients` connections open cost: resident memory per connection (the peak
    over the baseline before any user connected) and CPU per connection-second of the window
    (`cpu`: the row's client CPU seconds over its window)."""
    grown = max(0, rec.peak_rss_kb - rec.baseline_rss_kb)
    return {
        "memory_per_connection_kib": round(grown / clients, 2) if clients else None,
        "cpu_us_per_connection_s": round(cpu / window_s / clients * 1e6, 3)
        if clients and window_s
        else None,
    }


def push_figures(extras: Sequence[dict[str, Any]]) -> dict[str, Any]:
    delivered = Recording()
    medians: list[int] = []
    for e in extras:
        delivered.latency_counts.update(Counter({int(b): int(c) for b, c in e["delivery_counts"]}))
        medians += [int(v) for v in e.get("listener_median_us", [])]
    return {
        "delivery_ms": delivered.latency_ms(),
        "delivered": sum(delivered.latency_counts.values()),
        "slowest_listener_ms": round(max(medians) / 1000, 4) if medians else None,
        "listeners_measured": len(medians),
    }
