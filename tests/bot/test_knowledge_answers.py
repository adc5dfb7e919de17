"""Every document answers its own typical questions (front matter `questions`), from itself."""

from __future__ import annotations

from bot.answer import AnswerKind
from bot.grounding import check_grounded
from bot.service import Bot


def test_every_document_answers_its_main_questions(bot: Bot) -> None:
    wrong = {}
    for p in bot.generation.kb.procedures.values():
        assert p.questions, f"{p.id} lists no typical questions"
        for q in p.questions:
            r = bot.ask(q)
            emergency_doc = r.kind is AnswerKind.EMERGENCY and p.id in ("kyukyu-yakan", "gyakutai-189")
            if not (r.topic == p.id or emergency_doc):
                wrong[q] = (p.id, r.kind.value, r.topic)
            assert check_grounded(r.text, r.source_texts) == [], q
    assert wrong == {}
