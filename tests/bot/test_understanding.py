"""Understanding the question (issue 11) and answering foreign residents (issue 12), on the real knowledge and models.

Pure parsing is tested on hand-written cases; the answer path through the session's real index (Chroma on disk,
USE embedder, the shipped aspect and scope models).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from bot.answering.answer import AnswerKind, Turn
from bot.answering.aspect_model import ARTIFACT, SCOPE_ARTIFACT, AspectModel, AspectReader, mask_names, names_pattern
from bot.answering.eligibility import AgeRule, age_rule, age_verdict
from bot.answering.grounding import check_grounded
from bot.answering.question import Family, analyse, family_facts, split_parts
from bot.knowledge import load_knowledge
from bot.knowledge.ja import translate_message
from bot.retrieval.embeddings import EmbeddingModel
from bot.safety.model import script_language
from bot.service import Bot

pytestmark = pytest.mark.content  # Taito's knowledge (see tests/conftest.py)

# --- parsing ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("生後4か月の子を病後児保育に預けられますか", Family(child_age_months=4)),
        ("1歳3か月の娘がいます", Family(child_age_months=15)),
        ("小学4年生の息子がいます", Family(school="elementary", school_year=4)),
        ("双子なんですけど", Family(children=2)),
        ("出産したあとで台東区に引っ越してきました", Family(lives_in_ward=True, moved_in_after_birth=True)),
        ("住民票はまだ前の区にあります", Family(lives_in_ward=False)),
        ("児童手当はいくら?", Family()),
        ("baby 10 months, can we use it?", Family(child_age_months=10)),
        ("아이가 4살이에요", Family(child_age_months=48)),
        ("छोरा ४ वर्षको छ", Family(child_age_months=48)),  # Devanagari digits
        ("meu filho de 2 anos", Family(child_age_months=24)),
        ("Con em học lớp 3", Family(school="elementary", school_year=3)),
        ("My son is in 4th grade", Family(school="elementary", school_year=4)),
        ("중학교 2학년 딸", Family(school="junior_high", school_year=2)),
        ("高中一年级的女儿", Family(school="high", school_year=1)),  # 中 inside 高中 is not junior high
        ("my daughter is in grade 8", Family(school="junior_high", school_year=2)),
        ("Em mới sang Nhật được 3 tháng", Family()),  # three months in Japan, not a child's age
        ("生活保護を受けています", Family(income="non_taxable")),
        ("夫婦とも住民税を払っています", Family(income="taxable")),
        ("Our household income is about 9 million yen", Family(income="taxable")),
        ("我们家是非课税家庭", Family(income="non_taxable")),
        ("收入不多", Family(income="stated")),
    ],
)
def test_family_facts(text: str, expected: Family) -> None:
    assert family_facts(text, "台東区") == expected


def test_the_ward_named_is_the_one_in_ward_yaml() -> None:
    assert family_facts("みどり区に住んでいます", "みどり区").lives_in_ward is True
    assert family_facts("台東区に住んでいます", "みどり区").lives_in_ward is None
    assert family_facts("区内に住んでいます", "みどり区").lives_in_ward is True


def test_a_message_with_two_questions_has_two_parts() -> None:
    assert split_parts("児童手当っていつ振り込まれるの?あと医療証なくしたらどうすれば") == [
        "児童手当っていつ振り込まれるの?",
        "あと医療証なくしたらどうすれば",
    ]
    assert split_parts("双子なんですけど、児童手当は二人分出ますか") == ["双子なんですけど、児童手当は二人分出ますか"]
    # the context sentence belongs to the question after it
    assert split_parts("4月に復職します。保育園の申込はいつまで?") == ["4月に復職します。保育園の申込はいつまで?"]


def test_follow_up_markers() -> None:
    assert analyse("じゃあ日曜日は?").continues
    assert analyse("3人目だと?").continues
    assert not analyse("保育園の申込はいつまでですか").continues


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("How do I get 児童手当?", "en"),  # Japanese service names inside another language
        ("小孩現在二年級,想去學童(こどもクラブ),什麼時候要申請?", "zh-Hant"),
        ("保育料能用PayPay付吗", "zh-Hans"),
        ("児童手当 온라인 신청 돼요?", "ko"),
        ("बच्चा जन्मेपछि कति दिनभित्र दर्ता गर्नु पर्छ?", "ne"),
        ("子どもの医療費 助成 対象", "ja"),  # 医 is Japanese too
        ("保育園 申込 期限", "ja"),  # kanji only, no Chinese-only characters
    ],
)
def test_the_writing_system_settles_the_language(bot: Bot, text: str, lang: str) -> None:
    assert bot.answerer.triage.language(text) == lang
    model = bot.answerer.triage.model
    assert model is not None and script_language(text, model._lang_head) == lang


def test_age_rules_and_verdicts() -> None:
    rule = age_rule("こども誰でも通園制度は、使う日に生後6か月から3歳未満の子どもが対象です。")
    assert rule == AgeRule(min_months=6, max_months=36)
    assert age_verdict(rule, Family(child_age_months=15)) == "eligible"
    assert age_verdict(rule, Family(child_age_months=4)) == "not_eligible"
    sitter = age_rule("0歳から9歳になる年度の3月31日まで(小学3年生の年代)の子どもの保護者が対象です。")
    assert sitter is not None and sitter.max_stage == "elementary" and sitter.max_year == 3
    assert age_verdict(sitter, Family(school="elementary", school_year=4)) == "not_eligible"
    assert age_verdict(sitter, Family(school="elementary", school_year=2)) == "eligible"
    assert age_verdict(sitter, Family()) is None  # nothing stated: no verdict
    assert age_rule("児童手当の申請には、次のものが必要です。") is None


# --- the learned models -------------------------------------------------------------------------------------------------


def test_aspect_model_reads_the_asked_detail(embedder: EmbeddingModel) -> None:
    reader = AspectReader(embedder)
    assert reader.model is not None, "bot/answering/aspect_model.npz must load"
    kb = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge", date(2026, 12, 2))
    names = names_pattern(n for p in kb.procedures.values() for n in (p.title, *p.aliases))
    assert mask_names("児童手当はいつ振り込まれる?", names) == "〇〇はいつ振り込まれる?"
    aspects, sure = reader.read("児童手当っていつ振り込まれるの?", [], names)
    assert aspects[0] == "payment_date" and "payment_date" in sure
    aspects, _ = reader.read("保育園に持っていくものは?", [], names)
    assert aspects[0] == "documents"
    aspects, _ = reader.read("When is the child allowance paid?", [], names)
    assert "payment_date" in aspects


def test_models_record_their_embedder(embedder: EmbeddingModel) -> None:
    for path in (ARTIFACT, SCOPE_ARTIFACT):
        m = AspectModel.load(path)
        assert m.embedder_identity == embedder.identity and len(m.data_sha256) == 64


def test_a_missing_model_leaves_the_cue_words(embedder: EmbeddingModel, tmp_path: Path) -> None:
    reader = AspectReader(embedder, tmp_path / "absent.npz")
    assert reader.model is None
    assert reader.read("いくらですか", ["amount"]) == (["amount"], {"amount"})


# --- the answer path ----------------------------------------------------------------------------------------------------


def test_the_asked_detail_comes_first(bot: Bot) -> None:
    r = bot.ask("児童手当っていつ振り込まれるの?")
    assert r.kind is AnswerKind.ANSWER and r.topic == "jidou-teate"
    assert "偶数月" in r.body[0]
    assert "子どもを育てている人にお金が出る国の制度" not in r.text  # no definition nobody asked for
    assert len("".join(r.body)) <= 300


def test_a_definition_when_asked_what_it_is(bot: Bot) -> None:
    r = bot.ask("児童手当について教えて")
    assert r.body[0].startswith("児童手当は、子どもを育てている人にお金が出る国の制度です。")


def test_no_sentence_twice(bot: Bot) -> None:
    for q in ("保育園の点数ってどうなってる?", "双子なんですけど児童手当って二人分出ますか", "病後児保育の料金"):
        r = bot.ask(q)
        sentences = [s for line in r.body for s in line.split("。") if s.strip()]
        assert len(sentences) == len(set(sentences)), q


def test_follow_up_keeps_the_topic_and_changes_the_aspect(bot: Bot) -> None:
    first = bot.ask("一時預かりの予約はどうやってするの?")
    assert first.topic == "azukari-sukusuku"
    r = bot.ask("じゃあ日曜日は?", history=[Turn("一時預かりの予約はどうやってするの?", first.topic)])
    assert r.topic == "azukari-sukusuku" and r.kind is AnswerKind.ANSWER
    r = bot.ask("3人目だと?", history=[Turn("児童手当って子ども1人につき月いくら?", "jidou-teate")])
    assert r.topic == "jidou-teate" and "30,000円" in r.text


def test_two_questions_get_two_answers_with_their_sources(bot: Bot) -> None:
    r = bot.ask("児童手当っていつ振り込まれるの?あと医療証をなくしたらどうすれば")
    assert r.kind is AnswerKind.ANSWER
    assert {"jidou-teate", "kodomo-iryohi"} <= {c.doc_id for c in r.citations}
    assert "偶数月" in r.text
    assert check_grounded(r.text, r.source_texts) == []


def test_a_later_question_that_names_no_service_stays_on_the_one_before(bot: Bot) -> None:
    r = bot.ask("児童手当っていつ振り込まれるの?あと、3歳未満だと1人いくら?")
    assert [c.doc_id for c in r.citations] == ["jidou-teate"]
    assert "偶数月" in r.text and "15,000円" in r.text


def test_another_topics_word_inside_a_childcare_question_stays_in_scope(bot: Bot) -> None:
    r = bot.ask("住民税非課税なんですが保育料は安くなりますか")
    assert r.kind is not AnswerKind.OUT_OF_SCOPE and r.topic == "hoikuryo-musyouka"
    assert bot.ask("子犬を飼い始めたので区に登録したいです").kind is AnswerKind.OUT_OF_SCOPE
    assert bot.ask("ベビーカーを粗大ごみで出したいです。申し込み方法は?").kind is AnswerKind.OUT_OF_SCOPE


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("小学4年生の息子がいます。ベビーシッターの一時預かり補助は使えますか", "対象ではありません"),
        ("1歳3か月の娘がいて、私は専業主婦です。こども誰でも通園制度は使えますか?", "対象です"),
        ("出産したあとで台東区に引っ越してきました。区の出産費用助成はもらえますか?", "対象ではありません"),
        ("離婚して小学2年の息子と二人暮らしです。児童扶養手当はもらえますか?", "条件によります"),
        # the household's income against the document's income rule
        ("共働きで住民税は課税されています。初回産科受診料の助成は使えますか?", "対象ではありません"),
        ("生活保護を受けています。初めての産婦人科の受診料の助成は使えますか?", "対象です"),
        ("年収がかなり高いのですが、子ども医療費助成は受けられますか?", "対象です"),
    ],
)
def test_eligibility_verdicts(bot: Bot, question: str, verdict: str) -> None:
    r = bot.ask(question)
    assert r.kind is AnswerKind.ANSWER and r.body[0].startswith(verdict), r.body


def test_no_verdict_without_the_facts(bot: Bot) -> None:
    r = bot.ask("ベビーシッターの一時預かり補助の対象は?")
    assert not r.body[0].startswith(("対象です", "対象ではありません"))


def test_a_question_in_english_is_answered_in_english_first(bot: Bot) -> None:
    r = bot.ask("How do I apply for child allowance?")
    assert r.kind is AnswerKind.ANSWER and r.topic == "jidou-teate" and r.lang == "en"
    assert r.body[0].startswith("Child allowance")
    assert any("in Japanese" in line for line in r.body[:3])
    assert "児童手当" in r.text  # the Japanese answer follows
    assert check_grounded(r.text, r.source_texts) == []


@pytest.mark.parametrize(
    ("question", "lang", "doc"),
    [
        ("儿童津贴每个月多少钱?", "zh-Hans", "jidou-teate"),
        ("아이 의료비 지원은 어떻게 신청해요?", "ko", "kodomo-iryohi"),
        ("Como faço pra inscrever meu filho na creche (hoikuen)?", "pt", "hoikuen-nyuen"),
    ],
)
def test_other_languages_find_the_service(bot: Bot, question: str, lang: str, doc: str) -> None:
    r = bot.ask(question)
    assert r.lang == lang and doc in {c.doc_id for c in r.citations}, (r.kind, r.topic, r.reason)


def test_a_missing_translation_is_said_in_that_language(bot: Bot) -> None:
    kb = bot.generation.kb
    original = kb.procedures["jidou-teate"]
    kb.procedures["jidou-teate"] = dataclasses.replace(original, translations={})
    try:
        r = bot.ask("How much is the child allowance?")
    finally:
        kb.procedures["jidou-teate"] = original
    assert r.lang == "en" and r.body[0].startswith("This page has no summary in English yet")
    assert any("03-5246-1232" in line for line in r.body[:3])


def test_a_summary_number_the_japanese_text_lacks_is_an_error(real_knowledge_copy: Path) -> None:
    doc = real_knowledge_copy / "procedures" / "jidou-teate.md"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text.replace("10,000 yen from 3", "12,345 yen from 3", 1), encoding="utf-8")
    kb = load_knowledge(real_knowledge_copy, date(2026, 12, 2))
    assert any("i18n.en" in p.message and "12345" in p.message for p in kb.errors)


def test_a_follow_up_in_another_language_keeps_the_topic_unless_it_names_another_service(bot: Bot) -> None:
    history = [Turn("How much is the child allowance per month?", "jidou-teate")]
    for question, lang in (("Thank you. When will it be transferred?", "en"), ("Obrigada! E quando é pago?", "pt")):
        r = bot.ask(question, history=history)
        assert r.topic == "jidou-teate" and r.kind is AnswerKind.ANSWER and r.lang == lang
    r = bot.ask("Thanks. Where do I get the maternal and child health handbook?", history=history)
    assert r.topic == "ninshin-todoke"


def test_example_questions_must_be_a_short_list(real_knowledge_copy: Path) -> None:
    doc = real_knowledge_copy / "procedures" / "jidou-teate.md"
    text = doc.read_text(encoding="utf-8")
    # the English block's list of questions becomes a mapping (its items move to a key the loader ignores)
    doc.write_text(text.replace("    questions:\n", "    questions: {a: b}\n    not_read:\n", 1), encoding="utf-8")
    kb = load_knowledge(real_knowledge_copy, date(2026, 12, 2))
    assert any("i18n.en.questions" in p.message for p in kb.errors)
    assert any(
        translate_message(p.message) == "i18n.en の questions は文字列のリストにしてください。" for p in kb.errors
    )
