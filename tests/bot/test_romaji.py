"""Romaji service names inside other languages become the knowledge's Japanese words (the fixture ward's lexicon)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.knowledge import load_knowledge
from bot.text.romaji import RomajiLexicon, fold, kana_of
from tests.conftest import FIXTURE_KNOWLEDGE


@pytest.fixture(scope="module")
def lexicon() -> RomajiLexicon:
    kb = load_knowledge(FIXTURE_KNOWLEDGE, date(2026, 12, 2))
    return RomajiLexicon.of_knowledge(kb.procedures.values())


def test_kana_only_for_well_formed_romaji() -> None:
    assert kana_of("iryosho") == "いりょしょ" and kana_of("Kyūfu") == "きゅふ"
    for not_japanese in ["tro", "thai", "child", "kham", "allowance", "123"]:
        assert kana_of(not_japanese) is None, not_japanese


def test_long_vowels_fold_away() -> None:
    assert fold("いりょうしょう") == fold("いりょしょ") == "いりょしょ"
    assert fold("じどう") == fold("じど") and fold("ほいくえん") == "ほいくえん"


def test_romaji_names_the_documents_words(lexicon: RomajiLexicon) -> None:
    assert lexicon.expand("Can I get the jido teate if I am not working?") == ["児童手当"]
    assert "医療証" in lexicon.expand("O iryosho da criança cobre vacina também?")
    assert "保育園" in lexicon.expand("hoikuen ta de graça agora?")
    assert "一時預かり" in lexicon.expand("Pwede ba sa ichiji azukari ang anak ko?")
    # words of other languages that happen to spell kana name nothing the documents use
    assert lexicon.expand("How do I apply for the child allowance? I have a baby and care about money") == []
    assert lexicon.expand("kham suc khoe 3 tuoi o dau, bao gio co thu bao") == []


def test_a_question_in_romaji_finds_the_document(fixture_bot) -> None:  # type: ignore[no-untyped-def]
    r = fixture_bot.ask("Quanto custa o ichiji azukari por hora?", lang="pt")
    assert r.topic == "ichiji-azukari" and "500" in r.text
