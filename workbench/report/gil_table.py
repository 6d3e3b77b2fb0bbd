"""The GIL lab's report: one row per claim, a verdict per interpreter, then the evidence."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

STYLES = {"holds": "green", "does not hold": "red", "inconclusive": "yellow"}


def _label(run: dict[str, Any]) -> str:
    info = run["interpreter"]
    build = " free-threaded" if info.get("free_threaded_build") else ""
    gil = "" if info.get("gil_enabled", True) else ", GIL off"
    return f"Python {info['version']}{build}{gil}"


def print_gil(doc: dict[str, Any], console: Console) -> None:
    runs = doc["by_interpreter"]
    table = Table(title="GIL claims, measured on this machine", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("claim", ratio=3)
    for run in runs:
        table.add_column(_label(run))
    for i, claim in enumerate(runs[0]["claims"]):
        cells: list[str | Text] = [str(claim["id"]), Text(claim["claim"])]
        for run in runs:
            done = run["claims"]
            verdict = done[i]["verdict"] if i < len(done) else "not run"
            cells.append(Text(verdict, style=STYLES.get(verdict, "")))
        table.add_row(*cells)
    console.print(table)
    for i, claim in enumerate(runs[0]["claims"]):
        console.print(Text(f"\n{claim['id']}. {claim['claim']}", style="bold"))
        for run in runs:
            if i >= len(run["claims"]):
                continue  # stopped before this claim ran under this interpreter
            c = run["claims"][i]
            prefix = f"  [{_label(run)}] " if len(runs) > 1 else "  "
            # markup=False: evidence quotes code such as d[k], which is not rich markup.
            console.print(f"{prefix}{c['verdict']}: {c['explanation']}", markup=False)
            console.print(f"{prefix}evidence: {c['evidence']}", markup=False, style="dim")
