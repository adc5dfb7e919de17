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


def _serve(web_settings: Settings, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["BOT_DATA_DIR"] = str(web_settings.data_dir)
    env["BOT_KNOWLEDGE_DIR"] = str(web_settings.knowledge_dir)
    # the rate limit counts in the shared test database, where other tests' requests from 127.0.0.1 already are
    env["BOT_RATE_LIMIT_PER_MINUTE"] = "10000"
    env.update(extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def _wait_ready(proc: subprocess.Popen[bytes], base: str) -> httpx.Response | None:
    deadline = time.monotonic() + 60
    ready = None
    while time.monotonic() < deadline:
        try:
            ready = httpx.get(base + "/readyz", timeout=2)
            if ready.status_code == 200:
                return ready
            assert ready.status_code == 503 and ready.json()["status"] == "loading"
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        time.sleep(0.2)
    return ready


def test_python_m_web_serves_and_becomes_ready(web_settings: Settings, web_bot: object) -> None:
    proc, base = _serve(web_settings)
    try:
        ready = _wait_ready(proc, base)
        assert ready is not None and ready.status_code == 200
        r = httpx.post(base + "/api/chat", json={"message": "児童手当について教えて"}, timeout=30)
        assert r.status_code == 200 and r.json()["kind"] == "answer"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize(("proxies", "limited"), [("", True), ("127.0.0.1", False)], ids=["no-proxy", "proxy"])
def test_x_forwarded_for_is_believed_only_from_the_configured_proxy(web_settings: Settings, web_bot: object,
                                                                    proxies: str, limited: bool) -> None:  # fmt: skip
    """Without BOT_FORWARDED_ALLOW_IPS, a client cannot escape the rate limit by sending a new X-Forwarded-For."""
    proc, base = _serve(web_settings, BOT_RATE_LIMIT_PER_MINUTE="2", BOT_FORWARDED_ALLOW_IPS=proxies)
    try:
        ready = _wait_ready(proc, base)
        assert ready is not None and ready.status_code == 200
        codes = [
            httpx.post(base + "/api/chat", json={"message": "児童手当"}, headers={"X-Forwarded-For": f"203.0.113.{i}"},
                       timeout=30).status_code
            for i in range(3)
        ]  # fmt: skip
        assert (codes[-1] == 429) is limited, codes
    finally:
        proc.terminate()
        proc.wait(10)


def test_slow_headers_are_cut_off_and_a_stalled_body_gets_408(web_settings: Settings, web_bot: object) -> None:
    proc, base = _serve(web_settings, BOT_HEADER_TIMEOUT="1", BOT_BODY_TIMEOUT="1")
    try:
        ready = _wait_ready(proc, base)
        assert ready is not None and ready.status_code == 200
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:  # headers one line, then nothing
            slow.sendall(b"POST /api/chat HTTP/1.1\r\nHost: localhost\r\n")
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 8
        with socket.create_connection(("127.0.0.1", port), timeout=10) as stalled:  # headers, then half the body
            stalled.sendall(b"POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 200\r\n\r\n{\"message\": ")  # fmt: skip
            data = b""
            while chunk := stalled.recv(4096):  # until the server closes the connection
                data += chunk
            reply = data.decode("utf-8", "replace")
            assert reply.startswith("HTTP/1.1 408") and "通信が途中で止まりました" in reply
        r = httpx.post(base + "/api/chat/stream", json={"message": "児童手当について教えて"}, timeout=30)
        assert r.status_code == 200 and "event: done" in r.text  # ordinary requests are untouched
    finally:
        proc.terminate()
        proc.wait(10)
