"""asyncio + websockets: a long-lived WebSocket per worker, echoing messages, with timeouts.

    python asyncio_websockets.py ws://127.0.0.1:8080/echo --messages 10000 --concurrency 50
    python -m servers.websocket --port 8080          # a server to try it on

Each of --concurrency workers opens one connection and keeps it, sends a message, waits for the
echo (checked byte for byte, within --timeout), and sends the next; a failed connection is
reopened. Ctrl-C finishes cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException


async def main(a: argparse.Namespace) -> None:
    message = os.urandom(a.size)
    ok = failed = started = 0
    t0 = time.perf_counter()

    async def worker() -> None:  # one connection each, reopened after a failure
        nonlocal ok, failed, started
        ws = None
        try:
            while started < a.messages:
                started += 1
                try:
                    async with asyncio.timeout(a.timeout):
                        if ws is None:
                            ws = await connect(a.url, compression=None, max_size=None)
                        await ws.send(message)
                        if await ws.recv() != message:
                            raise ValueError("the echo differs from the message sent")
                    ok += 1
                except (OSError, TimeoutError, ValueError, WebSocketException):
                    failed += 1
                    if ws is not None:
                        ws.transport.abort()
                    ws = None
        finally:
            if ws is not None:
                await ws.close()

    async with asyncio.TaskGroup() as tg:  # Ctrl-C cancels them all
        for _ in range(a.concurrency):
            tg.create_task(worker())
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {failed} failed, {ok / took:.0f} messages/s in {took:.2f}s")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--messages", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--size", type=int, default=64, help="bytes per message")
    p.add_argument("--timeout", type=float, default=10.0)
    try:
        asyncio.run(main(p.parse_args()))
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
