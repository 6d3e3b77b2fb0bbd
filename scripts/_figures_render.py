"""The README's figure sections, rendered from docs/readme_figures.json.

A figure section is `<!-- figures: NAME -->BODY<!-- /figures -->`; NAME is one of the templates
in `_figures_sections.TEMPLATES`, and BODY is whatever that template makes of the figures file,
byte for byte. `scripts/readme_figures.py --render` rewrites every section; the test re-renders
and requires the README to be unchanged, so no figure in a section can be edited by hand, and a
claim in a section is true of the data or is not written. Numbers are formatted by one function,
`fmt`, so a figure is written the same way wherever it appears.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECTION = re.compile(r"<!-- figures: ([\w-]+) -->(.*?)<!-- /figures -->", re.S)
# What the regeneration does not measure: these may change after it without making its figures
# stale. Everything else (the package, the servers, the scripts, the tests the suite's figures
# count, the dependencies) is the measured code.
NOT_MEASURED = ("README.md", "docs/", ".ci/", "scripts/readme_figures.py", "scripts/_figures_")

Figures = Mapping[str, Any]
Template = Callable[[Figures], str]


def fmt(value: float | None, style: str) -> str:
    """A figure as the README writes it. Styles: `int` 61,391; `k` 56.4k; `x` 2.14x; `share`
    0.94; `pct` 4.8% of a fraction; `pct0` 5% of a fraction; `pm` ±10% (<1%) of a percentage;
    `s` seconds (84.6, or 130 from 100 up); `min` minutes from seconds; `ms` and `us` as the
    tables print them (0.064, 16.7; 3.2, 1,155); `f1`, `f2` fixed decimals."""
    if value is None:
        return "-"
    v = float(value)
    if style == "int":
        return f"{round(v):,}"
    if style == "k":
        return f"{v / 1000:.1f}k"
    if style == "x":
        return f"{v:.2f}x" if v < 10 else f"{v:.1f}x"
    if style == "share":
        return f"{v:.2f}"
    if style == "pct":
        return f"{v * 100:.1f}%"
    if style == "pct0":
        return f"{v * 100:.0f}%"
    if style == "pm":
        return "<1%" if v < 1 else f"±{v:.0f}%"
    if style == "s":
        return f"{v:.0f} s" if v >= 100 else f"{v:.1f} s"
    if style == "min":
        return f"{v / 60:.0f} minutes"
    if style == "ms":
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"
    if style == "us":
        return f"{v:.1f}" if v < 100 else f"{round(v):,}"
    if style in ("f1", "f2"):
        return f"{v:.{style[1]}f}"
    raise ValueError(f"unknown figure style {style!r}")


def sections(readme: str) -> Iterator[re.Match[str]]:
    return SECTION.finditer(readme)


def render(readme: str, figures: Figures) -> str:
    """The README with every figure section's body replaced by its template's rendering."""
    from _figures_sections import TEMPLATES

    def body(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in TEMPLATES:
            raise KeyError(f"no template for the figure section {name!r}")
        return f"<!-- figures: {name} -->{TEMPLATES[name](figures)}<!-- /figures -->"

    return SECTION.sub(body, readme)


def differences(readme: str, figures: Figures) -> list[str]:
    """Each figure section whose text is not what its template renders, with the first line that
    differs: 'NAME: README has ... / the data renders ...'."""
    from _figures_sections import TEMPLATES

    out = []
    for m in sections(readme):
        name, written = m.group(1), m.group(2)
        if name not in TEMPLATES:
            out.append(f"{name}: no such figure section")
            continue
        rendered = TEMPLATES[name](figures)
        if written != rendered:
            pairs = zip([*written.splitlines(), ""], [*rendered.splitlines(), ""], strict=False)
            a, b = next((a, b) for a, b in pairs if a != b)
            out.append(f"{name}: README has {a.strip()!r} / the data renders {b.strip()!r}")
    return out


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def measured_changes(commit: str, root: Path = ROOT) -> list[str]:
    """Why figures measured at `commit` would not be this checkout's: the commit unknown or not
    an ancestor of HEAD, or a measured file changed since (committed or not). Empty when they
    are."""
    if _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        return [f"the commit {commit} is not in this repository"]
    if _git(root, "merge-base", "--is-ancestor", commit, "HEAD").returncode != 0:
        return [f"the commit {commit} is not an ancestor of HEAD"]
    changed = _git(root, "diff", "--name-only", commit, "--").stdout.split()
    changed += _git(root, "ls-files", "--others", "--exclude-standard").stdout.split()
    return [f"{path} changed since {commit[:12]}" for path in changed
            if not path.startswith(NOT_MEASURED)]  # fmt: skip
