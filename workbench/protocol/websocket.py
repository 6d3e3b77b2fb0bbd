"""A WebSocket client session over wsproto: bytes in, messages out, no I/O (h11's lesson).

The `wsproto` clients of every family (workbench/clients/ws_raw.py) drive one of these over their
own socket API, so a difference between their rows is the family's, not the framing's.
"""

from __future__ import annotations

from collections import deque

from workbench.protocol.http import ConnectionClosed


class HandshakeError(Exception):
    """The server's answer was no WebSocket: `kind` names how (as a WorkloadError's does)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class WsSession:
    """One client connection's protocol state: the opening handshake, messages as they complete,
    and what must be sent back unasked (pongs, the closing handshake)."""

    def __init__(self, host: str, path: str) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import Request

        self.ws = WSConnection(ConnectionType.CLIENT)
        self.opening = self.ws.send(Request(host=host, target=path))
        self.open = False
        self.messages: deque[bytes | str] = deque()
        self.outgoing = b""  # to send before anything else: pongs, a close's answer
        self._parts: list[bytes | str] = []

    def feed(self, data: bytes) -> None:
        """Bytes from the server (b"": it closed the connection, which ends the session)."""
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Message,
            Ping,
            RejectConnection,
            RejectData,
        )
        from wsproto.utilities import RemoteProtocolError

        if not data:
            raise ConnectionClosed("the server closed the connection")
        try:
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.open = True
                elif isinstance(event, RejectConnection | RejectData):
                    status = getattr(event, "status_code", None)
                    raise HandshakeError(
                        "not-upgraded", f"the server answered {status} instead of upgrading"
                    )
                elif isinstance(event, Message):
                    self._parts.append(event.data)
                    if event.message_finished:
                        parts, self._parts = self._parts, []
                        whole = parts[0] if len(parts) == 1 else _joined(parts)
                        self.messages.append(whole)
                elif isinstance(event, Ping):
                    self.outgoing += self.ws.send(event.response())
                elif isinstance(event, CloseConnection):
                    raise ConnectionClosed(f"the server closed the WebSocket ({event.code})")
        except RemoteProtocolError as exc:
            raise HandshakeError("not-websocket", f"not a WebSocket answer: {exc}") from None

    def send(self, data: bytes) -> bytes:
        """The bytes of one binary message (masked, as a client's must be)."""
        from wsproto.events import BytesMessage

        out = self.outgoing + self.ws.send(BytesMessage(data=data))
        self.outgoing = b""
        return out

    def take_outgoing(self) -> bytes:
        out, self.outgoing = self.outgoing, b""
        return out


def _joined(parts: list[bytes | str]) -> bytes | str:
    if isinstance(parts[0], str):
        return "".join(p for p in parts if isinstance(p, str))
    return b"".join(p for p in parts if isinstance(p, bytes))
