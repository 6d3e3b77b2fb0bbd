"""What an interpreter that runs measurements is, and how it is probed and labelled: this one, or
others named with `--python`. Its neighbours find them (`interpreter_discovery`), prepare their
environments (`interpreter_envs`) and cross them with `--env` for a run (`interpreter_variants`),
each on top of this module, so every command checks and labels them the same way.

**Probing** runs a few lines under the interpreter: its version and build, whether it is
free-threaded, whether the GIL is on at start and after importing each dependency (an extension
without free-threading support turns it back on), and which dependencies import.

A worker or probe under another interpreter imports this checkout through PYTHONPATH, so the
workbench itself is never installed there; only its dependencies are.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import workbench
from workbench.allocators import PREFIXES, allocator_name
from workbench.errors import UsageError

# The directory that holds the `workbench` and `servers` packages of this checkout.
PACKAGE_ROOT = str(Path(workbench.__file__).resolve().parent.parent)
MIN_VERSION = (3, 11)
# What a worker imports, as module name -> what to pip install. The first every worker needs; the
# rest only the models and clients that use them (see `needs`), and NumPy and Pillow the GIL lab's
# claim 2. Not hdrh: workers count latencies themselves and the parent builds the histogram, since
# hdrh's C codec switches a free-threaded build's GIL back on.
CORE = {"psutil": "psutil"}
OPTIONAL = {
    "uvloop": "uvloop", "trio": "trio", "anyio": "anyio", "aiohttp": "aiohttp",
    "httpx": "httpx", "urllib3": "urllib3", "aiofiles": "aiofiles", "h11": "h11",
    "requests": "requests", "gevent": "gevent", "liburing": "liburing",
    "asyncpg": "asyncpg", "psycopg": "psycopg[binary]", "psycopg_pool": "psycopg-pool",
    "redis": "redis", "numpy": "numpy", "PIL": "pillow",
    "wsproto": "wsproto", "websockets": "websockets", "h2": "h2",
    "trio_websocket": "trio-websocket",
    # The servers command's servers (and what they serve through), run under the interpreter.
    "uvicorn": "uvicorn", "hypercorn": "hypercorn", "granian": "granian", "gunicorn": "gunicorn",
    "waitress": "waitress", "uvicorn_worker": "uvicorn-worker", "httptools": "httptools",
    "starlette": "starlette", "flask": "flask", "sniffio": "sniffio",
}  # fmt: skip
MODULES = {**CORE, **OPTIONAL}
# Packages with no usable wheel, built from source only (liburing: see
# workbench.clients.uring_ring). `prepare` leaves them out and says how to add them: a build
# takes minutes, too long for a step that runs unasked.
SOURCE_ONLY = {"liburing": "liburing==2024.5.3"}
PROBE_TIMEOUT_S = 60.0
PIP_TIMEOUT_S = 600.0

# Runs under any Python 2.7 or 3.x, so that discovery can say what an old one is, not crash.
_PROBE = """
import json, sys, sysconfig, platform, importlib
def gil():
    f = getattr(sys, "_is_gil_enabled", None)
    return bool(f()) if f is not None else True
out = {"version": platform.python_version(), "implementation": platform.python_implementation(),
       "executable": sys.executable, "prefix": sys.prefix,
       "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
       "gil_at_start": gil(), "modules": {}, "gil_enabled_by": None}
for name in sys.argv[1:]:
    before = gil()
    try:
        importlib.import_module(name)
        out["modules"][name] = None
    except BaseException as exc:
        out["modules"][name] = "%s: %s" % (type(exc).__name__, exc)
    if gil() and not before and out["gil_enabled_by"] is None:
        out["gil_enabled_by"] = name
out["gil_after_imports"] = gil()
print(json.dumps(out))
"""


def is_this_python(python: str) -> bool:
    return python == sys.executable


def child_env(python: str, env: Mapping[str, str]) -> dict[str, str]:
    """The extra environment of a child run by `python`: this checkout on its path when it is
    another interpreter."""
    if is_this_python(python):
        return dict(env)
    return {**env, "PYTHONPATH": package_path()}


def package_path(root: str | None = None) -> str:
    """A directory holding the `workbench` and `servers` packages and nothing else, for another
    interpreter's PYTHONPATH. A checkout is one already; an installed workbench sits in a
    site-packages whose other packages were built for this interpreter (uvloop for 3.11 would
    shadow the other's own), so it gets a directory of two links, made once under the cache."""
    root = root or PACKAGE_ROOT
    if Path(root).name not in ("site-packages", "dist-packages"):
        return root
    digest = hashlib.sha256(root.encode()).hexdigest()[:10]
    links = cache_root().parent / "pythonpath" / digest
    links.mkdir(parents=True, exist_ok=True)
    for name in ("workbench", "servers"):
        link = links / name
        if not link.is_symlink() or os.readlink(link) != os.path.join(root, name):
            tmp = links / f".{name}.tmp"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.path.join(root, name))
            os.replace(tmp, link)  # atomic: a concurrent run sees the old link or the new
    return str(links)


