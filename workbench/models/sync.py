"""`sync`: one user, one operation after another. The baseline every other model is compared to."""

from __future__ import annotations

from workbench.clients.base import BlockingClient, ClientContext
from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import Model, Window, blocking_closed_loop


class SyncModel(Model):
    name = "sync"
    family = "blocking"
    summary = "one sequential client (baseline), whatever --clients says"

    def effective_clients(self, requested: int) -> int:
        return 1

    def run(self, window: Window) -> Recording:
        ctx = ClientContext(self.spec.build_workload(), 1, self.spec.timeout)
        client = self.client_cls(ctx)
        assert isinstance(client, BlockingClient)
        rec = ClientRecorder()
        try:
            blocking_closed_loop(client.connection(), window, rec)
        finally:
            client.close()
        return Recording.from_clients([rec], window.span)
