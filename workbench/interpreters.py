"""The interpreters that run measurements: this one, or others named with `--python` as a path or
a version (`3.13`, `3.14t`). One module, so every command finds, checks, prepares and labels them
the same way.

- **Discovery** looks where Python users keep interpreters: PATH (`python3.X`, `python3.Xt`),
  pyenv's versions, uv's managed installs, and any path given.
- **Probing** runs a few lines under the interpreter: its version and build, whether it is
  free-threaded, whether the GIL is on at start and after importing each dependency (an extension
  without free-threading support turns it back on), and which dependencies import.
- **Preparing** makes a virtual environment for an interpreter under the workbench's cache, with
  every package the workers need that has a wheel for that build; what could not be installed is
  listed, and the models and clients that need it are skipped with that reason.

A worker or probe under another interpreter imports this checkout through PYTHONPATH, so the
workbench itself is never installed there; only its dependencies are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import workbench
from workbench.errors import UsageError

# The directory that holds the `workbench` and `servers` packages of this checkout.
PACKAGE_ROOT = str(Path(workbench.__file__).resolve().parent.parent)
MIN_VERSION = (3, 11)
# What a worker imports, as module name -> what to pip install. The first two every worker needs;
# the rest only the models and clients that use them (see `needs`).
CORE = {"psutil": "psutil", "hdrh": "hdrhistogram"}
OPTIONAL = {
    "uvloop": "uvloop", "trio": "trio", "anyio": "anyio", "aiohttp": "aiohttp",
    "httpx": "httpx", "urllib3": "urllib3", "aiofiles": "aiofiles", "h11": "h11",
    "requests": "requests", "gevent": "gevent", "liburing": "liburing",
    "asyncpg": "asyncpg", "psycopg": "psycopg[binary]", "psycopg_pool": "psycopg-pool",
    "redis": "redis",
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
        extra = " ".join(f"{k}={v}" for k, v in self.env)
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
    """A worker's `python` label from the metadata it recorded after its imports."""
    return python_label(
        str(metadata.get("python", "?")),
        bool(metadata.get("free_threaded_build")),
        metadata.get("gil_enabled"),
    )


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
            capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False, env=child,
        )  # fmt: skip
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


# --- discovery -----------------------------------------------------------------------------------


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


def tag_of(info: Mapping[str, Any]) -> str:
    return str(info["version"]) + ("t" if info.get("free_threaded_build") else "")


# --- prepared environments -----------------------------------------------------------------------


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "workbench" / "pythons"


def env_dir(python: str) -> Path:
    real = os.path.realpath(python)
    digest = hashlib.sha256(real.encode()).hexdigest()[:10]
    return cache_root() / f"{Path(real).name}-{digest}"


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


def prepare(python: str, note: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Make (or refresh) the environment for `python`: a venv holding every worker package that
    installs there. The optional ones only from a wheel (a package with no wheel for this build
    is listed as not installed, with pip's reason, and the models and clients that need it are
    skipped); the core ones, without which no worker runs, are compiled if they must be.
    Returns its manifest."""
    info = probe(python)
    require_supported(python, info)
    where = env_dir(python)
    venv_python = where / "bin" / "python"
    if not venv_python.exists():
        note(f"making a virtual environment for Python {tag_of(info)} in {where}")
        out = subprocess.run([python, "-m", "venv", "--clear", str(where)], capture_output=True,
                             text=True, timeout=PIP_TIMEOUT_S, check=False)  # fmt: skip
        if out.returncode != 0:
            tail = (out.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise UsageError(f"cannot make a virtual environment for {python}: {tail}")
    installed, failed = [], {}
    wanted = _requirements_by_module()
    for module, requirement in SOURCE_ONLY.items():
        del wanted[module]
        failed[module] = (f"{requirement} builds from source (minutes), so it is not installed "
                          f"unasked: {venv_python} -m pip install '{requirement}'")  # fmt: skip
    # First all of a kind in one pip run: the usual case, one resolver run instead of a dozen.
    # Only when that fails does each package get a run of its own, so that one package with no
    # wheel for this build leaves the others installed, with pip's reason for it.
    for kind in ("core", "optional"):
        group = {m: r for m, r in wanted.items() if (m in CORE) == (kind == "core")}
        note(f"installing {', '.join(group.values())} for Python {tag_of(info)}")
        if _pip_install(venv_python, kind, list(group.values())) is None:
            installed += list(group)
            continue
        for module, requirement in group.items():
            note(f"installing {requirement} for Python {tag_of(info)} on its own")
            reason = _pip_install(venv_python, kind, [requirement])
            if reason is None:
                installed.append(module)
            else:
                failed[module] = f"{requirement}: {reason}"
    manifest = {
        "python": str(venv_python), "base": os.path.realpath(python), "version": info["version"],
        "free_threaded": info["free_threaded_build"], "installed": installed, "failed": failed,
        "prepared_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    # Written whole or not at all: a run that finds the manifest trusts the environment.
    tmp = where / ".workbench-env.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, where / "workbench-env.json")
    return manifest


def _pip_install(venv_python: Path, kind: str, requirements: list[str]) -> str | None:
    """pip install into the environment; None, or why it failed. The optional packages only from
    wheels; the core ones, without which no worker runs, are compiled if they must be."""
    binary = "--prefer-binary" if kind == "core" else "--only-binary=:all:"
    cmd = [str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check", binary,
           *requirements]  # fmt: skip
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S,
                             check=False)  # fmt: skip
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


# --- resolving --python for a run ----------------------------------------------------------------


def resolve(
    specs: Sequence[str],
    env: Mapping[str, str],
    note: Callable[[str], None] = lambda _: None,
) -> list[Interpreter]:
    """Every (interpreter, environment) variant a run measures: each `--python` (none: this one),
    crossed with each `--env KEY=A|B` alternative. An interpreter that lacks the workers' own
    packages gets its environment prepared first (`note` reports it)."""
    interpreters = [_ready(find(s), note) for s in specs] if specs else [_this()]
    out: list[Interpreter] = []
    for interp in interpreters:
        for variant_env in env_variants(env):
            variant = replace(interp, env=tuple(sorted(variant_env.items())))
            check_env(variant)
            if variant not in out:
                out.append(variant)
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
        base=sys.executable, executable=sys.executable,
        version=".".join(map(str, sys.version_info[:3])),
        implementation=sys.implementation.name.replace("cpython", "CPython"),
        free_threaded=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        gil_at_start=bool(gil_enabled()),
        missing=tuple(sorted(_missing_here().items())),
    )  # fmt: skip


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
        base=os.path.realpath(python), executable=executable, version=info["version"],
        implementation=info["implementation"], free_threaded=bool(info["free_threaded_build"]),
        gil_at_start=bool(info["gil_at_start"]),
        missing=tuple(sorted((m, r) for m, r in info["modules"].items() if r)), prepared=prepared,
    )  # fmt: skip
