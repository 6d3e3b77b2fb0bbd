"""threads + websockets: a long-lived WebSocket per thread, echoing messages, with timeouts.

    python threads_websockets.py ws://127.0.0.1:8080/echo --messages 10000 --concurrency 32
    python -m servers.websocket --port 8080          # a server to try it on

websockets' threading client: each of --concurrency threads opens one connection and keeps it,
sends a message, waits for the echo (checked byte for byte, within --timeout), and sends the
next; a failed connection is reopened. Ctrl-C lets each thread finish the message in hand.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect


def main(a: argparse.Namespace) -> None:
    message, stop, t0 = os.urandom(a.size), threading.Event(), time.perf_counter()

    def worker(share: int) -> tuple[int, int]:
        ok = failed = 0
        ws: ClientConnection | None = None
        try:
            for _ in range(share):
                if stop.is_set():
                    break
                try:
                    if ws is None:
                        ws = connect(a.url, open_timeout=a.timeout, compression=None)
                    ws.send(message)
                    if ws.recv(timeout=a.timeout) != message:
                        raise ValueError("the echo differs from the message sent")
                    ok += 1
                except (OSError, TimeoutError, ValueError, WebSocketException):
                    failed += 1
                    if ws is not None:
                        ws.socket.close()
                    ws = None
        finally:
            if ws is not None:
                ws.close()
        return ok, failed

    n = a.concurrency
    shares = [a.messages // n + (i < a.messages % n) for i in range(n)]
    with ThreadPoolExecutor(max_workers=n) as pool:  # the bound on concurrency
        try:
            done = list(pool.map(worker, shares))
        finally:
            stop.set()
    ok, failed = sum(d[0] for d in done), sum(d[1] for d in done)
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
        main(p.parse_args())
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
