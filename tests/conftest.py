"""Shared fixtures: real Sudachi, the real default embedder, real Chroma on disk in a temporary folder.

Two knowledge folders: the code tests use ``tests/fixtures/knowledge`` (a small fictional ward, みどり区), so a ward
that replaces ``knowledge/`` keeps a green suite; the tests of Taito's own content are marked ``content`` and use the
real ``knowledge/``. They are skipped, with the reason, when ``knowledge/ward.yaml`` names another ward.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel, get_embedder
from bot.retrieval.index import Indexer
from bot.service import Bot

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KNOWLEDGE = ROOT / "tests" / "fixtures" / "knowledge"
CONTENT_WARD = "台東区"  # the ward whose knowledge the `content` tests assert


def _ward_name(knowledge: Path) -> str:
    try:
        return str(yaml.safe_load((knowledge / "ward.yaml").read_text(encoding="utf-8")).get("name", ""))
    except (OSError, yaml.YAMLError, AttributeError):
        return ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ward = _ward_name(ROOT / "knowledge")
    if ward == CONTENT_WARD:
        return
    skip = pytest.mark.skip(
        reason=f"a test of {CONTENT_WARD}'s knowledge; knowledge/ward.yaml names {ward or 'no ward'}"
    )
    for item in items:
        if item.get_closest_marker("content"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def embedder() -> EmbeddingModel:
    return get_embedder("use-multilingual", Settings())


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory, embedder: EmbeddingModel) -> Settings:
    """An index of the real knowledge/ folder, built once per test session."""
    data = tmp_path_factory.mktemp("data")
    settings = Settings(data_dir=data, knowledge_dir=ROOT / "knowledge")
    Indexer(settings, embedder).update()
    return settings


@pytest.fixture(scope="session")
def bot(built_settings: Settings, embedder: EmbeddingModel) -> Bot:
    return Bot(built_settings, embedder)


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory: pytest.TempPathFactory, embedder: EmbeddingModel) -> Settings:
    """An index of the fictional ward in tests/fixtures/knowledge, built once per test session."""
    data = tmp_path_factory.mktemp("fixture-data")
    settings = Settings(data_dir=data, knowledge_dir=FIXTURE_KNOWLEDGE)
    Indexer(settings, embedder).update()
    return settings


def copy_data_dir(src: Settings, dst: Path) -> Path:
    """A copy of ``src``'s data folder (the index and the caches, not the log database) at ``dst``, for a server that
    needs a data folder of its own: copying takes well under a second, building the index again ~70 s on the real
    knowledge (the second dense leg). Generations keep their vectors inside their own folder, so the copy serves as
    is."""
    shutil.copytree(src.data_dir, dst, ignore=shutil.ignore_patterns("bot.db", "bot.db-*"))
    return dst


@pytest.fixture(scope="session")
def fixture_bot(fixture_settings: Settings, embedder: EmbeddingModel) -> Bot:
    return Bot(fixture_settings, embedder)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole session: Playwright's sync API allows a single running instance per thread."""
    from tests.browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture()
def knowledge_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture ward's knowledge folder (for code tests that edit documents)."""
    dst = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, dst, ignore=shutil.ignore_patterns("README.md"))
    return dst


@pytest.fixture()
def real_knowledge_copy(tmp_path: Path) -> Path:
    """A writable copy of the real knowledge folder (for content tests that edit Taito's documents)."""
    dst = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", dst)
    return dst


@pytest.fixture(autouse=True)
def _no_bot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's BOT_* (or CHROMA_*) variables never change what a test sees; tests that need one set it."""
    for key in list(os.environ):
        if key.startswith(("BOT_", "CHROMA_")):
            monkeypatch.delenv(key)
