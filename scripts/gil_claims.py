"""The GIL claims, measured: which of the usual statements hold on this interpreter?

Runs the GIL lab (`python -m workbench gil`): six claims, each experiment in a fresh process,
repeats interleaved, a verdict per claim computed from the measurements (holds, does not hold,
inconclusive). Give --python more than once to put interpreters side by side (a free-threaded
build, an older version); they need only the standard library. Prints the verdicts with their
evidence and writes one figure with a panel per claim.

    python -m scripts.gil_claims [--python /usr/bin/python3.13t] [--only 1,4] [--quick]
"""

from __future__ import annotations

import sys

from rich.console import Console

from scripts import _script
from workbench.gil.claims import CLAIM_NUMBERS
from workbench.gil.lab import run_lab
from workbench.interpreter_discovery import find
from workbench.report.gil_plot import plot_gil
from workbench.report.gil_table import print_gil
from workbench.units import parse_count

# The quickest claims: a smoke run that still goes through a lab, a table and a figure.
QUICK = [5, 6]


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument(
        "--python",
        action="append",
        default=None,
        metavar="PYTHON",
        help="an interpreter, a path or a version like 3.13 (repeatable)",
    )
    p.add_argument("--only", default=None, help="claims to run, e.g. 1,4 (default all)")
    a = p.parse_args()
    out = _script.out_dir(a, "gil")
    numbers = (
        [parse_count(n, "--only") for n in a.only.split(",")] if a.only else list(CLAIM_NUMBERS)
    )
    if a.quick:
        numbers = QUICK
    err = Console(stderr=True)
    pythons = [find(s) for s in a.python] if a.python else [sys.executable]
    doc = run_lab(numbers, pythons, lambda what: err.print(f"  measuring {what}", highlight=False))
    _script.stop_if_stopped("gil", doc)  # a failure is not a Ctrl-C: the lab's own exit code
    print_gil(doc, _script.console())
    _script.save(out, "gil", doc, plot_gil(doc, out / "gil"))
    return 0


if __name__ == "__main__":
    _script.main(main)
