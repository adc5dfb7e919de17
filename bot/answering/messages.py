"""Prompt and message text lives in bot/answering/prompts/*.txt (so staff can review it); this module only reads it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

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


@cache
def _emergency_i18n() -> dict[str, Any]:
    data = yaml.safe_load((PROMPT_DIR / "emergency_i18n.yaml").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def emergency_languages() -> frozenset[str]:
    return frozenset(_emergency_i18n().get("title", {}))


def emergency_title(lang: str) -> str:
    titles = _emergency_i18n().get("title", {})
    return str(titles.get(lang) or titles.get("ja", ""))


def emergency_label(kind: str, lang: str) -> str:
    return str(_emergency_i18n().get("labels", {}).get(kind, {}).get(lang, ""))


def emergency_lead(level: str, lang: str) -> str:
    """The one line in the parent's language that comes before the Japanese text ("" for Japanese)."""
    return str(_emergency_i18n().get("lead", {}).get(level, {}).get(lang, "")) if lang != "ja" else ""


@cache
def _reply_i18n() -> dict[str, Any]:
    data = yaml.safe_load((PROMPT_DIR / "reply_i18n.yaml").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def reply_frame(key: str, lang: str, **fill: str) -> str:
    """A fixed reply sentence in the parent's language ("" when there is none: the reply stays Japanese)."""
    text = str(_reply_i18n().get(key, {}).get(lang, ""))
    return text.format(**fill) if text else ""


def reply_languages() -> frozenset[str]:
    return frozenset(_reply_i18n().get("in_japanese", {}))
