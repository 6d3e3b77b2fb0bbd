"""One self-contained HTML file for a run: the findings first, then tables sortable by any column
(each flag's meaning beside it), the charts inline (PNG data URIs: the latency percentile
spectrum, throughput against CPU cost, disk MB/s and files/s), and the metadata; for GIL runs the
claims with verdicts. Nothing is fetched: it opens anywhere, offline.

A short script sorts the tables on a click and notes on the page how many images rendered
(`data-images-rendered`), so a headless browser can check the page, not just the markup.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from pathlib import Path
from typing import Any, cast

from workbench.harness.trust import ALL_FLAG_HELP
from workbench.ranking import ranks_within
from workbench.results import ResultDoc, Row, half_width, is_disk
from workbench.units import size_label

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th[data-sort] { cursor: pointer; user-select: none; }
th[data-order="asc"]::after { content: " \\25B2"; }
th[data-order="desc"]::after { content: " \\25BC"; }
#findings { background: #f6f9ff; border: 1px solid #cdd9f0; padding: .3em 1.2em; }
#findings li { margin: .3em 0; } abbr { text-decoration: underline dotted; cursor: help; }
.flags { color: #a15c00; } .holds { color: #137a13; } .fails { color: #b00; }
.unsure { color: #a15c00; } img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
details pre { background: #f8f8f8; padding: 1em; overflow: auto; max-height: 30em; }
"""

