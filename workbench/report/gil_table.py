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


def claim_grid(
    runs: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[int, dict[str, Any]]]]:
    """Every claim any interpreter ran, in order, and each interpreter's verdicts by claim id:
    a stopped run (or a cluster's, finishing in any order) may lack some."""
    by_id = [{c["id"]: c for c in run["claims"]} for run in runs]
    claims = list({c["id"]: c for run in runs for c in run["claims"]}.values())
    return claims, by_id


def verdict_of(done: dict[int, dict[str, Any]], claim: dict[str, Any]) -> str:
    return str(done[claim["id"]]["verdict"]) if claim["id"] in done else "not run"


def print_gil(doc: dict[str, Any], console: Console) -> None:
    runs = doc["by_interpreter"]
    on_cluster = any(c.get("host") for run in runs for c in run["claims"])
    where = "on the cluster's hosts" if on_cluster else "on this machine"
    table = Table(title=f"GIL claims, measured {where}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("claim", ratio=3)
    for run in runs:
        table.add_column(_label(run))
    claims, by_id = claim_grid(runs)
    for claim in claims:
        cells: list[str | Text] = [str(claim["id"]), Text(claim["claim"])]
        for done in by_id:
            verdict = verdict_of(done, claim)
            cells.append(Text(verdict, style=STYLES.get(verdict, "")))
        table.add_row(*cells)
    console.print(table)
    for claim in claims:
        console.print(Text(f"\n{claim['id']}. {claim['claim']}", style="bold"))
        for run, done in zip(runs, by_id, strict=True):
            c = done.get(claim["id"])
            if c is None:
                continue  # stopped before this claim ran under this interpreter
            prefix = f"  [{_label(run)}] " if len(runs) > 1 else "  "
            if c.get("host"):
                prefix += f"on {c['host']}: "
            # markup=False: evidence quotes code such as d[k], which is not rich markup.
            console.print(f"{prefix}{c['verdict']}: {c['explanation']}", markup=False)
            console.print(f"{prefix}evidence: {c['evidence']}", markup=False, style="dim")
