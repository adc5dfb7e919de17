"""Prompt and message text lives in bot/prompts/*.txt (so staff can review it); this module only reads it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).parent / "prompts"


@cache
def load(name: str) -> str:
    return (PROMPT_DIR / f"{name}.txt").read_text(encoding="utf-8").strip()


@cache
def sections(name: str) -> dict[str, str]:
    """A file of ``[key]`` blocks, as a dict."""
    out: dict[str, str] = {}
    key = None
    for line in load(name).splitlines():
        if line.startswith("[") and line.endswith("]"):
            key = line[1:-1]
            out[key] = ""
        elif key:
            out[key] = (out[key] + "\n" + line).strip()
    return out
