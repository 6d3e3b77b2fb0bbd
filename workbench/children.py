"""Child processes owned by a context manager: whatever happens, nothing outlives its owner.

pyperf's lesson (`popen_killer`): every child is started in its own session, so one `killpg`
reaches it and anything it started (a processes-model worker's own workers), and the owner kills
the group on any exception, Ctrl-C included. Children also ask the kernel to kill them if the owner
dies without running any code (see `servers.lifetime.die_with_parent`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal the child's whole process group; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


@contextmanager
def owned_process(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cpus: set[int] | None = None,
    stdin: int | None = subprocess.PIPE,
    cwd: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `args` with pipes for stdin/stdout and stderr in a temporary file; kill it on exit.

    stderr goes to a file, not a pipe, so a chatty child can never block on a full pipe while the
    owner waits on stdout. Read it with `read_stderr`.
    """
    err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        list(args),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=err,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    proc._workbench_stderr = err  # type: ignore[attr-defined]
    try:
        if cpus:
            os.sched_setaffinity(proc.pid, cpus)
        yield proc
    finally:
        kill_group(proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        err.close()


def read_stderr(proc: subprocess.Popen[bytes], limit: int = 4000) -> str:
    """What the child wrote to stderr so far (the last `limit` characters)."""
    err: IO[bytes] | None = getattr(proc, "_workbench_stderr", None)
    if err is None or err.closed:
        return ""
    err.flush()
    err.seek(0)
    text = err.read().decode(errors="replace")
    return text[-limit:]


class LineReader:
    """Reads whole lines from a child's pipe with a deadline, without a thread. Holds no
    resource of its own: the selector lives only for the duration of one call."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.fd = stream.fileno()
        self.buf = b""

    def readline(self, deadline: float) -> bytes | None:
        """The next line; b"" at end of file; None if the deadline (time.monotonic) passes."""
        if b"\n" not in self.buf:
            with selectors.DefaultSelector() as sel:
                sel.register(self.fd, selectors.EVENT_READ)
                while b"\n" not in self.buf:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not sel.select(remaining):
                        return None
                    chunk = os.read(self.fd, 1 << 16)
                    if not chunk:
                        rest, self.buf = self.buf, b""
                        return rest
                    self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises `Terminated` (a KeyboardInterrupt) in the main thread, so `timeout`,
    systemd and CI end a run the way Ctrl-C does: every owner kills its children, what was
    measured is written and marked partial. Only the first SIGTERM raises: the cleanup it starts
    is not itself interrupted (a second one changes nothing; SIGKILL still ends everything)."""
    from workbench.errors import Terminated

    fired = False

    def terminate(signum: int, frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
