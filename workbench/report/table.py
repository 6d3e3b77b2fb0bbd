"""The terminal table: fastest first within each workload, relative to the best row, with the
trust flags spelled out underneath. Which row is faster than which is `workbench.ranking`'s call:
a rank and ≈ only from intervals between rounds, never from one window's steadiness."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbench.ranking import FASTER, decide, ranks_within
from workbench.report.table_notes import notes, title_of
from workbench.results import ResultDoc, Row, cell_key, half_width, is_disk, pythons_in
from workbench.units import format_rate, size_label


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


# Columns only `--wide` shows, so that the default tables fit a 120-column terminal; the JSON
# always has every figure. A column of text that says the same on every row moves to the title.
WIDE_ONLY = frozenset({"files/s", "p99.9 ms", "faults/op", "RSS MB", "spread"})
# A disk row's p99 is one slow read among thousands: its p50 and CPU per GB tell more.
WIDE_ONLY_DISK = WIDE_ONLY | {"p99 ms"}
UNIFORM_TO_TITLE = {"workload": "{}", "cache": "{} cache", "clients": "{} clients"}
FLAGS_MIN_WIDTH = len("client-bound")  # the flags wrap, one to a line at worst, never cut


def _table(title: str) -> Table:
    # One space between columns and no vertical rules: a rule per column costs what a column does.
    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=0,
    )


def narrowed(table: Table, wide: bool, wide_only: frozenset[str] = WIDE_ONLY) -> Table:
    """The table without its `wide_only` columns, and with its uniform text columns said once in
    the title, unless `wide`."""
    if wide:
        return table
    kept = []
    # Interpreters side by side: their ratio is the table's point, and rank orders the rest.
    by_python = any(str(c.header).startswith("× ") and str(c.header) != "× best"
                    for c in table.columns)  # fmt: skip
    for c in table.columns:
        name, values = str(c.header), {str(v) for v in c.cells}
        if name in wide_only or (by_python and name == "× best"):
            continue
        if name in UNIFORM_TO_TITLE and len(values) == 1:
            said = UNIFORM_TO_TITLE[name].format(values.pop())
            if said not in str(table.title):
                table.title = f"{table.title} · {said}"
            continue
        kept.append(c)
    table.columns = kept
    for c in kept:  # everything but the flags keeps its width; the flags wrap if they must
        c.no_wrap = str(c.header) != "flags"
        if not c.no_wrap:
            c.min_width = FLAGS_MIN_WIDTH
    return table


def disk_table(doc: ResultDoc) -> Table:
    """Disk rows, fastest first within each (workload, file size, cache) group."""
    rows = [r for r in doc["results"] if is_disk(r)]
    info = doc["metadata"].get("disk") or {}
    title = f"disk · files on {info.get('filesystem', '?')} under {info.get('root', '?')}"
    table = _table(title)
    pythons = pythons_in(rows)
    multi = len(pythons) > 1
    hosts = any(r.get("host") for r in rows)
    for name in (
        "model",
        "client",
        *(["host"] if hosts else []),
        "workload",
        "size",
        "cache",
        *(["python"] if multi else []),
    ):
        table.add_column(name)
    ratio_col = [f"× {pythons[0].split()[0]}"] if multi else []
    numeric = ("clients", "MB/s", "±", "files/s", "rank", "× best", *ratio_col, "p50 ms",
               "p99 ms", "CPU s/GB", "hops/op", "µs/hop", "faults/op", "RSS MB",
               "errors")  # fmt: skip
    for name in numeric:
        table.add_column(name, justify="right")
    table.add_column("flags")

    def group(r: Row) -> tuple[str, int, str]:
        return (r["workload"], r.get("file_size", 0), r.get("cache") or "")

    for key in dict.fromkeys(group(r) for r in rows):
        chosen = [r for r in rows if group(r) == key]
        rank = ranks_within(chosen)
        members = side_by_side(chosen, lambda r: r["mb_per_s"], pythons, rank)
        top = max(chosen, key=lambda r: r["mb_per_s"])
        best = top["mb_per_s"] or 1.0
        for r, vs_first in members:
            lat = r["latency_ms"]
            faults = r.get("minor_faults_per_op")
            table.add_row(
                r["model"],
                r["client"],
                *([r.get("host", "-")] if hosts else []),
                r["workload"],
                size_label(r.get("file_size", 0)),
                r.get("cache") or "-",
                *([str(r.get("python", "?"))] if multi else []),
                str(r["clients"]),
                f"{r['mb_per_s']:,.0f}",
                _pm(r.get("mb_per_s_ci"), r["mb_per_s"]),
                format_rate(r.get("files_per_s", 0.0)),
                _rank(rank[id(r)]),
                _times_best(r["mb_per_s"] / best, rank[id(r)] is not None and _tied(r, top)),
                *([_opt(vs_first, "{:.2f}")] if multi else []),
                _ms(lat["p50"]),
                _ms(lat["p99"]),
                _opt(r.get("cpu_s_per_gb"), "{:.2f}"),
                str(r.get("hops_per_op", 0)),
                _opt(r.get("hop_us"), "{:.0f}"),
                "-" if faults is None else f"{faults:.0f}",
                f"{r['peak_rss_mb']:.0f}",
                Text(_errors(r), style="red" if r["errors"] else ""),
                Text(", ".join(r["flags"]), style="yellow" if r["flags"] else ""),
            )
        table.add_section()
    return table


def io_table(doc: ResultDoc) -> Table:
    rows = [r for r in doc["results"] if not is_disk(r)]
    with_bound = any("bound_share" in r for r in rows)
    with_repeats = any(len(r["repeats"]["ops_per_s"]) > 1 for r in rows)
    with_workload = len({r["workload"] for r in rows}) > 1
    pythons = pythons_in(rows)
    multi = len(pythons) > 1
    hosts = any(r.get("host") for r in rows)
    table = _table(title_of(doc))
    table.add_column("model")
    table.add_column("client")
    if hosts:
        table.add_column("host")
    if with_workload:
        table.add_column("workload")
    if multi:
        table.add_column("python")
    ratio_col = [f"× {pythons[0].split()[0]}"] if multi else []
    for name in ("clients", "ops/s", "±", "rank", "× best", *ratio_col):
        table.add_column(name, justify="right")
    if with_repeats:
        table.add_column("spread", justify="right")
    if with_bound:
        table.add_column("of N/d", justify="right")
    for name in ("p50 ms", "p99 ms", "p99.9 ms", "CPU µs/op", "srv CPU", "RSS MB", "errors"):
        table.add_column(name, justify="right")
    table.add_column("flags")
    for workload in dict.fromkeys(r["workload"] for r in rows):
        chosen = [r for r in rows if r["workload"] == workload]
        rank = ranks_within(chosen)
        group = side_by_side(chosen, lambda r: r["ops_per_s"], pythons, rank)
        top = max(chosen, key=lambda r: r["ops_per_s"])
        best = top["ops_per_s"] or 1.0
        for r, vs_first in group:
            lat = r["latency_ms"]
            cells: list[str | Text] = [r["model"], r["client"]]
            if hosts:
                cells.append(r.get("host", "-"))
            if with_workload:
                cells.append(r["workload"])
            if multi:
                cells.append(str(r.get("python", "?")))
            cells += [
                str(r["clients"]),
                format_rate(r["ops_per_s"]),
                _pm(r["ops_per_s_ci"], r["ops_per_s"]),
                _rank(rank[id(r)]),
                _times_best(r["ops_per_s"] / best, rank[id(r)] is not None and _tied(r, top)),
                *([_opt(vs_first, "{:.2f}")] if multi else []),
            ]
            if with_repeats:
                spread = r["repeats"]["spread"]
                cells.append("-" if spread is None else f"±{spread * 50:.0f}%")
            if with_bound:
                share = r.get("bound_share")
                cells.append("-" if share is None else f"{share:.2f}")
            srv = r["server_cpu_util"]
            cells += [
                _ms(lat["p50"]),
                _ms(lat["p99"]),
                _ms(lat["p999"]),
                "-" if r["cpu_us_per_op"] is None else f"{r['cpu_us_per_op']:.1f}",
                "-" if srv is None else f"{srv * 100:.0f}%",
                f"{r['peak_rss_mb']:.0f}",
                Text(_errors(r), style="red" if r["errors"] else ""),
                Text(", ".join(r["flags"]), style="yellow" if r["flags"] else ""),
            ]
            table.add_row(*cells)
        table.add_section()
    return table


def side_by_side(
    rows: list[Row],
    rate: Callable[[Row], float],
    pythons: list[str],
    rank: Mapping[int, int | None],
) -> list[tuple[Row, float | None]]:
    """Decided rank first, then fastest (`rank`: `ranking.ranks_within`, by row id); with several
    interpreters, each cell's next to each other in the order they were given, each with its rate
    as a multiple of the first interpreter's on the same cell."""
    if len(pythons) < 2:
        unranked = len(rows)  # rows with one round sort after every ranked one
        return [(r, None) for r in sorted(rows, key=lambda r: (rank[id(r)] or unranked, -rate(r)))]
    cells: dict[tuple[object, ...], list[Row]] = {}
    for r in rows:
        cells.setdefault(cell_key(r, with_python=False), []).append(r)
    order = {p: i for i, p in enumerate(pythons)}
    out: list[tuple[Row, float | None]] = []
    for members in sorted(cells.values(), key=lambda m: -max(rate(r) for r in m)):
        members.sort(key=lambda r: order.get(str(r.get("python")), len(order)))
        first = next((r for r in members if r.get("python") == pythons[0]), None)
        for r in members:
            base = rate(first) if first is not None else 0.0
            out.append((r, rate(r) / base if base else None))
    return out


