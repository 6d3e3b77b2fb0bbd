"""The interpreters that run measurements: this one, or another the user names with `--python`
(a free-threaded 3.14t, say). One module, so every command checks and prepares them the same way.

A worker or probe under another interpreter imports this checkout through PYTHONPATH, so the
workbench itself need not be installed there; what it needs besides (the models' libraries) must be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import workbench
from workbench.errors import UsageError

# The directory that holds the `workbench` and `servers` packages of this checkout.
PACKAGE_ROOT = str(Path(workbench.__file__).resolve().parent.parent)


def is_this_python(python: str) -> bool:
    return python == sys.executable


def child_env(python: str, env: dict[str, str]) -> dict[str, str]:
    """The extra environment of a child run by `python`: this checkout on its path when it is
    another interpreter."""
    if is_this_python(python):
        return env
    return {**env, "PYTHONPATH": PACKAGE_ROOT}


def check_python(python: str) -> dict[str, Any]:
    """The interpreter's version and build, or a UsageError saying it is not a usable Python."""
    probe = (
        "import json, sys, sysconfig; print(json.dumps({'version': sys.version.split()[0], "
        "'free_threaded_build': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
        "'executable': sys.executable, 'ok': sys.version_info >= (3, 9)}))"
    )
    try:
        out = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        raise UsageError(f"--python {python}: cannot run it ({exc.strerror})") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"--python {python}: did not answer within 30s") from None
    try:
        info: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise UsageError(f"--python {python} is not a Python interpreter") from None
    if not info.pop("ok"):
        raise UsageError(f"--python {python} is Python {info['version']}; 3.9 or newer is needed")
    return info


def check_worker_python(python: str) -> None:
    """Another interpreter for the workers: it must be a Python that can import the workbench and
    what it needs (the package itself comes from this checkout, through PYTHONPATH)."""
    check_python(python)
    probe = "import workbench.harness.worker, workbench.models.sync"
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    out = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise UsageError(
            f"--python {python} cannot run the workbench's workers ({tail}); install its "
            f"dependencies there: {python} -m pip install {PACKAGE_ROOT}"
        )
