"""The db cells: every driver on every model it fits, against real PostgreSQL and Redis servers
the run starts itself; the answers verified; bad input as one line; the delay proxy's round trip."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, skip_unless_ci
from workbench.errors import UsageError
from workbench.harness.db_cells import DEFAULT_DB_CELLS, DbCells, pool_size_of
from workbench.harness.settings import IoSettings
from workbench.workloads.base import Target, WorkloadError
from workbench.workloads.db import DbOptions, PgInsert, PgSelect, RedisGet, RedisSet, payload

# --- in-process: what an answer must be, what a URL may be, what runs --------------------------


def test_every_key_is_asked_for_and_users_start_apart() -> None:
    w = PgSelect(Target("postgresql", "127.0.0.1", 5432), DbOptions(keys=101))
    first = w.keys(0)
    seen = {next(first) for _ in range(101)}
    assert seen == set(range(101))
    assert next(w.keys(0)) != next(w.keys(1))


def test_a_select_answer_is_checked_row_and_bytes() -> None:
    w = PgSelect(Target("postgresql", "127.0.0.1", 5432), DbOptions(value_size=40))
    assert w.check(7, [(8, payload(7, 40))]) == 40
    with pytest.raises(WorkloadError) as wrong:
        w.check(7, [(8, payload(6, 40))])
    assert wrong.value.kind == "wrong-row"
    with pytest.raises(WorkloadError) as none:
        w.check(7, [])
    assert none.value.kind == "wrong-rows"


def test_payloads_are_sized_and_differ_per_key() -> None:
    assert len(payload(3, 64)) == 64
    assert payload(3, 64) != payload(4, 64)
    assert payload(12345, 5) == "item-"


def test_insert_get_and_set_answers_are_checked() -> None:
    t = Target("redis", "127.0.0.1", 6379)
    assert PgInsert(t, DbOptions()).check([(1,)]) == 64
    with pytest.raises(WorkloadError):
        PgInsert(t, DbOptions()).check([])
    get = RedisGet(t, DbOptions(value_size=10))
    assert get.check(2, payload(2, 10).encode()) == 10
    with pytest.raises(WorkloadError) as missing:
        get.check(2, None)
    assert missing.value.kind == "wrong-value"
    assert RedisSet(t, DbOptions()).check(True) == 64
    with pytest.raises(WorkloadError):
        RedisSet(t, DbOptions()).check(None)


def test_a_dsn_quotes_credentials_and_uses_the_checked_address() -> None:
    t = Target("postgresql", "db.local", 5433, address="127.0.0.1")
    w = PgSelect(t, DbOptions(user="me", password="p@ss:/", database="app"))
    assert w.dsn() == "postgresql://me:p%40ss%3A%2F@127.0.0.1:5433/app"


def test_a_blocking_query_past_its_deadline_is_cancelled() -> None:
    """psycopg's blocking calls cannot be interrupted by the loop: the watchdog cancels a query
    still running --timeout after its operation began, and leaves a quick one alone."""
    from workbench.clients.db_postgres import Deadlines

    class Conn:
        cancelled = 0

        def cancel_safe(self, timeout: float) -> None:
            self.cancelled += 1

    deadlines = Deadlines(0.05)
    quick, slow = Conn(), Conn()
    with deadlines.bound(quick):
        pass
    with deadlines.bound(slow):
        time.sleep(0.3)
    time.sleep(0.1)
    deadlines.close()
    assert (quick.cancelled, slow.cancelled) == (0, 1)


def test_an_async_redis_operation_has_one_deadline() -> None:
    """A Redis that accepts and never answers: the operation fails at --timeout, whole."""
    import asyncio

    from workbench.clients.base import ClientContext
    from workbench.clients.db_redis import RedisAsyncClient

    silent: list[asyncio.StreamWriter] = []

    async def main() -> float:
        server = await asyncio.start_server(lambda _, w: silent.append(w), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        workload = RedisGet(Target("redis", "127.0.0.1", port), DbOptions(keys=10))
        client = RedisAsyncClient(ClientContext(workload, 1, 0.2))
        await client.start()
        conn = client.connection()
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            await conn.op()
        elapsed = time.monotonic() - t0
        await conn.reset()
        await client.aclose()
        for w in silent:
            w.close()
            await w.wait_closed()
        server.close()
        await server.wait_closed()
        return elapsed

    assert 0.2 <= asyncio.run(main()) < 2.0  # never early; and given up, not waited on forever


@pytest.mark.parametrize(
    ("url", "option", "message"),
    [
        ("http://127.0.0.1/", "--pg-url", "expected a postgresql:// URL"),
        ("postgresql:///db", "--pg-url", "has no host"),
        ("postgresql://127.0.0.1:99999/db", "--pg-url", "bad port"),
        ("redis://127.0.0.1:6379/zero", "--redis-url", "a Redis database is a number"),
        ("postgresql://u:secret@:5432/db", "--pg-url", "***"),  # the password never shown
    ],
)
def test_bad_db_urls_are_one_line(url: str, option: str, message: str) -> None:
    from workbench.harness.db_data import parse_db_url

    with pytest.raises(UsageError, match="^" + option) as err:
        parse_db_url(url, option)
    assert message in str(err.value)
    assert "secret" not in str(err.value)


def test_the_default_db_cells_cover_every_driver_each_way() -> None:
    kind = DbCells()
    settings = IoSettings(workloads=["pg-select", "redis-get"])
    cells = kind.plan(settings, "pg-select") + kind.plan(settings, "redis-get")
    pairs = {(c.model, c.client) for c in cells}
    assert pairs == set(DEFAULT_DB_CELLS)
    clients = {c.client for c in cells}
    assert clients == {"asyncpg", "asyncpg-pool", "psycopg", "psycopg-pool", "redis", "redis-pool"}
    assert {c.model for c in cells if c.client == "psycopg"} == {
        "asyncio",
        "threads",
        "processes",
        "gevent",
    }
    assert pool_size_of("psycopg-pool", settings) == 20
    assert pool_size_of("psycopg", settings) == 0


def test_models_and_libs_narrow_the_db_cells() -> None:
    kind = DbCells()
    only = IoSettings(models=["uvloop"], workloads=["pg-select"])
    assert {c.client for c in kind.plan(only, "pg-select")} == {"asyncpg", "asyncpg-pool"}
    libs = IoSettings(models=["threads", "trio"], libs=["psycopg"], workloads=["pg-select"])
    assert [(c.model, c.client) for c in kind.plan(libs, "pg-select")] == [("threads", "psycopg")]


@pytest.mark.parametrize(
    ("change", "message"),
    [({"pool_size": 0}, "--pool-size"), ({"db_latency": -0.001}, "--db-latency"),
     ({"pg_url": "mysql://x/"}, "--pg-url")],
)  # fmt: skip
def test_bad_db_settings_are_refused(change: dict[str, object], message: str) -> None:
    settings = IoSettings(workloads=["pg-select"], **change)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=message):
        DbCells().validate(settings)


def test_db_rows_are_held_to_their_own_littles_law_bound() -> None:
    from workbench.report.findings import littles_law

    def row(client: str, bound: float, share: float) -> dict[str, Any]:
        return {"model": "asyncio", "client": client, "workload": "pg-select", "clients": 100,
                "clients_requested": 100, "work": None, "bound_ops_per_s": bound,
                "bound_share": share, "db_latency_ms": 1.0}  # fmt: skip

    rows = [row("asyncpg", 50_000, 0.4), row("asyncpg-pool", 5_000, 0.6)]
    (line,) = littles_law(rows, 0.0)  # type: ignore[arg-type]
    assert "1 ms each way through the delay proxy" in line
    assert "0 ms injected" not in line
    assert line.index("asyncpg-pool 0.60 of 5,000") < line.index("asyncpg 0.40 of 50,000")
    (same,) = littles_law(rows[:1], 0.0)  # type: ignore[arg-type]
    assert "= 50,000 ops/s" in same


# --- real servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def databases() -> None:
    from workbench import db_servers

    for find in (db_servers.postgres_bin, db_servers.redis_bin):
        try:
            find()
        except UsageError as exc:
            skip_unless_ci(str(exc))


def _io(tmp_path: Path, *args: str, timeout: float = 240) -> tuple[int, str, dict[str, Any]]:
    out = tmp_path / "run.json"
    proc = run_cli(
        "io",
        "--only",
        "db",
        "--duration",
        "0.3",
        "--warmup",
        "0.2",
        "--repeat",
        "1",
        "--json",
        str(out),
        *args,
        timeout=timeout,
    )
    doc = json.loads(out.read_text()) if out.exists() else {}
    return proc.returncode, proc.stderr, doc


@pytest.mark.slow
def test_every_default_db_cell_runs_against_real_servers(databases: None, tmp_path: Path) -> None:
    """The issue's own command, `io --only db --clients 100`: a row for every driver each way,
    every answer verified, no error; the servers' CPU on every row."""
    code, err, doc = _io(tmp_path, "--clients", "100")
    assert code == 0, err[-2000:]
    rows = doc["results"]
    assert isinstance(rows, list)
    got = {(r["model"], r["client"], r["workload"]) for r in rows}
    want = {
        (m, c, w)
        for m, c in DEFAULT_DB_CELLS
        for w in (["pg-select"] if c.startswith(("asyncpg", "psycopg")) else ["redis-get"])
    }
    assert got == want
    for r in rows:
        assert r["errors"] == 0, (r["model"], r["client"], r["errors_by_kind"])
        assert r["ops"] > 0
        assert r["server_cpu_util"] is not None
        assert r["server_cpu_util"] > 0
        assert r["connections"] == (
            "one per user" if not r["client"].endswith("-pool") else "a pool of 20 per process"
        )
    servers = doc["metadata"]["databases"]
    assert set(servers) == {"postgres", "redis"}
    assert all(not s["external"] and s["version"] for s in servers.values())


