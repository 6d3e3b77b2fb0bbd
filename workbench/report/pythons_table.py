"""`workbench pythons`: the interpreters found on this machine, and what each can run."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from workbench.interpreter_discovery import Found
from workbench.interpreters import CORE, supported, tag_of


def availability(modules: dict[str, str | None]) -> tuple[list[str], list[str]]:
    """(models, clients) a worker could run with these imports (module -> error or None)."""
    from workbench.clients import CLIENTS
    from workbench.models import MODELS, model_class

    ok = {m for m, err in modules.items() if err is None}
    if any(modules.get(m) for m in CORE):
        return [], []
    models = [n for n in MODELS if set(model_class(n).requires) <= ok]
    clients = [n for n, e in CLIENTS.items() if e.package is None or e.package in ok]
    return models, clients


def runnable(modules: dict[str, str | None]) -> str:
    """'all' or what is missing: the models and clients a worker there could not run."""
    from workbench.clients import CLIENTS
    from workbench.models import MODELS

    models, clients = availability(modules)
    if not models:
        return "none (the workers' core packages are missing)"
    if len(models) == len(MODELS) and len(clients) == len(CLIENTS):
        return "all"
    lacking = [m for m in MODELS if m not in models] + [c for c in CLIENTS if c not in clients]
    return f"all but {', '.join(lacking)}"


def print_pythons(found: Sequence[Found], console: Console) -> None:
    t = Table(title="interpreters found", title_justify="left")
    for col in (
        "python",
        "where",
        "path",
        "free-threaded",
        "GIL at run time",
        "dependencies",
        "models and clients",
    ):
        t.add_column(col)
    for f in found:
        info = f.info
        name = f"{info.get('implementation', '?')} {tag_of(info)}"
        if not supported(info):
            t.add_row(name, f.where, f.path, "", "", "not supported (CPython 3.11+ needed)", "")
            continue
        env = f.prepared
        modules = info.get("modules", {})
        missing = [m for m, err in modules.items() if err]
        if missing and env is not None:  # what the prepared environment holds counts instead
            modules = {
                m: (env["failed"].get(m) if m not in env["installed"] else None) for m in modules
            }
            missing = [m for m, err in modules.items() if err]
        deps = "all" if not missing else f"missing {', '.join(missing)}"
        if env is not None:
            deps += " (prepared env)"
        elif missing:
            deps += "; `workbench pythons prepare` installs them"
        gil = "on" if info.get("gil_after_imports", True) else "off"
        if info.get("free_threaded_build") and info.get("gil_enabled_by"):
            gil += f" (turned on by {info['gil_enabled_by']})"
        t.add_row(
            name,
            f.where,
            f.path,
            "yes" if info.get("free_threaded_build") else "no",
            gil,
            deps,
            runnable(modules),
        )
    console.print(t)
