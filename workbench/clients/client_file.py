"""A user's own client, from a file in the templates' shape (`io --client-file my_client.py`).

The file defines `MODEL` and `setup(url, concurrency, timeout)`, `request(state)` and
`teardown(state)`; they are wrapped in the client shape of the model's family, so the harness
measures the user's code exactly like a built-in client, in a fresh worker, with the same flags.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
    ClientContext,
)
from workbench.errors import UsageError

SHAPE = "a client file defines MODEL, setup(url, concurrency, timeout_s), request, teardown"


def load_module(path: str) -> ModuleType:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--client-file {path}: no such file")
    spec = importlib.util.spec_from_file_location(f"workbench_user_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise UsageError(f"--client-file {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"--client-file {path} imports {exc.name!r}: pip install {exc.name}"
        ) from None
    except Exception as exc:
        raise UsageError(
            f"--client-file {path} failed to import: {type(exc).__name__}: {exc}"
        ) from None
    return module


def trust(ctx: ClientContext) -> None:
    """Point the standard variables at an https target's CA before the user's setup runs: the
    file's code verifies certificates the way it would anywhere (SSL_CERT_FILE for OpenSSL's
    defaults, so ssl.create_default_context, aiohttp and httpx; REQUESTS_CA_BUNDLE for requests),
    and nothing in it has to know about the workbench."""
    target = ctx.workload.target
    if target.tls and target.ca_file:
        os.environ["SSL_CERT_FILE"] = target.ca_file
        os.environ["REQUESTS_CA_BUNDLE"] = target.ca_file


def client_class(path: str, family: str) -> type[BlockingClient] | type[AsyncClient]:
    module = load_module(path)
    if family == "blocking":
        return _blocking(module)
    return _async(module)


def _blocking(module: ModuleType) -> type[BlockingClient]:
    class FileUser(BlockingConnection):
        def __init__(self, state: Any) -> None:
            self.state = state

        def op(self) -> int:
            return int(module.request(self.state))

    class FileClient(BlockingClient):
        def __init__(self, ctx: ClientContext) -> None:
            super().__init__(ctx)
            trust(ctx)
            self.state = module.setup(ctx.workload.target.url, ctx.concurrency, ctx.timeout)

        def connection(self) -> BlockingConnection:
            return FileUser(self.state)

        def close(self) -> None:
            module.teardown(self.state)

    return FileClient


def _async(module: ModuleType) -> type[AsyncClient]:
    class FileUser(AsyncConnection):
        def __init__(self, client: FileClient) -> None:
            self.client = client

        async def op(self) -> int:
            return int(await module.request(self.client.state))

    class FileClient(AsyncClient):
        async def start(self) -> None:
            ctx = self.ctx
            trust(ctx)
            self.state = await module.setup(ctx.workload.target.url, ctx.concurrency, ctx.timeout)

        def connection(self) -> AsyncConnection:
            return FileUser(self)

        async def aclose(self) -> None:
            await module.teardown(self.state)

    return FileClient
