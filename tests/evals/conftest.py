"""Shared fixtures for the evals tests: hand-made item records and a real tiny index (real Sudachi, the real default
embedder, real Chroma on disk) under tmp, reached through BOT_DATA_DIR / BOT_KNOWLEDGE_DIR like the bot's own tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TINY_DOCS = ("jidou-teate", "kyukyu-yakan", "gyakutai-189", "hoikuen-nyuen")


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


def tiny_ward() -> dict[str, object]:
    """The real ward profile cut down to the four documents: a level whose sources are absent falls back to 119."""
    ward = yaml.safe_load((ROOT / "knowledge" / "ward.yaml").read_text(encoding="utf-8"))
    for plan in ward["emergency"].values():
        docs = [d for d in plan["docs"] if d in TINY_DOCS]
        if docs != plan["docs"]:
            plan["docs"] = docs or ["kyukyu-yakan"]
            plan["numbers"] = [{"number": "119", "label": "救急車", "kind": "ambulance"}]
            plan.pop("office", None)
    ward["clarify_fallbacks"] = [d for d in ward["clarify_fallbacks"] if d in TINY_DOCS]
    return ward  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def tiny_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A knowledge folder with four real documents and a real index built by ingest's Indexer; yields the BOT_ env."""
    base = tmp_path_factory.mktemp("tiny")
    kdir = base / "knowledge"
    (kdir / "procedures").mkdir(parents=True)
    for doc in TINY_DOCS:
        shutil.copy(ROOT / "knowledge" / "procedures" / f"{doc}.md", kdir / "procedures")
    shutil.copy(ROOT / "knowledge" / "offices.yaml", kdir)
    forms = yaml.safe_load((ROOT / "knowledge" / "forms.yaml").read_text(encoding="utf-8"))
    kept = []
    for f in forms["forms"]:
        f["procedures"] = [p for p in f.get("procedures", []) if p in TINY_DOCS]
        if f["procedures"]:
            kept.append(f)
    forms["forms"] = kept
    (kdir / "forms.yaml").write_text(yaml.safe_dump(forms, allow_unicode=True), encoding="utf-8")
    (kdir / "ward.yaml").write_text(yaml.safe_dump(tiny_ward(), allow_unicode=True), encoding="utf-8")
    env = {"BOT_DATA_DIR": str(base / "data"), "BOT_KNOWLEDGE_DIR": str(kdir)}
    # Built with explicit settings: a session fixture must not leave BOT_* variables set for other test packages
    # (the web tests would then serve this four-document index).
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
