"""The servers a run's network cells load: mock servers it starts (and owns), servers a caller
started, or the user's own `--url`, checked once here."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from workbench.errors import UsageError
from workbench.harness.settings import IoSettings
from workbench.harness.target import check_target, parse_url
from workbench.server_process import ServerHandle, run_server
from workbench.workloads import PROTOCOLS, WORKLOAD_PROTOCOLS, Target


def target_of(protocol: str, server: ServerHandle) -> Target:
    return Target(PROTOCOLS[protocol].scheme, server.host, server.port, "/", ca_file=server.ca_file)


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
            target = parse_url(settings.url)
            for protocol in protocols:
                if PROTOCOLS[protocol].scheme != target.scheme:
                    fit = [
                        w
                        for w, p in WORKLOAD_PROTOCOLS.items()
                        if PROTOCOLS[p].scheme == target.scheme
                    ]
                    raise UsageError(
                        f"--url is a {target.scheme}:// target, which the {protocol} workloads "
                        f"cannot load; choose from: {', '.join(fit)}"
                    )
            if settings.ca_file is not None:
                if target.scheme != "https":
                    raise UsageError("--ca-file is for an https:// --url")
                if not os.path.isfile(settings.ca_file):
                    raise UsageError(f"--ca-file {settings.ca_file}: no such file")
                target = replace(target, ca_file=settings.ca_file)
            target = check_target(target, settings.allow_remote)
            if "h2" in protocols:
                from workbench.harness.target import check_h2

                check_h2(target)
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
                if kind in ("http", "h2"):
                    options["body_size"] = settings.body_size
                if kind == "websocket":
                    options["extra_args"] = [
                        "--push-rate",
                        repr(settings.push_rate),
                        "--message-size",
                        str(max(16, settings.message_size)),
                    ]
                tls = PROTOCOLS[protocol].tls
                server = stack.enter_context(run_server(kind, cpus=server_cpus, tls=tls, **options))
                out[protocol] = (target_of(protocol, server), server)
        yield out
