"""`trio`: N tasks in one trio nursery."""

from __future__ import annotations

import trio

from workbench.clients.base import AsyncClient, ClientContext
from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import Model, Window, async_closed_loop, keep_deadline


class TrioModel(Model):
    name = "trio"
    family = "trio"
    summary = "N tasks in a trio nursery"
    requires = ("trio",)

    def loop_name(self) -> str:
        return f"trio {trio.__version__}"

    def run(self, window: Window) -> Recording:
        return trio.run(self._main, window)

    async def _main(self, window: Window) -> Recording:
        n = self.spec.clients
        client = self.client_cls(ClientContext(self.spec.build_workload(), n, self.spec.timeout))
        assert isinstance(client, AsyncClient)
        await client.start()
        recorders = [ClientRecorder() for _ in range(n)]
        async with trio.open_nursery() as nursery:
            for rec in recorders:
                nursery.start_soon(async_closed_loop, client.connection(), window, rec, trio.sleep)

            def set_deadline(seconds: float) -> None:
                # trio's clock has its own offset; the window is on CLOCK_MONOTONIC.
                nursery.cancel_scope.deadline = trio.current_time() + seconds

            await keep_deadline(window, lambda: bool(nursery.child_tasks), set_deadline, trio.sleep)
        with trio.move_on_after(2.0):
            await client.aclose()
        return Recording.from_clients(recorders, window.span)
