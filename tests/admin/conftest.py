"""Admin fixtures: a writable copy of the fictional ward's knowledge (tests/fixtures/knowledge) and a copy of its session
index in tmp, one Bot and one real uvicorn server.

Publishing writes into the copy (never into the repository) and re-indexes in the background, so tests that publish
edit documents nobody else asserts on. Three accounts exist, one per role; each password is the name
repeated (``editor-editor``), long enough for the 10-character rule.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel
from bot.service import Bot
from bot.staff.auth import Accounts, Role
from bot.storage.logstore import LogStore
from tests.conftest import FIXTURE_KNOWLEDGE, copy_data_dir
from tests.web.conftest import LiveServer
from web.app import create_app

ROLES = {"viewer": Role.VIEWER, "editor": Role.EDITOR, "admin": Role.ADMIN}


def password_for(name: str) -> str:
    return f"{name}-{name}-pw"


@pytest.fixture(scope="session")
def admin_settings(tmp_path_factory: pytest.TempPathFactory, fixture_settings: Settings) -> Settings:
    base = tmp_path_factory.mktemp("admin")
    kdir = base / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, kdir, ignore=shutil.ignore_patterns("README.md"))
    # the index of the same files: the first publish re-embeds only what it changed
    data = copy_data_dir(fixture_settings, base / "data")
    return Settings(
        data_dir=data, knowledge_dir=kdir, db_url=None, llm_base_url=None, llm_azure_endpoint=None,
        rate_limit_per_minute=10_000, login_attempts_per_5min=10_000, cors_origins=[], frame_ancestors=["*"], secure_cookies=False,
        minutes_per_call=6.0,
    )  # fmt: skip


@pytest.fixture(scope="session")
def admin_store(admin_settings: Settings) -> Iterator[LogStore]:
    store = LogStore(admin_settings.database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture(scope="session")
def accounts(admin_store: LogStore) -> Accounts:
    accounts = Accounts(admin_store.engine)
    for name, role in ROLES.items():
        accounts.add(name, password_for(name), role)
    return accounts


@pytest.fixture(scope="session")
def admin_bot(admin_settings: Settings, embedder: EmbeddingModel) -> Bot:
    bot = Bot(admin_settings, embedder)
    bot.ask("児童手当について教えて")  # warm Sudachi and the embedder
    return bot


@pytest.fixture(scope="session")
def admin_server(admin_settings: Settings, admin_bot: Bot, accounts: Accounts) -> Iterator[LiveServer]:
    server = LiveServer(create_app(admin_settings, bot=admin_bot)).start()
    yield server
    server.stop()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def sign_in(client: httpx.Client, name: str, password: str | None = None) -> httpx.Response:
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"name": name, "password": password or password_for(name), "csrf": csrf_of(page.text), "next": "/admin"},
    )


@pytest.fixture()
def anon(admin_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=admin_server.url, timeout=60, follow_redirects=False) as c:
        yield c


@pytest.fixture()
def client_as(admin_server: LiveServer) -> Iterator[Callable[[str], httpx.Client]]:
    """``client_as("editor")``: a signed-in HTTP client (no redirects followed)."""
    opened: list[httpx.Client] = []

    def make(name: str) -> httpx.Client:
        c = httpx.Client(base_url=admin_server.url, timeout=60, follow_redirects=False)
        opened.append(c)
        r = sign_in(c, name)
        assert r.status_code == 303, r.text
        return c

    yield make
    for c in opened:
        c.close()


def page_csrf(client: httpx.Client, path: str = "/admin") -> str:
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return csrf_of(r.text)