def _rank(rank: int | None) -> str:
    """A rank as printed: shared by rows the run cannot tell apart, - with one round."""
    return "-" if rank is None else str(rank)


def _tied(row: Row, top: Row) -> bool:
    """Whether the run cannot tell `row` from the best one (one round: it cannot tell anything)."""
    return row is not top and decide(top, row).verdict != FASTER


def _pm(interval: list[float] | None, centre: float) -> str:
    """The rate's 95% interval between rounds, as ±% of the rate."""
    width = half_width(interval, centre)
    return "-" if width is None else f"±{width * 100:.0f}%" if width >= 0.01 else "<1%"


def _times_best(share: float, tied: bool) -> str:
    """The share of the best rate; ≈ when the run cannot tell the two apart: no ranking of noise.
    An unranked row (one round) is never marked ≈: it was told apart from nothing, not tied."""
    return f"≈{share:.2f}" if tied else f"{share:.2f}"


def _opt(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _errors(row: Row) -> str:
    """The error count, and its share of all attempts when there are any."""
    errors = row["errors"]
    if not errors:
        return "0"
    return f"{errors} ({errors / (errors + row['ops']):.1%})"


def print_io(doc: ResultDoc, console: Console, wide: bool = False) -> None:
    """The tables (their `WIDE_ONLY` columns with `wide`), the notes and the findings."""
    if any(not is_disk(r) for r in doc["results"]):
        console.print(narrowed(io_table(doc), wide))
    if any(is_disk(r) for r in doc["results"]):
        console.print(narrowed(disk_table(doc), wide, WIDE_ONLY_DISK))
    from workbench.report.long_lived_table import long_lived_table

    held = long_lived_table(doc)
    if held is not None:
        console.print(held)
    for line in notes(doc):
        console.print(f"  {line}", highlight=False, markup=False)  # text, not markup
    from workbench.report.findings import findings

    found = findings(doc)
    if found:
        console.print("\nFindings", style="bold", highlight=False)
        for line in found:
            console.print(f"  - {line}", highlight=False, markup=False)
