"""Concurrency models by name, imported lazily (anyio's lesson): a missing optional package is a
clear error naming what to install, and only for the model that needs it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from workbench.errors import MissingDependency, UsageError

if TYPE_CHECKING:
    from workbench.models.base import Model

MODELS: dict[str, str] = {
    "sync": "workbench.models.sync:SyncModel",
    "threads": "workbench.models.threads:ThreadsModel",
    "processes": "workbench.models.processes:ProcessesModel",
    "asyncio": "workbench.models.asyncio_loops:AsyncioModel",
    "uvloop": "workbench.models.asyncio_loops:UvloopModel",
    "trio": "workbench.models.trio_tasks:TrioModel",
    "anyio-asyncio": "workbench.models.anyio_backends:AnyioModel",
    "anyio-trio": "workbench.models.anyio_backends:AnyioTrioModel",
    "processes-uvloop": "workbench.models.processes:ProcessesUvloopModel",
    "gevent": "workbench.models.gevent_greenlets:GeventModel",
    "asyncio-threads": "workbench.models.loop_threads:AsyncioThreadsModel",
    "uvloop-threads": "workbench.models.loop_threads:UvloopThreadsModel",
}
MODEL_NAMES = tuple(MODELS)
# What a run without --models compares: the models that were there before the default run reached
# its 90 s (89.6 s measured at --clients 500). The later ones run with `--models all` or by name:
# gevent added 7 s to it (96.7 s); an event loop per thread answers the free-threaded question,
# which needs `--python 3.14t`, and on a GIL build its loops only take turns.
OUTSIDE_DEFAULT = ("gevent", "asyncio-threads", "uvloop-threads")
DEFAULT_MODELS = tuple(m for m in MODEL_NAMES if m not in OUTSIDE_DEFAULT)
# What a model's fresh worker process must run first, before the rest of the workbench (and with
# it socket, ssl and threading) is imported: "module:function".
PRELUDES: dict[str, str] = {"gevent": "workbench.models.gevent_patch:patch_all"}


def run_prelude(name: str) -> None:
    """Run the model's prelude, if it has one. A prelude whose package is missing does nothing
    here: loading the model then fails with the clear message that says what to install."""
    path = PRELUDES.get(name)
    if path is None:
        return
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return
    getattr(module, attr)()


def model_class(name: str) -> type[Model]:
    try:
        path = MODELS[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}") from None
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise MissingDependency(exc.name or "?", f"model {name!r}") from None
    cls: type[Model] = getattr(module, attr)
    for package in cls.requires:
        try:
            importlib.import_module(package)
        except ModuleNotFoundError:
            raise MissingDependency(package, f"model {name!r}") from None
    return cls


def runs(model: str, workload: str) -> bool:
    """Whether `model` runs the workload's protocol at all (whatever the client)."""
    from workbench.workloads import WORKLOAD_PROTOCOLS

    return WORKLOAD_PROTOCOLS[workload] not in model_class(model).skips


def load_model(name: str) -> Model:
    return model_class(name)()


__all__ = [
    "DEFAULT_MODELS",
    "MODELS",
    "MODEL_NAMES",
    "PRELUDES",
    "load_model",
    "model_class",
    "run_prelude",
    "runs",
]
