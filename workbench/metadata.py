"""Metadata recorded with every result (pyperf's lesson): enough to tell two runs apart."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import sysconfig
from typing import Any

from workbench.allocators import PREFIXES

LIBRARIES = (
    "aiohttp",
    "anyio",
    "trio",
    "uvloop",
    "httpx",
    "httpcore",
    "urllib3",
    "aiofiles",
    "requests",
    "gevent",
    "liburing",
)


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def allocator_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(PREFIXES)}


def gil_enabled() -> bool | None:
    """Whether the GIL is on *now*: on free-threaded builds importing an extension that is not
    marked safe turns it back on, so call this after the imports that matter."""
    probe = getattr(sys, "_is_gil_enabled", None)
    return bool(probe()) if probe is not None else True


def interpreter() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled(),
        "switch_interval_s": sys.getswitchinterval(),
        # How it was built: pyenv, for one, builds without PGO or LTO unless asked.
        "config_args": sysconfig.get_config_var("CONFIG_ARGS"),
        # Set by the user to force the GIL on or off on a free-threaded build (or unset).
        "python_gil_env": os.environ.get("PYTHON_GIL"),
    }


def process_metadata() -> dict[str, Any]:
    """What a worker records about itself after importing its model and client."""
    return {
        **interpreter(),
        "libraries": library_versions(),
        "allocator_env": allocator_env(),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "pid": os.getpid(),
    }


def machine() -> dict[str, Any]:
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
    }
