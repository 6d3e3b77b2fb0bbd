"""Resolving a run's `--python` and `--env` into the variants it measures: each interpreter
(this one by default, or each named, its environment prepared if it lacks the workers' packages)
crossed with each `--env KEY=A|B` alternative and each `--allocator`."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from workbench.allocators import ALLOCATORS, check_allocator
from workbench.errors import UsageError
from workbench.interpreter_discovery import find
from workbench.interpreter_envs import env_dir, prepare, read_manifest
from workbench.interpreters import CORE, MODULES, Interpreter, probe, require_supported, tag_of


def resolve(
    specs: Sequence[str],
    env: Mapping[str, str],
    note: Callable[[str], None] = lambda _: None,
    allocators: Sequence[str] = ("default",),
) -> list[Interpreter]:
    """Every (interpreter, environment) variant a run measures: each `--python` (none: this one),
    crossed with each `--env KEY=A|B` alternative and each `--allocator`. An interpreter that
    lacks the workers' own packages gets its environment prepared first (`note` reports it)."""
    interpreters = [_ready(find(s), note) for s in specs] if specs else [_this()]
    out: list[Interpreter] = []
    for interp in interpreters:
        for allocator in allocators:
            try:
                check_allocator(
                    allocator, interp.version, interp.free_threaded, f"Python {interp.tag}"
                )
            except UsageError as exc:
                # With several interpreters, one may lack an allocator the others have (a
                # free-threaded build has only mimalloc): its other variants still run.
                if len(interpreters) == 1 or len(allocators) == 1:
                    raise
                note(f"skipped: {exc}")
                continue
            preset = ALLOCATORS[allocator]
            for variant_env in env_variants(env):
                clash = sorted(set(preset) & set(variant_env))
                if clash:
                    raise UsageError(
                        f"--allocator {allocator} and --env {clash[0]} both set {clash[0]}: "
                        "choose one"
                    )
                both = {**variant_env, **preset}
                variant = replace(interp, env=tuple(sorted(both.items())))
                check_env(variant)
                if variant not in out:
                    out.append(variant)
    if not out:
        raise UsageError("no interpreter has any of the allocators asked for")
    return out


def env_variants(env: Mapping[str, str]) -> list[dict[str, str]]:
    """`--env PYTHON_GIL=0|1` is two runs of every cell, one per value."""
    keys = list(env)
    choices = [env[k].split("|") for k in keys]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*choices)]


def check_env(variant: Interpreter) -> None:
    gil = dict(variant.env).get("PYTHON_GIL")
    if gil is None:
        return
    if gil not in ("0", "1"):
        raise UsageError(f"--env PYTHON_GIL={gil}: it takes 0 or 1 (or 0|1 for both)")
    if not variant.free_threaded:
        raise UsageError(
            f"--env PYTHON_GIL={gil} needs a free-threaded build (3.13t, 3.14t); Python "
            f"{variant.tag} at {variant.base} has a GIL that cannot be switched"
        )


def _this() -> Interpreter:
    import sysconfig

    from workbench.metadata import gil_enabled

    return Interpreter(
        base=sys.executable,
        executable=sys.executable,
        version=".".join(map(str, sys.version_info[:3])),
        implementation=sys.implementation.name.replace("cpython", "CPython"),
        free_threaded=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        gil_at_start=bool(gil_enabled()),
        missing=tuple(sorted(_missing_here().items())),
    )


def _missing_here() -> dict[str, str]:
    import importlib.util

    return {m: "not installed" for m in MODULES if importlib.util.find_spec(m) is None}


def _ready(python: str, note: Callable[[str], None]) -> Interpreter:
    """`python` as a run will use it: itself if the workers' core packages import there, else its
    prepared environment (made now if there is none)."""
    # Not realpath: a venv's python links to its base interpreter, whose packages differ.
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return _this()
    info = probe(python, list(MODULES))
    require_supported(f"--python {python}", info)
    executable, prepared = python, None
    if any(info["modules"].values()):
        manifest = read_manifest(python)
        if manifest is None:
            note(f"Python {tag_of(info)} lacks the workers' packages: preparing its environment")
            manifest = prepare(python, note)
        executable, prepared = manifest["python"], str(env_dir(python))
        info = {
            **probe(executable, list(MODULES)),
            "free_threaded_build": info["free_threaded_build"],
        }
        core_missing = [f"{m}: {info['modules'][m]}" for m in CORE if info["modules"].get(m)]
        if core_missing:
            raise UsageError(
                f"--python {python}: the workers cannot run there ({'; '.join(core_missing)})"
            )
    return Interpreter(
        base=os.path.realpath(python),
        executable=executable,
        version=info["version"],
        implementation=info["implementation"],
        free_threaded=bool(info["free_threaded_build"]),
        gil_at_start=bool(info["gil_at_start"]),
        missing=tuple(sorted((m, r) for m, r in info["modules"].items() if r)),
        prepared=prepared,
    )
