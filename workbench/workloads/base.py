"""The shape every workload has: what one operation sends, and how its answer is verified."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from workbench.workloads import WorkloadSettings


class UserDone(Exception):
    """Raised by an operation when its user must stop cleanly (a budget is spent)."""


class WorkloadError(Exception):
    """An answer that arrived but is wrong (bad status, short or corrupt body, bad echo)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Target:
    """Where the load goes. `scheme` is http, https or tcp. `address`, when set, is the address
    the parent resolved and checked (loopback, reachable) for a user's `--url`: workers connect to
    it instead of resolving the name again, and the name stays in the URL, the Host header and the
    name the certificate is checked against. `ca_file` is the CA an https target's certificate is
    verified against (None: the system's trusted CAs)."""

    scheme: str
    host: str
    port: int
    path: str = "/"
    address: str | None = None
    ca_file: str | None = None

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def url(self) -> str:
        return self._url(self.host)

    @property
    def connect_host(self) -> str:
        return self.address or self.host

    @property
    def connect_url(self) -> str:
        """The URL to connect with: the checked address in place of the name."""
        return self._url(self.connect_host)

    def _url(self, host: str) -> str:
        host = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "address": self.address,
            "ca_file": self.ca_file,
        }


class Exchange(ABC):
    """Per-connection sans-I/O state: `request` to send, then `feed` received bytes until done."""

    request: bytes
    keep_alive: bool = True

    @abstractmethod
    def feed(self, data: bytes) -> int | None:
        """Bytes received; returns the bytes moved by the operation once its answer is complete
        and verified, None while more are needed. Raises WorkloadError or ProtocolError."""

    @abstractmethod
    def feed_eof(self) -> int:
        """The peer closed the connection: complete the operation if that ends it, else raise."""


class Workload(ABC):
    """One kind of operation, written once; every client of every model performs it."""

    name: ClassVar[str]

    def __init__(self, target: Target) -> None:
        self.target = target
        self.window_started: Callable[[], bool] = lambda: True

    def watch_window(self, started: Callable[[], bool]) -> None:
        """In the worker, before the users start: `started()` tells warm-up from the window."""
        self.window_started = started

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: WorkloadSettings) -> Workload:
        """Build the workload from what travelled to the worker."""

    @abstractmethod
    def exchange(self) -> Exchange:
        """Fresh sans-I/O state for one connection (raw clients)."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target.as_dict()}

    def prepare(self) -> None:
        """In the worker, before the users start (outside every measurement)."""

    def finish(self) -> tuple[dict[str, Any], dict[str, int]]:
        """In the worker, after the window: (extra figures for the row, errors by kind)."""
        return {}, {}
