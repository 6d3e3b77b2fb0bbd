"""The gevent model's prelude: monkey-patch the standard library, first thing in its worker.

Everything gevent patches (socket, ssl, threading, time.sleep, select, ...) is patched, as gevent's
own documentation asks and as gevent applications (locust, gunicorn's gevent workers) run: a
blocking client library then yields to gevent's hub wherever it would have blocked. It runs in the
gevent model's fresh worker process only, before the rest of the workbench is imported
(`workbench.harness.worker`), so nothing holds an unpatched socket or lock.
"""

from __future__ import annotations


def patch_all() -> None:
    from gevent import monkey

    monkey.patch_all()
