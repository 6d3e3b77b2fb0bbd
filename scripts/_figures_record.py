"""The record behind every figure section: one JSON file per source under docs/figures/.

A source is one command (`python -m workbench io --clients 500`, a script's default run, the test
suite). Each of its runs is kept, in the order they ran, with what measured it (command, commit,
time, machine, interpreter, reference tools' versions, exit code) and the figures reduced from its
output; the newest run is the one the pages render. A run is only ever appended, never replaced,
so a source rerun until it looked good shows every run it took (tests/test_readme_figures.py
checks against git that no recorded run was dropped or edited).

Templates read the record through `view`, which notes every source a template touched: the
section then says which runs it was rendered from without declaring it by hand.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from workbench.report.results_file import write_json

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "docs" / "figures"
KIND = "workbench-figures"
# What the figures do not measure: these may change after a run without touching what it
# measured. Everything else (the package, the servers, the scripts, the tests the suite's
# figures count, the dependencies) is measured code.
NOT_MEASURED = (
    "README.md",
    "docs/",
    ".ci/",
    ".gitignore",
    "scripts/readme_figures.py",
    "scripts/_figures_",
)

Run = dict[str, Any]
Record = dict[str, list[Run]]


def path_of(source: str, record: Path = RECORD) -> Path:
    return record / f"{source}.json"


def load(record: Path = RECORD) -> Record:
    """Every source's runs, oldest first."""
    out: Record = {}
    for p in sorted(record.glob("*.json")):
        doc = json.loads(p.read_text())
        if doc.get("kind") != KIND:
            continue
        out[doc["source"]] = list(doc["runs"])
    return out


def append(source: str, run: Run, record: Path = RECORD) -> int:
    """Add one run to its source's file (written atomically); the number of runs now kept."""
    p = path_of(source, record)
    runs = json.loads(p.read_text())["runs"] if p.exists() else []
    runs.append(run)
    record.mkdir(parents=True, exist_ok=True)
    write_json(p, {"kind": KIND, "source": source, "runs": runs})
    return len(runs)


class Reads(Mapping[str, Any]):
    """A read-only mapping that notes the keys read from it."""

    def __init__(self, data: Mapping[str, Any], seen: set[str]) -> None:
        self._data, self._seen = data, seen

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        self._seen.add(key)
        return value

    def __iter__(self) -> Iterator[str]:
        self._seen.update(self._data)
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def view(record: Record, seen: set[str]) -> dict[str, Any]:
    """What a template reads: `sources` (each source's newest figures) and `runs` (how that run
    was made), each noting into `seen` the sources read."""
    newest = {s: runs[-1] for s, runs in record.items() if runs}
    return {
        "sources": Reads({s: r["figures"] for s, r in newest.items()}, seen),
        "runs": Reads(
            {s: {k: v for k, v in r.items() if k != "figures"} for s, r in newest.items()}, seen
        ),
    }


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def measured_changes(commit: str, root: Path = ROOT) -> list[str]:
    """Why figures measured at `commit` might not be this checkout's: the commit unknown or not
    an ancestor of HEAD, or a measured file changed since (committed or not). Empty when none."""
    sha = commit.removesuffix("+changes")
    if _git(root, "cat-file", "-e", f"{sha}^{{commit}}").returncode != 0:
        return [f"the commit {sha} is not in this repository"]
    if _git(root, "merge-base", "--is-ancestor", sha, "HEAD").returncode != 0:
        return [f"the commit {sha} is not an ancestor of HEAD"]
    changed = _git(root, "diff", "--name-only", sha, "--").stdout.split()
    changed += _git(root, "ls-files", "--others", "--exclude-standard").stdout.split()
    return [
        f"{path} changed since {sha[:12]}" for path in changed if not path.startswith(NOT_MEASURED)
    ]


def commit_of(root: Path = ROOT) -> str:
    """HEAD, marked `+changes` when the measured code differs from it."""
    out = _git(root, "rev-parse", "HEAD")
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + ("+changes" if measured_changes("HEAD", root) else "")
