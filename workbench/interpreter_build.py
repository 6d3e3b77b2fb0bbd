"""Making a CPython the workbench can run on, free-threaded above all: `pythons build 3.13t`.

It takes, in order, whatever works here:
1. an interpreter already found (PATH, pyenv, uv, or one this command built before);
2. uv (`uv python install`), if it is installed and can fetch;
3. a source tarball: `--source PATH`, or on Debian and Ubuntu the distribution's source package,
   fetched with `apt-get source --download-only` through an apt state of its own (the system's
   sources and lists are not touched), which carries python.org's tarball byte for byte;
   either is checked against the upstream digest known here before anything is built. It is
   built with `./configure [--disable-gil] --prefix=CACHE/builds/VERSION[t]`, into the
   workbench's cache, never system-wide.
Then the workers' environment is prepared (`interpreter_envs.prepare`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from workbench.errors import UsageError
from workbench.interpreters import builds_root, cache_root

# python.org's source tarballs whose sha256 is known here (the digests pyenv's definitions give;
# Debian's `python3.X_VERSION.orig.tar.xz` is the same file).
KNOWN_SOURCES = {
    "3.13.5": "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640",
}
# What a build with the modules the workers use (ssl for pip, ctypes, zlib, ...) needs, as the
# header a compiler must find and the Debian package that has it.
BUILD_HEADERS = {
    "openssl/ssl.h": "libssl-dev", "ffi.h": "libffi-dev", "zlib.h": "zlib1g-dev",
    "bzlib.h": "libbz2-dev", "lzma.h": "liblzma-dev", "sqlite3.h": "libsqlite3-dev",
    "uuid/uuid.h": "uuid-dev", "ncurses.h": "libncurses-dev", "readline/readline.h":
    "libreadline-dev",
}  # fmt: skip
BUILD_TIMEOUT_S = 3600.0
_SPEC = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(t?)$")

Note = Callable[[str], None]


def built_python(version: str, free_threaded: bool) -> Path:
    return builds_root() / f"{version}{'t' if free_threaded else ''}" / "bin" / "python3"


def source_version(spec: str) -> tuple[str, bool]:
    """The source release a spec builds (`3.13t` -> the newest 3.13 known here) and whether it
    is free-threaded."""
    m = _SPEC.match(spec.removeprefix("python"))
    if m is None:
        raise UsageError(f"pythons build {spec}: give a version such as 3.13t or 3.13.5t")
    major, minor, patch, t = m.groups()
    wanted = [v for v in KNOWN_SOURCES if v.startswith(f"{major}.{minor}.")]
    if patch is not None:
        wanted = [v for v in wanted if v == f"{major}.{minor}.{patch}"]
    if not wanted:
        known = ", ".join(f"{v}t" for v in KNOWN_SOURCES)
        raise UsageError(f"pythons build {spec}: no source digest known for it here ({known})")
    newest = max(wanted, key=lambda v: tuple(int(x) for x in v.split(".")))
    return newest, bool(t)


def missing_build_deps() -> list[str]:
    """What the system lacks to build CPython: the compiler, make, the headers' packages."""
    missing = [tool for tool in ("cc", "make") if shutil.which(tool) is None]
    if missing:
        return missing
    dirs = [Path("/usr/include"), Path("/usr/local/include")]
    arch = subprocess.run(["cc", "-print-multiarch"], capture_output=True, text=True, check=False)
    if arch.stdout.strip():
        dirs.append(Path("/usr/include") / arch.stdout.strip())
    return [pkg for header, pkg in BUILD_HEADERS.items()
            if not any((d / header).exists() for d in dirs)]  # fmt: skip


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_source(path: Path, version: str) -> Path:
    got = sha256_of(path)
    if got != KNOWN_SOURCES[version]:
        raise UsageError(
            f"{path}: sha256 {got[:16]}... is not python.org's Python-{version}.tar.xz "
            f"({KNOWN_SOURCES[version][:16]}...): not building from it"
        )
    return path


