"""The commands about interpreters: the GIL lab (`gil`) and `pythons` (list, prepare, build)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from workbench.cli.commands import stopped_exit_code
from workbench.cli.options import env_option
from workbench.errors import UsageError
from workbench.report.console import stdout_console
from workbench.units import parse_count


def cmd_gil(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.gil.claims import CLAIM_NUMBERS
    from workbench.gil.lab import run_lab
    from workbench.report.gil_table import print_gil
    from workbench.report.results_file import write_json

    numbers = list(CLAIM_NUMBERS)
    if a.only:
        numbers = [parse_count(v, "--only") for v in a.only.split(",")]
    err = Console(stderr=True)
    started = time.monotonic()

    def progress(text: str) -> None:
        # One line a claim (several seconds each): in a terminal and in a log alike.
        if not a.quiet:
            err.print(f"  [{time.monotonic() - started:.0f} s] measuring {text}", highlight=False,
                      soft_wrap=True)  # fmt: skip

    from workbench.interpreter_discovery import find

    pythons = [find(p) for p in a.python] if a.python else [sys.executable]
    if a.cluster is None:  # here: each with its prepared packages; a cluster's hosts have theirs
        from workbench.interpreter_envs import env_python

        pythons = [env_python(p) for p in pythons]
    experiments = None
    if a.cluster is not None:
        from workbench.cluster.gil_experiments import experiments_on_cluster

        # Without --python each host runs the claims under the interpreter its worker runs.
        experiments = experiments_on_cluster(a.cluster, own_python=not a.python)
    env = env_option(a.env)
    if any("|" in value for value in env.values()):
        raise UsageError("gil --env takes one value per key: run gil once per value")
    os.environ.update(env)  # the probes inherit it, and the labels say what it did (GIL on/off)
    doc = run_lab(numbers, pythons, progress, experiments)
    if a.json:
        err.print(f"results written to {write_json(a.json, doc)}", highlight=False)
    out = stdout_console(160)
    if doc["claims"]:
        print_gil(doc, out)
    return stopped_exit_code(doc)


def cmd_pythons(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.interpreter_discovery import discover, find
    from workbench.interpreter_envs import env_dir, prepare
    from workbench.interpreters import MODULES
    from workbench.report.pythons_table import print_pythons

    if a.action in ("prepare", "build"):
        if a.target is None:
            raise UsageError(f"pythons {a.action} needs the interpreter: a version such as 3.13t")
        err = Console(stderr=True)
        started = time.monotonic()

        def note(text: str) -> None:
            err.print(f"  [{time.monotonic() - started:.0f} s] {text}", highlight=False,
                      soft_wrap=True)  # fmt: skip

        if a.action == "build":
            from workbench.interpreter_build import build

            built, how = build(a.target, a.source, note)
            stdout_console(160).print(f"Python {a.target}: {built} ({how})", highlight=False)
            python = str(built)
        else:
            python = find(a.target)
        manifest = prepare(python, note, wheels_only=a.wheels_only)
        out = stdout_console(160)
        out.print(
            f"prepared: {env_dir(python)} (Python {manifest['version']}"
            f"{'t' if manifest['free_threaded'] else ''})",
            highlight=False,
        )
        out.print(f"installed: {', '.join(manifest['installed']) or 'nothing'}", highlight=False)
        for module, reason in manifest["failed"].items():
            out.print(f"not installed: {module}: {reason}", highlight=False)
        return 0
    found = discover(a.python, list(MODULES))
    print_pythons(found, stdout_console(200))
    return 0
