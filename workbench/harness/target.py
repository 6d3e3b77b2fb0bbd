"""Where load may go: loopback by default; anything else only with --allow-remote."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import urllib.parse
from dataclasses import replace

from workbench.errors import UsageError
from workbench.workloads.base import Target

DEFAULT_PORTS: dict[str, int | None] = {"http": 80, "https": 443, "tcp": None, "ws": 80}


def parse_url(url: str) -> Target:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise UsageError(
            f"--url {url!r}: only http://, https://, ws:// (or tcp:// for echo) targets are "
            "supported"
        )
    if not parts.hostname:
        raise UsageError(f"--url {url!r} has no host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise UsageError(f"--url {url!r} has a bad port") from None
    if port is None:
        raise UsageError(f"--url {url!r} needs a port")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve {host!r}: {exc.strerror}") from None
    return sorted({str(info[4][0]) for info in infos})


def check_target(target: Target, allow_remote: bool, connect_timeout: float = 3.0) -> Target:
    """Refuse non-loopback targets without allow_remote, and unreachable ones always. Returns the
    target with the address that was checked and reached, which every worker then connects to:
    resolving the name again in each worker could land somewhere that was never checked."""
    addresses = resolve(target.host, target.port)
    remote = [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
    if remote and not allow_remote:
        raise UsageError(
            f"{target.host} resolves to {', '.join(remote)}, which is not loopback; the workbench "
            "only loads this machine unless you pass --allow-remote (load only servers you own)"
        )
    reason = "no address"
    for address in addresses:
        try:
            with socket.create_connection(
                (address.split("%")[0], target.port), connect_timeout
            ) as s:
                if target.scheme == "https":
                    check_certificate(s, target, connect_timeout)
                if target.scheme == "ws":
                    check_upgrade(s, target, connect_timeout)
                return replace(target, address=address)
        except ssl.SSLError as exc:
            raise UsageError(f"{target.host}:{target.port}: TLS failed: {exc}") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
    raise UsageError(
        f"cannot connect to {target.host}:{target.port}: {reason} (is the server up? --url says "
        "where the load goes)"
    )


def check_upgrade(sock: socket.socket, target: Target, timeout: float) -> None:
    """One opening handshake, as the workers will make it: a server that answers without
    upgrading to a WebSocket is one line, not a run of failed operations."""
    from workbench.protocol.http import ConnectionClosed
    from workbench.protocol.websocket import HandshakeError, WsSession

    session = WsSession(target.host, target.path)
    sock.settimeout(timeout)
    try:
        sock.sendall(session.opening)
        while not session.open:
            session.feed(sock.recv(65536))
    except (HandshakeError, ConnectionClosed) as exc:
        raise UsageError(f"{target.url} did not upgrade to a WebSocket: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{target.url}: the WebSocket handshake failed: {exc}") from None


def check_h2(target: Target, timeout: float = 3.0) -> None:
    """The HTTP/2 preface, as the workers will send it (prior knowledge): a server that does not
    answer with its own settings frame is not an h2c server, and that is one line."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    events: list[object] = []
    try:
        with socket.create_connection((target.connect_host, target.port), timeout) as s:
            s.sendall(conn.data_to_send())
            data = s.recv(65536)
            if data:
                events = list(conn.receive_data(data))
    except (OSError, h2.exceptions.ProtocolError):
        events = []
    if not any(isinstance(e, h2.events.RemoteSettingsChanged) for e in events):
        raise UsageError(
            f"{target.url} did not answer the HTTP/2 preface with its settings: the h2 workload "
            "needs a server that speaks HTTP/2 without TLS (h2c, prior knowledge)"
        )


def check_certificate(sock: socket.socket, target: Target, timeout: float) -> None:
    """One TLS handshake as the workers will make it (the same CA, the same name checked), so a
    certificate that does not verify is one line naming the fix, not a run of failed requests."""
    context = ssl.create_default_context(cafile=target.ca_file)
    sock.settimeout(timeout)
    try:
        with context.wrap_socket(sock, server_hostname=target.host):
            pass
    except ssl.SSLCertVerificationError as exc:
        trusted = f"the CA in {target.ca_file}" if target.ca_file else "the system's trusted CAs"
        raise UsageError(
            f"the certificate of {target.host}:{target.port} did not verify against {trusted} "
            f"({exc.verify_message}): pass the CA that signed it with --ca-file PATH"
        ) from None
