"""Curated answers: staff-approved replies that take precedence over the composed answer when a question matches.

A curated answer has question patterns, the answer text, the documents it is based on (cited as sources), an optional
hand-off form, and an expiry date that defaults to the end of the fiscal year (the next 31 March), because most ward
rules change in April. A question matches when its normalised character-bigram similarity to a pattern reaches
``threshold``. The emergency and out-of-scope checks run first and always win: a curated answer never hides 119.

Storage is the log store's ``curated_answers`` table (migration m002_admin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from bot.answering.results import AnswerKind, AnswerResult, Citation, Handoff, OfficeContact, render_text
from bot.knowledge import KnowledgeBase
from bot.safety import OutOfScope, detect_emergency, detect_out_of_scope
from bot.storage.tables import curated_answers
from bot.text.textnorm import normalize

DEFAULT_THRESHOLD = 0.6
_PUNCT = re.compile(r"[\s。、,.,.!?!?「」『』()()・~〜ー-]+")


def fiscal_year_end(today: date) -> date:
    """The last day of the Japanese fiscal year that contains ``today`` (31 March)."""
    return date(today.year if today.month <= 3 else today.year + 1, 3, 31)


def norm_question(text: str) -> str:
    return _PUNCT.sub("", normalize(text))


def bigrams(text: str) -> frozenset[str]:
    t = norm_question(text)
    if len(t) < 2:
        return frozenset({t}) if t else frozenset()
    return frozenset(t[i : i + 2] for i in range(len(t) - 1))


def similarity(a: str | frozenset[str], b: str | frozenset[str]) -> float:
    """Jaccard similarity of the normalised character bigrams (0..1)."""
    x = bigrams(a) if isinstance(a, str) else a
    y = bigrams(b) if isinstance(b, str) else b
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


@dataclass(frozen=True)
class CuratedAnswer:
    id: int
    patterns: tuple[str, ...]
    answer: str
    doc_ids: tuple[str, ...]
    form_id: str | None
    expires_on: date
    created_by: str
    updated_at: datetime | None = None

    def active(self, today: date) -> bool:
        return self.expires_on >= today


class CuratedError(ValueError):
    """A curated answer is incomplete or names a document or form that does not exist."""


def _row(r: object) -> CuratedAnswer:
    m = r._mapping  # type: ignore[attr-defined]
    return CuratedAnswer(
        m["id"], tuple(m["patterns"] or ()), m["answer"], tuple(m["doc_ids"] or ()), m["form_id"], m["expires_on"],
        m["created_by"], m["updated_at"],
    )  # fmt: skip


class CuratedAnswers:
    """The curated answers, and the hook ``Bot.ask`` calls (:meth:`respond`)."""

    def __init__(self, engine: Engine, threshold: float = DEFAULT_THRESHOLD):
        self.engine = engine
        self.threshold = threshold

    # ---- storage ----
    def entries(self) -> list[CuratedAnswer]:
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(select(curated_answers).order_by(curated_answers.c.id))]

    def get(self, cid: int) -> CuratedAnswer | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(curated_answers).where(curated_answers.c.id == cid)).first()
        return _row(r) if r else None

    @staticmethod
    def check(
        patterns: list[str], answer: str, doc_ids: list[str], form_id: str | None, kb: KnowledgeBase | None
    ) -> None:
        if not [p for p in patterns if p.strip()]:
            raise CuratedError("質問パターンを1つ以上入力してください。")
        if not answer.strip():
            raise CuratedError("回答文を入力してください。")
        if kb is not None:
            unknown = [d for d in doc_ids if d not in kb.procedures]
            if unknown:
                raise CuratedError(f"存在しない文書IDです: {', '.join(unknown)}")
            if form_id and form_id not in kb.forms:
                raise CuratedError(f"存在しないフォームIDです: {form_id}")

    def save(
        self,
        patterns: list[str],
        answer: str,
        doc_ids: list[str],
        form_id: str | None,
        expires_on: date,
        actor: str,
        cid: int | None = None,
    ) -> int:
        values = {
            "patterns": [p.strip() for p in patterns if p.strip()],
            "answer": answer.strip(),
            "doc_ids": [d.strip() for d in doc_ids if d.strip()],
            "form_id": (form_id or "").strip() or None,
            "expires_on": expires_on,
            "updated_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            if cid is None:
                pk = conn.execute(
                    insert(curated_answers).values(created_by=actor, created_at=values["updated_at"], **values)
                ).inserted_primary_key
                assert pk is not None
                return int(pk[0])
            conn.execute(update(curated_answers).where(curated_answers.c.id == cid).values(**values))
            return cid

    def delete(self, cid: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(curated_answers).where(curated_answers.c.id == cid))

    # ---- matching ----
    def match(self, question: str, today: date) -> tuple[CuratedAnswer, float] | None:
        q = bigrams(question)
        best: tuple[CuratedAnswer, float] | None = None
        for ca in self.entries():
            if not ca.active(today):
                continue
            score = max((similarity(q, p) for p in ca.patterns), default=0.0)
            if score >= self.threshold and (best is None or score > best[1]):
                best = (ca, score)
        return best

    def respond(self, question: str, kb: KnowledgeBase, today: date) -> AnswerResult | None:
        """The curated reply for ``question``, or None (then the bot composes its answer as usual).

        Safety first: questions the emergency or out-of-scope rules catch are left to the answerer.
        """
        q = question.strip()
        ward = kb.ward
        others = (ward.name, ward.other_municipalities) if ward else ("", ())
        # refused outright: injection, diagnosis, another municipality. Another topic's word (駐輪, 住民票) is not a
        # reason to skip an answer staff wrote for this very question.
        oos = detect_out_of_scope(q, *others) if q else None
        if not q or detect_emergency(q) or (oos is not None and oos is not OutOfScope.OTHER_TOPIC):
            return None
        hit = self.match(q, today)
        if hit is None:
            return None
        ca, score = hit
        docs = [kb.procedures[d] for d in ca.doc_ids if d in kb.procedures]
        citations = [Citation.of(p, ward) for p in docs]
        form = kb.forms.get(ca.form_id or "")
        handoff = Handoff.of(form, ward) if form else None
        office_src = next((kb.offices[p.office] for p in docs if p.office and p.office in kb.offices), None)
        body = [line for line in ca.answer.splitlines() if line.strip()]
        result = AnswerResult(
            question=q,
            kind=AnswerKind.ANSWER,
            text="",
            body=body,
            citations=citations,
            handoff=handoff,
            office=OfficeContact.of(office_src) if office_src else None,
            topic=docs[0].id if docs else None,
            reason=f"curated answer #{ca.id} (similarity {score:.2f})",
            source_texts=[ca.answer],
        )
        result.text = render_text(result)  # the same 出典 lines as a composed answer (a page without a date says so)
        return result
