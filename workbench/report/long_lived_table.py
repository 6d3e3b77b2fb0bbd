"""The long-lived rows' own figures, in their own units: what an idle connection costs (memory per
connection, CPU per connection-second, the thread stack) and how pushes were delivered (messages
a second, delivery latency, the slowest listener)."""

from __future__ import annotations

from rich.table import Table

from workbench.results import ResultDoc
from workbench.units import format_rate


def long_lived_table(doc: ResultDoc) -> Table | None:
    rows = [r for r in doc["results"] if r["workload"] in ("idle", "ws-push")]
    if not rows:
        return None
    table = Table(title="connections that stay open", title_justify="left")
    for name in ("model", "client", "workload"):
        table.add_column(name)
    for name in ("clients", "msgs/s", "KiB/conn", "CPU µs/conn·s", "stack KiB",
                 "delivery p50 ms", "p99 ms", "slowest ms", "errors"):  # fmt: skip
        table.add_column(name, justify="right")
    for r in rows:
        measured = r.get("delivery_ms")
        delivery: dict[str, float | None] = {}
        if measured is not None:
            delivery = {"p50": measured["p50"], "p99": measured["p99"]}
        stack = r.get("thread_stack")

        def num(value: object, fmt: str = "{:.2f}") -> str:
            return "-" if value is None else fmt.format(value)

        table.add_row(
            r["model"],
            r["client"],
            r["workload"],
            f"{r['clients']:,}",
            format_rate(r["ops_per_s"]),
            num(r.get("memory_per_connection_kib"), "{:.1f}"),
            num(r.get("cpu_us_per_connection_s"), "{:.2f}"),
            "-" if not stack else f"{stack // 1024:,}",
            num(delivery.get("p50"), "{:.3f}"),
            num(delivery.get("p99"), "{:.3f}"),
            num(r.get("slowest_listener_ms"), "{:.3f}"),
            f"{r['errors']:,}",
        )
    return table
