"""Echo framing: build a message, recognise its echo. No I/O."""

from __future__ import annotations

FRAMINGS = ("length", "line", "raw")


def build_message(payload_size: int, framing: str) -> bytes:
    """A deterministic message whose echo the client can compare byte for byte."""
    if framing not in FRAMINGS:
        raise ValueError(f"unknown framing {framing!r}")
    from servers.payload import body_bytes

    if framing == "line":
        return body_bytes(payload_size).replace(b"\n", b".") + b"\n"
    payload = body_bytes(payload_size)
    if framing == "length":
        return len(payload).to_bytes(4, "big") + payload
    return payload
