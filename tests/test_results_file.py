"""Result files on disk: written atomically, read back or refused with a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.errors import UsageError
from workbench.report.results_file import read_json, read_results, write_json
from workbench.testing import make_doc, make_row


def test_truncated_or_foreign_result_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "cut.json").write_text('{"schema_version": 1, "results": [')
    (tmp_path / "other.json").write_text('{"hello": "world"}')
    (tmp_path / "future.json").write_text('{"schema_version": 99, "results": []}')
    with pytest.raises(UsageError, match="not a complete JSON"):
        read_json(tmp_path / "cut.json")
    with pytest.raises(UsageError, match="not a workbench result"):
        read_json(tmp_path / "other.json")
    with pytest.raises(UsageError, match="schema version 99"):
        read_json(tmp_path / "future.json")


def test_write_is_atomic_and_round_trips(tmp_path: Path) -> None:
    doc = make_doc(make_row(), make_row(model="trio"))
    path = write_json(tmp_path / "run.json", doc)
    assert read_results(path) == doc
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary file left
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~_umask()
    with pytest.raises(UsageError, match="does not exist"):
        write_json(tmp_path / "missing" / "run.json", doc)


def test_a_gil_run_is_not_an_io_run(tmp_path: Path) -> None:
    path = write_json(tmp_path / "gil.json", {**make_doc(), "kind": "gil"})
    assert read_json(path)["kind"] == "gil"
    with pytest.raises(UsageError, match="is a GIL lab run"):
        read_results(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
