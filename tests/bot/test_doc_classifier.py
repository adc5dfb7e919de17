"""The document classifier for messages in other languages (bot.retrieval.doc_classifier): trained at each ingest
from the knowledge's own words, saved with the generation, blended into the ranking for other languages only."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge
from bot.retrieval.doc_classifier import ARTIFACT, DocClassifier, strip_accents, training_texts
from bot.retrieval.index import current_generation
from bot.service import Bot
from tests.conftest import FIXTURE_KNOWLEDGE, ROOT


def test_latin_letters_lose_their_diacritics_and_other_scripts_keep_their_marks() -> None:
    assert strip_accents("Trợ cấp đi học Đà Nẵng, São Paulo") == "Tro cap di hoc Da Nang, Sao Paulo"
    assert strip_accents("ガイド गर्भ") == "ガイド गर्भ"


@pytest.mark.content
def test_each_document_is_learnt_from_its_names_in_every_language_with_and_without_diacritics() -> None:
    kb = load_knowledge(ROOT / "knowledge", date(2026, 12, 2))
    texts, labels = training_texts(kb.procedures.values())
    assert len(texts) == len(labels) and set(labels) == set(kb.procedures)
    marked = [t for t in texts if t != strip_accents(t)]
    assert len(marked) > 100 and all(strip_accents(t) in texts for t in marked)


def test_it_is_saved_with_its_generation_and_reads_back_the_same(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    kb = load_knowledge(FIXTURE_KNOWLEDGE, date(2026, 12, 2))
    clf = DocClassifier.train(list(kb.procedures.values()))
    assert clf is not None
    clf.save(tmp_path)
    again = DocClassifier.load(tmp_path)
    assert again is not None
    text = "child allowance how much"
    assert again.probabilities(text) == pytest.approx(clf.probabilities(text))
    assert max(clf.probabilities(text), key=clf.probabilities(text).__getitem__) == "jidou-teate"
    assert clf.probabilities("") == {}
    # no artifact: retrieval ranks alone; a broken one is logged, never raised
    assert DocClassifier.load(tmp_path / "none") is None
    (tmp_path / ARTIFACT).write_bytes(b"not an npz")
    with caplog.at_level(logging.ERROR, logger="bot.retrieval"):
        assert DocClassifier.load(tmp_path) is None
    assert "document classifier" in caplog.text
    # nothing to tell apart with one document
    assert DocClassifier.train(list(kb.procedures.values())[:1]) is None
    # an ingest that changes none of its texts reuses it; one that does retrains
    assert again.data_sha256 == clf.data_sha256 != ""
    assert DocClassifier.train(list(kb.procedures.values()), previous=again) is again
    fewer = list(kb.procedures.values())[:-1]
    retrained = DocClassifier.train(fewer, previous=again)
    assert retrained is not again and retrained is not None and retrained.data_sha256 != again.data_sha256


@pytest.mark.content
@pytest.mark.parametrize(
    ("question", "lang", "doc"),
    [
        ("tien tro cap nuoi con moi thang bao nhieu", "vi", "jidou-teate"),  # Vietnamese typed without diacritics
        ("cho gui tre vai tieng o taito", "vi", "azukari-sukusuku"),
        ("Where can I leave my toddler for a couple of hours?", "en", "azukari-sukusuku"),
        ("pagpapabakuna ng baby libre ba", "tl", "yobou-sesshu"),
        ("vacina do bebê é de graça?", "pt", "yobou-sesshu"),
    ],
)
def test_a_message_in_another_language_is_ranked_with_it(bot: Bot, question: str, lang: str, doc: str) -> None:
    assert (bot.generation.path / ARTIFACT).exists()
    top = bot.retriever.search(question, lang=lang).candidates[0]
    assert top.doc_id == doc and top.p_doc > 0
    weight = bot.retriever.classifier_weight
    try:
        bot.retriever.classifier_weight = 0.0  # the legs alone rank another document first
        assert bot.retriever.search(question, lang=lang).candidates[0].doc_id != doc
    finally:
        bot.retriever.classifier_weight = weight


@pytest.mark.content
def test_japanese_messages_use_it_lightly(bot: Bot) -> None:
    r = bot.retriever
    assert 0 < r.classifier_weight_ja < r.classifier_weight
    cands = r.search("児童手当はいくらもらえますか", lang="ja").candidates
    assert cands[0].doc_id == "jidou-teate" and cands[0].p_doc > 0
    gen = bot.settings.index_dir / "gens" / str(current_generation(bot.settings.index_dir))
    assert (gen / ARTIFACT).exists()
