"""`asyncio` and `uvloop`: one event loop, N tasks. The two differ only in the loop factory
(anyio's lesson: uvloop is an option of the asyncio backend, not a backend of its own)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from workbench.clients.base import AsyncClient, ClientContext
from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import Model, Window, async_closed_loop, seconds_until


class AsyncioModel(Model):
    name = "asyncio"
    family = "asyncio"
    summary = "N tasks on the default asyncio event loop"

    def loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop]:
        return asyncio.new_event_loop

    def loop_name(self) -> str:
        loop = self.loop_factory()()
        try:
            return f"{type(loop).__module__}.{type(loop).__name__}"
        finally:
            loop.close()

    def run(self, window: Window) -> Recording:
        recorders = self.run_loop(window, self.spec.clients)
        return Recording.from_clients(recorders, window.span)

    def run_loop(self, window: Window, n: int) -> list[ClientRecorder]:
        """Run `n` users as tasks of one new event loop, in this thread, until the window's stop."""
        with asyncio.Runner(loop_factory=self.loop_factory()) as runner:
            return runner.run(self._main(window, n))

    async def _main(self, window: Window, n: int) -> list[ClientRecorder]:
        client = self.client_cls(ClientContext(self.spec.build_workload(), n, self.spec.timeout))
        assert isinstance(client, AsyncClient)
        await client.start()
        recorders = [ClientRecorder() for _ in range(n)]
        tasks = [
            asyncio.create_task(async_closed_loop(client.connection(), window, r, asyncio.sleep))
            for r in recorders
        ]
        pending = set(tasks)
        while pending and (left := seconds_until(window.stop_ns)) > 0:
            # Short waits: the stop moves once the window opens.
            _, pending = await asyncio.wait(pending, timeout=min(0.1, left))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        try:
            async with asyncio.timeout(2.0):
                await client.aclose()
        except TimeoutError:
            pass
        return recorders


class UvloopModel(AsyncioModel):
    name = "uvloop"
    summary = "N tasks on uvloop (libuv event loop)"
    requires = ("uvloop",)

    def loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop]:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
