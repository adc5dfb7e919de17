"""The one console command, ``kosodate-bot``, as `make install` puts it in .venv/bin (a real subprocess each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings

pytestmark = pytest.mark.slow  # each test starts a subprocess

ROOT = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).parent / "kosodate-bot"


def run(*args: str, settings: Settings | None = None) -> subprocess.CompletedProcess[str]:
    if not EXE.exists():
        pytest.fail("kosodate-bot is not installed: run `make install`")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    if settings is not None:
        env["BOT_DATA_DIR"] = str(settings.data_dir)
        env["BOT_KNOWLEDGE_DIR"] = str(settings.knowledge_dir)
    return subprocess.run([str(EXE), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_ask_and_ingest_through_the_console_command(web_settings: Settings, web_bot: object) -> None:
    r = run("ask", "--json", "子どもが息をしていない", settings=web_settings)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kind"] == "emergency"
    check = run("ingest", "--check", settings=web_settings)
    assert check.returncode == 0 and "0 errors" in check.stdout + check.stderr


def test_usage_and_unknown_commands() -> None:
    assert run("--help").returncode == 0 and "kosodate-bot serve" in run("--help").stdout
    bad = run("frobnicate")
    assert bad.returncode == 2 and "unknown command" in bad.stderr
