"""A service to start from: plain ASGI, JSON, a downstream over one pooled aiohttp session.

Run it under any ASGI server, or measure it under each with the workbench:

    uvicorn asgi_service:app
    DOWNSTREAM_URL=http://127.0.0.1:8000/ hypercorn asgi_service:app
    python -m workbench servers --app asgi_service:app

One `aiohttp.ClientSession` per worker process, opened at startup and closed at shutdown (the ASGI
lifespan): a session per request would pay a new connection each time. Without `DOWNSTREAM_URL`
the handler answers at once. Never call a blocking client in here: it stops every other request
on the loop (`workbench servers --scenario blocking` measures what that costs).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp

DOWNSTREAM = os.environ.get("DOWNSTREAM_URL", "")
Message = MutableMapping[str, Any]
session: aiohttp.ClientSession | None = None


async def handle() -> dict[str, Any]:
    if not DOWNSTREAM or session is None:
        return {"message": "hello, world"}
    async with session.get(DOWNSTREAM) as resp:
        resp.raise_for_status()  # a failed call fails the request: the server answers 500
        return {"downstream_bytes": len(await resp.read())}


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    global session
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if session is not None:
                    await session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = json.dumps(await handle()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
