"""Every document answers its own typical questions (front matter `questions`), from itself."""

from __future__ import annotations

from bot.answering.answer import AnswerKind
from bot.answering.grounding import check_grounded
from bot.service import Bot


def test_every_document_answers_its_main_questions(bot: Bot) -> None:
    wrong = {}
    ward = bot.generation.kb.ward
    assert ward is not None
    # Questions of the documents behind the emergency numbers may get an emergency reply: bot.safety decides the
    # level, and which of those documents the reply cites follows from it.
    emergency_docs = {d for plan in ward.emergency.values() for d in plan.docs}
    for p in bot.generation.kb.procedures.values():
        assert p.questions, f"{p.id} lists no typical questions"
        for q in p.questions:
            r = bot.ask(q)
            emergency_doc = r.kind is AnswerKind.EMERGENCY and p.id in emergency_docs
            if not (r.topic == p.id or emergency_doc):
                wrong[q] = (p.id, r.kind.value, r.topic)
            assert check_grounded(r.text, r.source_texts) == [], q
    assert wrong == {}
