"""The SSE stream in LLM mode: the validated LLM text is what streams; an invalid reply streams the composed answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.config import Settings
from bot.service import Bot
from tests.llm_stub import StubLLM


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLLM]:
    with StubLLM() as s:
        yield s


@pytest.fixture(scope="module")
def llm_server(web_bot: Bot, web_settings: Settings, stub: StubLLM, make_server: Callable[..., object]) -> object:
    settings = web_settings.model_copy(update={"llm_base_url": stub.base_url, "llm_model": "stub", "llm_timeout": 3.0})
    bot = Bot(settings, web_bot.embedder)
    return make_server(bot=bot, llm_base_url=stub.base_url, llm_model="stub", llm_timeout=3.0)


def _events(url: str, message: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    with httpx.stream("POST", url + "/api/chat/stream", json={"message": message}, timeout=30) as resp:
        assert resp.status_code == 200
        raw = resp.read().decode("utf-8")
    out = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_valid_llm_text_streams(llm_server: object, stub: StubLLM) -> None:
    stub.text, stub.status, stub.delay = "児童手当は、子どもを育てている人にお金が出る国の制度です[1]。", 200, 0.0
    events = _events(llm_server.url, "児童手当について教えて")  # type: ignore[attr-defined]
    names = [e for e, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and "delta" in names
    streamed = "".join(d["text"] for e, d in events if e == "delta")
    assert "お金が出る国の制度です[1]" in streamed
    assert events[-1][1]["answer"].startswith(stub.text)
    assert stub.requests, "the stub was called"


def test_invented_amount_never_reaches_the_stream(llm_server: object, stub: StubLLM) -> None:
    stub.text, stub.status = "児童手当は月99,999円です[1]。", 200
    events = _events(llm_server.url, "児童手当はいくら?")  # type: ignore[attr-defined]
    streamed = "".join(d["text"] for e, d in events if e == "delta")
    assert "99,999" not in streamed and "15,000円" in streamed
