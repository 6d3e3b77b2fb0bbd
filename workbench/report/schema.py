"""The shape of a result document, checked without extra dependencies (used by tests and by
`read_json` callers that need more than the schema version)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROW_FIELDS: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "client": str,
    "workload": str,
    "clients": int,
    "ops": int,
    "ops_per_s": (int, float),
    "ops_per_s_ci": (list, type(None)),
    "errors": int,
    "errors_by_kind": dict,
    "latency_ms": dict,
    "cpu_s": (int, float),
    "server_cpu_s": (int, float, type(None)),
    "peak_rss_mb": (int, float),
    "flags": list,
}
LATENCY_FIELDS = ("p50", "p90", "p99", "p999", "max")


def schema_problems(doc: Mapping[str, Any]) -> list[str]:
    """Everything wrong with `doc` as a result document; empty when it is well formed."""
    problems: list[str] = []
    for key, kind in (("schema_version", int), ("metadata", dict), ("results", list)):
        if not isinstance(doc.get(key), kind):
            problems.append(f"top level: {key} missing or not {kind.__name__}")
    for i, row in enumerate(doc.get("results") or []):
        for key, kinds in ROW_FIELDS.items():
            if key not in row:
                problems.append(f"results[{i}]: {key} missing")
            elif not isinstance(row[key], kinds):
                problems.append(f"results[{i}]: {key} has type {type(row[key]).__name__}")
        for key in LATENCY_FIELDS:
            if key not in row.get("latency_ms", {}):
                problems.append(f"results[{i}]: latency_ms.{key} missing")
    return problems