# --- what an interpreter is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    """One interpreter as it will run children: `executable` is the interpreter itself or its
    prepared environment's python; `env` is this variant's environment (PYTHON_GIL=0, say)."""

    base: str  # the interpreter as found or given (resolved path)
    executable: str
    version: str
    implementation: str
    free_threaded: bool
    gil_at_start: bool
    missing: tuple[tuple[str, str], ...] = ()  # module -> why it does not import
    env: tuple[tuple[str, str], ...] = ()
    prepared: str | None = None  # the environment's directory, if one is used

    @property
    def tag(self) -> str:
        """3.13.0, or 3.14.0t for a free-threaded build."""
        return self.version + ("t" if self.free_threaded else "")

    @property
    def gil_expected(self) -> bool:
        """Whether the GIL should be on in a worker (before any extension turns it back on)."""
        if not self.free_threaded:
            return True
        forced = dict(self.env).get("PYTHON_GIL")
        return forced == "1" if forced in ("0", "1") else self.gil_at_start

    @property
    def name(self) -> str:
        """How tables and progress name it: its label, and the variant's environment."""
        allocator = allocator_name(dict(self.env))
        extra = " ".join(
            [f"{k}={v}" for k, v in self.env if not k.startswith(PREFIXES)]
            + ([f"allocator {allocator}"] if allocator != "default" else [])
        )
        return f"{python_label(self.version, self.free_threaded, self.gil_expected)}" + (
            f" ({extra})" if extra else ""
        )

    def lacks(self, modules: Iterable[str]) -> list[str]:
        """Of these modules, the ones that do not import here, each with its reason."""
        missing = dict(self.missing)
        return [f"{m} ({missing[m]})" for m in modules if m in missing]

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base, "executable": self.executable, "version": self.version,
            "implementation": self.implementation, "free_threaded": self.free_threaded,
            "name": self.name, "env": dict(self.env), "prepared": self.prepared,
            "missing": dict(self.missing),
        }  # fmt: skip


def python_label(version: str, free_threaded: bool, gil_enabled: bool | None) -> str:
    """What every row carries as `python`: the version, `t` for a free-threaded build, and the
    GIL state, e.g. `3.11.7 GIL on`, `3.14.0t GIL off`."""
    state = "on" if gil_enabled or gil_enabled is None else "off"
    return f"{version}{'t' if free_threaded else ''} GIL {state}"


def label_of(metadata: Mapping[str, Any]) -> str:
    """A worker's `python` label from the metadata it recorded after its imports, with its
    allocator when the worker had one set (`3.11.7 GIL on · no-mmap`): rows that differ only
    by allocator must not read as one."""
    label = python_label(
        str(metadata.get("python", "?")),
        bool(metadata.get("free_threaded_build")),
        metadata.get("gil_enabled"),
    )
    allocator = allocator_name(metadata.get("allocator_env") or {})
    return label if allocator == "default" else f"{label} · {allocator}"


def gil_reenabled(metadata: Mapping[str, Any]) -> bool:
    """A free-threaded worker whose GIL was on after its imports, though nobody asked for it."""
    return (
        bool(metadata.get("free_threaded_build"))
        and bool(metadata.get("gil_enabled"))
        and metadata.get("python_gil_env") != "1"
    )


# --- probing -------------------------------------------------------------------------------------


def probe(
    python: str, modules: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run the probe under `python`; its answer, or a UsageError that says why it cannot."""
    child = {**os.environ, **(env or {})}
    child.pop("PYTHONPATH", None)  # what the interpreter itself has, not this checkout
    try:
        out = subprocess.run(
            [python, "-c", _PROBE, *modules],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
            env=child,
        )
    except OSError as exc:
        raise UsageError(f"--python {python}: cannot run it ({exc.strerror})") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"--python {python}: did not answer within {PROBE_TIMEOUT_S:g}s") from None
    try:
        info: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (out.stderr.strip().splitlines() or ["no answer"])[-1]
        raise UsageError(f"--python {python} is not a usable Python interpreter ({tail})") from None
    return info


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def supported(info: Mapping[str, Any]) -> bool:
    return info.get("implementation") == "CPython" and version_tuple(info["version"]) >= MIN_VERSION


def require_supported(what: str, info: Mapping[str, Any]) -> None:
    """A UsageError unless the probed interpreter can run the workers (CPython, new enough)."""
    if not supported(info):
        raise UsageError(
            f"{what} is {info['implementation']} {info['version']}; the workers need CPython "
            f"{'.'.join(map(str, MIN_VERSION))} or newer"
        )


def check_python(python: str) -> dict[str, Any]:
    """The interpreter's version and build (for the GIL lab, which needs only the standard
    library), or a UsageError saying it is not a usable Python."""
    info = probe(python)
    if version_tuple(info["version"]) < MIN_VERSION:
        raise UsageError(
            f"--python {python} is Python {info['version']}; "
            f"{'.'.join(map(str, MIN_VERSION))} or newer is needed"
        )
    return {k: info[k] for k in ("version", "free_threaded_build", "executable")}


def tag_of(info: Mapping[str, Any]) -> str:
    return str(info["version"]) + ("t" if info.get("free_threaded_build") else "")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "workbench" / "pythons"


def builds_root() -> Path:
    """Where `pythons build` installs the interpreters it compiles."""
    return cache_root() / "builds"
