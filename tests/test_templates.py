"""Templates: each runs on its own against the mock server, and unchanged under the harness."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.helpers import run_cli, skip_if_missing
from workbench.server_process import ServerHandle, run_server
from workbench.templates import template_names, template_path

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow

# The database templates take a postgresql:// URL: tests/test_db.py runs them against PostgreSQL.
DATABASE = [n for n in template_names() if "postgresql://" in template_path(n).read_text()]
NETWORK = [
    n for n in template_names() if "MODEL = " in template_path(n).read_text() and n not in DATABASE
]
# The WebSocket templates take a ws:// URL: they run against the WebSocket mock server.
WEBSOCKET = [n for n in template_names() if "ws://" in template_path(n).read_text()]

cli = partial(run_cli, timeout=120)  # sweeps and templates run servers: 120 s


def run_template(path: Path, *args: str) -> tuple[int, int]:
    """Run a template file as a user would; its summary line's (ok, failed)."""
    proc = subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = re.search(r"summary: (\d+) ok, (\d+) failed", proc.stdout)
    assert summary is not None, proc.stdout
    return int(summary[1]), int(summary[2])


TLS = [n for n in NETWORK if "tls" in n]  # they take an https URL and the CA to verify it with


@pytest.mark.parametrize("name", NETWORK)
def test_template_runs_on_its_own(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    copy = tmp_path / f"{name}.py"
    assert cli("template", name, "--out", str(copy)).returncode == 0
    server: ServerHandle = request.getfixturevalue("https_server" if name in TLS else "http_server")
    extra = ["--ca-file", str(server.ca_file)] if name in TLS else []
    counts = run_template(copy, server.url, "--requests", "500", "--concurrency", "10", *extra)
    assert counts == (500, 0)


@pytest.mark.parametrize("name", TLS)
def test_tls_template_refuses_a_certificate_it_cannot_verify(
    name: str, https_server: ServerHandle
) -> None:
    """Without the throw-away CA, the system's CAs cannot vouch for the server: every request
    fails, none is let through unverified."""
    counts = run_template(
        template_path(name), https_server.url, "--requests", "20", "--concurrency", "2"
    )
    assert counts == (0, 20)


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[ServerHandle]:
    """One answer in five is a 500, one in fifty a reset, one in a hundred a stall."""
    from tests.conftest import _SHARED

    with run_server("http", faults=["500:0.2", "reset:0.02", "stall:0.01"]) as server:
        _SHARED.add(server.pid)
        yield server


@pytest.mark.parametrize("name", NETWORK)
def test_template_counts_failures_and_times_out(name: str, faulty_server: ServerHandle) -> None:
    ok, failed = run_template(
        template_path(name),
        faulty_server.url,
        "--requests",
        "400",
        "--concurrency",
        "8",
        "--timeout",
        "0.5",
    )
    assert ok + failed == 400  # every request is accounted for: none lost, none hung
    # 20% + 2% + 1% of answers fail: far from both 0 and all of them.
    assert 0.1 < failed / 400 < 0.4, (ok, failed)


# The anyio templates again on trio, where Ctrl-C arrives as an exception group.
CTRL_C: list[tuple[str, list[str]]] = [(n, []) for n in NETWORK] + [
    (n, ["--backend", "trio"]) for n in ("httpx_async", "anyio_h11")
]


@pytest.mark.parametrize(("name", "extra"), CTRL_C)
def test_template_stops_cleanly_on_ctrl_c(
    name: str, extra: list[str], http_server: ServerHandle
) -> None:
    import psutil

    proc = subprocess.Popen(
        [
            sys.executable,
            str(template_path(name)),
            http_server.url,
            "--requests",
            "100000000",
            "--concurrency",
            "8",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)  # imports done, requests flowing
    family = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"{name} ignored Ctrl-C")
    assert proc.returncode == 1
    assert err.strip().splitlines()[-1] == "interrupted", err  # one line, not a traceback
    assert "Traceback" not in err, err
    _, alive = psutil.wait_procs([psutil.Process(p) for p in family if psutil.pid_exists(p)], 3)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize("name", NETWORK)
def test_template_copied_out_runs_under_the_harness(name: str, tmp_path: Path) -> None:
    model = re.search(r'MODEL = "([^"]+)"', template_path(name).read_text())
    assert model is not None
    skip_if_missing(model.group(1), "raw")
    copy = tmp_path / "my_client.py"
    cli("template", name, "--out", str(copy))
    out = tmp_path / "run.json"
    workload = "https" if name in TLS else "http"
    proc = cli(
        "io",
        "--only",
        "net",
        "--models",
        "sync",
        "--libs",
        "raw",
        "--clients",
        "10",
        "--client-file",
        str(copy),
        "--duration",
        "0.3",
        "--warmup",
        "0.1",
        "--json",
        str(out),
        "--workloads",
        workload,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    rows = {r["client"]: r for r in json.loads(out.read_text())["results"]}
    mine = rows[f"file:{copy}"]
    assert mine["model"] == model.group(1)
    assert mine["ops"] > 0
    assert mine["errors"] == 0
    assert "raw" in rows  # beside the built-in cells


def test_template_command_lists_and_refuses_to_overwrite(tmp_path: Path) -> None:
    listing = cli("template", "list").stdout
    assert all(name in listing for name in template_names())
    target = tmp_path / "t.py"
    target.write_text("mine")
    proc = cli("template", NETWORK[0], "--out", str(target))
    assert proc.returncode == 2
    assert "pass --force" in proc.stderr
    assert target.read_text() == "mine"
    assert cli("template", NETWORK[0], "--out", str(target), "--force").returncode == 0
    assert "MODEL" in target.read_text()
    assert "no template" in cli("template", "cobol").stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("MODEL = 'asyncio'\nasync def setup(u, c, t): ...\n", "has no request, teardown"),
        ("MODEL = 'fibers'\ndef setup(u, c, t): ...\ndef request(s): ...\n"
         "def teardown(s): ...\n", "is not one of"),
        ("MODEL = 'asyncio'\ndef setup(u, c, t): ...\ndef request(s): ...\n"
         "def teardown(s): ...\n", "needs async functions"),
        ("import no_such_module\n", "pip install no_such_module"),
    ],
)  # fmt: skip
def test_client_file_of_the_wrong_shape_is_a_clear_error(
    source: str, message: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    proc = cli("io", "--only", "net", "--models", "sync", "--client-file", str(bad))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# The service templates are apps a server runs: tests/test_served_servers.py runs them.
SERVICES = [n for n in template_names() if "def app(" in template_path(n).read_text()]
FILES = [n for n in template_names() if n not in NETWORK + DATABASE + WEBSOCKET + SERVICES]


@pytest.mark.parametrize("name", FILES)
def test_file_template_reads_every_file(name: str, tmp_path: Path) -> None:
    from workbench import fileset

    if "io_uring" in name:
        skip_if_missing("asyncio", "io_uring")  # with the reason: the binding, or the kernel
    fs = fileset.generate(tmp_path, 40, (4096, 65536))
    # Every file of the set, the manifest and the marker: all read, none failed.
    assert run_template(template_path(name), str(fs.directory)) == (len(fs.files) + 2, 0)


@pytest.mark.parametrize("name", WEBSOCKET)
def test_websocket_template_echoes_on_its_own(name: str, tmp_path: Path) -> None:
    copy = tmp_path / f"{name}.py"
    assert cli("template", name, "--out", str(copy)).returncode == 0
    with run_server("websocket") as server:
        url = f"ws://{server.host}:{server.port}/echo"
        counts = run_template(copy, url, "--messages", "500", "--concurrency", "10")
    assert counts == (500, 0)
