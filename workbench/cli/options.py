"""The command line's options for the run commands (io, net, disk, sweep) and their conversion
into `IoSettings`: every number parsed with its unit, every name checked, one clear line if not."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from workbench.allocators import parse_allocators
from workbench.errors import UsageError
from workbench.harness.settings import IoSettings
from workbench.units import parse_count, parse_duration, parse_rate, parse_size


def name_list(
    text: str, names: Sequence[str], what: str, default: Sequence[str] | None = None
) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if items == ["all"]:
        return list(names)
    if items == ["default"] and default is not None:
        return list(default)
    for item in items:
        if item not in names:
            raise UsageError(f"unknown {what} {item!r}; choose from {', '.join(names)} (or all)")
    if not items:
        raise UsageError(f"no {what} given")
    return list(dict.fromkeys(items))


def add_io_args(p: argparse.ArgumentParser) -> None:
    from workbench.clients import CLIENT_NAMES
    from workbench.models import DEFAULT_MODELS, MODEL_NAMES
    from workbench.workloads import WORKLOAD_NAMES

    g = p.add_argument_group("what to run")
    g.add_argument("--clients", default="100", help="concurrent clients (default 100)")
    g.add_argument(
        "--models",
        default="default",
        help=f"comma list of: {', '.join(MODEL_NAMES)}; or all; default: all but "
        f"{', '.join(m for m in MODEL_NAMES if m not in DEFAULT_MODELS)}",
    )
    g.add_argument(
        "--libs",
        "--clients-lib",
        dest="libs",
        default=None,
        help=f"client libraries, comma list of: {', '.join(CLIENT_NAMES)}, or all; default: raw "
        "for every model plus each library on its usual model",
    )
    g.add_argument(
        "--workloads",
        default=None,
        help=f"comma list of: {', '.join(WORKLOAD_NAMES)} (default http; a disk or db workload "
        "here stands in for --disk-workloads or --db-workloads)",
    )
    g.add_argument(
        "--procs",
        default=None,
        help="worker processes for the processes models, loop threads for the *-threads models "
        "(default: the client CPUs, at least 2)",
    )
    g.add_argument(
        "--client-file",
        action="append",
        default=[],
        metavar="PATH",
        help="measure your own client (a file in the shape of `workbench template`), repeatable",
    )
    g.add_argument(
        "--work",
        default=None,
        metavar="KIND:DURATION",
        help="work per request: python:200us (holds the GIL), hashlib:200us or zlib:200us",
    )
    g.add_argument(
        "--rate",
        default=None,
        help="open loop: operations per second in total, spread over the clients; latency is "
        "measured from each operation's intended send time (default: closed loop)",
    )
    g = p.add_argument_group("how long")
    g.add_argument(
        "--duration",
        default="0.75",
        help="measuring window of each round of a cell (default 0.75s: three short rounds say more "
        "about the next run than one long one)",
    )
    g.add_argument(
        "--warmup", default="0.3", help="warm-up once every client is connected (default 0.3s)"
    )
    g.add_argument(
        "--warm-limit",
        default=None,
        help="longest ramp-up before measuring anyway (default 5s + 1ms per client)",
    )
    g.add_argument(
        "--repeat",
        default="3",
        help="rounds per cell, each a fresh worker, interleaved across cells; the rate is their "
        "median and its interval comes from them (default 3; 1 ranks nothing)",
    )
    g.add_argument("--timeout", default="10", help="per-operation timeout (default 10s)")
    g = p.add_argument_group("the server")
    g.add_argument("--latency", default="0", help="server delay per response, e.g. 20ms")
    g.add_argument("--jitter", default="0", help="uniform +/- spread on --latency")
    g.add_argument("--body-size", default="64", help="GET response body (default 64 bytes)")
    g.add_argument("--upload-size", default="1KiB", help="POST body for http-upload")
    g.add_argument("--message-size", default="64", help="echo and WebSocket message payload")
    g.add_argument("--push-rate", default="10", help="ws-push: messages a second to each user")
    g.add_argument("--heartbeat", default="1s", help="idle: time between a user's heartbeats")
    g.add_argument("--thread-stack", default=None, help="stack per thread on threads (256KiB)")
    g.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND:RATE",
        help="inject server faults: 500, reset, stall, slow-body",
    )
    g.add_argument("--server-loop", choices=("uvloop", "asyncio"), default="uvloop")
    g.add_argument(
        "--url", default=None, help="measure your own HTTP(S) server instead of the mock"
    )
    g.add_argument("--allow-remote", action="store_true", help="allow a --url that is not loopback")
    g.add_argument(
        "--ca-file",
        default=None,
        metavar="PEM",
        help="with an https --url: the CA its certificate is verified against (default: the "
        "system's); verification is never turned off",
    )
    g.add_argument("--no-pin", action="store_true", help="do not pin server and clients to CPUs")
    g.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PYTHON",
        help="interpreter for the client workers, a path or a version (3.13, 3.14t); repeat it to "
        "run every cell under each, side by side (see `workbench pythons`)",
    )
    g.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for client workers, e.g. MALLOC_ARENA_MAX=2; KEY=A|B runs every cell "
        "once per value, e.g. PYTHON_GIL=0|1 on a free-threaded build",
    )
    g.add_argument(
        "--allocator",
        default="default",
        metavar="NAME[,NAME]",
        help="the client workers' allocator: default, no-mmap (glibc's mmap threshold raised, so "
        "a large read buffer is not mapped afresh each time), mimalloc (3.13+), pymalloc; "
        "several run every cell under each, side by side",
    )
    add_cluster_args(p, spread=True)
    add_output_args(p)
    add_wide_arg(p)


def add_cluster_args(p: argparse.ArgumentParser, spread: bool) -> None:
    g = p.add_argument_group("past one machine (needs pip install 'workbench[cluster]')")
    g.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="run every cell on this Dask scheduler's workers, e.g. tcp://HOST:8786 (workers "
        "started with --nthreads 1 --resources cell=1; see `workbench cluster local`)",
    )
    if spread:
        g.add_argument(
            "--spread",
            default=None,
            metavar="K",
            help="with --cluster and --url: run each cell on K hosts at once, --clients and --rate "
            "split between them (the totals are what you asked for), windows opened together, "
            "throughput summed and latency histograms merged",
        )


def spread_of(a: argparse.Namespace) -> int | None:
    """--spread K, checked against --cluster."""
    if getattr(a, "spread", None) is None:
        return None
    if a.cluster is None:
        raise UsageError("--spread runs a cell on several hosts of a cluster: give --cluster too")
    return parse_count(a.spread, "--spread")


def add_output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--json", default=None, metavar="PATH", help="write the results as JSON")
    g.add_argument("--quiet", action="store_true", help="no progress display")


def add_wide_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wide",
        action="store_true",
        help="every column (p99, p99.9, files/s, faults, RSS, ...); the default table "
        "fits 120 columns and the JSON always has them all",
    )


def add_db_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("db cells (io --only db; pip install '.[db]')")
    g.add_argument(
        "--db-workloads",
        default="pg-select,redis-get",
        help="db workloads: pg-select, pg-insert, redis-get, redis-set",
    )
    g.add_argument(
        "--pg-url",
        default=None,
        metavar="URL",
        help="your own PostgreSQL (postgresql://user:password@host:port/db) instead of "
        "one the run starts; loopback unless --allow-remote",
    )
    g.add_argument(
        "--redis-url",
        default=None,
        metavar="URL",
        help="your own Redis (redis://[:password@]host:port/db) instead of one the run "
        "starts; loopback unless --allow-remote",
    )
    g.add_argument(
        "--db-latency",
        default="0",
        metavar="DURATION",
        help="a proxy in front of each database delays each direction by this much "
        "(1ms: a round trip gains 2 ms)",
    )
    g.add_argument(
        "--pool-size",
        default="20",
        help="connections per process of the *-pool clients (default 20)",
    )


def add_disk_args(p: argparse.ArgumentParser, standalone: bool) -> None:
    g = p.add_argument_group("disk cells")
    if not standalone:
        g.add_argument(
            "--only",
            choices=("both", "net", "disk", "db", "all"),
            default="both",
            help="which cells to run: both (net and disk, the default), net, disk, db (real "
            "PostgreSQL and Redis, needs pip install '.[db]'), or all three",
        )
        g.add_argument("--disk-workloads", default="file-read", help="disk workloads (file-*)")
        g.add_argument("--disk-clients", default="8", help="disk concurrency (default 8)")
    if standalone:
        g.add_argument(
            "--full",
            action="store_true",
            help="the full matrix: every file API on every model it fits, reads and writes, pools "
            "of 8 and 32, longer windows (many minutes; the expected time is printed first)",
        )
        g.add_argument("--pool-sizes", default=None, help="threads on disk cells (default 8)")
    else:
        g.add_argument("--pool-sizes", default="8", help="threads on disk cells (default 8)")
    g.add_argument("--dir", default=None, help="where file sets live (default ~/.cache/...)")
    sizes = "16KiB,1MiB" if standalone else "1MiB"
    g.add_argument("--file-sizes", default=sizes, help=f"file sizes (default {sizes})")
    g.add_argument("--set-size", default="128MiB", help="bytes per file set (default 128MiB)")
    g.add_argument("--content", choices=("random", "compressible"), default="random")
    g.add_argument("--cache", default="warm", help="warm, cold, or warm,cold")
    g.add_argument("--chunk-size", default="64KiB", help="read size of file-read-chunked")
    g.add_argument("--fsync", action="store_true", help="fsync every file written")
    g.add_argument(
        "--write-budget",
        default="2GiB",
        help="bytes a write cell may write; warm-up gets a quarter, then reuses its own files",
    )


def env_option(items: list[str]) -> dict[str, str]:
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not key.replace("_", "").isalnum():
            raise UsageError(f"--env {item!r} is not KEY=VALUE")
        env[key] = value
    return env


# What `disk` runs by default (each file API once, reading: about a minute and a half on 2 cores)
# and with --full; an option given on the command line wins over either.
DISK_RUNS = {
    False: {"workloads": "file-read", "pool_sizes": "8", "duration": "0.75", "warmup": "0.3"},
    True: {"workloads": "file-read,file-read-chunked,file-write", "pool_sizes": "8,32",
           "duration": "2", "warmup": "0.5"},
}  # fmt: skip


def _run_workloads(a: argparse.Namespace) -> list[str]:
    """The workloads of an io, net or sweep run. `--workloads` may name any kind: each name counts
    for its own kind of cell (a disk or db workload in it stands in for `--disk-workloads` or
    `--db-workloads`), and a kind that `--only` leaves out may not be named at all."""
    from workbench.workloads import WORKLOAD_NAMES, workloads_of

    only = "net" if a.command != "io" else a.only
    runs = {
        "network": only in ("both", "net", "all"),
        "disk": only in ("both", "disk", "all"),
        "db": only in ("db", "all"),
    }
    given = name_list(a.workloads, WORKLOAD_NAMES, "workload") if a.workloads else []
    fallback = {
        "network": "http",
        "disk": getattr(a, "disk_workloads", ""),
        "db": getattr(a, "db_workloads", ""),
    }
    out: list[str] = []
    for kind, on in runs.items():
        names = workloads_of(kind)
        named = [w for w in given if w in names]
        if named and not on:
            raise UsageError(
                f"--workloads {','.join(named)}: {kind} workloads, which --only {only} does not "
                f"run (--only {'net' if kind == 'network' else kind} or all does)"
            )
        if on:
            out += named or name_list(fallback[kind], names, f"{kind} workload")
    return out


def io_settings(a: argparse.Namespace) -> IoSettings:
    from workbench.clients import CLIENT_NAMES
    from workbench.models import DEFAULT_MODELS, MODEL_NAMES
    from workbench.workloads import workloads_of

    disk_names = workloads_of("disk")
    if a.command == "disk":
        for key, value in DISK_RUNS[a.full].items():
            if getattr(a, key) is None:
                setattr(a, key, value)
        workloads = name_list(a.workloads, disk_names, "disk workload")
        disk_clients = a.clients
    else:
        workloads = _run_workloads(a)
        disk_clients = getattr(a, "disk_clients", "8")
    sizes = a.file_sizes.split(",")
    return IoSettings(
        models=name_list(a.models, MODEL_NAMES, "model", DEFAULT_MODELS),
        libs=None if a.libs is None else name_list(a.libs, CLIENT_NAMES, "client library"),
        workloads=list(dict.fromkeys(workloads)),
        clients=parse_count(a.clients, "--clients") if a.command != "disk" else 1,
        disk_clients=parse_count(disk_clients, "--clients"),
        pool_sizes=[parse_count(v, "--pool-sizes") for v in a.pool_sizes.split(",")],
        file_dir=a.dir,
        file_sizes=[parse_size(v, "--file-sizes") for v in sizes],
        file_set_bytes=parse_size(a.set_size, "--set-size"),
        file_content=a.content,
        cache=[c.strip() for c in a.cache.split(",") if c.strip()],
        chunk=parse_size(a.chunk_size, "--chunk-size"),
        fsync=a.fsync,
        write_budget=parse_size(a.write_budget, "--write-budget"),
        disk_cells=("every" if a.full else "each-api") if a.command == "disk" else "io",
        duration=parse_duration(a.duration, "--duration"),
        warmup=parse_duration(a.warmup, "--warmup"),
        warm_limit=None if a.warm_limit is None else parse_duration(a.warm_limit, "--warm-limit"),
        repeat=parse_count(a.repeat, "--repeat"),
        timeout=parse_duration(a.timeout, "--timeout"),
        latency=parse_duration(a.latency, "--latency"),
        jitter=parse_duration(a.jitter, "--jitter"),
        body_size=parse_size(a.body_size, "--body-size"),
        upload_size=parse_size(a.upload_size, "--upload-size"),
        message_size=parse_size(a.message_size, "--message-size"),
        push_rate=parse_rate(a.push_rate, "--push-rate"),
        heartbeat=parse_duration(a.heartbeat, "--heartbeat"),
        thread_stack=None
        if a.thread_stack is None
        else parse_size(a.thread_stack, "--thread-stack"),
        faults=list(a.fault),
        server_loop=a.server_loop,
        url=a.url,
        allow_remote=a.allow_remote,
        ca_file=None if a.ca_file is None else os.path.abspath(a.ca_file),
        pin=not a.no_pin,
        procs=None if a.procs is None else parse_count(a.procs, "--procs"),
        env=env_option(a.env),
        allocators=parse_allocators(a.allocator),
        work=a.work,
        client_files=[os.path.abspath(p) for p in a.client_file],
        rate=None if a.rate is None else parse_rate(a.rate),
        pythons=list(a.python),
        pg_url=getattr(a, "pg_url", None),
        redis_url=getattr(a, "redis_url", None),
        db_latency=parse_duration(getattr(a, "db_latency", "0"), "--db-latency"),
        pool_size=parse_count(getattr(a, "pool_size", "20"), "--pool-size"),
    )
