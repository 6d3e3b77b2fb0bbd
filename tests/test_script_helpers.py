"""The scripts' shared shape, in-process: a stopped run stops the script with the run's own exit
code, and what was measured so far is written out, marked partial."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from scripts import _script
from workbench.errors import UsageError
from workbench.testing import make_doc, make_row


def _run_main(fn: object) -> int:
    with pytest.raises(SystemExit) as info:
        _script.main(fn)  # type: ignore[arg-type]
    return int(info.value.code or 0)


@pytest.mark.parametrize(("exit_code", "verb"), [(1, "failed"), (130, "interrupted")])
def test_a_stop_keeps_the_runs_and_its_own_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], exit_code: int, verb: str
) -> None:
    _script._RUNS.clear()
    out = _script.out_dir(Namespace(out=str(tmp_path)), "x")
    done = make_doc(make_row())
    reason = "the mock http server died"
    stopped = {
        **make_doc(make_row(model="trio")),
        "partial": True,
        "stopped": {"reason": reason, "exit_code": exit_code},
    }

    def script() -> int:
        _script.stop_if_stopped("first", done)
        _script.stop_if_stopped("second", stopped)
        return 0

    assert _run_main(script) == exit_code  # a failure is not a Ctrl-C, and neither is lost
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{Path(sys.argv[0]).name}: {verb}: the mock http server died")
    assert "marked partial" in err
    kept = json.loads((out / "partial.json").read_text())
    assert kept["partial"] is True
    assert [r["what"] for r in kept["runs"]] == ["first", "second"]
    assert [r["results"][0]["model"] for r in kept["runs"]] == ["uvloop", "trio"]


def test_bad_input_is_exit_2_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _script._RUNS.clear()
    _script.out_dir(Namespace(out=str(tmp_path)), "x")

    def script() -> int:
        raise UsageError("--clients 'ten' is not a whole number")

    assert _run_main(script) == 2
    assert "is not a whole number" in capsys.readouterr().err
    assert not (tmp_path / "partial.json").exists()
