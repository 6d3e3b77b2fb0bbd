"""The GIL lab: each experiment's mechanics on small sizes, the verdict rules, the command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli
from workbench.burn import burn, calibrate
from workbench.gil.claims import judge, needs_a_lock, responsiveness
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio
from workbench.gil.timing import ROUNDS, in_threads
from workbench.metadata import gil_enabled
from workbench.stats import percentile
from workbench.testing import phases


def test_unlocked_read_modify_write_loses_updates_and_locked_never_does() -> None:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        lost = needs_a_lock._lost_updates(100_000, 4)
    finally:
        sys.setswitchinterval(before)
    assert lost["d[k] = d.get(k, 0) + 1, no lock"] > 0
    assert lost["d[k] = d.get(k, 0) + 1, with a lock"] == 0


def test_responsiveness_probe_sees_the_lag_it_is_given() -> None:
    # Stalls the probe must see are given, so they bound it from below whatever the load. The
    # idle figures are bounded only by the stall beside them: a 200 ms stall seen as no longer
    # than an idle tick would mean the probe measures nothing (the idle lag itself, ~0.1 ms here,
    # is the GIL lab's figure, not this test's).
    def block_the_loop(loop: object) -> None:
        time.sleep(0.2)  # a stall on the loop's own thread, 10 ms after the ticker started

    stalled = responsiveness._ticks_on_loop(block_the_loop, 0.25)
    idle = responsiveness._ticks_on_loop(lambda loop: None, 0.1)
    assert max(stalled) >= 0.19  # the tick due within 5 ms of the stall's start waited it out
    assert len(idle) >= 2
    assert max(idle) < 0.1
    # A sleeping main thread holds no GIL: a UI thread's lag stays far under the main thread's
    # own 200 ms of sleep, where a held GIL would delay it by all of it.
    ui = responsiveness._ui_thread_lags(lambda: time.sleep(0.2), 0.2)
    assert len(ui) >= 2
    assert max(ui) < 0.1


def _cores_busy(work: Callable[[], object]) -> float:
    """CPU time over wall time while two threads run `work`: how many cores they kept busy."""
    cpu0 = time.process_time()
    wall = in_threads(work, 2)
    return (time.process_time() - cpu0) / wall


def test_python_work_in_two_threads_never_keeps_two_cores_busy() -> None:
    # CPU over wall time rather than speed-ups: other load on a shared machine can only lower
    # it, so this bound holds however busy the machine is (the fast loop's tests must).
    if not gil_enabled():
        pytest.skip("this interpreter runs without a GIL: pure Python may use both cores")
    n = calibrate(burn, 0.05)
    python = [_cores_busy(lambda: burn(n)) for _ in range(3)]
    assert max(python) < 1.3  # one thread runs bytecode at a time: never two cores' worth


# How many cores two hashing threads keep busy is a figure that depends on the other load on the
# machine: the GIL lab's claim 2 measures it in rounds (`workbench gil`, scripts/gil_claims.py),
# and a test asserting it failed a CI run while something else ran beside it.


def test_ratio_interval_pairs_interleaved_rounds() -> None:
    # Paired rounds: a drift common to both sides cancels out of the ratio.
    r = Ratio.of_pairs([2.0, 2.2, 1.8] * 4, [1.0, 1.1, 0.9] * 4)
    assert r.median == pytest.approx(2.0)
    assert r.lo == pytest.approx(2.0)
    assert r.hi == pytest.approx(2.0)
    assert r.coverage == pytest.approx(0.961, abs=0.001)  # 12 rounds: x(3)..x(10)
    with pytest.raises(ValueError, match="unpaired"):
        Ratio.of_pairs([1.0, 2.0], [1.0])
    few = Ratio.of_pairs([2.0, 2.2, 1.8], [1.0, 1.0, 1.0])
    assert few.coverage == pytest.approx(0.75)
    assert not few.above(0.0)  # 75% coverage decides nothing
    assert percentile([1, 2, 3, 4, 100], 99) == 100


def _threads(t2: list[float], c2: list[float], cpus: int = 2) -> dict[str, Any]:
    n = ROUNDS

    def cycle(values: list[float]) -> list[float]:
        return [values[i % len(values)] for i in range(n)]

    one = phases([1.0] * n, [1.0] * n)
    two = phases(cycle(t2), cycle(c2))
    procs = phases(cycle([0.55, 0.56, 0.54]), cycle([1.9, 1.95, 1.9]))
    return {"threads": {"1": one, "2": two, "4": two}, "processes": {"2": procs}, "cpus": cpus}


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (_threads([1.0, 1.02, 0.98], [1.0, 1.01, 1.0]), HOLDS),
        (_threads([0.5, 0.51, 0.52], [1.95, 1.97, 1.93]), FAILS),  # free-threaded
        (_threads([0.8, 1.0, 0.7], [1.3, 1.4, 1.2]), UNSURE),  # neither one core nor two
        (_threads([1.1, 1.12, 0.9], [1.0, 1.0, 1.0]), HOLDS),  # wall noise, one core busy
    ],
)
def test_claim_1_verdicts_follow_the_numbers(m: dict[str, Any], expected: str) -> None:
    assert judge(1, m).verdict == expected


def test_claim_1_explains_a_shared_constant_only_from_its_own_evidence() -> None:
    """The explanation quotes the shared-constant loop's ratio; it is given only where that loop
    ran slower on two threads while the plain loop ran in parallel, and the ratio it quotes is
    the one its evidence shows."""
    parallel = _threads([0.5, 0.51, 0.52], [1.95, 1.97, 1.93])
    n = ROUNDS
    one = phases([1.0] * n, [1.0] * n)
    slower = phases([1.9] * n, [1.95] * n)  # twice as long on two threads, both cores busy
    judged = judge(1, {**parallel, "shared_constant": {"1": one, "2": slower}})
    assert judged.verdict == FAILS
    quoted = re.search(r"share ran ([\d.]+)x as fast on two", judged.explanation)
    assert quoted is not None, judged.explanation
    assert float(quoted[1]) == pytest.approx(1 / 1.9, abs=0.01)
    assert "reference count" in judged.explanation
    shown = re.search(r"large constant both threads share: 2 threads ([\d.]+)x", judged.evidence)
    assert shown is not None, judged.evidence
    assert abs(float(shown[1]) - float(quoted[1])) <= 0.01  # the evidence says what it quotes
    # As fast on two as on one: nothing to explain, so no explanation.
    same = phases([0.5] * n, [1.95] * n)
    judged = judge(1, {**parallel, "shared_constant": {"1": one, "2": same}})
    assert "reference count" not in judged.explanation
    # Threads that kept one core: the shared loop explains nothing either.
    serial = _threads([1.0, 1.02, 0.98], [1.0, 1.01, 1.0])
    judged = judge(1, {**serial, "shared_constant": {"1": one, "2": slower}})
    assert "reference count" not in judged.explanation


def test_claim_5_verdicts_follow_the_numbers() -> None:
    base = {
        "expected": 100,
        "wide_lock_s": [2.0] * ROUNDS,
        "narrow_lock_s": [1.0] * ROUNDS,
        "cpus": 2,
    }
    lost = {"x, no lock": 10, "x, with a lock": 0}
    assert judge(5, {**base, "lost_updates": lost}).verdict == HOLDS
    assert judge(5, {**base, "lost_updates": {**lost, "x, no lock": 0}}).verdict == UNSURE
    assert judge(5, {**base, "lost_updates": {**lost, "x, with a lock": 1}}).verdict == FAILS


def _gil(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("gil", *args, timeout=120)


@pytest.mark.slow
def test_gil_command_writes_claims_with_verdicts(tmp_path: Path) -> None:
    out = tmp_path / "gil.json"
    proc = _gil("--only", "5", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    (claim,) = doc["claims"]
    assert claim["id"] == 5
    assert claim["verdict"] in (HOLDS, FAILS, UNSURE)
    assert "d.get(k, 0)" in claim["evidence"]
    assert "d[k] = d.get(k, 0) + 1" in proc.stdout  # printed as text, not eaten as markup


def _other_python() -> str | None:
    for name in ("python3.13t", "python3.14t", "python3.13", "python3.12", "python3"):
        path = shutil.which(name, path="/usr/local/bin:/usr/bin")
        if path and Path(path).resolve() != Path(sys.executable).resolve():
            return path
    return None


@pytest.mark.slow
def test_two_interpreters_side_by_side(tmp_path: Path) -> None:
    other = _other_python()
    if other is None:
        pytest.skip("no other CPython on this machine")
    out = tmp_path / "two.json"
    proc = _gil("--only", "5", "--python", sys.executable, "--python", other, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(out.read_text())["by_interpreter"]
    assert [r["python"] for r in runs] == [sys.executable, other]
    assert all("gil_enabled" in r["interpreter"] for r in runs)
    assert all(r["claims"][0]["id"] == 5 for r in runs)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--python", "/no/such/python"], "no such interpreter"),
        (["--python", "/bin/true"], "is not a usable Python interpreter"),
        (["--only", "9"], "there is no claim 9"),
    ],
)
def test_gil_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = _gil(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
