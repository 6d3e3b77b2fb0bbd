"""What a worker process does (its entry point is `workbench.harness.worker`): runs exactly one
cell, then exits.

Protocol on stdin/stdout (see `channel`): read the spec, prepare, say `ready`; read `go` and start
the users; say `warm` once every user has finished one operation; read the window (on a thread,
while the users run), run it out, say `result`. Fresh per cell, so one model's threads, loop,
allocator state and open files never leak into the next (pyperf's lesson).
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from typing import TextIO

from servers.lifetime import raise_nofile_limit
from workbench.cell_spec import CellSpec
from workbench.errors import UsageError
from workbench.metadata import process_metadata
from workbench.metrics import Recording, Usage, peak_rss_kb, rss_kb
from workbench.models import load_model
from workbench.models.base import Window
from workbench.worker_channel import emit


class WindowReceiver:
    """Reads the window from the parent while the users run, opens it, then snapshots this
    process's CPU and context switches at its start and end, so every model is measured the same
    way (from a thread that sleeps in between, not from the model's own code)."""

    def __init__(self, stdin: TextIO, window: Window) -> None:
        self.stdin = stdin
        self.window = window
        self.start: Snapshot | None = None
        self.end: Snapshot | None = None
        self.thread = threading.Thread(target=self._run, name="window", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        line = self.stdin.readline()
        if not line:
            return  # the parent went away: the users stop at the warm-up limit
        times = json.loads(line)
        w = self.window
        w.open(times["start_ns"], times["end_ns"], times["stop_ns"])
        time.sleep(max(0.0, (w.start_ns - time.monotonic_ns()) / 1e9))
        self.start = Snapshot.take()
        time.sleep(max(0.0, (w.end_ns - time.monotonic_ns()) / 1e9))
        self.end = Snapshot.take()

    def apply(self, rec: Recording) -> None:
        if self.window.is_open:
            self.thread.join(max(0.0, (self.window.end_ns - time.monotonic_ns()) / 1e9) + 1.0)
        if self.start is None:
            return
        end = self.end or Snapshot.take()
        self.start.usage.apply_delta(end.usage, rec)
        # When the snapshots were really taken: a thread starved of the GIL (10,000 threads on
        # one core) wakes seconds after the window's edge, and its CPU spans another interval.
        w = self.window
        rec.usage_span_s = max(rec.usage_span_s, (end.at_ns - self.start.at_ns) / 1e9)
        off = abs(self.start.at_ns - w.start_ns) + abs(end.at_ns - w.end_ns)
        rec.usage_off_s = max(rec.usage_off_s, (off + self.start.blur_ns + end.blur_ns) / 1e9)


class Snapshot:
    """The process's usage and when it was read. The clock is read on either side of the usage:
    between any two calls the thread may wait seconds for the GIL, so the reading's time is only
    known to within the bracket (`blur_ns`); the narrowest of a few tries is kept."""

    TRIES = 3
    NARROW_NS = 100_000  # a bracket this tight held no wait for the GIL: no need to try again

    def __init__(self, usage: Usage, at_ns: int, blur_ns: int) -> None:
        self.usage, self.at_ns, self.blur_ns = usage, at_ns, blur_ns

    @classmethod
    def take(cls) -> Snapshot:
        best: Snapshot | None = None
        for _ in range(cls.TRIES):
            t0 = time.monotonic_ns()
            usage = Usage.now()
            t1 = time.monotonic_ns()
            if best is None or t1 - t0 < best.blur_ns:
                best = cls(usage, (t0 + t1) // 2, t1 - t0)
            if best.blur_ns < cls.NARROW_NS:
                break
        assert best is not None
        return best


def _failed(stdout: TextIO, exc: Exception) -> int:
    """Tell the owner why the cell failed; the exit code. Bad input is one line (exit 2);
    anything else also leaves its traceback on stderr (exit 1)."""
    if isinstance(exc, UsageError):
        emit(stdout, "error", {"message": str(exc), "usage": True})
        return 2
    emit(stdout, "error", {"message": f"{type(exc).__name__}: {exc}", "usage": False})
    traceback.print_exc()
    return 1


def run(spec_line: str, stdin: TextIO, stdout: TextIO) -> int:
    spec = CellSpec.from_dict(json.loads(spec_line))
    raise_nofile_limit()
    try:
        model = load_model(spec.model)
        model.prepare(spec)
        workload = spec.build_workload()
        if model.runs_users:
            workload.prepare()
    except Exception as exc:
        return _failed(stdout, exc)
    try:
        # What the cell does and how its answers are checked travels with every result.
        about = {
            "loop": model.loop_name(),
            "thread_stack": model.thread_stack(),
            "workload": workload.describe(),
        }
        emit(stdout, "ready", {"metadata": {**process_metadata(), **about}})
        stdin = model.cooperative(stdin)
        line = stdin.readline()
        if not line:
            return 1  # the parent went away
        go = json.loads(line)
        window = Window(
            model.warm_units(),
            go["max_ops"],
            go["warm_deadline_ns"],
            on_warm=lambda: emit(stdout, "warm", {}),
            interval_ns=go.get("interval_ns", 0),
        )
        workload.watch_window(window.started)
        receiver = WindowReceiver(stdin, window)
        baseline = rss_kb()  # everything imported and built, no user connected yet
        rec = model.run(window)
        rec.baseline_rss_kb += baseline
        model.record_warmth(window, rec)
        receiver.apply(rec)
        if model.runs_users:
            extras, errors = workload.finish()
            rec.errors.update(errors)
            if extras:
                rec.extras.append(extras)
        rec.peak_rss_kb += peak_rss_kb()
        emit(stdout, "result", rec.to_dict())
        return 0
    except Exception as exc:
        return _failed(stdout, exc)
    finally:
        model.close()
