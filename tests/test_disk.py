"""Disk: the file generator, the page-cache helpers, and every file API on every model."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import all_cells, known, run_cli, skip_if_missing, skip_unless_ci
from workbench import fileset
from workbench.errors import UsageError
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.report.schema import schema_problems
from workbench.results import Row

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow


def _tested(model: str, client: str, workload: str) -> bool:
    # A loop per thread runs asyncio's file clients unchanged (they are checked on asyncio and
    # uvloop): one cell shows they work there too, without every pair again. io_uring's
    # operations are one module whatever the loop: every workload on asyncio and trio (its two
    # drivers), file-read on uvloop and on anyio (whose driver follows its backend).
    if model.endswith("-threads"):
        return (model, client, workload) == ("uvloop-threads", "to_thread", "file-read")
    if client == "io_uring":
        return model in ("asyncio", "trio") or (
            workload == "file-read" and model in ("uvloop", "anyio-trio")
        )
    return True


DISK_CELLS = [c for c in all_cells(disk=True) if _tested(*c)]
SMALL = 16 * 1024


@pytest.fixture(scope="module")
def files_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files")
    fileset.generate(root, 64, (SMALL,))
    return root


def disk_row(root: Path, model: str, client: str, workload: str, **extra: Any) -> Row:
    options: dict[str, Any] = dict(
        models=[model],
        libs=[client],
        workloads=[workload],
        duration=0.3,
        warmup=0.1,
        repeat=1,
        file_dir=str(root),
        file_sizes=[SMALL],
        file_set_bytes=64 * SMALL,
        disk_clients=4,
        pool_sizes=[4],
        write_budget=64 << 20,
    )
    settings = IoSettings(**{**options, **extra})
    doc = run_io(settings)
    assert schema_problems(doc) == []
    (row,) = doc["results"]
    rounds = len(row["repeats"]["ops_per_s"])
    assert rounds == settings.repeat
    if rounds == 1:  # no interval between runs from one round; its window's is there
        ci = row.get("window_ci")
        assert ci is not None
        assert ci[0] - 0.01 <= row["ops_per_s"] <= ci[1] + 0.01
        assert row["ops_per_s_ci"] is None
        assert row.get("mb_per_s_ci") is None
    else:
        for rate, interval in (
            (row["ops_per_s"], row["ops_per_s_ci"]),
            (row["mb_per_s"], row.get("mb_per_s_ci")),
        ):
            assert interval is not None  # both intervals, bracketing the rates
            assert interval[0] - 0.01 <= rate <= interval[1] + 0.01
    return row


@pytest.mark.parametrize(
    ("model", "client", "workload"), DISK_CELLS, ids=["/".join(c) for c in DISK_CELLS]
)
def test_disk_cell_completes_with_verified_bytes(
    files_root: Path, model: str, client: str, workload: str
) -> None:
    skip_if_missing(model, client)
    row = disk_row(files_root, model, client, workload)
    assert row["errors_by_kind"] == {}
    assert row["ops"] > 0, {k: row.get(k) for k in ("flags", "users_warm", "ramp_s", "window_s")}
    assert row["bytes"] == row["ops"] * SMALL  # every read or write was checked for its length
    assert row["files_per_s"] > 0
    assert row["mb_per_s"] == pytest.approx(row["bytes"] / row["window_s"] / 1e6, rel=0.01)
    if workload == "file-write":
        assert row["written_files"] >= row["ops"]  # all read back after the window, none bad
    if client == "io_uring":
        assert (row["hops_per_op"], row.get("hop_us")) == (0, None)  # the loop's thread only
    elif client != "os":
        assert row["hops_per_op"] >= 1
        assert known(row.get("hop_us")) > 0


@pytest.mark.parametrize("model", ["threads", "processes"])
def test_warm_up_cannot_spend_the_write_budget(files_root: Path, model: str) -> None:
    # 4 MiB is 256 files: half a second of warm-up writes far more on any machine, so without
    # the warm-up allowance the window would open on a spent budget and count nothing.
    budget = 4 << 20
    row = disk_row(
        files_root, model, "os", "file-write", warmup=0.5, duration=0.3, write_budget=budget
    )
    assert row["errors_by_kind"] == {}  # every file, recycled or not, read back intact
    assert row["ops"] > 0, row["flags"]
    assert row["ops"] * SMALL >= budget // 2  # the window had most of the budget
    assert row["written_files"] * SMALL <= budget  # and the disk never held more than it


def test_corrupt_file_is_a_counted_error(tmp_path: Path) -> None:
    fs = fileset.generate(tmp_path, 16, (SMALL,))  # the smallest set the runner asks for
    for entry in fs.files:  # same length, different bytes: only the CRC can tell
        Path(fs.path(entry)).write_bytes(b"\0" * SMALL)
    row = disk_row(tmp_path, "sync", "os", "file-read", file_set_bytes=16 * SMALL)
    assert row["errors_by_kind"].get("corrupt-read", 0) > 0


def test_cold_cache_is_evicted_and_checked(files_root: Path) -> None:
    if shutil.which("fincore") is None:
        skip_unless_ci("fincore (util-linux) is not installed")
    fs = fileset.load(next(files_root.glob("wb-*")))
    assert fs is not None
    paths = [fs.path(e) for e in fs.files[:8]]
    for p in paths:
        Path(p).read_bytes()
    assert fileset.resident_bytes(paths) == 8 * SMALL
    for p in paths:
        fileset.evict(p, flush=True)
    assert fileset.resident_bytes(paths) == 0
    row = disk_row(files_root, "threads", "os", "file-read", cache=["cold"], repeat=2)
    assert row.get("evicted") is True
    assert "not-evicted" not in row["flags"]
    assert "eviction-unchecked" not in row["flags"]


def test_cold_cache_without_fincore_is_flagged_unchecked(files_root: Path, tmp_path: Path) -> None:
    # The workers find no fincore on their PATH: eviction cannot be checked, and the row says so.
    row = disk_row(
        files_root, "threads", "os", "file-read", cache=["cold"], env={"PATH": str(tmp_path)}
    )
    assert row.get("evicted") is None
    assert "eviction-unchecked" in row["flags"]


def test_generator_reuses_and_refuses(tmp_path: Path) -> None:
    first = fileset.generate(tmp_path, 10, (SMALL, 4096), "compressible")
    stamp = [os.stat(first.path(e)).st_mtime_ns for e in first.files]
    again = fileset.generate(tmp_path, 10, (SMALL, 4096), "compressible")
    assert again == first
    assert [os.stat(again.path(e)).st_mtime_ns for e in again.files] == stamp
    assert {e.size for e in first.files} == {SMALL, 4096}
    # A directory the workbench did not make is neither written into nor deleted.
    foreign = tmp_path / fileset.set_name(5, (SMALL,), "random")
    foreign.mkdir()
    (foreign / "precious.txt").write_text("mine")
    with pytest.raises(UsageError, match="not made by the workbench"):
        fileset.generate(tmp_path, 5, (SMALL,))
    with pytest.raises(UsageError, match="not a file set made by the workbench"):
        fileset.remove(foreign)
    assert (foreign / "precious.txt").read_text() == "mine"
    # remove() deletes exactly what generate() made.
    assert fileset.remove(first.directory) == 10
    assert not first.directory.exists()


def _one_clear_line(proc: subprocess.CompletedProcess[str], message: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def _cap_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write past the cap fails, not kills
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


def test_file_size_cap_while_generating_is_a_clear_error(tmp_path: Path) -> None:
    proc = run_cli(
        "files",
        "generate",
        "--dir",
        str(tmp_path),
        "--count",
        "4",
        "--size",
        "1MiB",
        preexec_fn=_cap_file_size,
    )
    _one_clear_line(proc, "cannot write files in")
    assert not list(tmp_path.glob("wb-*/f*.bin"))  # the partial set was cleaned up


@contextlib.contextmanager
def _mounted_tmpfs(path: Path, options: str) -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_disk_full_while_generating_is_a_clear_error(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny"
    with _mounted_tmpfs(tiny, "size=256k"):
        proc = run_cli("files", "generate", "--dir", str(tiny), "--count", "4", "--size", "1MiB")
        _one_clear_line(proc, "no space left")


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    if os.geteuid() == 0:  # root ignores permission bits: use a read-only filesystem instead
        with _mounted_tmpfs(locked, "size=1m,ro"):
            proc = run_cli("files", "generate", "--dir", str(locked / "sets"), "--count", "2")
            _one_clear_line(proc, "cannot create")
    else:
        locked.mkdir(mode=0o500)
        proc = run_cli("files", "generate", "--dir", str(locked / "sets"), "--count", "2")
        _one_clear_line(proc, "cannot create")


@pytest.mark.parametrize(
    ("workload", "extra"),
    [("file-read", {"cache": ["cold"]}), ("file-write", {"fsync": True})],
    ids=["cold-read", "fsync-write"],
)
def test_io_uring_completions_that_wait_for_the_disk(
    files_root: Path, workload: str, extra: dict[str, Any]
) -> None:
    # Neither completes inside the submitting call: the kernel finishes them later and the loop
    # hears of it through the eventfd, the path warm reads never take.
    skip_if_missing("asyncio", "io_uring")
    row = disk_row(files_root, "asyncio", "io_uring", workload, **extra)
    assert row["errors_by_kind"] == {}
    assert row["ops"] > 0, row["flags"]
    assert row["hops_per_op"] == 0
    if workload == "file-read" and shutil.which("fincore") is not None:
        assert row.get("evicted") is True


def test_two_makers_of_one_file_set_at_once_both_get_it(tmp_path: Path) -> None:
    """Cluster workers on one machine may ask for the same set at the same moment: neither may
    see the other's half-made directory or lose its manifest (both failed before the lock, in 7
    to 9 of 20 such trials here)."""
    import threading

    def make(root: Path, got: list[fileset.FileSet], errors: list[Exception]) -> None:
        try:
            got.append(fileset.generate(root, 16, (1024,)))
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    for trial in range(10):
        got: list[fileset.FileSet] = []
        errors: list[Exception] = []
        args = (tmp_path / str(trial), got, errors)
        threads = [threading.Thread(target=make, args=args) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert {len(fs.files) for fs in got} == {16}
