"""Interpreters as a dimension, in-process: how `--python` values and `--env KEY=A|B` resolve
into variants, how rows are labelled and flagged, how cells are crossed with interpreters (and
skipped where one lacks a package), and how tables and `compare` put interpreters side by side.
No free-threaded interpreter exists on these machines, so its cases use recorded-shape metadata."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from workbench.allocators import ALLOCATORS, check_allocator, parse_allocators
from workbench.errors import UsageError
from workbench.harness.cell import Cell
from workbench.harness.runner import needs, with_interpreters
from workbench.harness.trust import flags_for
from workbench.interpreter_discovery import matches_spec
from workbench.interpreter_variants import check_env, env_variants, resolve
from workbench.interpreters import gil_reenabled, label_of, python_label
from workbench.report.compare import compare_docs
from workbench.report.table import io_table, print_io
from workbench.report.table_notes import notes
from workbench.results import cell_key, pythons_in
from workbench.testing import fake_interpreter, make_doc, make_row

FREE = {"python": "3.14.0", "free_threaded_build": True}


@pytest.mark.parametrize(
    ("version", "free", "gil", "label"),
    [
        ("3.11.7", False, True, "3.11.7 GIL on"),
        ("3.14.0", True, False, "3.14.0t GIL off"),
        ("3.14.0", True, True, "3.14.0t GIL on"),
        ("3.12.1", False, None, "3.12.1 GIL on"),  # before 3.13 there is no switch: on
    ],
)
def test_every_row_names_version_build_and_gil_state(
    version: str, free: bool, gil: bool | None, label: str
) -> None:
    assert python_label(version, free, gil) == label
    meta = {"python": version, "free_threaded_build": free, "gil_enabled": gil}
    assert label_of(meta) == label


@pytest.mark.parametrize(
    ("spec", "version", "free", "expected"),
    [
        ("3.13", "3.13.0", False, True),
        ("3.13", "3.13.0", True, False),  # 3.13 is the GIL build; 3.13t the other
        ("3.13t", "3.13.0", True, True),
        ("3.14t", "3.14.2", True, True),
        ("3.12.1", "3.12.1", False, True),
        ("3.12.1", "3.12.2", False, False),
        ("python3.12", "3.12.1", False, True),
        ("3.1", "3.13.0", False, False),  # not a prefix of the string: of the numbers
        ("latest", "3.13.0", False, False),
    ],
)
def test_version_specs_match_discovered_interpreters(
    spec: str, version: str, free: bool, expected: bool
) -> None:
    assert matches_spec(spec, {"version": version, "free_threaded_build": free}) is expected


def test_env_alternatives_make_one_variant_per_value() -> None:
    variants = env_variants({"PYTHON_GIL": "0|1", "MALLOC_ARENA_MAX": "2"})
    assert variants == [
        {"PYTHON_GIL": "0", "MALLOC_ARENA_MAX": "2"},
        {"PYTHON_GIL": "1", "MALLOC_ARENA_MAX": "2"},
    ]
    assert env_variants({}) == [{}]


def test_python_gil_needs_a_free_threaded_build() -> None:
    gil_build = fake_interpreter("3.13.0", env=(("PYTHON_GIL", "0"),))
    with pytest.raises(UsageError, match="needs a free-threaded build"):
        check_env(gil_build)
    free = fake_interpreter("3.14.0", free_threaded=True, gil_at_start=False)
    check_env(free)  # no error: neither unset nor either value
    for value in ("0", "1"):
        check_env(fake_interpreter("3.14.0", free_threaded=True, env=(("PYTHON_GIL", value),)))
    with pytest.raises(UsageError, match="0 or 1"):
        check_env(fake_interpreter("3.14.0", free_threaded=True, env=(("PYTHON_GIL", "2"),)))
    # And through resolve, on this (GIL) interpreter: refused before anything starts.
    with pytest.raises(UsageError, match="free-threaded"):
        resolve([], {"PYTHON_GIL": "0|1"})


def test_variant_names_say_what_the_gil_will_be() -> None:
    free = fake_interpreter("3.14.0", free_threaded=True, gil_at_start=False)
    assert free.name == "3.14.0t GIL off"
    forced = fake_interpreter(
        "3.14.0", free_threaded=True, gil_at_start=False, env=(("PYTHON_GIL", "1"),)
    )
    assert forced.name == "3.14.0t GIL on (PYTHON_GIL=1)"
    assert fake_interpreter("3.12.1").name == "3.12.1 GIL on"


def test_each_allocator_is_a_variant_named_on_its_rows() -> None:
    here = ".".join(map(str, sys.version_info[:3]))
    default, no_mmap = resolve([], {}, allocators=["default", "no-mmap"])
    assert default.env == ()
    assert dict(no_mmap.env) == ALLOCATORS["no-mmap"]
    assert no_mmap.name.endswith("(allocator no-mmap)")
    # The worker records its allocator settings; the row's label carries their name.
    meta = {"python": here, "allocator_env": ALLOCATORS["no-mmap"]}
    assert label_of(meta) == f"{here} GIL on · no-mmap"
    assert label_of({"python": here, "allocator_env": {}}) == f"{here} GIL on"
    assert label_of({"python": here, "allocator_env": {"MALLOC_ARENA_MAX": "2"}}).endswith(
        "· MALLOC_ARENA_MAX=2"
    )
    with pytest.raises(UsageError, match="both set PYTHONMALLOC"):
        resolve([], {"PYTHONMALLOC": "malloc"}, allocators=["pymalloc"])
    with pytest.raises(UsageError, match="unknown jemalloc"):
        parse_allocators("default,jemalloc")
    assert parse_allocators("no-mmap, default,no-mmap") == ["no-mmap", "default"]


def test_an_allocator_the_interpreter_lacks_is_refused() -> None:
    with pytest.raises(UsageError, match=r"mimalloc needs CPython 3\.13"):
        check_allocator("mimalloc", "3.11.7", False, "Python 3.11.7")
    check_allocator("mimalloc", "3.13.5", True, "Python 3.13.5t")
    with pytest.raises(UsageError, match="only allocator is mimalloc"):
        check_allocator("pymalloc", "3.13.5", True, "Python 3.13.5t")


@pytest.mark.parametrize(
    ("meta", "reenabled"),
    [
        ({**FREE, "gil_enabled": True, "python_gil_env": None}, True),
        ({**FREE, "gil_enabled": True, "python_gil_env": "1"}, False),  # asked for
        ({**FREE, "gil_enabled": False, "python_gil_env": None}, False),
        ({"python": "3.12.1", "free_threaded_build": False, "gil_enabled": True}, False),
    ],
)
def test_a_gil_switched_back_on_is_flagged(meta: dict[str, Any], reenabled: bool) -> None:
    assert gil_reenabled(meta) is reenabled
    flags = flags_for(make_row(metadata=meta), client_cpus=2)
    assert ("gil-reenabled" in flags) is reenabled


def test_without_a_gil_threads_can_use_every_cpu_before_they_are_client_bound() -> None:
    one_core = {"cpu_s": 1.0, "processes": 1, "server_cpu_util": 0.3}
    with_gil = make_row(**one_core, metadata={"gil_enabled": True})
    without = make_row(**one_core, metadata={**FREE, "gil_enabled": False})
    assert "client-bound" in flags_for(with_gil, client_cpus=2)
    assert "client-bound" not in flags_for(without, client_cpus=2)
    busy = make_row(**{**one_core, "cpu_s": 1.9}, metadata={**FREE, "gil_enabled": False})
    assert "client-bound" in flags_for(busy, client_cpus=2)


def test_cells_cross_interpreters_interleaved_and_skip_what_one_cannot_import() -> None:
    here = fake_interpreter("3.11.7")
    other = fake_interpreter(
        "3.14.0",
        free_threaded=True,
        gil_at_start=False,
        missing=(("uvloop", "no wheel for this build"),),
    )
    cells = [
        Cell("uvloop", "raw", "http"),
        Cell("threads", "raw", "http"),
        Cell("asyncio", "aiohttp", "http"),
    ]
    assert needs(cells[0]) == ["uvloop"]
    assert needs(cells[2]) == ["aiohttp"]
    planned, skipped = with_interpreters(cells, [here, other])
    assert [(c.model, c.python) for c in planned] == [
        ("uvloop", here),
        ("threads", here),
        ("threads", other),
        ("asyncio", here),
        ("asyncio", other),
    ]
    assert skipped == [
        {
            "cell": "uvloop · raw · http",
            "python": "3.14.0t GIL off",
            "reason": "needs uvloop (no wheel for this build)",
        }
    ]
    assert planned[2].label == "threads · raw · http · 3.14.0t GIL off"
    # One interpreter with everything: the plan is untouched.
    assert with_interpreters(cells, [here]) == (cells, [])
    nothing = fake_interpreter(
        "3.14.0", free_threaded=True, missing=(("uvloop", "x"), ("aiohttp", "x"))
    )
    with pytest.raises(UsageError, match="no cell can run"):
        with_interpreters([cells[0], cells[2]], [nothing])


def _two_python_doc() -> Any:
    rows = []
    for model, base in (("uvloop", 40_000.0), ("threads", 10_000.0)):
        for python, factor in (("3.11.7 GIL on", 1.0), ("3.14.0t GIL off", 1.5)):
            rate = base * factor
            rows.append(
                make_row(
                    model=model,
                    python=python,
                    ops_per_s=rate,
                    ops_per_s_ci=[rate * 0.98, rate * 1.02],
                    repeats={
                        "ops_per_s": [rate * f for f in (0.99, 1.0, 1.01, 1.0)],
                        "median": rate,
                        "spread": 0.02,
                    },
                )
            )
    doc = make_doc(*rows)
    doc["metadata"] = {
        "settings": {"clients": 100, "duration": 2, "warmup": 0.5, "latency": 0, "work": None},
        "parent": {"python": "3.11.7"},
        "pinning": {"server_cpus": None, "client_cpus": None},
        "servers": {"http": {"url": "http://127.0.0.1:1/"}},
        "skipped": [{"cell": "uvloop · aiohttp · http", "python": "3.14.0t GIL off",
                     "reason": "needs aiohttp (no wheel)"}],
    }  # fmt: skip
    return doc


def test_the_table_shows_interpreters_side_by_side_with_their_ratio() -> None:
    doc = _two_python_doc()
    console = Console(width=220, record=True)
    console.print(io_table(doc))
    text = console.export_text()
    assert "× 3.11.7" in text
    lines = [ln for ln in text.splitlines() if " raw " in ln]
    assert [ln.split()[0] for ln in lines] == ["uvloop"] * 2 + ["threads"] * 2
    assert "3.14.0t GIL off" in lines[1] and "1.50" in lines[1]  # noqa: PT018
    assert "3.11.7 GIL on" in lines[2] and "1.00" in lines[2]  # noqa: PT018
    said = "\n".join(notes(doc))
    assert "skipped under Python 3.14.0t GIL off: uvloop · aiohttp · http" in said
    # Printed as text, not rich markup: "[io-uring]" in an install hint reaches the reader.
    doc["metadata"]["skipped"].append(
        {"cell": "asyncio · io_uring · file-read", "reason": "pip install '.[io-uring]'"}
    )
    console = Console(width=220, record=True)
    print_io(doc, console)
    assert "skipped: asyncio · io_uring · file-read: pip install '.[io-uring]'" in (
        console.export_text()
    )


def test_compare_pairs_rows_across_interpreters() -> None:
    doc = _two_python_doc()
    assert pythons_in(doc["results"]) == ["3.11.7 GIL on", "3.14.0t GIL off"]
    # Without interpreters named, a row pairs only with the same interpreter's.
    same = compare_docs(doc, doc)
    assert all(c["ratio"] == pytest.approx(1.0) for c in same["comparisons"])
    across = compare_docs(doc, doc, "3.11", "3.14.0t")
    assert len(across["comparisons"]) == 2
    for c in across["comparisons"]:
        assert c["ratio"] == pytest.approx(1.5)
        assert c["verdict"] == "faster"
    assert cell_key(doc["results"][0], with_python=False) == cell_key(
        doc["results"][1], with_python=False
    )
    with pytest.raises(UsageError, match=r"no rows ran under Python 3\.9"):
        compare_docs(doc, doc, "3.9", "3.14")


def test_pythons_says_which_models_and_clients_an_interpreter_can_run() -> None:
    from workbench.interpreters import MODULES
    from workbench.report.pythons_table import runnable

    everything: dict[str, str | None] = dict.fromkeys(MODULES)
    assert runnable(everything) == "all"
    assert runnable({**everything, "uvloop": "no wheel"}) == (
        "all but uvloop, processes-uvloop, uvloop-threads"
    )
    assert (
        runnable({**everything, "aiohttp": "ModuleNotFoundError"}) == "all but aiohttp, aiohttp-ws"
    )
    assert runnable({**everything, "psutil": "ModuleNotFoundError"}).startswith("none")


def test_another_interpreter_sees_the_workbench_and_not_this_ones_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.interpreters import package_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checkout = tmp_path / "checkout"
    assert package_path(str(checkout)) == str(checkout)  # a checkout is already just the code
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for name in ("workbench", "servers", "uvloop", "aiohttp"):
        (site / name).mkdir(parents=True)
    path = Path(package_path(str(site)))
    assert sorted(p.name for p in path.iterdir()) == ["servers", "workbench"]
    assert (path / "workbench").resolve() == site / "workbench"
    assert package_path(str(site)) == str(path)  # made once, reused


def test_prepare_sets_aside_the_package_pip_names_and_builds_it_unless_wheels_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workbench import interpreter_envs as envs

    pending = {"uvloop": "uvloop>=0.19", "trio": "trio>=0.25", "psycopg": "psycopg[binary]"}
    said = (
        "Could not find a version that satisfies the requirement uvloop>=0.19 (from versions: none)"
    )
    assert envs._named_in(said, pending) == "uvloop"
    assert envs._named_in("requirement psycopg-binary==3.2 (from psycopg)", pending) is None
    assert envs._named_in("No space left on device", pending) is None
    runs: list[tuple[bool, list[str]]] = []

    def pip(venv: object, from_source: bool, requirements: list[str]) -> str | None:
        runs.append((from_source, requirements))
        return None if from_source else "no wheel"

    monkeypatch.setattr(envs, "_pip_install", pip)
    notes: list[str] = []
    # Named by pip already: straight to the source build, no run of its own from wheels.
    assert envs._install_alone(Path("py"), "optional", "uvloop", "uvloop>=0.19", said, False,
                               notes.append) is None  # fmt: skip
    assert runs == [(True, ["uvloop>=0.19"])]
    runs.clear()
    got = envs._install_alone(Path("py"), "optional", "psycopg", "psycopg[binary]", None, True,
                              notes.append)  # fmt: skip
    assert got == "no wheel (not built from source: --wheels-only)"
    assert runs == [(False, ["psycopg[binary]"])]  # tried from wheels, never built
