"""The trust flags and Little's-law bound, decided from a row's own numbers (no process, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.harness.trust import FLAG_HELP, client_capacity, flags_for, littles_law_bound
from workbench.testing import make_row

# Two modes: two rounds far below two close ones (trio's raw row once went 13k or 25k by worker).
NOISY = {"ops_per_s": [6000.0, 6100.0, 10000.0, 10100.0], "median": 8050.0, "spread": 0.5}
CALM = {"ops_per_s": [9900.0, 10000.0, 10100.0], "median": 10000.0, "spread": 0.02}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        ({"server_cpu_util": 0.95}, ["server-bound"]),
        ({"server_cpu_util": 0.3, "cpu_s": 0.95}, ["client-bound"]),
        ({"server_cpu_util": 0.3, "cpu_s": 0.95, "processes": 2}, []),  # two cores' worth
        ({"ops": 500, "server_cpu_util": None, "cpu_s": 0.1, "errors": 3, "repeats": NOISY},
         ["few-samples", "errors", "noisy"]),
        ({"ops": 0, "server_cpu_util": 0.0, "cpu_s": 0.0}, ["no-ops"]),
        ({"clients": 100, "users_warm": 60}, ["not-warm"]),
        ({"clients": 100, "users_warm": 60, "users_started": 60}, ["not-warm"]),
        ({"clients": 100, "users_warm": 60, "users_started": 100}, ["late-warm"]),
        ({"timer_late": {"delay_ms": 1.0, "p50_ms": 0.2, "p99_ms": 0.5, "count": 9}},
         ["timer-late"]),
        ({"timer_late": {"delay_ms": 20.0, "p50_ms": 0.2, "p99_ms": 3.0, "count": 9}}, []),
        # The worst round's CPU share decides, not the median round's.
        ({"server_cpu_util": 0.3, "cpu_s": 0.5, "client_cpu_util": 0.95}, ["client-bound"]),
        ({"repeats": CALM}, []),
        ({"rate_share": 0.9}, ["rate-missed"]),
        ({"rate_share": 0.97}, []),
        ({"evicted": False}, ["not-evicted"]),
        ({"evicted": None}, []),  # a warm row: nothing to check
        ({"cache": "cold", "evicted": None}, ["eviction-unchecked"]),
        ({"cache": "cold", "evicted": True}, []),
        ({"in_memory": True}, ["in-memory"]),
        ({"write_budget_spent": True}, ["write-budget"]),
        # Two faults a read: glibc mapping a large read buffer afresh. A file read's faults are
        # its pages coming in, not the allocator.
        ({"minor_faults_per_op": 2.0}, ["allocator"]),
        ({"minor_faults_per_op": 0.99}, []),
        ({"minor_faults_per_op": 2.0, "workload": "file-read"}, []),
        # ws-push: what arrived against what was sent; idle: heartbeats kept on time or not.
        ({"workload": "ws-push", "push_share": 0.61}, ["push-short"]),
        ({"workload": "ws-push", "push_share": 0.99}, []),
        ({"workload": "idle", "heartbeat_s": 1.0}, []),  # p50 1 ms on a 1 s heartbeat
        ({"workload": "idle", "heartbeat_s": 0.001}, ["heartbeat-late"]),  # p50 1 ms on 1 ms
    ],
)  # fmt: skip
def test_trust_flags(fields: dict[str, Any], expected: list[str]) -> None:
    assert flags_for(make_row(**fields), client_cpus=2) == expected


def test_every_flag_is_explained() -> None:
    rows = [
        make_row(ops=0, users_warm=0, rate_share=0.1, evicted=False, in_memory=True,
                 write_budget_spent=True, server_cpu_util=1.0, errors=1, repeats=NOISY),
        make_row(cache="cold", evicted=None),
        make_row(users_warm=1, users_started=100),
        make_row(cpu_late=True),
        make_row(timer_late={"delay_ms": 1.0, "p50_ms": 0.5, "p99_ms": 0.9, "count": 9}),
        make_row(ops=10, cpu_s=5.0),
        make_row(metadata={"free_threaded_build": True, "gil_enabled": True}),
        make_row(minor_faults_per_op=2.0),
        make_row(workload="ws-push", push_share=0.61),
        make_row(workload="idle", heartbeat_s=1.0,
                 latency_ms={"p50": 3600.0, "p90": 4e3, "p99": 5e3, "p999": 5e3, "max": 5e3,
                             "mean": 3e3}),
        # Served rows: a saturated server under its bound; a loop that waited; a busy load.
        make_row(served={}, server_cpu_util=0.99, bound_share=0.5),
        make_row(served={}, server_cpu_util=0.2, client_cpu_util=0.99,
                 loop_lag={"delay_ms": 5.0, "p50_ms": 50.0, "p99_ms": 90.0}),
    ]  # fmt: skip
    raised = {flag for row in rows for flag in flags_for(row, client_cpus=1)}
    assert raised == set(FLAG_HELP)


def test_client_capacity_is_one_core_per_process_up_to_the_cpus() -> None:
    assert client_capacity(processes=1, client_cpus=8) == 1
    assert client_capacity(processes=4, client_cpus=2) == 2
    assert client_capacity(processes=0, client_cpus=0) == 1


def test_littles_law_bound() -> None:
    assert littles_law_bound(500, 0.02) == pytest.approx(25_000)
    assert littles_law_bound(500, 0.0) is None
