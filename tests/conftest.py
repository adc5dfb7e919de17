"""Shared fixtures: real Sudachi, the real default embedder, real Chroma on disk in a temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel, get_embedder
from bot.retrieval.index import Indexer
from bot.service import Bot

ROOT = Path(__file__).resolve().parent.parent


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
def browser() -> Iterator[Any]:
    """One Chromium for the whole session: Playwright's sync API allows a single running instance per thread."""
    from tests.browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture()
def knowledge_copy(tmp_path: Path) -> Path:
    """A writable copy of the real knowledge folder."""
    dst = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", dst)
    return dst


@pytest.fixture(autouse=True)
def _no_bot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's BOT_* (or CHROMA_*) variables never change what a test sees; tests that need one set it."""
    for key in list(os.environ):
        if key.startswith(("BOT_", "CHROMA_")):
            monkeypatch.delenv(key)
