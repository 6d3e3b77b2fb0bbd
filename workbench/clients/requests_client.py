"""`requests` client (blocking family: threads, processes, gevent): one `requests.Session` per user.

A session per user, not one shared: requests does not promise that a Session is thread-safe, and
the code people write gives each thread (or greenlet) its own. Each session keeps one keep-alive
connection. The environment's proxy settings are ignored (`trust_env = False`), so the load goes
where the workbench checked it may go, never to a proxy named in HTTP_PROXY.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import requests.adapters

from workbench.clients.base import (
    BlockingClient,
    BlockingConnection,
    ClientContext,
    tls_name,
)
from workbench.clients.urllib3_client import read_body
from workbench.workloads.http import HttpWorkload


class _Adapter(requests.adapters.HTTPAdapter):
    """One connection, no retries; and, when the target was resolved to an address, the name the
    certificate is verified against."""

    def __init__(self, name: str | None) -> None:
        self.tls_name = name
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self.tls_name is not None:
            kwargs["server_hostname"] = self.tls_name
        super().init_poolmanager(*args, **kwargs)


class RequestsConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext, wl: HttpWorkload) -> None:
        self.ctx = ctx
        self.wl = wl
        self.session: requests.Session | None = None

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        target = self.wl.target
        if target.tls:
            session.verify = target.ca_file or True
        adapter = _Adapter(tls_name(target))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.session = session
        return session

    def op(self) -> int:
        wl = self.wl
        session = self.session or self._session()
        deadline = time.monotonic() + self.ctx.timeout
        resp = session.request(
            wl.method,
            wl.url,
            data=wl.body,
            headers=wl.headers,
            timeout=self.ctx.timeout,
            stream=True,  # the body is read below, within the operation's deadline
            allow_redirects=False,
        )
        try:
            body = read_body(resp.raw, deadline)
        finally:
            resp.close()
        return wl.check(resp.status_code, body) + len(wl.body or b"")

    def reset(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


class RequestsClient(BlockingClient):
    def connection(self) -> BlockingConnection:
        assert isinstance(self.ctx.workload, HttpWorkload)
        return RequestsConnection(self.ctx, self.ctx.workload)
