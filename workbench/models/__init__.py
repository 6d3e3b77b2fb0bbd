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
}
MODEL_NAMES = tuple(MODELS)


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


def load_model(name: str) -> Model:
    return model_class(name)()


__all__ = ["MODELS", "MODEL_NAMES", "load_model", "model_class"]
