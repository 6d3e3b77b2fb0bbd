"""Figure sections, rendered from the record (docs/figures/*.json) into README.md and docs/.

A figure section is `<!-- figures: NAME -->BODY<!-- /figures -->` on any page; NAME is one of the
templates in `_figures_sections.TEMPLATES`, and BODY is whatever that template makes of the
record, byte for byte, followed by one line saying which runs it was rendered from (command,
commit, time). `python -m scripts.readme_figures --render` rewrites every section; the test
re-renders and requires every page unchanged, so no figure in a section can be edited by hand,
and a claim in a section is true of the data or is not written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from scripts._figures_record import RECORD, ROOT, Record, measured_changes, view
from scripts._figures_sections import TEMPLATES
from scripts._figures_text import wrap

SECTION = re.compile(r"<!-- figures: ([\w-]+) -->(.*?)<!-- /figures -->", re.S)


def pages(root: Path = ROOT) -> list[Path]:
    """The pages that may hold figure sections: the README and every page under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def sections(text: str) -> Iterator[re.Match[str]]:
    return SECTION.finditer(text)


def provenance(record: Record, read: set[str]) -> str:
    """Which runs a section was rendered from: one command with its commit and time, or the
    sources grouped by the commit and time they ran at."""
    if not read:
        return ""
    where = RECORD.relative_to(ROOT)
    if len(read) == 1:
        (name,) = read
        runs = record[name]
        run = runs[-1]
        return wrap(
            f"<sub>Measured by `{run['command']}` at commit `{run['commit'][:12]}` on "
            f"{run['date']} ({run['seconds']:.0f} s; run {len(runs)} of {len(runs)} kept in "
            f"`{where}/{name}.json`).</sub>"
        )
    groups: dict[tuple[str, str], list[str]] = {}
    for name in sorted(read):
        run = record[name][-1]
        groups.setdefault((run["commit"][:12], run["date"]), []).append(f"`{name}`")
    said = "; ".join(f"at commit `{c}` on {d} by {', '.join(n)}" for (c, d), n in groups.items())
    return wrap(f"<sub>Measured {said} (every run kept in `{where}/`).</sub>")


def template_of(name: str, record: Record) -> tuple[str, set[str]]:
    """A section's template text, and the sources it read to make it."""
    if name not in TEMPLATES:
        raise KeyError(f"no template for the figure section {name!r}")
    seen: set[str] = set()
    return TEMPLATES[name](view(record, seen)), seen


def rendered(name: str, record: Record) -> str:
    """One section's body: its template's text, then where it came from."""
    text, seen = template_of(name, record)
    return f"{text}\n{provenance(record, seen)}\n"


def render(text: str, record: Record) -> str:
    """The page with every figure section's body replaced by its rendering."""
    return SECTION.sub(
        lambda m: f"<!-- figures: {m.group(1)} -->{rendered(m.group(1), record)}<!-- /figures -->",
        text,
    )


def differences(text: str, record: Record) -> list[str]:
    """Each figure section whose text is not what its template renders, with the first line that
    differs: 'NAME: the page has ... / the data renders ...'."""
    out = []
    for m in sections(text):
        name, written = m.group(1), m.group(2)
        if name not in TEMPLATES:
            out.append(f"{name}: no such figure section")
            continue
        body = rendered(name, record)
        if written != body:
            pairs = zip([*written.splitlines(), ""], [*body.splitlines(), ""], strict=False)
            a, b = next((a, b) for a, b in pairs if a != b)
            out.append(f"{name}: the page has {a.strip()!r} / the data renders {b.strip()!r}")
    return out


def status(record: Record, root: Path = ROOT) -> list[str]:
    """Per section: the sources it was rendered from and what changed in the measured code since
    each ran. Informational: the page already says which commit it measured."""
    lines = []
    stale: dict[str, list[str]] = {}  # by commit: most sources share one
    for page in pages(root):
        for m in sections(page.read_text()):
            for name in sorted(template_of(m.group(1), record)[1]):
                run = record[name][-1]
                if run["commit"] not in stale:
                    stale[run["commit"]] = measured_changes(run["commit"], root)
                changed = stale[run["commit"]]
                note = f"{len(changed)} measured files changed since" if changed else "current"
                lines.append(
                    f"{page.relative_to(root)} {m.group(1)}: {name} at "
                    f"{run['commit'][:12]} ({run['date']}): {note}"
                )
    return lines


# A measured figure as prose writes one: a number and a unit of rate, time, share or ratio.
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
FIGURE = re.compile(
    rf"(?<![\w.-]){_NUMBER}(?:\s?[-–]\s?{_NUMBER})?\s?"
    r"(?:ops/s|req/s|requests/s|[KMG]B/s|ms\b|µs\b|us\b|s\b|seconds\b|minutes\b|%|×|x\b)"
)
# What may hold such a figure outside a section: a code block or span (commands, options and the
# settings they take), an HTML comment.
_EXEMPT = re.compile(r"```.*?```|`[^`\n]*`|<!--.*?-->", re.S)


def unrendered_figures(text: str) -> list[str]:
    """Each measured-looking figure outside the figure sections and code: 'LINE: FIGURE'."""
    out = []
    outside = SECTION.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    outside = _EXEMPT.sub(lambda m: "\n" * m.group(0).count("\n"), outside)
    for n, line in enumerate(outside.splitlines(), 1):
        out += [f"{n}: {m.group(0)}" for m in FIGURE.finditer(line)]
    return out
