"""Where load may go: `--url` is resolved and checked once, in the parent, and the address that
was checked is the one every worker connects to (in-process: a listening socket, no server)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from workbench.errors import UsageError
from workbench.harness.target import check_target, parse_url
from workbench.workloads import Target, WorkloadSettings, build_workload
from workbench.workloads.http import HttpWorkload


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_the_checked_address_travels_with_the_target(listening: int) -> None:
    target = check_target(parse_url(f"http://localhost:{listening}/status?x=1"), False)
    assert target.address == "127.0.0.1"
    assert target.host == "localhost"
    assert target.connect_url == f"http://127.0.0.1:{listening}/status?x=1"
    assert Target(**target.as_dict()) == target  # it reaches the workers as it was checked
    workload = build_workload(WorkloadSettings("http", target))
    assert isinstance(workload, HttpWorkload)
    assert workload.url == target.connect_url  # library clients connect to the address...
    assert workload.headers == {"Host": f"localhost:{listening}"}  # ...and name the host
    request = workload.exchange().request
    assert f"Host: localhost:{listening}\r\n".encode() in request  # so does the raw client


def test_a_target_without_an_address_keeps_its_name() -> None:
    target = Target("http", "127.0.0.1", 8080, "/")
    assert (target.connect_host, target.connect_url) == ("127.0.0.1", target.url)
    workload = build_workload(WorkloadSettings("http", target))
    assert isinstance(workload, HttpWorkload)
    assert workload.headers == {}


def test_remote_and_unreachable_targets_are_refused(listening: int) -> None:
    with pytest.raises(UsageError, match="not loopback"):
        check_target(parse_url("http://192.0.2.1:80/"), False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]  # bound, never listening: nothing answers there
    with pytest.raises(UsageError, match="cannot connect"):
        check_target(parse_url(f"http://127.0.0.1:{free}/"), False)
    with pytest.raises(UsageError, match="has no host"):
        parse_url("http:///x")
