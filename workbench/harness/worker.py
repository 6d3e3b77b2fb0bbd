"""A worker process: runs exactly one cell, then exits. `python -m workbench.harness.worker`.

Protocol on stdin/stdout (see `channel`): read the spec, prepare, say `ready`, read the window,
run, say `result`. Fresh per cell, so one model's threads, loop, allocator state and open files
never leak into the next (pyperf's lesson).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from typing import TextIO

from servers.lifetime import die_with_parent, raise_nofile_limit
from workbench.errors import UsageError
from workbench.harness.channel import emit
from workbench.harness.spec import CellSpec
from workbench.metadata import process_metadata
from workbench.metrics import Recording, Usage, peak_rss_kb
from workbench.models import load_model
from workbench.models.base import Window


class UsageWindow:
    """Snapshots this process's CPU and context switches at the window's start and end, from a
    thread that sleeps in between, so every model is measured the same way."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.start: Usage | None = None
        self.end: Usage | None = None
        self.thread = threading.Thread(target=self._run, name="usage-window", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        time.sleep(max(0.0, (self.window.start_ns - time.monotonic_ns()) / 1e9))
        self.start = Usage.now()
        time.sleep(max(0.0, (self.window.end_ns - time.monotonic_ns()) / 1e9))
        self.end = Usage.now()

    def apply(self, rec: Recording) -> None:
        self.thread.join(max(0.0, (self.window.end_ns - time.monotonic_ns()) / 1e9) + 1.0)
        if self.start is not None:
            self.start.apply_delta(self.end or Usage.now(), rec)


def run(stdin: TextIO, stdout: TextIO) -> int:
    line = stdin.readline()
    if not line:
        return 1
    spec = CellSpec.from_dict(json.loads(line))
    raise_nofile_limit()
    try:
        model = load_model(spec.model)
        model.prepare(spec)
        spec.build_workload()
    except UsageError as exc:
        emit(stdout, "error", {"message": str(exc), "usage": True})
        return 2
    except Exception as exc:
        emit(stdout, "error", {"message": f"{type(exc).__name__}: {exc}", "usage": False})
        traceback.print_exc()
        return 1
    try:
        emit(stdout, "ready", {"metadata": {**process_metadata(), "loop": model.loop_name()}})
        line = stdin.readline()
        if not line:
            return 1  # the parent went away
        window = Window(**json.loads(line))
        usage = UsageWindow(window)
        rec = model.run(window)
        usage.apply(rec)
        rec.peak_rss_kb += peak_rss_kb()
        emit(stdout, "result", rec.to_dict())
        return 0
    except UsageError as exc:
        emit(stdout, "error", {"message": str(exc), "usage": True})
        return 2
    except Exception as exc:
        emit(stdout, "error", {"message": f"{type(exc).__name__}: {exc}", "usage": False})
        traceback.print_exc()
        return 1
    finally:
        model.close()


def main() -> None:
    die_with_parent()
    code = run(sys.stdin, sys.stdout)
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit hard: a client thread still blocked past the grace period must not hold the process.
    os._exit(code)


if __name__ == "__main__":
    main()