@pytest.mark.slow
def test_writes_commit_and_are_acknowledged_on_each_family(databases: None, tmp_path: Path) -> None:
    code, err, doc = _io(
        tmp_path,
        "--clients",
        "8",
        "--db-workloads",
        "pg-insert,redis-set",
        "--models",
        "asyncio,threads",
        "--libs",
        "asyncpg,psycopg,redis",
    )
    assert code == 0, err[-2000:]
    rows = doc["results"]
    assert isinstance(rows, list)
    assert {(r["model"], r["client"]) for r in rows} == {
        ("asyncio", "asyncpg"),
        ("asyncio", "psycopg"),
        ("threads", "psycopg"),
        ("asyncio", "redis"),
        ("threads", "redis"),
    }
    assert all(r["errors"] == 0 and r["ops"] > 0 for r in rows)


@pytest.mark.slow
def test_the_delay_proxy_adds_its_round_trip_and_rows_get_their_bound(
    databases: None, tmp_path: Path
) -> None:
    """5 ms each way: a user's operation takes at least 10 ms, so 4 users make at most 400 a
    second, and each row reports its share of that bound. asyncpg's pool of 2 holds 2 users at
    a time and resets each connection it takes back, a second round trip: 100 a second. Were
    the reset not a round trip, that row would pass its bound twice over."""
    code, err, doc = _io(
        tmp_path,
        "--clients",
        "4",
        "--db-latency",
        "5ms",
        "--models",
        "asyncio",
        "--libs",
        "asyncpg,asyncpg-pool,redis",
        "--pool-size",
        "2",
        "--procs",
        "1",
    )
    assert code == 0, err[-2000:]
    rows = doc["results"]
    assert isinstance(rows, list)
    assert {r["client"] for r in rows} == {"asyncpg", "asyncpg-pool", "redis"}
    for r in rows:
        pooled = r["client"] == "asyncpg-pool"
        assert r["round_trips"] == (2 if pooled else 1)
        assert r["bound_ops_per_s"] == pytest.approx(100 if pooled else 400)
        assert 0 < r["bound_share"] <= 1.02, r  # the delay bounds it; how close is measured
        assert r["latency_ms"]["p50"] >= 10 * r["round_trips"]


