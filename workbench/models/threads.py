"""`threads`: N OS threads, each a blocking client. The GIL is released while a thread waits."""

from __future__ import annotations

import threading

from workbench.clients.base import BlockingClient, BlockingConnection, ClientContext
from workbench.errors import UsageError
from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import Model, Window, blocking_closed_loop, join_until

# Threads blocked in recv() need little stack; the default 8 MiB reservation per thread is what
# makes thousands of threads fail first. 256 KiB is ample for these clients' call depth.
THREAD_STACK = 256 * 1024


class ThreadsModel(Model):
    name = "threads"
    family = "blocking"
    summary = "N threads, one blocking client each"

    def thread_stack(self) -> int:
        return self.spec.thread_stack or THREAD_STACK

    def run(self, window: Window) -> Recording:
        n = self.spec.clients
        ctx = ClientContext(self.spec.build_workload(), n, self.spec.timeout)
        client = self.client_cls(ctx)
        assert isinstance(client, BlockingClient)
        recorders = [ClientRecorder() for _ in range(n)]
        threads = []
        # Every thread waits at its gate until all exist: otherwise the thread starting the rest
        # competes for the GIL with thousands already running, and creating 10,000 crawls.
        # A gate per thread, not one Event: a woken Event waiter must re-take the Event's one
        # lock and needs the GIL to let go of it, so with a thousand users already running the
        # rest pass one per switch interval (py-spy: 711 of 2,000 still at the gate after 4 s).
        gates = [threading.Lock() for _ in range(n)]
        for gate in gates:
            gate.acquire()

        def user(gate: threading.Lock, conn: BlockingConnection, rec: ClientRecorder) -> None:
            gate.acquire()
            blocking_closed_loop(conn, window, rec)

        previous = threading.stack_size(self.thread_stack())
        try:
            for i, (gate, rec) in enumerate(zip(gates, recorders, strict=True)):
                t = threading.Thread(
                    target=user,
                    args=(gate, client.connection(), rec),
                    name=f"client-{i}",
                    daemon=True,  # a thread stuck past the grace period must not block exit
                )
                try:
                    t.start()
                except RuntimeError as exc:
                    raise UsageError(
                        f"could not start thread {i + 1} of {n} ({exc}); "
                        "use fewer --clients or an async model"
                    ) from None
                threads.append(t)
        finally:
            threading.stack_size(previous)
            for gate in gates:
                gate.release()
        join_until(threads, window)
        client.close()
        return Recording.from_clients(recorders, window.span)
