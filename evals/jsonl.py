"""Reading the JSON-lines datasets: one object per line, blank lines skipped, errors named by file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_jsonl(path: Path, error: type[ValueError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-blank line; a line that is not a JSON object raises ``error`` with file:line."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise error(f"{path}:{lineno}: not JSON: {e}") from e
            if not isinstance(d, dict):
                raise error(f"{path}:{lineno}: not a JSON object")
            yield lineno, d
