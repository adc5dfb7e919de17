"""The LINE settings: both or neither; the webhook route exists only with both (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.config import Settings
from web.app import create_app


def webhook_status(settings: Settings) -> int:
    """POST an unsigned webhook (no lifespan: the check happens before anything is loaded)."""
    return TestClient(create_app(settings, bot=None)).post("/line/webhook", content=b"{}").status_code


def test_one_line_setting_without_the_other_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="BOT_LINE_CHANNEL_ACCESS_TOKEN and BOT_LINE_CHANNEL_SECRET"):
        Settings(data_dir=tmp_path, line_channel_secret="s")
    with pytest.raises(ValidationError, match="must be set together"):
        Settings(data_dir=tmp_path, line_channel_access_token="t")


def test_the_webhook_route_exists_only_with_both_settings(tmp_path: Path) -> None:
    assert webhook_status(Settings(data_dir=tmp_path)) == 404
    both = Settings(data_dir=tmp_path, line_channel_access_token="t", line_channel_secret="s")
    assert both.line_enabled and webhook_status(both) == 400  # there, and refusing the missing signature
    assert Settings(data_dir=tmp_path).line_api_base == "https://api.line.me"
