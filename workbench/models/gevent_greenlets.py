"""`gevent`: N greenlets on gevent's hub, each a blocking client, in a monkey-patched process.

The clients are the blocking family's own (raw sockets, http.client, urllib3, requests, httpx):
the same code the `threads` model runs, made cooperative by gevent's patches (the prelude in
`gevent_patch`, run before anything else in the worker). One OS thread runs every user; a user
waiting on a socket yields to the hub rather than to the kernel's scheduler.
"""

from __future__ import annotations

import sys
from typing import TextIO

from workbench.clients.base import BlockingClient, ClientContext
from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import Model, Window, blocking_closed_loop, seconds_until


class GeventModel(Model):
    name = "gevent"
    family = "blocking"
    summary = "N greenlets on gevent's hub, blocking clients monkey-patched"
    requires = ("gevent",)
    # gevent makes sockets cooperative, not files: a plain read never yields, so one greenlet
    # would hold the hub through its whole loop and the others never start. Reading files from
    # gevent means a thread pool (gevent.fileobject.FileObjectThread): the `threads` rows.
    skips = ("file",)

    def loop_name(self) -> str:
        import gevent

        loop = type(gevent.get_hub().loop)
        return f"gevent {gevent.__version__} hub ({loop.__module__}.{loop.__name__})"

    def cooperative(self, stdin: TextIO) -> TextIO:
        from gevent import monkey
        from gevent.fileobject import FileObjectPosix

        if not monkey.is_module_patched("threading"):
            return stdin  # in-process (the fakes of workbench.testing): no thread reads stdin
        # The window is read by a thread, and here threads are greenlets: a plain read would stop
        # the hub, and every user with it, until the parent sends the window. The parent sends
        # nothing between the spec and `ready`, so the spec's line left nothing buffered.
        reader: TextIO = FileObjectPosix(sys.stdin.fileno(), "r", close=False)
        return reader

    def run(self, window: Window) -> Recording:
        import gevent

        n = self.spec.clients
        ctx = ClientContext(self.spec.build_workload(), n, self.spec.timeout, sleep=gevent.sleep)
        client = self.client_cls(ctx)
        assert isinstance(client, BlockingClient)
        recorders = [ClientRecorder() for _ in range(n)]
        pending = [
            gevent.spawn(blocking_closed_loop, client.connection(), window, rec, sleep=gevent.sleep)
            for rec in recorders
        ]
        while pending and (left := seconds_until(window.stop_ns)) > 0:
            # Short waits: the stop moves once the window opens.
            gevent.joinall(pending, timeout=min(0.1, left))
            pending = [g for g in pending if not g.dead]
        if pending:
            gevent.killall(pending, block=True, timeout=1.0)
        client.close()
        return Recording.from_clients(recorders, window.span)