@pytest.mark.slow
def test_bad_database_input_is_one_line(databases: None, tmp_path: Path) -> None:
    from workbench import db_servers

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, err, _ = _io(tmp_path, "--pg-url", f"postgresql://u:p@127.0.0.1:{port}/x")
    assert code == 2, err
    assert "cannot connect" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    code, err, _ = _io(tmp_path, "--pg-url", "postgresql://u:p@192.0.2.1:5432/x")
    assert code == 2
    assert "not loopback" in err
    with db_servers.run_postgres(None, 20) as pg:
        wrong = f"postgresql://{db_servers.PG_USER}:not-the-password@{pg.host}:{pg.port}/postgres"
        code, err, _ = _io(tmp_path, "--pg-url", wrong, "--db-workloads", "pg-select")
        assert code == 2, err
        assert "password authentication failed" in err
        assert "not-the-password" not in err
        assert "Traceback" not in err
        right = wrong.replace("not-the-password", pg.password or "")
        code, err, doc = _io(
            tmp_path,
            "--pg-url",
            right,
            "--db-workloads",
            "pg-select",
            "--clients",
            "4",
            "--models",
            "threads",
            "--libs",
            "psycopg",
        )
        assert code == 0, err[-2000:]
        assert doc["metadata"]["databases"]["postgres"]["external"] is True


