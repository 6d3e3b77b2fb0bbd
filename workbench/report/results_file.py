"""Result documents on disk: written atomically, read back with a clear error when they are not
ours (wrong schema, truncated, not JSON)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from workbench.errors import UsageError
from workbench.results import SCHEMA_VERSION, ResultDoc


def results_dir(out: str | None, name: str) -> Path:
    """`out`, or results/NAME-TIME under the current directory: created, or a clear error."""
    import datetime as dt

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(out) if out else Path("results") / f"{name}-{stamp}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {path}: {exc.strerror}") from None
    return path


def write_json(path: str | os.PathLike[str], doc: Mapping[str, Any]) -> Path:
    """Write to a temporary file in the same directory, fsync, then rename over the target, so a
    crash or Ctrl-C leaves either the old file or the new one, never half of one."""
    return write_atomic(path, json.dumps(doc, indent=1) + "\n")


def write_atomic(path: str | os.PathLike[str], text: str | bytes) -> Path:
    """`text` (or bytes) to `path` atomically, with the permissions a plain open() would have
    given it."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {target}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {p}: {exc.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{p} is not a complete JSON document ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(doc, dict) or "schema_version" not in doc or "results" not in doc:
        raise UsageError(f"{p} is not a workbench result file")
    if doc["schema_version"] != SCHEMA_VERSION:
        raise UsageError(
            f"{p} has schema version {doc['schema_version']}, this workbench reads {SCHEMA_VERSION}"
        )
    return doc


def read_results(path: str | os.PathLike[str]) -> ResultDoc:
    """An io, disk or sweep run (not a GIL lab run), checked as `read_json` checks."""
    doc = read_json(path)
    if doc.get("kind") == "gil":
        raise UsageError(f"{path} is a GIL lab run; this takes an io, disk or sweep run")
    return cast(ResultDoc, doc)
