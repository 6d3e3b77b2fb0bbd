"""The line protocol between an owner and a worker process, each message read with a deadline.

Below the models and the harness alike: the harness owns a worker per cell, and the processes
models own workers of their own with the same protocol.

Worker to owner, `@@wb KIND JSON` lines on stdout (anything else a library prints is ignored):
`ready` (with the worker's metadata), `warm` (every user has finished one operation), `result`
(the recording) and `error` (with `usage` true for bad input). Owner to worker, one JSON object a
line on stdin, in this order: the cell's spec; `go` (`warm_deadline_ns`, `max_ops`,
`interval_ns`), on which the users start; the window (`start_ns`, `end_ns`, `stop_ns`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from workbench.children import LineReader, owned_process, read_stderr
from workbench.errors import RunFailed, UsageError

PREFIX = b"@@wb "


class CellFailed(RunFailed):
    """A worker reported an error, died, or stayed silent past its deadline."""


def emit(stream: IO[str], kind: str, payload: dict[str, Any]) -> None:
    """Worker side: write one message line."""
    stream.write(f"{PREFIX.decode()}{kind} {json.dumps(payload)}\n")
    stream.flush()


class WorkerChannel:
    def __init__(self, proc: subprocess.Popen[bytes], label: str) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        self.proc = proc
        self.label = label
        self.reader = LineReader(proc.stdout)

    def send(self, payload: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise CellFailed(f"{self.label}: worker exited early: {self._last_words()}") from None

    def expect(self, kind: str, timeout: float) -> dict[str, Any]:
        """Wait for a message of `kind`; an `error` message, EOF or the deadline raise."""
        payload = self.poll(kind, timeout)
        if payload is None:
            raise CellFailed(f"{self.label}: no {kind!r} from the worker within {timeout:.0f}s")
        return payload

    def poll(self, kind: str, timeout: float) -> dict[str, Any] | None:
        """Like `expect`, but None when the deadline passes first."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.reader.readline(deadline)
            if line is None:
                return None
            if not line:
                raise CellFailed(f"{self.label}: worker exited: {self._last_words()}")
            if not line.startswith(PREFIX):
                continue
            got, _, body = line[len(PREFIX) :].partition(b" ")
            payload: dict[str, Any] = json.loads(body)
            if got == b"error":
                message = f"{self.label}: {payload['message']}"
                raise UsageError(message) if payload.get("usage") else CellFailed(message)
            if got.decode() == kind:
                return payload

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _last_words(self) -> str:
        self.proc.poll()
        lines = read_stderr(self.proc).strip().splitlines()
        code = self.proc.returncode
        tail = lines[-1] if lines else "no message"
        return f"exit code {code}: {tail}" if code is not None else tail


def worker_command(python: str = sys.executable) -> list[str]:
    return [python, "-m", "workbench.harness.worker"]


@contextmanager
def start_worker(
    payload: dict[str, Any], label: str, *, python: str, env: dict[str, str], cpus: set[int] | None
) -> Iterator[WorkerChannel]:
    """Start an owned worker process and send it its spec."""
    full_env = {**os.environ, **env}
    with owned_process(worker_command(python), env=full_env, cpus=cpus) as proc:
        channel = WorkerChannel(proc, label)
        channel.send(payload)
        yield channel