@pytest.mark.slow
def test_without_the_drivers_the_db_cells_are_skipped_with_the_reason(tmp_path: Path) -> None:
    """Every driver hidden from the workers' imports: nothing is left to run, one line, exit 2."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import sys\nfor m in ('asyncpg', 'psycopg', 'psycopg_pool', 'redis'):\n"
        "    sys.modules[m] = None\n"
    )
    import os

    env = {**os.environ, "PYTHONPATH": f"{shim}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = run_cli("io", "--only", "db", "--repeat", "1", env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "pip install '.[db]'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_the_db_servers_leave_nothing_behind_on_ctrl_c(databases: None, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    import psutil

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench",
            "io",
            "--only",
            "db",
            "--clients",
            "8",
            "--duration",
            "30",
            "--repeat",
            "1",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    family: list[psutil.Process] = []

    def command(p: psutil.Process) -> str:
        try:
            return " ".join(p.cmdline())
        except psutil.Error:  # gone, or a zombie, while listed
            return ""

    try:
        while time.monotonic() < deadline:  # until both servers and a worker run
            family = psutil.Process(proc.pid).children(recursive=True)
            names = " ".join(command(p) for p in family)
            if "postgres" in names and "redis-server" in names and "workbench.harness" in names:
                break
            time.sleep(0.2)
    except BaseException:
        proc.kill()
        raise
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err[-2000:]
    _, alive = psutil.wait_procs(family, timeout=5)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["asyncpg_pool", "threads_psycopg"])
def test_database_templates_run_and_stop_cleanly(
    name: str, databases: None, tmp_path: Path
) -> None:
    """Copied out as a user would and run against a real PostgreSQL: every request answered;
    then Ctrl-C in the middle of a long run: one line, exit 1, no process left."""
    import re
    import signal
    import subprocess
    import sys

    import psutil

    from workbench import db_servers

    copy = tmp_path / f"{name}.py"
    assert run_cli("template", name, "--out", str(copy)).returncode == 0
    with db_servers.run_postgres(None, 40) as pg:
        url = f"postgresql://{db_servers.PG_USER}:{pg.password}@{pg.host}:{pg.port}/postgres"
        proc = subprocess.run(
            [sys.executable, str(copy), url, "--requests", "500", "--concurrency", "10"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        found = re.search(r"summary: (\d+) ok, (\d+) failed", proc.stdout)
        assert found is not None, proc.stdout
        assert (int(found[1]), int(found[2])) == (500, 0)
        long = subprocess.Popen(
            [sys.executable, str(copy), url, "--requests", "100000000", "--concurrency", "8"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)  # connected, queries flowing
        family = [long.pid, *(c.pid for c in psutil.Process(long.pid).children(recursive=True))]
        long.send_signal(signal.SIGINT)
        _, err = long.communicate(timeout=15)
        assert long.returncode == 1, err
        assert err.strip().splitlines()[-1] == "interrupted"
        assert "Traceback" not in err
        _, alive = psutil.wait_procs([psutil.Process(p) for p in family if psutil.pid_exists(p)], 3)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
