"""Shared fixtures for the web tests: one index and one Bot per session, served by real uvicorn servers on free ports.

The servers serve the fictional ward of tests/fixtures/knowledge (a copy of the session's fixture index, see
``copy_data_dir``), so a ward that replaces knowledge/ keeps a green suite. Tests of Taito's own content are marked
``content`` and use ``content_server``/``content_client``, a server on a copy of the real knowledge's index.

Each server runs ``create_app(settings, bot=...)`` in a thread of the test process (real sockets, real HTTP), so a
rate-limited or CORS-enabled app is a second server sharing the same loaded Bot, not a second index build.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel
from bot.service import Bot
from tests.conftest import FIXTURE_KNOWLEDGE, ROOT, copy_data_dir
from web.app import create_app


class LiveServer:
    def __init__(self, app: object):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def server_settings(data: Path, knowledge: Path) -> Settings:
    # Everything that matters is explicit, so a developer's BOT_* environment cannot change what the tests see.
    return Settings(
        data_dir=data, knowledge_dir=knowledge, db_url=None, llm_base_url=None, llm_azure_endpoint=None,
        rate_limit_per_minute=10_000, cors_origins=[], frame_ancestors=["*"],
    )  # fmt: skip


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory, fixture_settings: Settings) -> Settings:
    """The fictional ward's index, copied into a data folder of the web servers' own (their log database lives there)."""
    data = copy_data_dir(fixture_settings, tmp_path_factory.mktemp("web") / "data")
    return server_settings(data, FIXTURE_KNOWLEDGE)


def warm_bot(settings: Settings, embedder: EmbeddingModel) -> Bot:
    bot = Bot(settings, embedder)
    bot.ask("児童手当について教えて")  # warm Sudachi and the embedder so the first test is not the slow one
    return bot


@pytest.fixture(scope="session")
def web_bot(web_settings: Settings, embedder: EmbeddingModel) -> Bot:
    return warm_bot(web_settings, embedder)


@pytest.fixture(scope="session")
def make_server(web_bot: Bot, web_settings: Settings) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def make(bot: Bot | None = web_bot, **overrides: object) -> LiveServer:
        settings = web_settings.model_copy(update=overrides) if overrides else web_settings
        server = LiveServer(create_app(settings, bot=bot)).start()
        started.append(server)
        return server

    yield make
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def server(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()


@pytest.fixture()
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def content_settings(tmp_path_factory: pytest.TempPathFactory, built_settings: Settings) -> Settings:
    """Taito's real knowledge/ (for ``content`` tests only): a copy of the session's index of it."""
    data = copy_data_dir(built_settings, tmp_path_factory.mktemp("content-web") / "data")
    return server_settings(data, ROOT / "knowledge")


@pytest.fixture(scope="session")
def content_server(content_settings: Settings, embedder: EmbeddingModel) -> Iterator[LiveServer]:
    server = LiveServer(create_app(content_settings, bot=warm_bot(content_settings, embedder))).start()
    yield server
    server.stop()


@pytest.fixture()
def content_client(content_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=content_server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def db_path(web_settings: Settings) -> Path:
    return web_settings.data_dir / "bot.db"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: end-to-end test in headless Chromium (/usr/bin/chromium)")