def debian_source(version: str, into: Path, note: Note) -> Path | None:
    """python.org's tarball from Debian's `python3.X` source package, through a private apt
    state; None where apt cannot get it (not Debian, no such version in the suites tried)."""
    if shutil.which("apt-get") is None:
        return None
    series = ".".join(version.split(".")[:2])
    state = into / "apt"
    for d in ("lists/partial", "archives/partial", "sources"):
        (state / d).mkdir(parents=True, exist_ok=True)
    # trixie carries 3.13; forky and sid whatever is newer.
    (state / "sources" / "workbench-src.sources").write_text(
        "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie forky sid\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
    options = ["-oDir::Etc::SourceList=/dev/null", f"-oDir::Etc::SourceParts={state}/sources",
               f"-oDir::State::Lists={state}/lists", f"-oDir::Cache::Archives={state}/archives",
               "-oDebug::NoLocking=1", "-q"]  # fmt: skip

    def apt(*args: str) -> str | None:
        tool = "apt-cache" if args[0] == "showsrc" else "apt-get"
        out = subprocess.run([tool, *options, *args], cwd=into, capture_output=True, text=True,
                             timeout=600, check=False)  # fmt: skip
        if out.returncode != 0:
            note(f"{tool} {args[0]} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
            return None
        return out.stdout

    note(f"looking for Debian's python{series} {version} source package")
    listed = apt("update") is not None and apt("showsrc", f"python{series}")
    # A suite may list a newer revision than it serves: ask for the one that is this version.
    versions = re.findall(r"^Version: (\S+)$", listed or "", re.M)
    fitting = [v for v in versions if v.split("-")[0] == version]
    if not fitting:
        note(f"Debian lists python{series} {', '.join(versions) or 'nowhere'}, not {version}")
        return None
    if apt("source", "--download-only", f"python{series}={fitting[0]}") is None:
        return None
    found = into / f"python{series}_{version}.orig.tar.xz"
    return found if found.exists() else None


def via_uv(spec: str, note: Note) -> Path | None:
    """`uv python install SPEC` into the workbench's cache; None where uv is absent or fails."""
    if shutil.which("uv") is None:
        return None
    where = cache_root() / "uv"
    note(f"trying uv python install {spec}")
    env = {**os.environ, "UV_PYTHON_INSTALL_DIR": str(where)}
    out = subprocess.run(["uv", "python", "install", spec], capture_output=True, text=True,
                         env=env, timeout=900, check=False)  # fmt: skip
    if out.returncode != 0:
        note(f"uv could not: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
        return None
    found = sorted(where.glob("*/bin/python3*"), key=lambda p: len(p.name))
    return found[0] if found else None


def compile_source(tarball: Path, version: str, free_threaded: bool, note: Note) -> Path:
    """configure, make, make install into the workbench's cache; the new interpreter."""
    missing = missing_build_deps()
    if missing:
        raise UsageError(
            f"building CPython needs {', '.join(missing)}: apt-get install {' '.join(missing)}"
        )
    prefix = built_python(version, free_threaded).parent.parent
    jobs = str(len(os.sched_getaffinity(0)))
    # Without the test modules: the workbench runs none of CPython's own tests, and they are a
    # large share of what make compiles and make install byte-compiles.
    configure = [
        "./configure",
        f"--prefix={prefix}",
        "--with-ensurepip=install",
        "--disable-test-modules",
    ]
    if free_threaded:
        configure.append("--disable-gil")
    with tempfile.TemporaryDirectory(prefix="workbench-build-") as tmp:
        note(f"unpacking {tarball.name}")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        (src,) = Path(tmp).glob("Python-*")
        log = prefix.with_name(f"{prefix.name}.log")  # beside the build, there while it runs
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(b"")
        for step in (configure, ["make", f"-j{jobs}"], ["make", "install"]):
            note(f"{' '.join(step)} (log: {log})")
            with log.open("ab") as sink:
                code = subprocess.run(step, cwd=src, stdout=sink, stderr=subprocess.STDOUT,
                                      timeout=BUILD_TIMEOUT_S, check=False).returncode  # fmt: skip
            if code != 0:
                raise UsageError(f"{step[0]} failed (exit {code}); its output is in {log}")
    return built_python(version, free_threaded)


def build(spec: str, source: str | None, note: Note) -> tuple[Path, str]:
    """An interpreter for `spec`, and how it was had: found, uv, or built here."""
    from workbench.interpreter_discovery import find

    version, free_threaded = source_version(spec)
    if source is None:
        try:
            return Path(find(spec)), "already here"
        except UsageError:
            pass
        got = via_uv(spec, note)
        if got is not None:
            return got, "uv"
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="workbench-source-") as tmp:
        if source is not None:
            tarball = Path(source)
            if not tarball.is_file():
                raise UsageError(f"--source {source}: no such file")
        else:
            found = debian_source(version, Path(tmp), note)
            if found is None:
                raise UsageError(
                    f"no {spec} here and no way to get its source: give python.org's "
                    f"Python-{version}.tar.xz with --source PATH"
                )
            tarball = found
        checked_source(tarball, version)
        python = compile_source(tarball, version, free_threaded, note)
    return python, f"built here in {time.monotonic() - start:.0f} s"
