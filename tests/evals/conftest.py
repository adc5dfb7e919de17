"""Shared fixtures for the evals tests: hand-made item records and a real tiny index (real Sudachi, the real default
embedder, real Chroma on disk) under tmp, reached through BOT_DATA_DIR / BOT_KNOWLEDGE_DIR like the bot's own tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import FIXTURE_KNOWLEDGE


@pytest.fixture
def make_record() -> Callable[..., dict[str, Any]]:
    """An item record as evals.runner.evaluate_item builds it; override any field."""

    def make(**kw: Any) -> dict[str, Any]:
        r: dict[str, Any] = {
            "id": "q1",
            "question": "児童手当はいくら?",
            "style": "colloquial",
            "note": "",
            "category": "手当・助成",
            "expect_kind": "answer",
            "kind": "answer",
            "kind_ok": True,
            "expect_docs": ["jidou-teate"],
            "shown_docs": ["jidou-teate"],
            "doc_ok": True,
            "top_citations": [{"doc_id": "jidou-teate", "title": "児童手当", "url": "https://example.invalid/"}],
            "rank_applicable": True,
            "rank": 1,
            "ranked": ["jidou-teate"],
            "facts": [True],
            "expect_facts": [["15,000円"]],
            "expect_form": None,
            "form": None,
            "form_ok": None,
            "violations": [],
            "text": "3歳未満は15,000円です。",
            "prose": "3歳未満は15,000円です。",
            "jreadability": None,
            "latency_ms": 10.0,
            "reason": "answered",
            "pass": True,
            "fail_reasons": [],
        }
        r.update(kw)
        return r

    return make


@pytest.fixture(scope="session")
def tiny_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The fictional ward of tests/fixtures/knowledge and a real index built by ingest's Indexer; yields the BOT_ env."""
    base = tmp_path_factory.mktemp("tiny")
    kdir = base / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, kdir)
    env = {"BOT_DATA_DIR": str(base / "data"), "BOT_KNOWLEDGE_DIR": str(kdir)}
    # Built with explicit settings: a session fixture must not leave BOT_* variables set for other test packages
    # (the web tests would then serve this small index).
    from bot.config import Settings
    from bot.retrieval.embeddings import get_embedder
    from bot.retrieval.index import Indexer

    settings = Settings(data_dir=base / "data", knowledge_dir=kdir)
    Indexer(settings, get_embedder(settings.embedder, settings)).update()
    yield env


@pytest.fixture
def bot_env(tiny_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for k, v in tiny_env.items():
        monkeypatch.setenv(k, v)
    return tiny_env
