"""The regression gate: every metric named in evals/thresholds.toml must be at or above its minimum (or at or below
its maximum). A metric the report does not have (None) fails too: a gate that silently skips is no gate.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"


class ThresholdError(ValueError):
    """thresholds.toml is malformed."""


@dataclass(frozen=True)
class Failure:
    metric: str
    value: float | None
    bound: float
    op: str  # ">=" or "<="

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.metric}: not measured (needs {self.op} {self.bound})"
        word = "below minimum" if self.op == ">=" else "above maximum"
        return f"{self.metric} = {self.value:.4g}, {word} {self.bound:g}"


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> dict[str, dict[str, float]]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    unknown = set(data) - {"min", "max"}
    if unknown:
        raise ThresholdError(f"{path}: unknown table(s) {', '.join(sorted(unknown))} (use [min] and [max])")
    out: dict[str, dict[str, float]] = {}
    for table in ("min", "max"):
        values = data.get(table, {})
        for k, v in values.items():
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise ThresholdError(f"{path}: [{table}] {k} must be a number, got {v!r}")
        out[table] = {k: float(v) for k, v in values.items()}
    return out


def lookup(report: Mapping[str, Any], name: str) -> float | None:
    """``hit@1`` reads summary; ``by_kind.answer.pass_rate`` reads a group (kind names contain no dots)."""
    if "." not in name:
        return report["summary"].get(name)
    section, group, metric = name.split(".", 2)
    return (report.get(section) or {}).get(group, {}).get(metric)


def check(report: Mapping[str, Any], thresholds: Mapping[str, Mapping[str, float]]) -> list[Failure]:
    failures = []
    for name, bound in thresholds.get("min", {}).items():
        v = lookup(report, name)
        if v is None or v < bound - 1e-12:
            failures.append(Failure(name, v, bound, ">="))
    for name, bound in thresholds.get("max", {}).items():
        v = lookup(report, name)
        if v is None or v > bound + 1e-12:
            failures.append(Failure(name, v, bound, "<="))
    return failures


def format_result(failures: list[Failure], thresholds: Mapping[str, Mapping[str, float]], source: str) -> str:
    total = sum(len(t) for t in thresholds.values())
    if not failures:
        return f"eval gate passed: {total} metrics within thresholds ({source})"
    lines = [f"eval gate FAILED: {len(failures)} of {total} metrics outside thresholds ({source}):"]
    lines += [f"  - {f}" for f in failures]
    lines.append("Fix the bot or the knowledge (never the questions); see the failing items in report.html.")
    return "\n".join(lines)