SCRIPT = """
function sortBy(th) {
  var tbody = th.closest('table').tBodies[0];
  var index = Array.prototype.indexOf.call(th.parentNode.children, th);
  var asc = th.getAttribute('data-order') !== 'asc';
  Array.prototype.forEach.call(th.parentNode.children, function (h) {
    h.removeAttribute('data-order'); });
  th.setAttribute('data-order', asc ? 'asc' : 'desc');
  var rows = Array.prototype.slice.call(tbody.rows);
  rows.sort(function (a, b) {
    var x = a.cells[index].getAttribute('data-v'), y = b.cells[index].getAttribute('data-v');
    var nx = parseFloat(x), ny = parseFloat(y), c;
    if (!isNaN(nx) && !isNaN(ny)) { c = nx - ny; }
    else if (isNaN(nx) !== isNaN(ny)) { return isNaN(nx) ? 1 : -1; }  /* blanks last */
    else { c = String(x).localeCompare(String(y)); }
    return asc ? c : -c;
  });
  rows.forEach(function (r) { tbody.appendChild(r); });
}
document.addEventListener('click', function (e) {
  var th = e.target.closest && e.target.closest('th[data-sort]');
  if (th) { sortBy(th); }
});
window.addEventListener('load', function () {
  var ok = Array.prototype.filter.call(document.images, function (i) {
    return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-rendered', String(ok));
});
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


Cell = tuple[str, str, object]  # text shown, css class, value to sort by


def _table(headers: list[str], rows: list[list[Cell]]) -> str:
    """A table whose every column sorts on a click (by the cells' values, not their text)."""
    head = "".join(f'<th data-sort="1" title="sort by {_e(h)}">{_e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(_td(cell) for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(cell: Cell) -> str:
    text, css, value = cell
    if css == "flags":  # each flag with its meaning on hover; the list under the table says it too
        flags = [f for f in text.split(", ") if f]
        inner = ", ".join(
            f'<abbr title="{_e(ALL_FLAG_HELP.get(f, ""))}">{_e(f)}</abbr>' for f in flags
        )
        return f'<td class="flags" data-v="{_e(text)}">{inner}</td>'
    return f'<td class="{css}" data-v="{_e(value)}">{_e(text)}</td>'


def _txt(value: object) -> Cell:
    text = "-" if value is None else str(value)
    return (text, "", text)


def _num(value: float | None, fmt: str = "{:,.0f}") -> Cell:
    return ("-" if value is None else fmt.format(value), "num", "" if value is None else value)


def _half_pct(interval: list[float] | None, centre: float) -> float | None:
    width = half_width(interval, centre)
    return None if width is None else width * 100


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _io_rows(doc: ResultDoc) -> str:
    net = [r for r in doc["results"] if not is_disk(r)]
    disk = [r for r in doc["results"] if is_disk(r)]
    hosts = any(r.get("host") for r in doc["results"])
    out = ""
    if net:
        rank = ranks_within(net, lambda r: r["workload"])
        rows = [
            [
                _txt(r["model"]),
                _txt(r["client"]),
                _txt(r["workload"]),
                _txt(r.get("python")),
                *([_txt(r.get("host"))] if hosts else []),
                _num(r["clients_requested"]),
                _num(r["ops_per_s"]),
                _num(_half_pct(r["ops_per_s_ci"], r["ops_per_s"]), "±{:.0f}%"),
                _num(rank.get(id(r))),
                _num(r["latency_ms"]["p50"], "{:.3f}"),
                _num(r["latency_ms"]["p99"], "{:.3f}"),
                _num(r["cpu_us_per_op"], "{:.1f}"),
                _num(_percent(r["server_cpu_util"]), "{:.0f}%"),
                _num(r["errors"]),
                (", ".join(r["flags"]), "flags", ""),
            ]
            for r in sorted(net, key=lambda r: (r["workload"], -r["ops_per_s"]))
        ]
        out += "<h2>Network</h2>" + _table(
            [
                "model",
                "client",
                "workload",
                "python",
                *(["host"] if hosts else []),
                "clients",
                "ops/s",
                "±",
                "rank",
                "p50 ms",
                "p99 ms",
                "CPU µs/op",
                "server CPU",
                "errors",
                "flags",
            ],
            rows,
        )
    if disk:
        rows = [
            [
                _txt(r["model"]),
                _txt(r["client"]),
                _txt(r["workload"]),
                _txt(r.get("python")),
                *([_txt(r.get("host"))] if hosts else []),
                (size_label(r.get("file_size", 0)), "", r.get("file_size", 0)),
                _txt(r.get("cache")),
                _num(r["clients"]),
                _num(r["mb_per_s"]),
                _num(r.get("files_per_s")),
                _num(r["latency_ms"]["p99"], "{:.3f}"),
                _num(r.get("hops_per_op")),
                _num(r.get("hop_us"), "{:.0f}"),
                _num(r.get("minor_faults_per_op"), "{:.0f}"),
                _num(r["errors"]),
                (", ".join(r["flags"]), "flags", ""),
            ]
            for r in sorted(
                disk, key=lambda r: (r["workload"], r.get("file_size", 0), -r["mb_per_s"])
            )
        ]
        out += "<h2>Disk</h2>" + _table(
            [
                "model",
                "client",
                "workload",
                "python",
                *(["host"] if hosts else []),
                "size",
                "cache",
                "clients",
                "MB/s",
                "files/s",
                "p99 ms",
                "hops/op",
                "µs/hop",
                "faults/op",
                "errors",
                "flags",
            ],
            rows,
        )
    held = [r for r in doc["results"] if r["workload"] in ("idle", "ws-push")]
    if held:  # the long-lived rows again, in their own units
        out += "<h2>Connections that stay open</h2>" + _table(
            HELD_HEADERS, [_held(r) for r in held]
        )
    flags = sorted({f for r in doc["results"] for f in r["flags"]})
    if flags:
        out += (
            "<h3>Flags</h3><ul>"
            + "".join(f"<li><b>{_e(f)}</b>: {_e(ALL_FLAG_HELP.get(f, ''))}</li>" for f in flags)
            + "</ul>"
        )
    return out


HELD_HEADERS = [
    *("model", "client", "workload", "clients", "messages/s", "KiB per connection"),
    *("CPU µs per connection-second", "thread stack KiB", "delivery p50 ms", "delivery p99 ms"),
    *("slowest listener ms", "errors"),
]


def _held(r: Row) -> list[Cell]:
    delivery = r.get("delivery_ms")
    stack = r.get("thread_stack")
    return [
        *(_txt(r["model"]), _txt(r["client"]), _txt(r["workload"]), _num(r["clients"])),
        _num(r["ops_per_s"]),
        _num(r.get("memory_per_connection_kib"), "{:.1f}"),
        _num(r.get("cpu_us_per_connection_s"), "{:.2f}"),
        _num(stack / 1024 if stack else None),
        _num(None if delivery is None else delivery["p50"], "{:.3f}"),
        _num(None if delivery is None else delivery["p99"], "{:.3f}"),
        _num(r.get("slowest_listener_ms"), "{:.3f}"),
        _num(r["errors"]),
    ]


def _gil_rows(doc: dict[str, Any]) -> str:
    runs = doc["by_interpreter"]
    classes = {"holds": "holds", "does not hold": "fails", "inconclusive": "unsure"}
    headers = ["#", "claim"] + [
        f"Python {r['interpreter']['version']} ({r['python']})" for r in runs
    ]
    from workbench.report.gil_table import claim_grid, verdict_of

    rows = []
    claims, by_id = claim_grid(runs)
    for claim in claims:
        cells: list[Cell] = [(str(claim["id"]), "num", claim["id"]), _txt(claim["claim"])]
        for done in by_id:
            verdict = verdict_of(done, claim)
            cells.append((verdict, classes.get(verdict, ""), verdict))
        rows.append(cells)
    out = "<h2>GIL claims</h2>" + _table(headers, rows)
    for run in runs:
        for c in run["claims"]:
            out += (
                f"<h3>{_e(c['id'])}. {_e(c['claim'])} — {_e(c['verdict'])}</h3>"
                f"<p>{_e(c['explanation'])}</p><p><small>{_e(c['evidence'])}</small></p>"
            )
    return out


def _images(doc: ResultDoc) -> list[tuple[str, bytes]]:
    """The run's charts as (title, PNG): a sweep's lines against clients, and every run's
    spectrum and cost charts."""
    if not doc.get("results"):
        return []
    from workbench.report.plots import plot_sweep
    from workbench.report.run_charts import write_run_charts

    titles = {
        "throughput": "Throughput against clients", "p99": "p99 latency against clients",
        "spectrum": "Latency percentile spectrum (network)",
        "cost": "Throughput against CPU per operation (network)",
        "disk-spectrum": "Latency percentile spectrum (disk, per file)",
        "disk-mb-per-s": "Disk throughput, MB/s", "disk-files-per-s": "Disk throughput, files/s",
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        paths = plot_sweep(doc, d) if doc.get("kind") == "sweep" else []
        paths += write_run_charts(doc, d)
        return [(titles.get(p.stem, p.stem), p.read_bytes()) for p in paths if p.suffix == ".png"]


def _findings(doc: ResultDoc) -> str:
    from workbench.report.findings import findings

    found = findings(doc)
    if not found:
        return ""
    items = "".join(f"<li>{_e(f)}</li>" for f in found)
    return f'<section id="findings"><h2>Findings</h2><ul>{items}</ul></section>'


def render(doc: dict[str, Any]) -> str:
    """One self-contained page for a run of any kind (an io, disk or sweep run, or the GIL lab)."""
    kind = doc.get("kind", "io")
    meta = doc.get("metadata", {})
    title = f"workbench {kind} run, {meta.get('started_at', '')}"
    parts = [f"<h1>{_e(title)}</h1>"]
    if doc.get("partial"):
        parts.append(f"<p class='fails'>Partial run: {_e(doc['stopped']['reason'])}</p>")
    if kind == "gil":
        parts.append(_gil_rows(doc))
    else:
        parts.append(_findings(cast(ResultDoc, doc)))
        parts.append(_io_rows(cast(ResultDoc, doc)))
        for name, png in _images(cast(ResultDoc, doc)):
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<h2>{_e(name)}</h2><img alt="{_e(name)}" src="data:image/png;base64,{data}">'
            )
    parts.append(
        "<details><summary>Metadata</summary><pre>"
        + _e(json.dumps(meta, indent=1, default=str))
        + "</pre></details>"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
        + "".join(parts)
        + "</body></html>\n"
    )
