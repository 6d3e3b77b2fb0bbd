"""What a newcomer meets first, checked in process: `disk` answers in a minute or two by default
(the full matrix behind --full, its time said first), tables fit 120 columns, a log gets plain
progress lines, and options that do not apply to what is run are refused or honoured."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from rich.console import Console

from workbench.cli import build_parser, main
from workbench.cli.commands import expected_time
from workbench.cli.options import io_settings
from workbench.errors import UsageError
from workbench.harness.cell import Cell, CellRun
from workbench.harness.plan import plan_cells
from workbench.harness.runner import refuse_gil_reenabled, refuse_misconfigured
from workbench.harness.settings import IoSettings
from workbench.metrics import Recording, error_kind
from workbench.report.progress import LinesObserver, progress_on
from workbench.report.table import print_io
from workbench.results import ResultDoc
from workbench.testing import make_doc, make_row

LONGEST_MODEL = "processes-uvloop"


def _settings(*argv: str) -> IoSettings:
    return io_settings(build_parser().parse_args(list(argv)))


def test_disk_by_default_reads_with_each_file_api_once() -> None:
    s = _settings("disk")
    cells = plan_cells(s)
    assert s.workloads == ["file-read"]
    assert s.pool_sizes == [8]
    pairs = {(c.model, c.client) for c in cells}
    assert len(pairs) == len(cells) // len(s.file_sizes)  # each pair once per size
    every_api = {
        "os",
        "aiofiles",
        "to_thread",
        "trio-path",
        "trio-file",
        "anyio-path",
        "anyio-file",
    }
    assert {client for _, client in pairs} >= every_api
    # Each round costs its warm-up and window and a worker's start: two minutes hold them all.
    assert len(cells) * s.repeat * (s.warmup + s.duration + 0.8) <= 120


def test_disk_full_is_the_whole_matrix_and_says_how_long_first() -> None:
    quick, full = _settings("disk"), _settings("disk", "--full")
    assert full.workloads == ["file-read", "file-read-chunked", "file-write"]
    assert full.pool_sizes == [8, 32]
    assert len(plan_cells(full)) > 3 * len(plan_cells(quick))
    said = expected_time(full)
    assert f"{len(plan_cells(full))} cells" in said
    assert "minutes expected" in said
    mine = _settings("disk", "--full", "--workloads", "file-write", "--duration", "1")
    assert mine.workloads == ["file-write"]  # what the user says wins over either default
    assert mine.duration == 1.0


@pytest.mark.parametrize(
    ("argv", "workloads"),
    [(["io", "--only", "db", "--workloads", "pg-insert"], ["pg-insert"]),
     (["io", "--only", "net", "--workloads", "http,echo"], ["http", "echo"]),
     (["io", "--workloads", "https,file-write"], ["https", "file-write"]),
     (["io"], ["http", "file-read"]), (["net"], ["http"])],
)  # fmt: skip
def test_workloads_name_any_kind_and_count_for_it(argv: list[str], workloads: list[str]) -> None:
    assert _settings(*argv).workloads == workloads


def _wide_doc(pythons: bool = False) -> ResultDoc:
    long = make_row(model=LONGEST_MODEL, client="http.client", flags=["client-bound", "noisy"],
                    ops_per_s=123_456.0)  # fmt: skip
    rows = [long, make_row(model="anyio-asyncio", client="urllib3")]
    if pythons:  # every row twice: the widest table, interpreters side by side
        rows += [{**r, "python": "3.13.5t GIL off"} for r in rows]
    doc = make_doc(*rows)
    doc["metadata"] = {
        "settings": {"clients": 500, "duration": 0.75, "warmup": 0.3, "latency": 0.02,
                     "work": None},
        "parent": {"python": "3.11"},
        "pinning": {"server_cpus": [1], "client_cpus": [0]},
        "servers": {"http": {"url": "http://127.0.0.1:1/"}},
    }  # fmt: skip
    return doc


@pytest.mark.parametrize("pythons", [False, True], ids=["one-python", "two-pythons"])
@pytest.mark.parametrize("wide", [False, True], ids=["default", "wide"])
def test_the_default_table_fits_120_columns(wide: bool, pythons: bool) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200 if wide else 120, color_system=None)
    print_io(_wide_doc(pythons), console, wide)
    lines = out.getvalue().splitlines()
    widest = max(len(line.rstrip()) for line in lines)
    header = next(line for line in lines if "model" in line and "client" in line)
    if wide:
        assert "p99.9 ms" in header
        assert "RSS MB" in header
    else:
        assert widest <= 120
        assert "p99.9 ms" not in header
        assert "…" not in out.getvalue()  # nothing cut short to fit
        assert "p99 ms" in header


def test_a_log_gets_a_progress_line_every_few_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr("workbench.report.progress.time.monotonic", lambda: now[0])
    out = io.StringIO()
    console = Console(file=out, width=80)
    with progress_on(console) as observer:
        assert isinstance(observer, LinesObserver)  # not a terminal: plain lines
        observer.start(40)
        cell = Cell("threads", "raw", "http", 100)
        for i in range(40):  # a cell a second
            now[0] += 1.0
            observer.cell(i, cell, 0)
            observer.done(cell, make_row(model="threads"))
    lines = out.getvalue().splitlines()
    assert 7 <= len(lines) <= 9  # one every 5 s, and the last
    assert lines[-1].startswith("[40 s] 40 of 40 cells done")
    assert all(len(line) > 80 or line == line.strip() for line in lines)  # never wrapped


def test_an_option_for_cells_not_run_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["io", "--only", "db", "--workloads", "http"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--only net or all does" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("errors", "ops", "stops"),
    [({"tls-verify": 40}, 0, "--ca-file"), ({"refused": 9}, 0, "--url"),
     ({"auth": 3}, 0, "--pg-url"), ({"tls-verify": 40}, 5, None), ({"reset": 40}, 0, None),
     ({"refused": 4, "timeout": 1}, 0, None)],
)  # fmt: skip
def test_a_first_cell_that_only_failed_for_its_setup_stops_the_run(
    errors: dict[str, int], ops: int, stops: str | None
) -> None:
    """Every operation of the first cell failed with one configuration error: one line naming
    what fixes it. A model that did badly (some operations, or other errors) is measured."""
    recording = Recording(ops=ops, errors=Counter(errors))
    run = CellRun(recording, None, 1.0, {}, None)
    if stops is None:
        refuse_misconfigured(run)
        return
    with pytest.raises(UsageError, match=re.escape(stops)):
        refuse_misconfigured(run)


def test_authentication_failures_are_named_whichever_driver_raised() -> None:
    class InvalidPasswordError(Exception):  # asyncpg's name
        pass

    assert error_kind(InvalidPasswordError("x")) == "auth"
    assert error_kind(RuntimeError('password authentication failed for user "me"')) == "auth"


@pytest.mark.parametrize(
    ("metadata", "refused"),
    [({"free_threaded_build": True, "gil_enabled": True, "python_gil_env": None}, True),
     ({"free_threaded_build": True, "gil_enabled": True, "python_gil_env": "1"}, False),
     ({"free_threaded_build": True, "gil_enabled": False, "python_gil_env": None}, False),
     ({"free_threaded_build": False, "gil_enabled": True, "python_gil_env": None}, False)],
    ids=["switched-back-on", "asked-for", "off", "gil-build"],
)  # fmt: skip
def test_a_free_threaded_row_measured_with_the_gil_on_by_accident_is_refused(
    metadata: dict[str, object], refused: bool
) -> None:
    run = CellRun(Recording(ops=10), None, 1.0, {"python": "3.13.5", **metadata}, None)
    if refused:
        with pytest.raises(UsageError, match="refused; --env PYTHON_GIL=1"):
            refuse_gil_reenabled(run)
    else:
        refuse_gil_reenabled(run)
