"""Users' own clients (`io --client-file my_client.py`): which model a file is written for, checked
before any cell is planned. The wrapping into the client shape lives in `clients.client_file`; this
check needs the models too, so it sits above both."""

from __future__ import annotations

import inspect

from workbench.clients.client_file import SHAPE, load_module
from workbench.errors import UsageError
from workbench.models import MODEL_NAMES, model_class


def client_file_model(path: str) -> str:
    """The model the file is written for; a UsageError naming what is missing otherwise."""
    module = load_module(path)
    missing = [n for n in ("MODEL", "setup", "request", "teardown") if not hasattr(module, n)]
    if missing:
        raise UsageError(f"--client-file {path} has no {', '.join(missing)} ({SHAPE})")
    model = module.MODEL
    if model not in MODEL_NAMES:
        raise UsageError(
            f"--client-file {path}: MODEL {model!r} is not one of {', '.join(MODEL_NAMES)}"
        )
    coroutines = {
        n: inspect.iscoroutinefunction(getattr(module, n)) for n in ("setup", "request", "teardown")
    }
    blocking = model_class(model).family == "blocking"
    wrong = [n for n, is_async in coroutines.items() if is_async == blocking]
    if wrong:
        kind = "plain functions" if blocking else "async functions"
        raise UsageError(
            f"--client-file {path}: MODEL {model!r} needs {kind}; not: {', '.join(wrong)}"
        )
    return str(model)
