"""`anyio-asyncio` and `anyio-trio`: one anyio code path on either backend."""

from __future__ import annotations

from typing import ClassVar

import anyio

from workbench.clients.base import AsyncClient, ClientContext
from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import Model, Window, async_closed_loop, keep_deadline


class AnyioModel(Model):
    name = "anyio-asyncio"
    family = "anyio"
    summary = "N tasks in an anyio task group on the asyncio backend"
    requires: ClassVar[tuple[str, ...]] = ("anyio",)
    backend = "asyncio"

    def loop_name(self) -> str:
        return (
            f"anyio {anyio.__version__ if hasattr(anyio, '__version__') else ''} on {self.backend}"
        )

    def run(self, window: Window) -> Recording:
        result: Recording = anyio.run(self._main, window, backend=self.backend)
        return result

    async def _main(self, window: Window) -> Recording:
        n = self.spec.clients
        client = self.client_cls(ClientContext(self.spec.build_workload(), n, self.spec.timeout))
        assert isinstance(client, AsyncClient)
        await client.start()
        recorders = [ClientRecorder() for _ in range(n)]
        running = len(recorders)

        async def user(rec: ClientRecorder) -> None:
            nonlocal running
            try:
                await async_closed_loop(client.connection(), window, rec, anyio.sleep)
            finally:
                running -= 1

        async with anyio.create_task_group() as tg:
            for rec in recorders:
                tg.start_soon(user, rec)

            def set_deadline(seconds: float) -> None:
                tg.cancel_scope.deadline = anyio.current_time() + seconds

            await keep_deadline(window, lambda: running > 0, set_deadline, anyio.sleep)
        with anyio.move_on_after(2.0):
            await client.aclose()
        return Recording.from_clients(recorders, window.span)


class AnyioTrioModel(AnyioModel):
    name = "anyio-trio"
    summary = "N tasks in an anyio task group on the trio backend"
    requires = ("anyio", "trio")
    backend = "trio"
