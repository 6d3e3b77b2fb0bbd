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


def provenance(record: Record, read: set[str], stale: bool = True) -> str:
    """Which runs a section was rendered from: one command as it runs today, with its commit and
    start time, or the sources grouped by the commit and time they ran at; then, if the measured
    code changed after a run, which files (as of the render: see `stale_note`)."""
    if not read:
        return ""
    where = RECORD.relative_to(ROOT)
    if len(read) == 1:
        (name,) = read
        runs = record[name]
        run = runs[-1]
        line = wrap(
            f"<sub>Measured by `{command_today(run['command'])}` at commit "
            f"`{run['commit'][:12]}`, started {run['date']} ({run['seconds']:.0f} s; run "
            f"{len(runs)} of {len(runs)} kept in `{where}/{name}.json`).</sub>"
        )
    else:
        groups: dict[tuple[str, str], list[str]] = {}
        for name in sorted(read):
            run = record[name][-1]
            groups.setdefault((run["commit"][:12], run["date"]), []).append(f"`{name}`")
        said = "; ".join(
            f"at commit `{c}`, started {d}, by {', '.join(n)}" for (c, d), n in groups.items()
        )
        line = wrap(f"<sub>Measured {said} (every run kept in `{where}/`).</sub>")
    if not stale:  # comparing with the record alone: git is not asked
        return line
    note = stale_note(sorted({record[name][-1]["commit"] for name in read}))
    return line + ("\n" + note if note else "")


STALE_START = "<sub>Measured code changed since"
# The staleness note is the render's reading of git, not of the record: pages are compared without
# it, so a commit after a run never fails a test, and the next render says what changed.
STALE = re.compile(re.escape(STALE_START) + r".*?</sub>\n?", re.S)
_STALE_CACHE: dict[str, list[str]] = {}


def stale_note(commits: list[str]) -> str:
    """What changed in the measured code after these runs, as one line (empty: nothing)."""
    changed: list[str] = []
    for commit in commits:
        if commit not in _STALE_CACHE:
            _STALE_CACHE[commit] = measured_changes(commit)
        changed += [c for c in _STALE_CACHE[commit] if c not in changed]
    if not changed:
        return ""
    files = sorted({c.split(" changed since")[0] for c in changed})
    shown = ", ".join(files[:3]) + (", …" if len(files) > 3 else "")
    what = f"{len(files)} file{'s' if len(files) != 1 else ''} ({shown})"
    if any(" changed since " not in c for c in changed):  # the commit itself is not here
        what = "; ".join(c for c in changed if " changed since " not in c)
    return wrap(f"{STALE_START} the run: {what}.</sub>")


def comparable(text: str) -> str:
    """A page or section without its staleness notes: what the record alone decides."""
    return STALE.sub("", text)


def command_today(command: str) -> str:
    """A recorded command as it runs today: scripts are modules (`python -m scripts.NAME`)."""
    return re.sub(r"python scripts/(\w+)\.py", r"python -m scripts.\1", command)


def template_of(name: str, record: Record) -> tuple[str, set[str]]:
    """A section's template text, and the sources it read to make it."""
    if name not in TEMPLATES:
        raise KeyError(f"no template for the figure section {name!r}")
    seen: set[str] = set()
    return TEMPLATES[name](view(record, seen)), seen


def rendered(name: str, record: Record, stale: bool = True) -> str:
    """One section's body: its template's text, then where it came from (and, with `stale`,
    what changed in the measured code since, as git says)."""
    text, seen = template_of(name, record)
    return f"{text}\n{provenance(record, seen, stale)}\n"


def render(text: str, record: Record, stale: bool = True) -> str:
    """The page with every figure section's body replaced by its rendering."""
    return SECTION.sub(
        lambda m: (
            f"<!-- figures: {m.group(1)} -->{rendered(m.group(1), record, stale)}<!-- /figures -->"
        ),
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
        written, body = comparable(written), rendered(name, record, stale=False)
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
    r"(?:ops/s|req/s|requests/s|[KMG]B/s|[KMG]iB\b|ns\b|ms\b|µs\b|us\b|s\b|seconds\b|"
    r"minutes\b|%|×|x\b|[a-z]*/s\b)"
    # Comparisons written as words are measurements too.
    r"|\b(?:several|many|a few|two|three|four|five|ten) times\b|\btwice as\b|\bhalf as\b"
    r"|\ba (?:third|quarter|half) (?:more|less|fewer)\b|\bminute or two\b"
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
