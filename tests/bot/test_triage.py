"""The safety triage: the shipped model is current and loads, it decides with the real embedder, a broken artifact
degrades to the rules, and the emergency reply renders the ward profile's numbers in the parent's language.

Quality (recall, false alarms by level, style and language) is measured by ``python -m evals triage``, not here.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.answering.answer import AnswerKind
from bot.answering.messages import PROMPT_DIR, emergency_languages
from bot.knowledge import load_knowledge
from bot.retrieval.embeddings import EmbeddingModel
from bot.safety import EmergencyLevel, Triage, segments
from bot.safety.model import ARTIFACT, TriageModel, data_sha256
from bot.service import Bot
from evals import triage as triage_eval

pytestmark = pytest.mark.content  # Taito's knowledge (see tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
TODAY = __import__("datetime").date(2026, 12, 1)


@pytest.fixture(scope="module")
def triage(embedder: EmbeddingModel) -> Triage:
    return Triage(embedder)


def test_the_shipped_model_was_trained_on_the_current_data(embedder: EmbeddingModel) -> None:
    model = TriageModel.load(ARTIFACT)
    data = triage_eval.DATA
    # Edit train.jsonl, dev.jsonl or an aspects file → run `python -m evals triage-train` and commit the new artifact.
    assert model.data_sha256 == data_sha256(*triage_eval.training_files(data))
    assert model.embedder_identity == embedder.identity
    assert set(model.classes) == {"none", *(lvl.value for lvl in EmergencyLevel)}
    assert 0.0 < model.threshold < 1.0


def test_the_test_split_shares_no_message_with_training() -> None:
    seen = {r["text"] for r in triage_eval.training_rows()}
    test = triage_eval.load_split("test")
    assert len(test) >= 1000 and not seen & {r["text"] for r in test}
    authors = {r["author"] for r in test}
    assert authors.isdisjoint({r["author"] for r in triage_eval.load_split("train")})


def test_the_small_talk_split_shares_no_message_with_any_other() -> None:
    # Its authors also wrote training rows (in a separate pass, with other wording), so it is kept apart from `test`,
    # whose authors wrote nothing else; the texts must still be new.
    seen = {r["text"] for split in ("train", "dev", "test") for r in triage_eval.load_split(split)}
    small = triage_eval.load_split("smalltalk-test")
    assert len(small) >= 200 and not seen & {r["text"] for r in small}
    assert {r["author"] for r in small} == {"helper-smalltalk", "helper-smalltalk2"}


def test_the_unseen_split_is_by_an_author_who_wrote_nothing_else() -> None:
    # written blind in styles the other splits barely have (an emergency buried after an ordinary question, told
    # calmly, by a child, by voice input; figurative near-misses): measuring only
    others = [r for split in ("train", "dev", "test", "smalltalk-test") for r in triage_eval.load_split(split)]
    unseen = triage_eval.load_split("unseen-test")
    assert len(unseen) >= 300 and not {r["text"] for r in others} & {r["text"] for r in unseen}
    assert {r["author"] for r in unseen} == {"helper-unseen"}
    assert "helper-unseen" not in {r["author"] for r in others}


def test_sentences_of_a_message() -> None:
    text = "病後児保育の登録用紙ってどこでもらえますか。あと今、1歳の子が洗剤のパックを噛んで泡を吹いてます!"
    assert segments(text) == [
        "病後児保育の登録用紙ってどこでもらえますか。",
        "あと今、1歳の子が洗剤のパックを噛んで泡を吹いてます!",
    ]
    assert segments("児童手当はいつ振り込まれますか?") == []  # one sentence: the whole message is it
    assert segments("Where do I apply? My son is not breathing.") == ["Where do I apply?", "My son is not breathing."]


def test_an_emergency_told_after_an_ordinary_question_is_found_in_its_sentence(embedder: EmbeddingModel) -> None:
    # a model that would miss the message as a whole (its threshold raised) still finds the sentence
    model = TriageModel.load(ARTIFACT)
    assert 0 < model.meta["segment_threshold"] < 1
    model.threshold = 0.999
    strict = Triage(embedder, model=model)
    text = ("保育園の申込書類について質問です。就労証明書は会社の様式でもいいですか。提出は郵送でもできますか。"
            "あと、いま下の子がソファから落ちて、呼んでも目を開けません。")  # fmt: skip
    decision = strict.assess(text)
    assert decision is not None and decision.level is EmergencyLevel.LIFE and decision.source == "model:sentence"
    assert strict.assess("保育園の申込書類について質問です。就労証明書は会社の様式でもいいですか。") is None


@pytest.mark.parametrize(
    ("text", "level", "lang"),
    [
        ("My 2 year old is not breathing and his lips are blue", EmergencyLevel.LIFE, "en"),
        ("孩子吞了一颗纽扣电池", EmergencyLevel.POISON, "zh-Hans"),
        ("Con tôi bị co giật, mắt trợn ngược", EmergencyLevel.LIFE, "vi"),
    ],
)
def test_descriptions_in_other_languages_are_emergencies(triage: Triage, text: str, level: EmergencyLevel,
                                                         lang: str) -> None:  # fmt: skip
    d = triage.assess(text)
    assert d is not None and d.level is level and d.lang == lang and "model" in d.source


def test_an_ordinary_question_is_not(triage: Triage) -> None:
    assert triage.assess("児童手当の振込日はいつですか") is None
    assert triage.language("How do I apply for the child allowance?") == "en"


def test_a_broken_model_leaves_the_rules(tmp_path: Path, embedder: EmbeddingModel,
                                         caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    bad = tmp_path / "triage_model.npz"
    bad.write_bytes(b"not a model")
    with caplog.at_level(logging.ERROR, logger="bot.safety"):
        t = Triage(embedder, artifact=bad)
    assert t.model is None and "rules only" in caplog.text
    d = t.assess("子どもが息をしていない")
    assert d is not None and d.level is EmergencyLevel.LIFE and d.source == "rule"
    assert t.assess("My baby is not breathing") is None  # what only the model catches


def test_english_emergency_reply_leads_in_english_with_the_ward_numbers(bot: Bot) -> None:
    r = bot.ask("Help, my baby fell in the bath and is not moving")
    assert r.kind is AnswerKind.EMERGENCY and r.lang == "en"
    plan = bot.generation.kb.ward.emergency[EmergencyLevel.LIFE]  # type: ignore[union-attr]
    shown = [n.number for n in r.emergency_numbers]
    assert shown[: len(plan.numbers)] == [n.number for n in plan.numbers]  # a nearly-as-likely level may add one
    assert r.emergency_numbers[0].number == "119" and r.emergency_numbers[0].label == "Ambulance"
    assert r.emergency_title == "Call now" and r.body[0].startswith("Call 119 now")
    assert r.text.startswith("Call now: 119 Ambulance")  # plain-text channels get the numbers first too
    assert set(plan.docs) <= {c.doc_id for c in r.citations}


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("夫に毎晩殴られています", "110"),
        ("もう死にたい。子どもと一緒に消えたい", "0120-279-338"),
        ("公園で子どもが迷子になって見つからない", "110"),
        ("子どもがたばこを食べちゃった", "119"),
    ],
)
def test_each_level_gets_its_own_numbers_first(bot: Bot, text: str, first: str) -> None:
    r = bot.ask(text)
    assert r.kind is AnswerKind.EMERGENCY and r.lang == "ja"
    assert r.emergency_numbers[0].number == first
    assert not r.llm_reason  # never sent to an LLM


def test_every_emergency_number_is_in_its_source_document(real_knowledge_copy: Path) -> None:
    kb = load_knowledge(ROOT / "knowledge", TODAY)
    assert kb.ward is not None and set(kb.ward.emergency) == set(EmergencyLevel)
    ward = real_knowledge_copy / "ward.yaml"
    ward.write_text(ward.read_text(encoding="utf-8").replace('"072-727-2499"', '"072-727-0000"'), encoding="utf-8")
    broken = load_knowledge(real_knowledge_copy, TODAY)
    assert any("number 072-727-0000 occurs in none of chudoku-110" in p.message for p in broken.errors)
    ward.unlink()
    assert any("ward.yaml is missing" in p.message for p in load_knowledge(real_knowledge_copy, TODAY).errors)


def test_translations_cover_every_level_and_name_only_the_levels_numbers() -> None:
    data = yaml.safe_load((PROMPT_DIR / "emergency_i18n.yaml").read_text(encoding="utf-8"))
    kb = load_knowledge(ROOT / "knowledge", TODAY)
    assert kb.ward is not None
    langs = emergency_languages() - {"ja"}
    assert {"en", "zh-Hans", "zh-Hant", "ko", "vi", "ne", "ne-Latn", "tl", "pt"} <= langs
    for level, plan in kb.ward.emergency.items():
        allowed = {n.number for n in plan.numbers}
        for lang in langs:
            lead = data["lead"][level.value][lang]
            named = set(re.findall(r"#?\d[\d-]{1,}\d", lead))
            assert named <= allowed, (level, lang, named - allowed)
        for n in plan.numbers:
            assert langs <= set(data["labels"][n.kind]), (n.kind, langs - set(data["labels"][n.kind]))


def test_scoring_counts_the_number_for_now() -> None:
    rows = [
        {"id": "a", "text": "x", "level": "abuse", "lang": "ja", "style": "direct", "danger_now": True},
        {"id": "b", "text": "y", "level": "abuse", "lang": "ja", "style": "direct", "danger_now": False},
        {"id": "c", "text": "z", "level": "none", "lang": "en", "style": "en"},
    ]
    outcomes = [
        {"emergency": True, "level": "abuse", "numbers": ["189"], "lang": "ja", "ms": 1.0},  # no 110, in danger now
        {"emergency": True, "level": "abuse", "numbers": ["189"], "ms": 1.0},
        {"emergency": True, "level": "life", "numbers": ["119"], "ms": 1.0},
    ]
    s = triage_eval.score(rows, outcomes)["summary"]
    assert s["recall"] == 1.0 and s["number_recall"] == 0.5 and s["false_alarm_rate"] == 1.0


def test_training_runs_end_to_end_on_a_small_sample(tmp_path: Path, embedder: EmbeddingModel) -> None:
    for split in ("train", "dev"):
        rows = (triage_eval.DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        (tmp_path / f"{split}.jsonl").write_text("\n".join(rows[::12]) + "\n", encoding="utf-8")
    model, curve = triage_eval.train(embedder, folds=2, data_dir=tmp_path)
    model.save(tmp_path / "m.npz")
    again = TriageModel.load(tmp_path / "m.npz")
    assert again.threshold == model.threshold and curve and again.classes == model.classes
    shutil.rmtree(tmp_path)


def test_a_nearly_as_likely_second_situation_adds_its_first_number(bot: Bot) -> None:
    from bot.safety import SafetyDecision, _also
    from bot.safety.model import Prediction

    probs = {"none": 0.1, "dv": 0.45, "abuse": 0.35, "life": 0.1}
    assert _also(Prediction(0.9, "dv", "ja", probs), EmergencyLevel.DV) == (EmergencyLevel.ABUSE,)
    assert _also(Prediction(0.9, "dv", "ja", {**probs, "abuse": 0.1}), EmergencyLevel.DV) == ()
    decision = SafetyDecision(EmergencyLevel.DV, "ja", "model", 0.9, also=(EmergencyLevel.ABUSE,))
    r = bot.answerer.answer("酔った夫が私と子どもを叩きます", safety=decision)
    shown = [n.number for n in r.emergency_numbers]
    assert shown[0] == "110" and "189" in shown and len(shown) == len(set(shown))


def test_a_model_failing_at_run_time_leaves_the_rules(embedder: EmbeddingModel, caplog: pytest.LogCaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    t = Triage(embedder)

    def broken(*_: object) -> None:
        raise RuntimeError("embedding backend died")

    monkeypatch.setattr(t.model, "predict", broken)
    with caplog.at_level(logging.ERROR, logger="bot.safety"):
        d = t.assess("子どもが息をしていない")
    assert d is not None and d.level is EmergencyLevel.LIFE and d.source == "rule"
    assert "the rules decide it" in caplog.text


def test_an_emergency_found_in_one_sentence_also_answers_the_rest_of_the_message(bot: Bot) -> None:
    from bot.safety import SafetyDecision

    sentence = "夜はほとんど眠れなくて、涙が止まらない日もあります。"
    text = f"出産して3週間です。{sentence}区の産後ケアの宿泊型はどうやって申し込みますか"
    decision = SafetyDecision(EmergencyLevel.CRISIS, "ja", "model:sentence", 0.99, sentence=sentence)
    r = bot.answerer.answer(text, safety=decision)
    assert r.kind is AnswerKind.EMERGENCY and r.emergency_numbers
    assert r.text.startswith(r.emergency_title)  # the numbers before anything else
    assert "ご質問のほかの点について:" in r.body
    assert "sango-care" in [c.doc_id for c in r.citations] and r.handoff is not None
    # the whole message an emergency: nothing else is answered
    whole = SafetyDecision(EmergencyLevel.CRISIS, "ja", "model", 0.99)
    assert "ご質問のほかの点について:" not in bot.answerer.answer(text, safety=whole).body


def test_a_borderline_model_decision_answers_the_question_below_the_numbers(bot: Bot) -> None:
    from bot.safety import SafetyDecision

    threshold = bot.answerer.triage.model.threshold  # type: ignore[union-attr]
    text = "来週入院して手術です。夫は出張中で、5歳と8歳の子を夜見てくれる人がいません。泊まりで預かってくれるところはありますか"
    barely = SafetyDecision(EmergencyLevel.ABUSE, "ja", "model", threshold * 1.1)
    r = bot.answerer.answer(text, safety=barely)
    assert r.kind is AnswerKind.EMERGENCY and r.emergency_numbers[0].number == "189"
    assert "ご質問のほかの点について:" in r.body and "short-stay" in [c.doc_id for c in r.citations]
    for sure in (SafetyDecision(EmergencyLevel.ABUSE, "ja", "model", 0.9),  # the model is sure
                 SafetyDecision(EmergencyLevel.LIFE, "ja", "model", threshold * 1.1)):  # fmt: skip  # numbers alone
        assert "ご質問のほかの点について:" not in bot.answerer.answer(text, safety=sure).body
