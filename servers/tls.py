"""TLS for the mock servers: a throw-away certificate authority, made at start-up with trustme.

trustme (from the python-trio project) makes a real CA and a real leaf certificate, signed by it,
for the names a client on this machine uses (localhost, 127.0.0.1, ::1). Clients verify the chain
against the CA's certificate, exactly as they would a public one; nothing turns verification off.
The keys are ECDSA P-256, trustme's default and what most public sites serve today.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the CA certificate, PEM: what clients trust
    cert: Path  # the server's certificate chain, PEM
    key: Path  # the server's private key, PEM


def make_ca(directory: Path) -> TlsFiles:
    """A fresh CA and a server certificate for NAMES, written into `directory` (which the caller
    owns and removes). The key file is readable by its owner only."""
    import trustme

    ca = trustme.CA(organization_name="workbench throw-away CA")
    leaf = ca.issue_cert(*NAMES)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    ca.cert_pem.write_to_path(str(files.ca))
    with files.cert.open("wb") as f:
        for blob in leaf.cert_chain_pems:
            f.write(blob.bytes())
    files.key.touch(mode=0o600)
    leaf.private_key_pem.write_to_path(str(files.key))
    return files


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx
