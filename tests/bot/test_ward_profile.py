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
