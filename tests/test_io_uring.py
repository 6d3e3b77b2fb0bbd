"""io_uring: the operations' rounds (no I/O), a real ring driven by hand and by each event loop,
and a machine that cannot use io_uring skipping its cells with the reason."""

from __future__ import annotations

import asyncio
import errno
import importlib.metadata
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.helpers import skip_io_uring, skip_unless_ci
from workbench.clients import unavailable
from workbench.clients import uring_ops as uo
from workbench.clients import uring_ring as ur
from workbench.errors import UsageError
from workbench.harness.runner import on_this_machine
from workbench.harness.settings import IoSettings

ECANCELED = -errno.ECANCELED


def kinds(steps: list[uo.Step]) -> list[str]:
    return [what for what, _, _ in steps]


# The rounds, from made-up results: no ring, no binding.


def test_whole_file_read_is_one_round_when_the_first_read_is_short() -> None:
    op = uo.ReadFile("/f", None)
    steps = op.steps()
    assert kinds(steps) == ["open", "read", "close"]
    buf, offset = steps[1][1]
    assert (len(buf), offset) == (uo.FIRST_READ, 0)
    assert steps[0][2] == uo.IOSQE_IO_LINK
    assert steps[1][2] == uo.IOSQE_IO_HARDLINK
    buf[:5] = b"hello"
    del steps, buf  # the ring drops its views of the buffer before the results come in
    assert op.finish([0, 5, 0]) is True
    assert (op.result, op.error) == (b"hello", None)


def test_a_full_read_is_followed_by_a_larger_one_from_where_it_stopped() -> None:
    op = uo.ReadFile("/f", None)
    first = op.steps()
    first[1][1][0][:] = b"a" * uo.FIRST_READ
    del first
    assert op.finish([0, uo.FIRST_READ, 0]) is False  # full: the file may go on
    second = op.steps()
    buf, offset = second[1][1]
    assert (len(buf), offset) == (uo.GROWTH * uo.FIRST_READ, uo.FIRST_READ)
    buf[:3] = b"end"
    del second, buf
    assert op.finish([0, 3, 0]) is True
    assert op.result == b"a" * uo.FIRST_READ + b"end"


def test_chunked_reads_are_linked_and_a_short_one_cancels_the_rest() -> None:
    op = uo.ReadFile("/f", 4)
    op.steps()[1][1][0][:] = b"abcd"
    assert op.finish([0, 4, 0]) is False  # round 1: one full chunk
    steps = op.steps()  # round 2: GROWTH chunks, from offset 4
    assert kinds(steps) == ["open", *["read"] * uo.GROWTH, "close"]
    assert [s[1][1] for s in steps[1:-1]] == [4 + 4 * i for i in range(uo.GROWTH)]
    flags = [uo.IOSQE_IO_LINK] * uo.GROWTH + [uo.IOSQE_IO_HARDLINK, 0]
    assert [s[2] for s in steps] == flags
    steps[1][1][0][:2] = b"ef"
    del steps
    assert op.finish([0, 2, *[ECANCELED] * uo.GROWTH]) is True
    assert op.result == b"abcdef"


def test_a_failed_step_is_the_ops_error() -> None:
    op = uo.ReadFile("/missing", None)
    op.steps()
    assert op.finish([-errno.ENOENT, ECANCELED, ECANCELED]) is True
    assert isinstance(op.error, uo.OpError)
    assert op.error.errno == errno.ENOENT
    assert "open" in str(op.error)
    w = uo.WriteFile("/f", b"xyz", fsync=True)
    assert kinds(w.steps()) == ["open", "write", "fsync", "close"]
    assert w.finish([0, 3, -errno.EIO, 0]) is True
    assert isinstance(w.error, uo.OpError)
    assert "fsync" in str(w.error)
    short = uo.WriteFile("/f", b"xyz", fsync=False)
    short.steps()
    short.finish([0, 2, 0])
    assert short.error is not None
    assert "short write" in str(short.error)


# A real ring (skipped, with the reason, where this machine has none).


@pytest.fixture
def ring() -> Iterator[ur.Ring]:
    reason = ur.unavailable()
    if reason is not None:
        skip_io_uring(reason)
    r = ur.Ring()
    yield r
    r.close()


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    sizes = [0, 1, 4096, uo.FIRST_READ, uo.FIRST_READ + 1, 300_001]
    out = []
    for i, size in enumerate(sizes):
        p = tmp_path / f"f{i}"
        p.write_bytes(os.urandom(size))
        out.append(p)
    return out


