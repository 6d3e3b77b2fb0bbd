"""`threads`: N OS threads, each a blocking client. The GIL is released while a thread waits."""

from __future__ import annotations

import sys
import threading
import time

from workbench.clients.base import BlockingClient, BlockingConnection, ClientContext
from workbench.errors import UsageError
from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import Model, Window, blocking_closed_loop

# Threads blocked in recv() need little stack; the default 8 MiB reservation per thread is what
# makes thousands of threads fail first. 256 KiB is ample for these clients' call depth.
THREAD_STACK = 256 * 1024

AFTER_WINDOW_SWITCH_S = 0.5


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
        # How the gates open depends on the load the users make once through:
        # - Open loop (heartbeats, --rate): as a chain, each user connecting and then opening the
        #   next one's gate, never all at once. Thousands of threads woken together all wait for
        #   the GIL, each waking every switch interval to ask for it, and that polling swamps the
        #   handoffs it waits for: a plain script of 10,000 threads with 1 s heartbeats never got
        #   going with its gates opened together; chained, all ran within 1.0 s at 9,900/s.
        # - Closed loop: all at once. There the users through the gate keep the GIL busy, and a
        #   chain's next user waits in line with all of them at every step: 1,000 WebSocket
        #   echo threads chained had only 419 started after the warm-up limit.
        chained = bool(window.interval_ns)
        gates = [threading.Lock() for _ in range(n)]
        for gate in gates:
            gate.acquire()

        # A user that is done parks instead of returning, and the last one done says so. Threads
        # that end while others still run stall them all: with 10,000 threads, those exiting in
        # the window's last second held a plain script's heartbeats up for 40 s (parked: none
        # lost, p99 17 ms). They go home at `close()`, once the worker has answered.
        self._park = park = threading.Lock()
        park.acquire()
        done_lock, all_done = threading.Lock(), threading.Event()
        done = [0]
        switch_interval = sys.getswitchinterval()
        gathering = [True]  # until run() returns: a user stuck past the stop must not calm later

        def calm_down() -> None:
            # Once the window has ended nothing is measured, and the users still out must get
            # home: every thread waiting for the GIL wakes each switch interval to ask for it,
            # and with thousands waiting that polling can swamp the handoffs for longer than the
            # worker may take to answer (a round of 10,000 heartbeating threads did, now and
            # then, with 9,300 threads runnable). A long interval stops the polling; I/O still
            # hands the GIL on. Called with done_lock held.
            if gathering[0]:
                sys.setswitchinterval(max(switch_interval, AFTER_WINDOW_SWITCH_S))

        def user(i: int, conn: BlockingConnection, rec: ClientRecorder) -> None:
            gates[i].acquire()
            try:
                conn.open()
            finally:
                if chained and i + 1 < len(gates):
                    gates[i + 1].release()
            try:
                blocking_closed_loop(conn, window, rec)
            finally:
                with done_lock:
                    done[0] += 1
                    if done[0] == n:
                        all_done.set()
                    if time.monotonic_ns() >= window.end_ns:
                        calm_down()
            park.acquire()
            park.release()

        previous = threading.stack_size(self.thread_stack())
        try:
            for i, rec in enumerate(recorders):
                t = threading.Thread(
                    target=user,
                    args=(i, client.connection(), rec),
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
            # Even when one failed to start, those that did go through and end with the window.
            for gate in gates[: min(len(threads), 1 if chained else n)]:
                gate.release()
        while not all_done.wait(0.05) and time.monotonic_ns() < window.stop_ns:
            pass  # the stop moves when the window opens
        with done_lock:
            calm_down()  # this thread too has its figures to gather among thousands still out
        try:
            client.close()
            return Recording.from_clients(recorders, window.span)
        finally:
            with done_lock:
                gathering[0] = False
                sys.setswitchinterval(switch_interval)

    def close(self) -> None:
        park = getattr(self, "_park", None)
        if park is not None and park.locked():
            park.release()  # one user goes home, and lets the next out on its way
        super().close()
