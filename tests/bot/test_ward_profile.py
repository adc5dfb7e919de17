"""What a ward changes by replacing knowledge/: the fictional ward in tests/fixtures/knowledge gets its own name,
office and numbers in every reply, and none of Taito's."""

from __future__ import annotations

from bot.answering.answer import AnswerKind
from bot.service import Bot


def test_out_of_scope_names_the_ward_and_its_office(fixture_bot: Bot) -> None:
    r = fixture_bot.ask("ゴミの出し方を教えて")
    assert r.kind is AnswerKind.OUT_OF_SCOPE
    assert "みどり区の子育て" in r.text and "みどり区役所" in r.text and "03-0000-1111" in r.text
    assert "台東" not in r.text
    en = fixture_bot.ask("What time does the garbage collection start?", lang="en")
    assert en.kind is AnswerKind.OUT_OF_SCOPE and "childcare in みどり区" in en.text and "Taito" not in en.text


def test_a_family_in_the_ward_gets_a_verdict(fixture_bot: Bot) -> None:
    r = fixture_bot.ask("みどり区に住んでいて3歳の子がいます。児童手当はもらえますか")
    assert r.topic == "jidou-teate" and r.text.startswith("対象です")


def test_emergency_numbers_come_from_the_ward_profile(fixture_bot: Bot) -> None:
    r = fixture_bot.ask("子どもが息をしていない")
    assert r.kind is AnswerKind.EMERGENCY and [n.number for n in r.emergency_numbers][:2] == ["119", "#7119"]
    abuse = fixture_bot.ask("隣の家から子どもの泣き叫ぶ声と怒鳴り声が毎晩します。虐待かもしれません")
    assert abuse.kind is AnswerKind.EMERGENCY and abuse.emergency_numbers[0].number == "189"
    assert abuse.office is not None and abuse.office.name == "みどり区子ども家庭支援センター"


def test_the_japanese_answer_states_what_the_summary_led_with(fixture_bot: Bot) -> None:
    from bot.answering.answer import _with_pivot

    p = fixture_bot.generation.kb.procedures["jidou-teate"]
    paid = "児童手当は、偶数月(2月・4月・6月・8月・10月・12月)の15日に、前の2か月分が振り込まれます。"
    body = _with_pivot([paid], p, "It is 15,000 yen a month for a child under 3.", verdict=False)
    assert body == ["児童手当は、3歳未満の子ども1人につき月15,000円です。", paid]
    verdict = _with_pivot(["対象です。", paid], p, "It is 15,000 yen a month for a child under 3.", verdict=True)
    assert verdict[0] == "対象です。" and "15,000円" in verdict[1]
    assert _with_pivot([paid], p, "It is paid on the 15th of even months.", verdict=False) == [paid]  # already there
    r = fixture_bot.ask("How much is the child allowance for a baby under 3?", lang="en")
    assert "15,000 yen" in r.text.split("\n")[0] and "15,000円" in r.text.split("出典")[0]


def test_a_name_inside_a_longer_name_names_the_shorter_service(knowledge_copy, tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    """「児童手当」 is inside the fictional 「特別児童手当」: a question that says only the short name is about the
    service of that name, even when the longer one's page repeats the short name more often."""
    from bot.config import Settings
    from bot.retrieval.index import Indexer

    (knowledge_copy / "procedures" / "tokubetsu-jidou-teate.md").write_text(
        "---\nid: tokubetsu-jidou-teate\ntitle: 特別児童手当\ncategory: 手当・助成\naliases: [特別児童手当]\n"
        "source_urls:\n  - https://www.city.midori-ku.invalid/tokubetsu.html\nchecked: 2026-11-27\noffice: kosodate-wakamono\n"
        "---\n## 概要\n特別児童手当は、児童手当とは別の、障害のある子どもの手当です。\n"
        "## 金額・料金\n特別児童手当の金額は、児童手当の金額とは違い、月55,000円です。児童手当と一緒にもらえます。\n",
        encoding="utf-8",
    )
    settings = Settings(data_dir=tmp_path / "d", knowledge_dir=knowledge_copy)
    Indexer(settings, embedder).update()
    bot = Bot(settings, embedder)
    assert bot.ask("児童手当 金額").topic == "jidou-teate"
    assert bot.ask("特別児童手当 金額").topic == "tokubetsu-jidou-teate"


def test_a_service_is_named_in_the_parents_language_too(fixture_bot: Bot) -> None:
    """「아동수당은 얼마예요?」 names 児童手当 by its Korean alias: the document's names in the message's language count."""
    a = fixture_bot.answerer
    assert a._named("How much is the child allowance?", "jidou-teate", "en") == ["child allowance"]
    assert a._named("How much is the child allowance?", "jidou-teate") == []  # Japanese names only, for Japanese
