"""Every setting is documented in the README."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings


def test_every_setting_is_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"BOT_{name.upper()}" not in readme]
    assert missing == []
