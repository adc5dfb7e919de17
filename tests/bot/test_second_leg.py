"""The second dense leg (bot.retrieval.second_leg) on the fixture ward: built into each generation, reused by content
hash, used only for the languages it is configured for, and never a reason for a failed answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import Indexer, current_generation
from bot.retrieval.second_leg import KEYS, VECTORS
from bot.service import Bot


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder: EmbeddingModel) -> Settings:
    from tests.conftest import FIXTURE_KNOWLEDGE

    settings = Settings(data_dir=tmp_path_factory.mktemp("second"), knowledge_dir=FIXTURE_KNOWLEDGE)
    Indexer(settings, embedder).update()
    return settings


def test_each_generation_holds_the_names_and_summaries_vectors(built: Settings, embedder: EmbeddingModel) -> None:
    gen = built.index_dir / "gens" / str(current_generation(built.index_dir))
    meta = json.loads((gen / KEYS).read_text())
    assert meta["embedder"].startswith("multilingual-e5-small")
    assert set(meta["ids"]) == {f"{p.stem}#0" for p in (built.knowledge_dir / "procedures").glob("*.md")} | {
        "jidou-teate#i18n.en"
    }
    assert np.load(gen / VECTORS).shape == (len(meta["ids"]), 384)
    # a second ingest with nothing changed embeds nothing with either embedder (the vectors are reused by hash)
    report = Indexer(built, embedder).update(rebuild=False)
    again = built.index_dir / "gens" / report.generation
    assert report.embedded == 0 and np.array_equal(np.load(again / VECTORS), np.load(gen / VECTORS))


def test_only_the_configured_languages_use_it(built: Settings, embedder: EmbeddingModel) -> None:
    bot = Bot(built, embedder)
    second = bot.retriever.second
    assert second is not None and second.applies("ko") and not second.applies("ja") and not second.applies("en")
    calls: list[str] = []
    real = second.embedder.embed_query
    second.embedder.embed_query = lambda q: calls.append(q) or real(q)  # type: ignore[method-assign]
    bot.ask("児童手当はいくら")
    bot.ask("How much is the child allowance?", lang="en")
    assert calls == []
    r = bot.ask("아동수당은 얼마예요?", lang="ko")
    assert calls and r.topic == "jidou-teate"


def test_a_broken_second_leg_never_stops_the_answer(built: Settings, embedder: EmbeddingModel,
                                                   caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    bot = Bot(built.model_copy(update={"second_embedder": "no-such-embedder"}), embedder)
    r = bot.ask("아동수당은 얼마예요?", lang="ko")
    assert r.kind.value in ("answer", "no_answer", "clarify") and "second dense leg unavailable" in caplog.text


def test_it_can_be_switched_off(tmp_path: Path, embedder: EmbeddingModel) -> None:
    from tests.conftest import FIXTURE_KNOWLEDGE

    settings = Settings(data_dir=tmp_path, knowledge_dir=FIXTURE_KNOWLEDGE, second_embedder="")
    report = Indexer(settings, embedder).update()
    assert not (settings.index_dir / "gens" / report.generation / VECTORS).exists()
    assert Bot(settings, embedder).ask("아동수당은 얼마예요?", lang="ko").kind.value != ""


def test_a_preview_index_seeded_from_the_serving_one_embeds_only_the_edited_document(
    built: Settings, embedder: EmbeddingModel, tmp_path: Path
) -> None:
    import shutil

    from bot.staff.publish import _seed_vectors

    kdir = tmp_path / "knowledge"
    shutil.copytree(built.knowledge_dir, kdir)
    doc = kdir / "procedures" / "jidou-teate.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("児童手当", "児童手当(改)", 1), encoding="utf-8")
    temp = built.model_copy(update={"data_dir": tmp_path / "data", "knowledge_dir": kdir})
    _seed_vectors(built.index_dir / "gens" / str(current_generation(built.index_dir)), temp.index_dir)
    report = Indexer(temp, embedder).update()
    wanted = len(json.loads((temp.index_dir / "gens" / report.generation / KEYS).read_text())["ids"])
    # only 児童手当's title chunk changed: the other documents' names and summaries came from the serving generation
    assert report.second_embedded == 1 < wanted
