"""Prepared environments: a virtual environment per interpreter under the workbench's cache, with
every package the workers need that has a wheel for that build. What could not be installed is
listed with pip's reason, and the models and clients that need it are skipped with that reason.
The workbench itself is never installed there: workers import this checkout through PYTHONPATH."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.errors import UsageError
from workbench.interpreters import (
    CORE,
    MODULES,
    PIP_TIMEOUT_S,
    SOURCE_ONLY,
    cache_root,
    probe,
    require_supported,
    tag_of,
)


def env_dir(python: str) -> Path:
    real = os.path.realpath(python)
    digest = hashlib.sha256(real.encode()).hexdigest()[:10]
    return cache_root() / f"{Path(real).name}-{digest}"


# What to build where an optional package has no wheel for a build: psycopg's binary extra has
# none for free-threaded builds, and psycopg itself runs on the system's libpq.
SOURCE_FALLBACK = {"psycopg": "psycopg"}


def env_python(python: str) -> str:
    """The interpreter to run `python`'s work with: its prepared environment's where it has one
    (the GIL lab's claim 2 imports NumPy and Pillow from there), else itself."""
    manifest = read_manifest(python)
    return str(manifest["python"]) if manifest else python


def read_manifest(python: str) -> dict[str, Any] | None:
    path = env_dir(python) / "workbench-env.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return manifest if Path(manifest.get("python", "")).exists() else None


def requirements() -> dict[str, str]:
    """The pip requirement of each worker package, as this workbench's metadata pins it."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        reqs = requires("workbench") or []
    except PackageNotFoundError:
        reqs = []
    pinned = {}
    for req in reqs:
        if "extra ==" in req:
            continue
        name = re.split(r"[<>=!~;\s\[]", req, maxsplit=1)[0].strip().lower()
        pinned[name] = req.split(";")[0].strip()
    return {pkg: pinned.get(pkg, pkg) for pkg in MODULES.values()}


def prepare(
    python: str, note: Callable[[str], None] = lambda _: None, wheels_only: bool = False
) -> dict[str, Any]:
    """Make (or refresh) the environment for `python`: a venv holding every worker package that
    installs there. The optional ones from a wheel, or else built from source once (a package
    that neither gives is listed as not installed, with pip's reason, and the models and clients
    that need it are skipped); the core ones, without which no worker runs, are compiled if they
    must be. `wheels_only` builds nothing optional from source. Returns its manifest."""
    info = probe(python)
    require_supported(python, info)
    where = env_dir(python)
    venv_python = where / "bin" / "python"
    if not venv_python.exists():
        note(f"making a virtual environment for Python {tag_of(info)} in {where}")
        out = subprocess.run(
            [python, "-m", "venv", "--clear", str(where)],
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
            check=False,
        )
        if out.returncode != 0:
            tail = (out.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise UsageError(f"cannot make a virtual environment for {python}: {tail}")
    installed, failed = [], {}
    wanted = _requirements_by_module()
    for module, requirement in SOURCE_ONLY.items():
        del wanted[module]
        failed[module] = (
            f"{requirement} builds from source (minutes), so it is not installed "
            f"unasked: {venv_python} -m pip install '{requirement}'"
        )
    # First all of a kind in one pip run: the usual case, one resolver run instead of a dozen.
    # When that fails, the package pip names (it stops at the first with no wheel for this build)
    # is set aside and the rest try again together: one run more per package without a wheel,
    # not one per package (on 3.13t, 5 runs instead of 21). A failure pip does not pin on one
    # package sends each of the rest to a run of its own.
    tag = tag_of(info)
    for kind in ("core", "optional"):
        pending = {m: r for m, r in wanted.items() if (m in CORE) == (kind == "core")}
        note(f"installing {', '.join(pending.values())} for Python {tag}")
        while pending:
            reason = _pip_install(venv_python, kind == "core", list(pending.values()))
            if reason is None:
                installed += list(pending)
                break
            named = _named_in(reason, pending)
            alone = [named] if named is not None else list(pending)
            for module in alone:
                requirement = pending.pop(module)
                why = reason if named is not None else None
                got = _install_alone(venv_python, kind, module, requirement, why, wheels_only,
                                     lambda text: note(f"{text} for Python {tag}"))  # fmt: skip
                if got is None:
                    installed.append(module)
                else:
                    failed[module] = f"{requirement}: {got}"
    manifest = {
        "python": str(venv_python),
        "base": os.path.realpath(python),
        "version": info["version"],
        "free_threaded": info["free_threaded_build"],
        "installed": installed,
        "failed": failed,
        "prepared_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # Written whole or not at all: a run that finds the manifest trusts the environment.
    tmp = where / ".workbench-env.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, where / "workbench-env.json")
    return manifest


def _named_in(reason: str, pending: dict[str, str]) -> str | None:
    """The module whose requirement pip's error names ("... satisfies the requirement uvloop>=0.19
    ..."), if it names one of `pending`."""
    m = re.search(r"requirement ([A-Za-z0-9_.\-\[\]]+)", reason)
    if m is None:
        return None
    name = re.split(r"[<>=!~;\[]", m.group(1), maxsplit=1)[0].lower().replace("_", "-")
    for module, requirement in pending.items():
        if re.split(r"[<>=!~;\s\[]", requirement, maxsplit=1)[0].lower().replace("_", "-") == name:
            return module
    return None


def _install_alone(
    venv_python: Path,
    kind: str,
    module: str,
    requirement: str,
    reason: str | None,
    wheels_only: bool,
    note: Callable[[str], None],
) -> str | None:
    """One package in a run of its own (`reason`: why it already failed from wheels, if known),
    then, for an optional one with no wheel, one try from source unless `wheels_only`. None if
    it is installed, else why not."""
    if reason is None:
        note(f"installing {requirement} on its own")
        reason = _pip_install(venv_python, kind == "core", [requirement])
    if reason is None or kind == "core":
        return reason
    if wheels_only:
        return f"{reason} (not built from source: --wheels-only)"
    # No wheel for this build: one try from source, where a compiler can build it (on 3.13t
    # uvloop took 54 s and asyncpg 36 s here; gevent's build failed).
    built = SOURCE_FALLBACK.get(module, requirement)
    note(f"building {built} from source")
    return None if _pip_install(venv_python, True, [built]) is None else reason


def _pip_install(venv_python: Path, from_source: bool, requirements: list[str]) -> str | None:
    """pip install into the environment; None, or why it failed. Only from wheels, unless
    `from_source` lets pip build what has none."""
    binary = "--prefer-binary" if from_source else "--only-binary=:all:"
    cmd = [
        str(venv_python),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        binary,
        *requirements,
    ]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return f"pip took longer than {PIP_TIMEOUT_S:g}s"
    return None if out.returncode == 0 else _pip_reason(out.stderr)


def _requirements_by_module() -> dict[str, str]:
    reqs = requirements()
    return {module: reqs[pkg] for module, pkg in MODULES.items()}


def _pip_reason(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("ERROR:"):
            return ln.removeprefix("ERROR:").strip()[:200]
    return (lines or ["pip failed"])[-1][:200]
