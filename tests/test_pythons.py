"""Interpreters end to end, with the real ones on this machine: discovery (PATH, pyenv, uv), an
environment prepared from PyPI on first use, every cell run under two interpreters side by side,
the GIL lab under a version given by number, and bad `--python` input as one line.

Uses pyenv's 3.12 where there is one (machines of this kind have it); skips otherwise."""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli
from workbench.errors import UsageError
from workbench.interpreter_discovery import find
from workbench.interpreters import SOURCE_ONLY, probe

pytestmark = pytest.mark.slow


def _other() -> str:
    try:
        return find("3.12")
    except UsageError:
        pytest.skip("no Python 3.12 on this machine (pyenv install 3.12)")


def _other_version() -> str:
    """The 3.12 that `--python 3.12` finds here (3.12.1 on machines of this kind)."""
    return str(probe(_other())["version"])


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A cache of its own, so the first use prepares a fresh environment."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def two_interpreters(
    cache: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[object, dict[str, object]]:
    _other()
    out = tmp_path_factory.mktemp("run") / "run.json"
    proc = run_cli(
        "io",
        "--python",
        sys.executable,
        "--python",
        "3.12",
        "--only",
        "net",
        "--models",
        "threads,asyncio,uvloop",
        "--libs",
        "raw",
        "--clients",
        "5",
        "--duration",
        "0.3",
        "--warmup",
        "0.2",
        "--repeat",
        "1",
        "--json",
        str(out),
        timeout=600,
        env=cache,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def test_first_use_prepares_the_environment_and_every_cell_runs_under_both(
    two_interpreters: tuple[object, dict[str, object]], cache: dict[str, str]
) -> None:
    proc, doc = two_interpreters
    v312 = _other_version()
    assert "preparing its environment" in proc.stderr  # type: ignore[attr-defined]
    rows = doc["results"]
    assert isinstance(rows, list)
    here = f"{platform.python_version()} GIL on"
    assert [(r["model"], r["python"]) for r in rows] == [
        ("threads", here),
        ("threads", f"{v312} GIL on"),
        ("asyncio", here),
        ("asyncio", f"{v312} GIL on"),
        ("uvloop", here),
        ("uvloop", f"{v312} GIL on"),
    ]
    for r in rows:
        assert r["errors"] == 0
        assert r["ops"] > 0
        assert r["metadata"]["gil_enabled"] is True
    other = rows[1]["metadata"]
    assert other["python"] == v312
    assert other["executable"].startswith(cache["XDG_CACHE_HOME"])  # its prepared environment
    assert other["libraries"]["uvloop"]  # installed there from PyPI
    metadata = doc["metadata"]
    assert isinstance(metadata, dict)
    assert [i["name"] for i in metadata["interpreters"]] == [here, f"{v312} GIL on"]
    assert metadata["skipped"] == []
    assert f"× {platform.python_version()}" in proc.stdout  # type: ignore[attr-defined]


def test_prepare_lists_what_it_installed(
    two_interpreters: tuple[object, dict[str, object]], cache: dict[str, str]
) -> None:
    proc = run_cli("pythons", "prepare", "3.12", timeout=600, env=cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "prepared:" in proc.stdout
    installed = next(ln for ln in proc.stdout.splitlines() if ln.startswith("installed:"))
    for module in ("psutil", "uvloop", "trio", "anyio", "aiohttp", "httpx", "numpy", "PIL"):
        assert module in installed
    (manifest,) = Path(cache["XDG_CACHE_HOME"]).glob("workbench/pythons/*/workbench-env.json")
    recorded = json.loads(manifest.read_text())
    assert recorded["version"] == _other_version()
    # Every package installed but the ones that only build from source, each with the command
    # that would install it.
    assert set(recorded["failed"]) == set(SOURCE_ONLY)
    for module, requirement in SOURCE_ONLY.items():
        assert f"pip install '{requirement}'" in recorded["failed"][module]


def test_pythons_lists_interpreters_from_path_pyenv_and_uv(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    other = Path(_other()).resolve()
    uv = tmp_path / "uv" / f"cpython-{_other_version()}-linux-x86_64-gnu" / "bin"
    uv.mkdir(parents=True)
    (uv / "python3.12").symlink_to(other)
    env = {
        **cache,
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv"),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
    }
    proc = run_cli("pythons", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    this = next(ln for ln in lines if "this workbench" in ln)
    assert platform.python_version() in this
    assert "all" in this  # every dependency imports here
    found = next(ln for ln in lines if re.search(r"│ uv\s+│", ln))  # the source column
    assert _other_version() in found
    assert "free-threaded" in proc.stdout
    with_pyenv = run_cli("pythons", env=cache, timeout=120)
    assert "pyenv" in with_pyenv.stdout


def test_the_gil_lab_takes_a_version(tmp_path: Path) -> None:
    _other()
    out = tmp_path / "gil.json"
    proc = run_cli("gil", "--only", "5", "--python", "3.12", "--json", str(out), timeout=180)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["by_interpreter"][0]["interpreter"]["version"] == _other_version()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["io", "--python", "3.99"], "--python 3.99: no such interpreter"),
        (["io", "--python", "/no/such/python"], "no such interpreter"),
        (["io", "--env", "PYTHON_GIL=0|1"], "needs a free-threaded build"),
        (["gil", "--python", "3.99t"], "no such interpreter"),
        (["pythons", "prepare"], "pythons prepare needs the interpreter"),
    ],
)
def test_bad_interpreters_are_one_line(args: list[str], message: str) -> None:
    proc = run_cli(*args, "--quiet", timeout=120) if args[0] != "pythons" else run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
