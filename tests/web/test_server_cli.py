"""``python -m web`` starts a server that loads the index in the background and turns ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import Settings

pytestmark = pytest.mark.slow  # each test starts a subprocess

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_m_web_serves_and_becomes_ready(web_settings: Settings, web_bot: object) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["BOT_DATA_DIR"] = str(web_settings.data_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(base + "/readyz", timeout=2)
                if ready.status_code == 200:
                    break
                assert ready.status_code == 503 and ready.json()["status"] == "loading"
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            time.sleep(0.2)
        assert ready is not None and ready.status_code == 200
        r = httpx.post(base + "/api/chat", json={"message": "児童手当について教えて"}, timeout=30)
        assert r.status_code == 200 and r.json()["kind"] == "answer"
    finally:
        proc.terminate()
        proc.wait(10)
