"""Planning, checking and row building, in-process: the registries, the cell kinds, the settings'
checks (as the CLI reports them), and a row built from a recorded run."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import BAD_INPUT, known
from workbench.cli import main
from workbench.clients import CLIENTS, fits, load_client
from workbench.errors import MissingDependency, UsageError
from workbench.harness.cell import Cell, CellRun
from workbench.harness.cell_kind_base import Pinning
from workbench.harness.cell_kinds import KINDS, DiskCells, NetworkCells, kind_of
from workbench.harness.plan import plan_cells, validate
from workbench.harness.rows import summarise
from workbench.harness.settings import IoSettings
from workbench.metrics import ClientRecorder, Recording
from workbench.models import DEFAULT_MODELS, MODEL_NAMES, model_class
from workbench.workloads import (
    PROTOCOLS,
    SERVER_KINDS,
    WORKLOAD_NAMES,
    Target,
    WorkloadSettings,
    build_workload,
    protocol_of,
    workloads_of,
)


def test_every_workload_builds_from_its_registry_entry() -> None:
    target = Target("http", "127.0.0.1", 9, "/")
    for name in workloads_of("network"):
        workload = build_workload(WorkloadSettings(name, target))
        assert workload.name == name
        if name.startswith("ws-"):  # a session per connection (wsproto), not an exchange
            with pytest.raises(NotImplementedError):
                workload.exchange()
            continue
        assert workload.exchange().request  # bytes to send, built without I/O
    with pytest.raises(UsageError, match="needs a file set"):
        build_workload(WorkloadSettings("file-read", target))
    with pytest.raises(UsageError, match="unknown workload 'ftp'"):
        build_workload(WorkloadSettings("ftp", target))


def test_protocols_name_their_servers_and_cell_kinds_once() -> None:
    assert SERVER_KINDS == ("http", "echo", "websocket", "h2")
    assert {p.cells for p in PROTOCOLS.values()} == set(KINDS)
    kinds = ("network", "disk", "db", "served")
    assert set().union(*(workloads_of(k) for k in kinds)) == set(WORKLOAD_NAMES)
    assert isinstance(kind_of("echo"), NetworkCells)
    assert isinstance(kind_of("file-write"), DiskCells)
    assert protocol_of("http-upload").server == "http"


def test_default_plan_is_raw_on_every_model_then_its_library_cells() -> None:
    cells = plan_cells(IoSettings())
    pairs = [(c.model, c.client) for c in cells]
    assert [m for m, c in pairs if c == "raw"] == list(DEFAULT_MODELS)
    assert set(MODEL_NAMES) - set(DEFAULT_MODELS) == {"gevent", "asyncio-threads", "uvloop-threads"}
    assert pairs.index(("asyncio", "aiohttp")) == pairs.index(("asyncio", "raw")) + 1
    assert ("threads", "urllib3") in pairs
    assert ("threads", "requests") not in pairs  # 500 threads of it: past the default's 90 s


def test_libs_plan_every_model_the_library_fits() -> None:
    cells = plan_cells(IoSettings(libs=["httpx", "aiohttp"]))
    for c in cells:
        assert fits(c.client, model_class(c.model).family, c.workload)
    assert {c.client for c in cells if c.model == "trio"} == {"httpx"}
    assert {c.client for c in cells if c.model == "asyncio"} == {"httpx", "aiohttp"}


def test_disk_plan_crosses_sizes_caches_and_pool_sizes() -> None:
    settings = IoSettings(
        workloads=["file-read", "file-write"],
        file_sizes=[4096, 1 << 20],
        cache=["warm", "cold"],
        pool_sizes=[8, 32],
        models=["threads", "asyncio"],
    )
    cells = plan_cells(settings)
    reads = [c for c in cells if c.workload == "file-read"]
    writes = [c for c in cells if c.workload == "file-write"]
    # threads·os at 2 pool sizes, asyncio·aiofiles and asyncio·io_uring, for 2 sizes and 2
    # caches; writes: no cache.
    assert len(reads) == 4 * 2 * 2
    assert len(writes) == 4 * 2
    assert {c.cache for c in writes} == {None}
    assert {c.clients for c in reads if c.model == "threads"} == {8, 32}
    every = plan_cells(IoSettings(workloads=["file-read"], disk_cells="every", models=["trio"]))
    assert {c.client for c in every} == {n for n in CLIENTS if fits(n, "trio", "file-read")}


def test_an_empty_plan_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="no \\(model, client, workload\\)"):
        plan_cells(IoSettings(models=["trio"], libs=["urllib3"]))


def test_each_kind_checks_only_its_own_settings() -> None:
    validate(IoSettings(pool_sizes=[0]))  # no disk workload: the pool size is not read
    with pytest.raises(UsageError, match="--pool-sizes must be at least 1"):
        validate(IoSettings(workloads=["file-read"], pool_sizes=[0]))
    with pytest.raises(UsageError, match="one protocol"):
        validate(IoSettings(workloads=["http", "echo"], url="http://127.0.0.1:9/"))


def test_pinning_keeps_the_server_off_the_clients_cores() -> None:
    pinning = Pinning.plan(True)
    if pinning.server_cpus is None:
        pytest.skip("one CPU: nothing to pin apart")
    assert pinning.client_cpus is not None
    assert not pinning.server_cpus & pinning.client_cpus
    assert Pinning.plan(False) == Pinning(None, None)
    assert KINDS["disk"].client_cpus(pinning) is None  # no server to keep a core for


def _run(rate: float, window_s: float = 1.0, server_cpu: float | None = 0.5) -> CellRun:
    users = [ClientRecorder() for _ in range(2)]
    per_user = round(rate * window_s / 2)
    for u in users:
        u.latencies.extend([2_000_000] * per_user)  # 2 ms each
        u.bytes = 100 * per_user
    rec = Recording.from_clients(users)
    rec.users_warm = rec.users_started = 2
    rec.cpu_user_s, rec.cpu_sys_s = 0.3, 0.1
    return CellRun(rec, server_cpu, window_s, {"python": "3.x"}, 0.2)


def test_row_takes_the_median_run_and_the_spread_of_all() -> None:
    settings = IoSettings(latency=0.02)
    runs = [_run(1000), _run(1200), _run(800)]
    row = summarise(Cell("uvloop", "raw", "http"), runs, settings, 2, client_cpus=1)
    assert row["ops_per_s"] == pytest.approx(1000)
    assert row["repeats"]["ops_per_s"] == [1000, 1200, 800]
    assert row["repeats"]["spread"] == pytest.approx(0.4)
    assert "noisy" not in row["flags"]  # a spread is what the interval shows
    assert row["ops_per_s_ci"] is not None
    assert row["bound_ops_per_s"] == pytest.approx(100)  # 2 clients / 20 ms
    assert known(row["latency_ms"]["p50"]) == pytest.approx(2.0, rel=0.01)
    assert row["cpu_us_per_op"] == pytest.approx(400)
    assert row["server_cpu_util"] == pytest.approx(0.5)
    assert row["work"] is None
    assert "file_size" not in row
    ci = row["ops_per_s_ci"]  # from the rounds, not one window
    assert ci is not None
    assert ci[0] < 800 < 1200 < ci[1]
    assert row["repeats"].get("cpu_us_per_op") == [400.0, pytest.approx(333.333), 500.0]


def test_a_round_that_is_not_the_median_still_counts() -> None:
    """Errors, a cold start and a busy server in the fastest and slowest rounds show on the row,
    though the median round had none of them."""
    fast, median, slow = _run(1200), _run(1000), _run(800, server_cpu=0.95)
    fast.recording.errors.update({"reset": 3})
    slow.recording.errors.update({"reset": 1, "check:body": 2})
    slow.recording.users_warm = 1  # slow to warm, but it ran
    fast.recording.users_started = fast.recording.users_warm = 1  # a user never got going
    row = summarise(Cell("uvloop", "raw", "http"), [fast, median, slow], IoSettings(), 2, 1)
    assert row["ops_per_s"] == pytest.approx(1000)
    assert row["repeats"].get("errors") == [3, 0, 3]
    assert row["errors"] == 6 == sum(row["repeats"].get("errors", []))
    assert row["errors_by_kind"] == {"reset": 4, "check:body": 2}
    assert row["ops"] == 3000 == sum(row["repeats"].get("ops", []))
    assert row["error_rate"] == pytest.approx(6 / 3006, abs=1e-5)
    assert row["users_warm"] == 1
    assert row.get("users_started") == 1
    assert row["repeats"].get("users_warm") == [1, 2, 1]
    assert row["server_cpu_util"] == pytest.approx(0.95)  # the worst round's
    assert {"errors", "not-warm", "server-bound"} <= set(row["flags"])
    # The same cold start that then ran is a ramp, not a collapse.
    fast.recording.users_started = 2
    row = summarise(Cell("uvloop", "raw", "http"), [fast, median, slow], IoSettings(), 2, 1)
    assert "late-warm" in row["flags"]
    assert "not-warm" not in row["flags"]


def test_cpu_read_late_is_scaled_to_the_window_and_flagged() -> None:
    """A worker whose CPU-reading thread woke 2 s late (starved of the GIL) read 3 s of CPU for
    a 1 s window: the row scales it back and says so."""
    late = _run(1000)
    late.recording.usage_span_s = 3.0  # cpu 0.4 s over 3 s: 0.133 s in the window's 1 s
    on_time = _run(1000)
    on_time.recording.usage_span_s = 1.0
    row = summarise(Cell("threads", "raw", "idle"), [late], IoSettings(), 2, 1)
    assert row["cpu_s"] == pytest.approx(0.4 / 3, rel=1e-3)
    assert row["cpu_us_per_op"] == pytest.approx(0.4 / 3 / 1000 * 1e6, rel=1e-3)
    assert "cpu-late" in row["flags"]
    row = summarise(Cell("threads", "raw", "idle"), [on_time], IoSettings(), 2, 1)
    assert row["cpu_s"] == pytest.approx(0.4)
    assert "cpu-late" not in row["flags"]


def test_cpu_read_over_a_shorter_or_shifted_span_is_flagged() -> None:
    """The start read late shortens the span (10,000 threads: 0.08 s read for a 0.75 s window,
    whose CPU the row then showed as eight cores busy): scaled and flagged too. So is a reading
    whose span is right but lies seconds after the window, in the users' exit."""
    short = _run(1000)
    short.recording.usage_span_s = 0.5
    row = summarise(Cell("threads", "raw", "idle"), [short], IoSettings(), 2, 1)
    assert row["cpu_s"] == pytest.approx(0.8)
    assert "cpu-late" in row["flags"]
    shifted = _run(1000)
    shifted.recording.usage_span_s = 1.0
    shifted.recording.usage_off_s = 2.0
    row = summarise(Cell("threads", "raw", "idle"), [shifted], IoSettings(), 2, 1)
    assert row["cpu_s"] == pytest.approx(0.4)
    assert "cpu-late" in row["flags"]


