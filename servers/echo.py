"""Mock TCP echo server with framing, injected latency and faults, on a raw Protocol.

    python -m servers.echo --port 0 [--framing length|line|raw] [--latency 0.02]

Framing `length` (default): each message is a 4-byte big-endian length and that many bytes, echoed
whole. `line`: each message ends with a newline. `raw`: every read is echoed as it arrives, so
latency and faults apply per read rather than per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from servers._runtime import ServerConfig, common_parser, serve
from servers.connection import MockProtocol
from servers.faults import ECHO_FAULTS

MAX_FRAME = 64 * 1024 * 1024
FRAMINGS = ("length", "line", "raw")


class FrameError(Exception):
    """A frame the server will not buffer (larger than MAX_FRAME): the connection is closed."""


class EchoFramer:
    """Splits a byte stream into whole messages to echo. Bytes in, messages out; no I/O."""

    def __init__(self, framing: str, max_frame: int = MAX_FRAME) -> None:
        if framing not in FRAMINGS:
            raise ValueError(f"unknown framing {framing!r}")
        self.framing = framing
        self.max_frame = max_frame
        self._buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        if self.framing == "raw":
            return [data] if data else []
        buf = self._buf + data if self._buf else data
        out: list[bytes] = []
        pos = 0
        if self.framing == "line":
            while (idx := buf.find(b"\n", pos)) >= 0:
                out.append(buf[pos : idx + 1])
                pos = idx + 1
        else:
            while len(buf) - pos >= 4:
                size = int.from_bytes(buf[pos : pos + 4], "big")
                if size > self.max_frame:
                    raise FrameError(f"frame of {size} bytes exceeds {self.max_frame}")
                if len(buf) - pos - 4 < size:
                    break
                out.append(buf[pos : pos + 4 + size])
                pos += 4 + size
        self._buf = buf[pos:]
        if len(self._buf) > self.max_frame + 4:
            raise FrameError("unterminated message exceeds the frame limit")
        return out


class EchoServerProtocol(MockProtocol):
    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        self.framer = EchoFramer(config.args.framing)
        self.closing = False

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.stats.bytes_in += len(data)
        if self.closing:
            return
        try:
            frames = self.framer.feed(data)
        except FrameError:
            self.stats.bad_requests += 1
            self.closing = True
            self.transport.close()
            return
        if not frames:
            return
        self.stats.requests += len(frames)
        if self.writer is None:
            out = b"".join(frames) if len(frames) > 1 else frames[0]
            self.stats.bytes_out += len(out)
            self.transport.write(out)
            return
        for frame in frames:
            delay, fault = self.draw()
            self.send_later(delay, fault, frame)
            if fault == "reset":
                self.closing = True
                return


def protocol_factory(config: ServerConfig) -> Callable[[], asyncio.Protocol]:
    return lambda: EchoServerProtocol(config)


def main(argv: Sequence[str] | None = None) -> int:
    parser = common_parser("python -m servers.echo", __doc__.splitlines()[0], ECHO_FAULTS)
    parser.add_argument("--framing", choices=FRAMINGS, default="length", help="message framing")
    return serve("python -m servers.echo", "tcp", argv, parser, ECHO_FAULTS, protocol_factory)


if __name__ == "__main__":
    raise SystemExit(main())
