"""Copy-ready example clients, one runnable file per model and task (`workbench template NAME`).

Every network template has the shape `workbench io --client-file` measures: a module-level
`MODEL` (the concurrency model it is written for) and three functions, async or not to match:
`setup(url, concurrency, timeout_s) -> state`, `request(state) -> bytes received` (raises on a
failed request) and `teardown(state)`. Its own `main()` runs them with bounded concurrency,
timeouts, clean shutdown on Ctrl-C and a summary line, so it is also a program on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent


def template_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))


def template_path(name: str) -> Path:
    from workbench.errors import UsageError

    path = HERE / f"{name}.py"
    if name.startswith("_") or not path.is_file():
        raise UsageError(f"no template {name!r}; choose from {', '.join(template_names())}")
    return path


def summary(name: str) -> str:
    doc = ast.get_docstring(ast.parse(template_path(name).read_text())) or ""
    return doc.splitlines()[0] if doc else ""