def run_by_hand(ring: ur.Ring, ops: Sequence[uo.FileOp]) -> None:
    done: list[uo.FileOp] = []
    for op in ops:
        op.on_done = done.append
        ring.start(op)
    for _ in range(100_000):
        if len(done) == len(ops):
            return
        ring.pump()
    raise AssertionError(f"{len(ops) - len(done)} operations never completed")


@pytest.mark.parametrize("chunk", [None, 4096])
def test_ring_reads_files_of_every_size(
    ring: ur.Ring, files: list[Path], chunk: int | None
) -> None:
    ops = [uo.ReadFile(str(p), chunk) for p in files]
    run_by_hand(ring, ops)
    for p, op in zip(files, ops, strict=True):
        assert op.error is None
        assert op.result == p.read_bytes()
    assert ring.in_flight() == 0
    assert len(ring._free) == ur.SLOTS  # every slot back, the failed chains' too


def test_ring_writes_and_reports_failures(ring: ur.Ring, tmp_path: Path) -> None:
    target = tmp_path / "new"
    ops: list[uo.FileOp] = [uo.WriteFile(str(target), b"x" * 10_000, fsync=True)]
    run_by_hand(ring, ops)
    assert ops[0].error is None
    assert target.read_bytes() == b"x" * 10_000
    again = uo.WriteFile(str(target), b"y", fsync=False)  # create-new: it exists now
    missing = uo.ReadFile(str(tmp_path / "nope"), None)
    run_by_hand(ring, [again, missing])
    assert isinstance(again.error, OSError)
    assert again.error.errno == errno.EEXIST
    assert isinstance(missing.error, OSError)
    assert missing.error.errno == errno.ENOENT
    assert target.read_bytes() == b"x" * 10_000
    assert len(ring._free) == ur.SLOTS


def test_more_operations_than_slots_wait_for_one(ring: ur.Ring, files: list[Path]) -> None:
    ops = [uo.ReadFile(str(files[2]), None) for _ in range(ur.SLOTS + 50)]
    run_by_hand(ring, ops)
    assert all(op.result == files[2].read_bytes() for op in ops)
    assert len(ring._free) == ur.SLOTS


def test_asyncio_and_uvloop_drive_the_ring(files: list[Path]) -> None:
    from workbench.clients.files_uring import AsyncioDriver

    if (reason := ur.unavailable()) is not None:
        skip_io_uring(reason)
    import uvloop

    async def main() -> list[Any]:
        driver = AsyncioDriver(ur.Ring())
        await driver.start()
        try:
            # Concurrent users, and one cancelled while its read is in the kernel.
            slow = asyncio.ensure_future(driver.perform(uo.ReadFile(str(files[-1]), 1024)))
            await asyncio.sleep(0)
            slow.cancel()
            got = await asyncio.gather(
                *(driver.perform(uo.ReadFile(str(p), None)) for p in files * 4)
            )
            with pytest.raises(asyncio.CancelledError):
                await slow
            return got
        finally:
            driver.close()
            assert driver.ring.in_flight() == 0  # close waited for the kernel

    for factory in (asyncio.new_event_loop, uvloop.new_event_loop):
        with asyncio.Runner(loop_factory=factory) as runner:
            got = runner.run(main())
        assert got == [p.read_bytes() for p in files * 4]


def test_trio_drives_the_ring(files: list[Path], tmp_path: Path) -> None:
    from workbench.clients.files_uring import TrioDriver

    if (reason := ur.unavailable()) is not None:
        skip_io_uring(reason)
    results: dict[int, bytes] = {}

    async def main() -> None:
        driver = TrioDriver(ur.Ring())
        await driver.start()  # the users start at once: the pump task has not run yet
        try:
            async with trio.open_nursery() as nursery:
                for i, p in enumerate(files * 4):

                    async def read(i: int = i, p: Path = p) -> None:
                        results[i] = await driver.perform(uo.ReadFile(str(p), 4096))

                    nursery.start_soon(read)
            with trio.move_on_after(0):  # cancelled before it could complete
                await driver.perform(uo.ReadFile(str(files[-1]), None))
            await driver.perform(uo.WriteFile(str(tmp_path / "w"), b"z" * 5000, fsync=False))
        finally:
            driver.close()

    trio.run(main)
    assert [results[i] for i in range(len(files) * 4)] == [p.read_bytes() for p in files * 4]
    assert (tmp_path / "w").read_bytes() == b"z" * 5000


