"""The servers a run's network cells load: mock servers it starts (and owns), servers a caller
started, or the user's own `--url`, checked once here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from workbench.errors import UsageError
from workbench.harness.settings import IoSettings
from workbench.harness.target import check_target, parse_url
from workbench.server_process import ServerHandle, run_server
from workbench.workloads import PROTOCOLS, Target


def target_of(protocol: str, server: ServerHandle) -> Target:
    return Target(PROTOCOLS[protocol].scheme, server.host, server.port, "/")


@contextlib.contextmanager
def servers_for(
    settings: IoSettings,
    protocols: set[str],
    server_cpus: set[int] | None,
    running: dict[str, ServerHandle] | None,
) -> Iterator[dict[str, tuple[Target, ServerHandle | None]]]:
    """protocol -> (where its load goes, the server if it is ours to watch)."""
    out: dict[str, tuple[Target, ServerHandle | None]] = {}
    with contextlib.ExitStack() as stack:
        if running is not None:
            for protocol in protocols:
                if protocol not in running:
                    raise UsageError(f"no running server was given for {protocol} workloads")
                out[protocol] = (target_of(protocol, running[protocol]), running[protocol])
        elif settings.url is not None:
            target = check_target(parse_url(settings.url), settings.allow_remote)
            for protocol in protocols:
                out[protocol] = (target, None)
        else:
            for protocol in sorted(protocols):
                kind = PROTOCOLS[protocol].server
                assert kind is not None
                options: dict[str, Any] = dict(
                    loop=settings.server_loop,
                    latency=settings.latency,
                    jitter=settings.jitter,
                    faults=settings.faults,
                )
                if kind == "http":
                    options["body_size"] = settings.body_size
                server = stack.enter_context(run_server(kind, cpus=server_cpus, **options))
                out[protocol] = (target_of(protocol, server), server)
        yield out
