"""Finding interpreters where Python users keep them: PATH (`python3.X`, `python3.Xt`), pyenv's
versions, uv's managed installs, and any path given; and the interpreter a `--python` value
(a path, or a version such as `3.13` or `3.14t`) names."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import UsageError
from workbench.interpreter_envs import read_manifest
from workbench.interpreters import builds_root, probe, supported, tag_of, version_tuple


def candidates(extra: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(path, where it was found) for every interpreter worth probing, this one first."""
    yield sys.executable, "this workbench"
    for path in extra:
        yield path, "given"
    names = ["python3"] + [f"python3.{m}{t}" for m in range(8, 21) for t in ("", "t")]
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or "/shims" in folder:  # pyenv's shims: listed from pyenv itself
            continue
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                yield path, "PATH"
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for version in sorted(pyenv.glob("*"), key=lambda p: version_tuple(p.name)):
        for exe in ("python3", "python"):
            if (version / "bin" / exe).exists():
                yield str(version / "bin" / exe), "pyenv"
                break
    for build in sorted(builds_root().glob("*/bin/python3")):
        yield str(build), "workbench build"
    uv = Path(
        os.environ.get("UV_PYTHON_INSTALL_DIR")
        or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        / "uv"
        / "python"
    )
    for install in sorted(uv.glob("*")):
        found = sorted(install.glob("bin/python3*"), key=lambda p: len(p.name))
        if found:
            yield str(found[0]), "uv"


@dataclass
class Found:
    path: str
    where: str
    info: dict[str, Any]
    prepared: dict[str, Any] | None = None  # its environment's manifest, if one was made


def discover(extra: Iterable[str] = (), modules: Sequence[str] = ()) -> list[Found]:
    """Every interpreter found, once each (by the interpreter it really is), probed; `modules`
    are imported by the probe (none: a quick look at version and build)."""
    seen: set[str] = set()
    out = []
    for path, where in candidates(extra):
        try:
            info = probe(path, modules)
        except UsageError:
            if where == "given":
                raise
            continue
        # One interpreter with its own packages: a venv shares its base's binary, not its packages.
        key = f"{os.path.realpath(info.get('executable') or path)}|{info.get('prefix')}"
        if key in seen:
            continue
        seen.add(key)
        out.append(Found(path, where, info, read_manifest(path)))
    return out


_SPEC = re.compile(r"^(?:python)?(\d+)\.(\d+)(?:\.(\d+))?(t?)$")


def is_version_spec(text: str) -> bool:
    return bool(_SPEC.match(text))


def matches_spec(spec: str, info: Mapping[str, Any]) -> bool:
    """`3.13` is any 3.13.x GIL build, `3.14t` any free-threaded 3.14.x, `3.12.1` that one."""
    m = _SPEC.match(spec)
    if m is None:
        return False
    want = tuple(int(g) for g in m.groups()[:3] if g is not None)
    have = version_tuple(str(info.get("version", "")))
    return have[: len(want)] == want and bool(m.group(4)) == bool(info.get("free_threaded_build"))


def find(spec: str) -> str:
    """The interpreter a `--python` value names: a path (or a name on PATH), or a version
    matched against the interpreters discovery finds (the newest patch release wins)."""
    if not is_version_spec(spec):
        path = spec if os.sep in spec else shutil.which(spec)
        if path is None or not os.path.exists(path):
            raise UsageError(
                f"--python {spec}: no such interpreter (a path, or a version like 3.13)"
            )
        return path
    everything = discover()
    found = [f for f in everything if matches_spec(spec, f.info)]
    if not found:
        known = ", ".join(sorted({tag_of(f.info) for f in everything if supported(f.info)}))
        raise UsageError(
            f"--python {spec}: no such interpreter found on PATH, in pyenv or uv "
            f"(found: {known or 'none'}); give a path instead"
        )
    return max(found, key=lambda f: version_tuple(f.info["version"])).path