# Where io_uring cannot be had.


@pytest.fixture
def fresh_availability() -> Iterator[None]:
    unavailable.cache_clear()
    yield
    unavailable.cache_clear()


@pytest.mark.parametrize(
    ("disabled", "setup_errno", "expect"),
    [
        ("2", None, "kernel.io_uring_disabled = 2"),
        ("1", errno.EPERM, "limited to group"),
        ("0", errno.EPERM, "seccomp"),
        (None, errno.ENOSYS, "too old"),
    ],
)
def test_unavailable_says_why(
    monkeypatch: pytest.MonkeyPatch, disabled: str | None, setup_errno: int | None, expect: str
) -> None:
    if ur.unavailable() is not None and "installed" in (ur.unavailable() or ""):
        skip_unless_ci(ur.unavailable() or "")  # the test extra installs the binding
    import liburing

    monkeypatch.setattr(
        ur, "_sysctl", lambda name: disabled if name == "io_uring_disabled" else "7"
    )

    def refuse(*_: Any) -> int:
        assert setup_errno is not None
        raise OSError(setup_errno, os.strerror(setup_errno))

    monkeypatch.setattr(liburing, "io_uring_queue_init", refuse)
    reason = ur.unavailable()
    assert reason is not None
    assert expect in reason


def test_a_wrong_binding_is_named_without_importing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda _: "2026.3.30")
    reason = ur.unavailable()
    assert reason is not None
    assert "2026.3.30" in reason
    assert "pip install 'liburing==2024.5.3'" in reason


def test_cells_this_machine_cannot_run_are_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, fresh_availability: None
) -> None:
    from workbench.harness.plan import plan_cells

    monkeypatch.setattr(ur, "unavailable", lambda: "io_uring is disabled here (test)")
    settings = IoSettings(
        models=["asyncio"],
        libs=["io_uring", "to_thread"],
        workloads=["file-read"],
        file_sizes=[16384],
    )
    cells, skipped = on_this_machine(plan_cells(settings))
    assert {c.client for c in cells} == {"to_thread"}
    assert skipped
    assert all(s["reason"] == "io_uring is disabled here (test)" for s in skipped)
    assert all("io_uring" in s["cell"] for s in skipped)
    only = IoSettings(
        models=["asyncio"], libs=["io_uring"], workloads=["file-read"], file_sizes=[16384]
    )
    with pytest.raises(UsageError, match=r"no cell can run on this machine.*disabled here"):
        on_this_machine(plan_cells(only))


class _Refusing:
    """The binding, but io_uring_submit fails with `errnos` in turn (then works)."""

    def __init__(self, lu: Any, errnos: list[int]) -> None:
        self._lu = lu
        self.errnos = errnos

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lu, name)

    def io_uring_submit(self, ring: Any) -> int:
        if self.errnos:
            no = self.errnos.pop(0)
            raise OSError(no, os.strerror(no))
        result: int = self._lu.io_uring_submit(ring)
        return result


def test_a_busy_kernel_is_retried_and_a_failed_ring_fails_its_operations(
    ring: ur.Ring, files: list[Path]
) -> None:
    ring._lu = _Refusing(ring._lu, [errno.EBUSY])
    later = uo.ReadFile(str(files[2]), None)
    run_by_hand(ring, [later])  # "later": kept queued, submitted by the next pump
    assert later.result == files[2].read_bytes()
    ring._lu = _Refusing(ring._lu, [errno.EIO])
    failed: list[uo.FileOp] = []
    op = uo.ReadFile(str(files[2]), None)
    op.on_done = failed.append
    ring.start(op)
    ring.pump()  # no exception out of the pump: the loop that runs it carries on
    assert failed == [op]
    assert isinstance(op.error, uo.OpError)
    assert "the ring failed" in str(op.error)
    with pytest.raises(uo.OpError, match="the ring failed"):
        ring.start(uo.ReadFile(str(files[2]), None))
