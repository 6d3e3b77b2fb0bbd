"""Free-threaded CPython: what `pythons build 3.13t` makes, and that the workbench measures on it
with the GIL off. Tests that need the build fail under CI=true if it is missing (.ci/run builds
it) and skip elsewhere, naming the command that builds it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import BUILD_WAIT_S, free_threaded_313, run_cli
from workbench.errors import UsageError
from workbench.interpreter_build import KNOWN_SOURCES, build, source_version
from workbench.interpreters import probe

# What needs the build runs last, and is given the time to wait for it (tests.helpers).
WAITS_FOR_THE_BUILD = pytest.mark.timeout(BUILD_WAIT_S + 300)


def test_a_spec_names_the_release_it_builds() -> None:
    newest = max(KNOWN_SOURCES, key=lambda v: tuple(map(int, v.split("."))))
    assert source_version("3.13t") == (newest, True)
    assert source_version("3.13.5") == ("3.13.5", False)
    with pytest.raises(UsageError, match="no source digest known"):
        source_version("3.9t")
    with pytest.raises(UsageError, match="give a version"):
        source_version("latest")


def test_a_tarball_that_is_not_python_orgs_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "Python-3.13.5.tar.xz"
    fake.write_bytes(b"not the release")
    with pytest.raises(UsageError, match="sha256"):
        build("3.13t", str(fake), lambda _: None)
    with pytest.raises(UsageError, match="no such file"):
        build("3.13t", str(tmp_path / "none.tar.xz"), lambda _: None)


@pytest.mark.slow  # probes the interpreter in a process
@pytest.mark.free_threaded
@WAITS_FOR_THE_BUILD
def test_the_build_is_free_threaded_and_runs_with_its_gil_off() -> None:
    info = probe(free_threaded_313())
    assert info["free_threaded_build"] is True
    assert info["gil_at_start"] is False


@pytest.mark.slow  # a fresh interpreter
def test_a_worker_never_imports_the_histogram_codec() -> None:
    """hdrh's C codec has not declared free-threading support: imported in a worker on a
    free-threaded build it would switch the GIL back on. Workers count latencies in Python."""
    code = (
        "import sys, workbench.harness.worker, workbench.gil.probe\n"
        "from workbench.models import MODEL_NAMES, model_class\n"
        "from workbench.errors import UsageError\n"
        "for m in MODEL_NAMES:\n"
        "    try: model_class(m)\n"
        "    except UsageError: pass\n"
        "print(sorted(m for m in sys.modules if 'hdrh' in m))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"


@pytest.mark.slow  # real servers and workers under the free-threaded build
@pytest.mark.free_threaded
@WAITS_FOR_THE_BUILD
def test_io_on_the_free_threaded_build_measures_with_the_gil_off(tmp_path: Path) -> None:
    python = free_threaded_313()
    out = tmp_path / "run.json"
    proc = run_cli("io", "--only", "net", "--python", python, "--models", "threads,asyncio",
                   "--libs", "raw", "--clients", "20", "--duration", "0.3", "--warmup", "0.1",
                   "--repeat", "1", "--quiet", "--json", str(out), timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["results"]
    assert {r["model"] for r in rows} == {"threads", "asyncio"}
    for row in rows:
        assert row["python"].endswith("t GIL off"), row["python"]
        assert "gil-reenabled" not in row["flags"]
        assert row["errors"] == 0
        assert row["ops"] > 0


@pytest.mark.slow  # real servers under the free-threaded build, the load under this one
@pytest.mark.free_threaded
@WAITS_FOR_THE_BUILD
def test_servers_on_the_free_threaded_build_serve_with_the_gil_off(tmp_path: Path) -> None:
    python = free_threaded_313()
    out = tmp_path / "run.json"
    proc = run_cli("servers", "--python", python, "--servers",
                   "granian-wsgi,gunicorn-gthread,waitress,uvicorn-uvloop", "--clients", "20",
                   "--duration", "0.3", "--warmup", "0.1", "--repeat", "1", "--quiet",
                   "--json", str(out), timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    rows = doc["results"]
    assert {r["model"] for r in rows} == {"granian-wsgi", "gunicorn-gthread", "waitress"}
    for row in rows:
        assert row["python"].endswith("t GIL off"), row["python"]
        assert row["errors"] == 0
        assert row["ops"] > 0
    # uvloop and httptools would switch the GIL back on: the row is left out, with the reason.
    (skipped,) = doc["metadata"]["skipped"]
    assert "uvicorn-uvloop" in skipped["cell"]
    assert "switch a free-threaded interpreter's GIL back on" in skipped["reason"]