def test_an_even_number_of_rounds_has_a_true_median() -> None:
    runs = [_run(1000), _run(1400), _run(800), _run(1200)]
    row = summarise(Cell("uvloop", "raw", "http"), runs, IoSettings(), 2, client_cpus=1)
    assert row["ops_per_s"] == pytest.approx(1100)  # not the upper-middle round's 1200
    assert row["repeats"]["median"] == pytest.approx(1100)
    # Every round's latencies, not the median round's alone.
    total = sum(r.recording.ops for r in runs)
    assert row["latency_ms"]["p50"] == pytest.approx(2.0, rel=0.01)
    from hdrh.histogram import HdrHistogram

    assert HdrHistogram.decode(row["histogram"].encode("ascii")).get_total_count() == total
    one = summarise(Cell("uvloop", "raw", "http"), runs[:1], IoSettings(), 2, client_cpus=1)
    assert one["ops_per_s_ci"] is None  # one round: nothing about the next run


def test_disk_row_adds_its_fields_and_no_bound() -> None:
    run = _run(500, server_cpu=None)
    run.recording.extras = [
        {"hop_us": 60.0, "hops_per_op": 3, "evicted": True, "filesystem": "ext4"}
    ]
    cell = Cell("asyncio", "aiofiles", "file-read", 8, 1 << 20, "cold")
    row = summarise(cell, [run], IoSettings(latency=0.02, work="python:1ms"), 8, client_cpus=2)
    assert row["work"] is None
    assert "bound_ops_per_s" not in row
    assert (row.get("file_size"), row.get("cache"), row.get("hops_per_op")) == (1 << 20, "cold", 3)
    assert row.get("evicted") is True
    assert row.get("files_per_s") == pytest.approx(500)
    assert row["server_cpu_s"] is None


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2_in_process(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_optional_packages_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)
    with pytest.raises(MissingDependency, match="pip install uvloop"):
        model_class("uvloop")
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    monkeypatch.delitem(sys.modules, "workbench.clients.aiohttp_client", raising=False)
    with pytest.raises(MissingDependency, match="pip install aiohttp"):
        load_client("aiohttp", "asyncio")


def test_default_plan_has_raw_for_every_model_and_the_library_cells() -> None:
    cells = plan_cells(IoSettings())
    assert {c.model for c in cells if c.client == "raw"} == set(IoSettings().models)
    assert ("asyncio", "aiohttp") in {(c.model, c.client) for c in cells}
    every = plan_cells(IoSettings(libs=["httpx"]))
    assert {c.model for c in every} == set(IoSettings().models) - {"processes-uvloop"} | {
        "processes-uvloop"
    }


def test_gevent_runs_no_disk_cells_and_says_so() -> None:
    # Its file reads would block the hub: no disk cell is planned for it, and asking for one alone
    # is a clear error rather than a row of starved users.
    cells = plan_cells(IoSettings(models=["gevent", "threads"], workloads=["http", "file-read"]))
    assert {(c.model, c.workload) for c in cells if c.model == "gevent"} == {("gevent", "http")}
    with pytest.raises(UsageError, match=r"no .* combination fits"):
        plan_cells(IoSettings(models=["gevent"], workloads=["file-read"]))
