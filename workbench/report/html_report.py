"""One self-contained HTML file for a run: tables with trust flags, plots inline (PNG data URIs),
the metadata, and for GIL runs the claims with verdicts. No network fetches: it opens anywhere.

A short script notes on the page how many images rendered (`data-images-rendered`), so a headless
browser can check the page, not just the markup.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from pathlib import Path
from typing import Any, cast

from workbench.harness.trust import ALL_FLAG_HELP
from workbench.results import ResultDoc, is_disk
from workbench.units import size_label

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flags { color: #a15c00; } .holds { color: #137a13; } .fails { color: #b00; }
.unsure { color: #a15c00; } img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
details pre { background: #f8f8f8; padding: 1em; overflow: auto; max-height: 30em; }
"""

SCRIPT = """
window.addEventListener('load', function () {
  var ok = Array.prototype.filter.call(document.images, function (i) {
    return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-rendered', String(ok));
});
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[list[tuple[str, str]]]) -> str:
    """rows: cells as (text, css class)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="{c}">{_e(t)}</td>' for t, c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num(value: float | None, fmt: str = "{:,.0f}") -> tuple[str, str]:
    return ("-" if value is None else fmt.format(value), "num")


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _io_rows(doc: ResultDoc) -> str:
    net = [r for r in doc["results"] if not is_disk(r)]
    disk = [r for r in doc["results"] if is_disk(r)]
    out = ""
    if net:
        rows = [
            [
                (r["model"], ""), (r["client"], ""), (r["workload"], ""),
                (r.get("python", "-"), ""), _num(r["clients_requested"]), _num(r["ops_per_s"]),
                _num(r["latency_ms"]["p50"], "{:.3f}"), _num(r["latency_ms"]["p99"], "{:.3f}"),
                _num(r["cpu_us_per_op"], "{:.1f}"),
                _num(_percent(r["server_cpu_util"]), "{:.0f}%"),
                _num(r["errors"]), (", ".join(r["flags"]), "flags"),
            ]
            for r in sorted(net, key=lambda r: (r["workload"], -r["ops_per_s"]))
        ]  # fmt: skip
        out += "<h2>Network</h2>" + _table(
            ["model", "client", "workload", "python", "clients", "ops/s", "p50 ms", "p99 ms",
             "CPU µs/op", "server CPU", "errors", "flags"], rows,
        )  # fmt: skip
    if disk:
        rows = [
            [
                (r["model"], ""), (r["client"], ""), (r["workload"], ""),
                (r.get("python", "-"), ""), (size_label(r.get("file_size", 0)), ""),
                (r.get("cache") or "-", ""),
                _num(r["clients"]), _num(r["mb_per_s"]), _num(r.get("files_per_s")),
                _num(r["latency_ms"]["p99"], "{:.3f}"), _num(r.get("hops_per_op")),
                _num(r.get("hop_us"), "{:.0f}"), _num(r.get("minor_faults_per_op"), "{:.0f}"),
                _num(r["errors"]), (", ".join(r["flags"]), "flags"),
            ]
            for r in sorted(disk, key=lambda r: (r["workload"], r.get("file_size", 0),
                                                 -r["mb_per_s"]))
        ]  # fmt: skip
        out += "<h2>Disk</h2>" + _table(
            ["model", "client", "workload", "python", "size", "cache", "clients", "MB/s", "files/s",
             "p99 ms", "hops/op", "µs/hop", "faults/op", "errors", "flags"], rows,
        )  # fmt: skip
    flags = sorted({f for r in doc["results"] for f in r["flags"]})
    if flags:
        out += (
            "<h3>Flags</h3><ul>"
            + "".join(f"<li><b>{_e(f)}</b>: {_e(ALL_FLAG_HELP.get(f, ''))}</li>" for f in flags)
            + "</ul>"
        )
    return out


def _gil_rows(doc: dict[str, Any]) -> str:
    runs = doc["by_interpreter"]
    classes = {"holds": "holds", "does not hold": "fails", "inconclusive": "unsure"}
    headers = ["#", "claim"] + [
        f"Python {r['interpreter']['version']} ({r['python']})" for r in runs
    ]
    rows = []
    for i, claim in enumerate(runs[0]["claims"] if runs else []):
        cells = [(str(claim["id"]), "num"), (claim["claim"], "")]
        for run in runs:
            done = run["claims"]
            verdict = done[i]["verdict"] if i < len(done) else "not run"
            cells.append((verdict, classes.get(verdict, "")))
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
    if not doc.get("results"):
        return []
    from workbench.report.plots import plot_rows, plot_sweep

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if doc.get("kind") == "sweep":
            paths = [p for p in plot_sweep(doc, d) if p.suffix == ".png"]
        else:
            paths = [plot_rows(doc, d / "throughput.png")]
        return [(p.stem, p.read_bytes()) for p in paths]


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
