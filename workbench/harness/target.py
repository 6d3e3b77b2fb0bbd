"""Where load may go: loopback by default; anything else only with --allow-remote."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import urllib.parse
from dataclasses import replace

from workbench.errors import UsageError
from workbench.workloads.base import Target

DEFAULT_PORTS: dict[str, int | None] = {"http": 80, "https": 443, "tcp": None}


def parse_url(url: str) -> Target:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise UsageError(
            f"--url {url!r}: only http://, https:// (or tcp:// for echo) targets are supported"
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
                return replace(target, address=address)
        except ssl.SSLError as exc:
            raise UsageError(f"{target.host}:{target.port}: TLS failed: {exc}") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
    raise UsageError(
        f"cannot connect to {target.host}:{target.port}: {reason} (is the server up? --url says "
        "where the load goes)"
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
