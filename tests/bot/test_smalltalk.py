"""Small talk (bot.answering.aspect_model.SmallTalkReader): a greeting, thanks or goodbye gets a short reply in the
parent's language, never an emergency, a clarify list about services, a follow-up on the last topic or a "not known";
a question that opens with a greeting is still answered. Runs on the fixture ward (みどり区)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering import messages
from bot.answering.aspect_model import SmallTalkReader
from bot.answering.results import AnswerKind, Turn
from bot.retrieval.embeddings import EmbeddingModel
from bot.service import Bot


@pytest.mark.parametrize("key", ["smalltalk_greeting", "smalltalk_thanks", "smalltalk_bye"])
def test_every_reply_language_has_the_small_talk_lines(key: str) -> None:
    for lang in {"ja", *messages.reply_languages()}:
        assert messages.reply_frame(key, lang, ward="X"), (key, lang)


def test_a_greeting_gets_a_greeting_and_the_usual_topics(fixture_bot: Bot) -> None:
    r = fixture_bot.ask("こんにちは")
    assert r.kind is AnswerKind.CLARIFY and r.reason == "small talk: greeting"
    assert "みどり区" in r.body[0] and "どの制度" not in r.text
    ward = fixture_bot.generation.kb.ward
    assert ward is not None
    assert [c.doc_id for c in r.choices] == [
        p for p in ward.clarify_fallbacks if p in fixture_bot.generation.kb.procedures
    ]


def test_thanks_in_english_is_answered_in_english(fixture_bot: Bot) -> None:
    r = fixture_bot.ask("thank you so much!")
    assert r.kind is AnswerKind.CLARIFY and r.lang == "en" and r.body[0].startswith("You're welcome")
    assert r.choices == []


def test_thanks_after_an_answer_is_not_a_follow_up_on_its_topic(fixture_bot: Bot) -> None:
    first = fixture_bot.ask("児童手当はいくらですか")
    assert first.topic == "jidou-teate"
    r = fixture_bot.ask("ありがとうございました", history=[Turn("児童手当はいくらですか", first.topic)])
    assert r.reason == "small talk: thanks" and not r.citations


def test_a_question_that_opens_with_a_greeting_is_answered(fixture_bot: Bot) -> None:
    r = fixture_bot.ask("こんにちは。児童手当はいくらもらえますか")
    assert r.kind is AnswerKind.ANSWER and r.topic == "jidou-teate"


@pytest.mark.parametrize("text", ["hello", "Oi, bom dia", "xin chào", "もういいです"])
def test_short_greetings_are_no_emergency(fixture_bot: Bot, text: str) -> None:
    assert fixture_bot.ask(text).kind is not AnswerKind.EMERGENCY


def test_without_the_model_small_talk_takes_the_ordinary_path(embedder: EmbeddingModel, tmp_path: Path) -> None:
    reader = SmallTalkReader(embedder, tmp_path / "missing.npz")
    assert reader.model is None and reader.intent("こんにちは") is None


def test_the_model_was_trained_on_todays_data(embedder: EmbeddingModel) -> None:
    from bot.answering.aspect_model import SMALLTALK_ARTIFACT, AspectModel
    from bot.safety.model import data_sha256
    from evals.aspects import DATA, TRIAGE

    m = AspectModel.load(SMALLTALK_ARTIFACT)
    assert m.embedder_identity == embedder.identity and m.labels == ["bye", "greeting", "thanks"]
    # retrain with `python -m evals aspects-train` when the triage or aspect data change
    assert m.data_sha256 == data_sha256(TRIAGE / "train.jsonl", TRIAGE / "dev.jsonl", DATA)
