"""Deciding the kind of reply, top to bottom, and putting it together.

``Answerer.answer``: safety triage (bot.safety) → ``understand`` (bot.answering.question: language, aspects, family facts,
parts) → ``_respond`` (one part, or each part and a merged reply) → ``_decide`` per part: out of scope (rules, the
scope model) → follow-up on the previous document → retrieval (bot.retrieval.retrieve) → clarify → no answer → ``_compose``
(bot.answering.compose picks the sentences, bot.answering.eligibility the verdict) → ``_localize`` (the parent's language first).
The result types and the one text renderer live in bot.answering.results. Answers are extractive: every sentence comes from
the cited document, so no number, date or amount appears that the document does not contain.
"""

from __future__ import annotations

import dataclasses
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from bot.answering import messages
from bot.answering.aspect_model import AspectReader, ScopeReader, SmallTalkReader, names_pattern
from bot.answering.compose import (
    MAX_LEAD_CHARS,
    SOURCE_TRUST,
    UNKNOWN,
    Composer,
    Scored,
    Unit,
    aspect_fit,
    join_units,
    unit_words,
    units_of,
)
from bot.answering.eligibility import (
    CONDITIONAL,
    EXCEPTION,
    INCOME_RULE,
    INCOME_STATED,
    NEGATED,
    NEGATIVE,
    OTHER_CONDITIONS,
    POSITIVE,
    VERDICT_TEXT,
    age_rule,
    age_verdict,
    asks_eligibility,
    income_verdict,
)
from bot.answering.grounding import normalize_numbers
from bot.answering.question import ASPECT_LABELS, ASPECT_WORDS, Question, analyse, cue_aspects
from bot.answering.results import (  # noqa: F401 - re-exported: bot.answering.answer was where these lived
    AnswerKind,
    AnswerResult,
    Choice,
    Citation,
    EmergencyNumber,
    Handoff,
    OfficeContact,
    Turn,
    _fmt_date,
    render_text,
)
from bot.knowledge import KnowledgeBase, Procedure
from bot.knowledge.ward import EmergencyLine
from bot.retrieval.index import Generation
from bot.retrieval.retrieve import Candidate, Retriever
from bot.safety import EmergencyLevel, OutOfScope, SafetyDecision, Triage, detect_out_of_scope, mentions_childcare
from bot.text.jatext import content_words
from bot.text.romaji import RomajiLexicon
from bot.text.textnorm import nfkc, normalize, normalize_query

# --- what was asked: bot.answering.question (aspects, family facts, parts) ----------------------------------------------------

_SENTENCE = re.compile(r"(?<=[。!?])|\n")
SPECIFIC_ASPECTS = ("amount", "payment_date", "deadline", "hours", "documents", "limits", "where")


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds, tuned on evals/questions.jsonl (see README: Evaluation)."""

    min_coverage: float = 0.45  # below this share of the query's weighted terms, the top document does not answer
    min_dense: float = 0.42  # ...unless the dense leg is this sure
    # A short question that names no service (no title or alias of the top document) is ambiguous when another
    # document scores close: one word → a looser ratio, two words → a stricter one. Longer questions are answered.
    clarify_ratio: float = 0.75
    clarify_ratio_one_word: float = 0.45
    clarify_max_words: int = 2
    # A question this close in meaning (cosine) to a document stays in scope although it names another topic's word.
    in_scope_dense: float = 0.55
    # Other languages: the dense leg decides whether a document answers (not the document classifier: its
    # probabilities are shares among the documents, high for one of them whatever the message)
    min_dense_other: float = 0.30
    # ...or, in the second leg's languages (Vietnamese, Nepali, Tagalog: USE does not know them), the second
    # embedder's cosine to the document's names and summary. e5's cosines sit high: on the multilingual dev split the
    # out-of-scope messages reached 0.856 at most, the answered ones mostly 0.83–0.93
    min_second_other: float = 0.86
    # Other languages: a message that names no service stays on the previous topic when that document is nearly as
    # close in meaning as the best one («ok thanks. and when is it paid?» after a question on 児童手当).
    follow_up_dense_ratio: float = 0.9
    # The scope model's P(not about childcare): sure enough to refuse outright / enough when no document answers.
    out_of_scope_sure: float = 0.7
    in_scope_sure_dense: float = 0.65  # ...unless a document is this close in meaning
    out_of_scope_likely: float = 0.5


_PINNED: ContextVar[Generation | None] = ContextVar("pinned_generation", default=None)


class Answerer:
    def __init__(self, retriever: Retriever, thresholds: Thresholds | None = None, triage: Triage | None = None):
        self.retriever = retriever
        self.t = thresholds or Thresholds()
        self.triage = triage if triage is not None else Triage(retriever.embedder)
        # the aspect model was trained with the triage model's embedder (USE): share it, and its query cache
        self.aspects = AspectReader(self.triage.embedder)
        self.scope = ScopeReader(self.triage.embedder)
        self.smalltalk = SmallTalkReader(self.triage.embedder)
        self.composer = Composer(retriever.embedder)

    @property
    def gen(self) -> Generation:
        """The generation this request started on (pinned in ``answer``): an index swap in the middle of a request
        cannot mix the old retrieval with the new documents."""
        return _PINNED.get() or self.retriever.generation

    def warm(self, kb: KnowledgeBase) -> None:
        """Build what the first message of a kind would otherwise build (the romaji lexicon, ~0.7 s)."""
        _romaji(kb)

    def understand(self, text: str, lang: str | None = None) -> Question:
        """Analyse a message once: language, aspects (model + cue words), family facts and parts."""
        lang = lang or self.triage.language(text)
        aspects, sure = self.aspects.read(text, cue_aspects(text), _service_names(self.gen.kb))
        ward = self.gen.kb.ward
        return analyse(text, lang, aspects, sure, ward.name if ward else "")

    def answer(self, question: str, history: list[Turn] | None = None,
               safety: SafetyDecision | None | bool = True, lang: str | None = None) -> AnswerResult:  # fmt: skip
        """``safety``: True runs the triage here; a decision (or None) passes one the caller already made.
        ``lang``: the language the parent chose; otherwise the message's own."""
        started = time.perf_counter()
        q = question.strip()
        token = _PINNED.set(self.retriever.generation)
        try:
            if safety is True:
                decision, detected = self.triage.examine(q)
                lang = lang or detected
            else:
                decision = safety or None
            if decision:
                result = self.emergency(q, decision)
                if decision.sentence:  # the rest of the message is an ordinary question: answered below the numbers
                    result = self._with_rest_answered(result, q.replace(decision.sentence, " ").strip(), lang, history)
                elif self._borderline(decision):  # the model is barely sure: the numbers first, and the question too
                    result = self._with_rest_answered(result, q, lang, history)
            else:
                parsed = self.understand(q, lang)
                talk = self._small_talk(parsed)
                result = talk if talk is not None else self._respond(parsed, history or [])
        finally:
            _PINNED.reset(token)
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    # ---- decision ----
    def _small_talk(self, q: Question) -> AnswerResult | None:
        """A greeting, thanks or goodbye gets a short reply in the parent's language (a greeting also the usual
        topics to choose from), not a clarify list, a follow-up on the last topic or a "not known". Only when no
        document answers the message: 「こんにちは、児童手当はいつ振り込まれますか」 is a question."""
        intent = self.smalltalk.intent(q.text)
        if intent is None:
            return None
        cands = self.retriever.search(self._search_text(q), generation=self.gen, lang=q.lang).candidates
        if cands and self._confident(cands[0], q) and (q.lang != "ja" or not q.topicless):
            return None
        lang = q.lang if q.lang in messages.reply_languages() else "ja"
        kb = self.gen.kb
        choices = self._fallback_choices() if intent == "greeting" else []
        if lang != "ja":
            choices = [self._translated_choice(c, lang) for c in choices]
        ward = kb.ward.name_in(lang) if kb.ward else ""
        body = [messages.reply_frame(f"smalltalk_{intent}", lang, ward=ward)]
        r = AnswerResult(q.text, AnswerKind.CLARIFY, "", body=body, choices=choices, reason=f"small talk: {intent}",
                         lang=lang)  # fmt: skip
        return _with_choices_text(r)

    def _respond(self, q: Question, history: list[Turn]) -> AnswerResult:
        return self._localize(self._respond_ja(q, history), q)

    def _localize(self, r: AnswerResult, q: Question) -> AnswerResult:
        """A parent who wrote in another language reads, first, the cited document's own summary in that language
        (whose numbers the validator checked against the Japanese text) and then the Japanese answer; where the
        document has no summary, a sentence in that language says so and names the office to call."""
        lang = q.lang
        if lang == "ja" or lang not in messages.reply_languages():
            return r
        lead: list[str] = []
        kb = self.gen.kb
        missing = False
        if r.verdict:
            lead.append(messages.reply_frame(f"verdict_{r.verdict}", lang))
        if r.kind in (AnswerKind.ANSWER, AnswerKind.NO_ANSWER) and r.citations:
            qvec = self._query_vector(q.text)
            for i, c in enumerate(r.citations[:2]):
                tr = kb.procedures[c.doc_id].translation(lang) if c.doc_id in kb.procedures else None
                if tr is not None:
                    ordered = self._answer_first(tr.summary, qvec, q.aspects)
                    lead.append(f"{tr.title}: " + " ".join(ordered))
                    if i == 0 and ordered and r.kind is AnswerKind.ANSWER:
                        r.body = _with_pivot(r.body, kb.procedures[c.doc_id], ordered[0], bool(r.verdict))
                        r.details = [d for d in r.details if d not in r.body]
            if not lead:
                missing = True
                lead.append(messages.reply_frame("no_summary", lang))
        elif r.kind is AnswerKind.NO_ANSWER:
            lead.append(messages.reply_frame("no_answer", lang))
        elif r.kind is AnswerKind.OUT_OF_SCOPE:
            ward = kb.ward.name_in(lang) if kb.ward else ""
            lead.append(messages.reply_frame("out_of_scope", lang, ward=ward))
        elif r.kind is AnswerKind.CLARIFY:
            lead.append(messages.reply_frame("clarify", lang))
            r.choices = [self._translated_choice(c, lang) for c in r.choices]
        if r.office and r.office.phone and (r.kind is AnswerKind.NO_ANSWER or missing):
            lead.append(messages.reply_frame("ask_office", lang, office=r.office.name, phone=r.office.phone))
        lead.append(messages.reply_frame("in_japanese", lang))
        r.body = [x for x in lead if x] + r.body
        r.lang = lang
        if r.kind is AnswerKind.CLARIFY:
            return _with_choices_text(r)
        docs = [kb.procedures[c.doc_id] for c in r.citations if c.doc_id in kb.procedures]
        r = self._finish(r, docs)
        r.source_texts += [tr.summary for p in docs if (tr := p.translation(lang)) is not None]
        return r

    def _answer_first(self, summary: str, qvec: Any, aspects: tuple[str, ...] = ()) -> list[str]:
        """The summary's sentences with the one closest in meaning to the question first (for an amount, date, time
        or phone question, a sentence with a number is preferred: the summaries are short and all on topic)."""
        sentences = [x.strip() for x in _SUMMARY_SENTENCE.split(summary) if x.strip()]
        if len(sentences) < 2 or qvec is None:
            return sentences
        try:
            sims = np.stack([self.composer.vector(x) for x in sentences]) @ qvec
        except Exception:  # noqa: BLE001 - the summary in its own order is still right
            return sentences
        numeric = bool(aspects) and aspects[0] in (*SPECIFIC_ASPECTS, "contact")
        bonus = [0.15 if numeric and re.search(r"\d", x) else 0.0 for x in sentences]
        best = int(max(range(len(sentences)), key=lambda i: float(sims[i]) + bonus[i]))
        return [sentences[best], *(x for i, x in enumerate(sentences) if i != best)]

    def _translated_choice(self, c: Choice, lang: str) -> Choice:
        p = self.gen.kb.procedures.get(c.doc_id or "")
        tr = p.translation(lang) if p else None
        return dataclasses.replace(c, label=f"{c.label}({tr.title})") if tr else c

    def _respond_ja(self, q: Question, history: list[Turn]) -> AnswerResult:
        """One part: decide it. Two or three parts: decide each (a part that names no topic keeps the one before)
        and answer them together, each with its own source."""
        if len(q.parts) < 2:
            return self._decide(q, history)
        results: list[AnswerResult] = []
        turns = list(history)
        for i, part in enumerate(q.parts):
            r = self._decide(self.understand(part, q.lang), turns, later_part=i > 0)
            turns.append(Turn(part, r.topic))
            results.append(r)
        replied = (AnswerKind.ANSWER, AnswerKind.NO_ANSWER)
        distinct = {(r.topic, tuple(r.sections), r.kind) for r in results if r.kind in replied}
        if len(distinct) < 2 or not any(r.kind is AnswerKind.ANSWER for r in results):
            whole = self._decide(q, history)
            if whole.kind in replied or not any(r.kind in replied for r in results):
                return whole
            return next(r for r in results if r.kind in replied)
        return self._merge(q, [r for r in results if r.kind in replied])

    def _merge(self, q: Question, parts: list[AnswerResult]) -> AnswerResult:
        kb = self.gen.kb
        body: list[str] = []
        cites: list[Citation] = []
        docs: list[Procedure] = []
        for r in parts:  # answers and "not known" replies; a line two parts share (the office) once
            body += [x for x in r.body if x not in body]
            for c in r.citations:
                if c.doc_id not in {x.doc_id for x in cites}:
                    cites.append(c)
                    docs.append(kb.procedures[c.doc_id])
        first = next(r for r in parts if r.kind is AnswerKind.ANSWER)
        merged = AnswerResult(
            question=q.text, kind=AnswerKind.ANSWER, text="", body=body, citations=cites, handoff=first.handoff,
            office=first.office, topic=first.topic, aspects=list(q.aspects),
            sections=[s for r in parts for s in r.sections], reason=f"{len(parts)} questions in one message",
            candidates=first.candidates, suggestions=first.suggestions, lang=first.lang,
            details=[d for r in parts for d in r.details],
        )  # fmt: skip
        merged = self._finish(merged, docs)
        merged.source_texts += [t for r in parts for t in r.source_texts]  # each part's office and form too
        return merged

    def _decide(self, q: Question, history: list[Turn], later_part: bool = False) -> AnswerResult:
        gen = self.gen
        kb = gen.kb
        ward = kb.ward
        names = _service_names(kb)
        oos = detect_out_of_scope(q.text, ward.name if ward else "", ward.other_municipalities if ward else (), names)
        if oos and oos is not OutOfScope.OTHER_TOPIC:
            return self._out_of_scope(q, oos)
        aspects = list(q.aspects)
        prev_topic = next((t.topic for t in reversed(history) if t.topic and t.topic in kb.procedures), None)
        if q.topicless and prev_topic:
            q = self._inherit_aspects(q, history, prev_topic)
            return self._compose(q, kb.procedures[prev_topic], None, "follow-up on the previous topic")
        retrieval = self.retriever.search(self._search_text(q), generation=gen, lang=q.lang)
        cands = retrieval.candidates
        debug = [c.to_json() for c in cands[:5]]
        if prev_topic and self._continues(q, prev_topic, cands, later_part):
            q = self._inherit_aspects(q, history, prev_topic)
            return self._compose(q, kb.procedures[prev_topic], debug, "follow-up: the question keeps the topic")
        dense = cands[0].dense_raw if cands else 0.0
        p_out = self.scope.p_out(q.text)
        covered = bool(cands) and cands[0].coverage >= 0.8  # a document holds (nearly) every word of the question
        by_meaning = (p_out is not None and p_out >= self.t.out_of_scope_sure and dense < self.t.in_scope_sure_dense
                      and not covered)  # fmt: skip
        likely_out = p_out is not None and p_out >= self.t.out_of_scope_likely
        by_word = oos is OutOfScope.OTHER_TOPIC and (dense < self.t.in_scope_dense or likely_out)
        # ...and never when it names one of the ward's services (「…塾の送り迎えの間、ファミサポって使えますか」)
        if (by_meaning or by_word) and not any(self._names(q.text, c.doc_id) for c in cands[:5]):
            # by meaning (the scope model), or a word of another topic (住民票, 住民税, 塾) that the meaning does not
            # overrule: 「住民税非課税なんですが保育料は…」 is close to a document and the model finds it childcare
            return self._out_of_scope(q, OutOfScope.OTHER_TOPIC, debug)
        if q.topicless or not cands:
            if not cands and not aspects and (likely_out or (p_out is None and not mentions_childcare(q.text))):
                return self._out_of_scope(q, OutOfScope.OTHER_TOPIC)
            return self._clarify(q, cands, debug, "the question names no topic")
        cands = self._prefer_covering(q.text, self._prefer_named(q.text, cands, q.lang))
        top = cands[0]
        if not self._confident(top, q):
            # no document answers: not about childcare (by meaning; the child-words list only without the model), or
            # a childcare question the knowledge cannot answer
            without_model = p_out is None and q.lang == "ja" and not mentions_childcare(q.text) and not q.family.stated
            if likely_out or without_model:
                return self._out_of_scope(q, OutOfScope.OTHER_TOPIC, debug)
            if prev_topic and not any(self._named(q.text, c.doc_id, q.lang) for c in cands[:5]):
                # 「Obrigada! E quando é pago?」: finds no document on its own and names no service: the topic goes on
                return self._compose(q, kb.procedures[prev_topic], debug, "follow-up: no other document answers")
            return self._no_answer(q, top, debug, "no document covers the question")
        if len(cands) > 1 and q.lang == "ja":
            second = cands[1]
            n_words = len(q.topic_words)
            named_top = self._names(q.text, top.doc_id)
            ratio = second.score / top.score if top.score else 1.0
            generic = not named_top and second.coverage >= 0.8 * top.coverage
            if generic and (
                (n_words <= 1 and ratio >= self.t.clarify_ratio_one_word)
                or (n_words <= self.t.clarify_max_words and ratio >= self.t.clarify_ratio)
            ):
                return self._clarify(q, cands, debug, "two documents match about equally")
        return self._compose(q, kb.procedures[top.doc_id], debug, "", top)

    def _inherit_aspects(self, q: Question, history: list[Turn], topic: str) -> Question:
        """A follow-up that asks no detail the classifier is sure of («3人目だと?» after «月いくら?») asks what the
        message before it on the same topic asked: its aspects lead, the follow-up's own come after."""
        if q.sure:
            return q
        before = next((t.question for t in reversed(history) if t.topic == topic), None)
        if not before:
            return q
        earlier = self.understand(before, q.lang).aspects
        return dataclasses.replace(q, aspects=(*earlier, *(a for a in q.aspects if a not in earlier)))

    def _confident(self, c: Candidate, q: Question | None = None) -> bool:
        if q is not None and q.lang != "ja":  # word coverage means little for words Sudachi cannot read
            return c.dense_raw >= self.t.min_dense_other or c.second_raw >= self.t.min_second_other
        return c.coverage >= self.t.min_coverage or c.dense_raw >= self.t.min_dense

    def _continues(self, q: Question, prev: str, cands: list[Candidate], later_part: bool = False) -> bool:
        """A short or continuing message (「じゃあ日曜日は?」「双子だと?」), or a later question of the same message,
        stays on the previous document unless it names another service or another document covers its words clearly
        better. In another language, where Sudachi's word counts and coverage mean little, any message that names no
        service stays on it when that document is nearly as close in meaning as the best one."""
        other = q.lang != "ja"
        if not (q.continues or q.anaphoric or later_part or other or len(q.topic_words) <= 2):
            return False
        top = cands[0] if cands else None
        if top is None or top.doc_id == prev:
            return True
        if (
            q.continues or q.anaphoric
        ):  # 「3人目だと?」「それって夫も?」: only another service's title changes the topic
            return not _name_in(self.gen.kb.procedures[top.doc_id].title, q.normalized)
        named = [c.doc_id for c in cands[:5] if self._named(q.text, c.doc_id, q.lang)]
        if top.doc_id in named:
            return False
        mine = next((c for c in cands if c.doc_id == prev), None)
        if mine is None:
            return False
        if other:
            return not named and mine.dense_raw >= self.t.follow_up_dense_ratio * top.dense_raw
        if not named:
            return True  # names no service at all (「あと、3歳未満だと1人いくら?」): the detail of the one before
        return mine.coverage >= 0.8 * top.coverage

    def _named(self, q: str, doc_id: str, lang: str = "ja") -> list[str]:
        """The document's names (title, aliases, and for another language its names in that language) that the
        question contains."""
        p = self.gen.kb.procedures[doc_id]
        folded = normalize(q)
        tr = p.translation(lang) if lang != "ja" else None
        names = (p.title, *p.aliases, *((tr.title, *tr.aliases) if tr else ()))
        return [n for n in names if _name_in(n, folded)]

    def _prefer_named(self, q: str, cands: list[Candidate], lang: str = "ja") -> list[Candidate]:
        """A service the question names (its title or an alias) leads when retrieval ranked it lower: naming beats
        similarity (「ファミリー・サポートで預けると1時間いくら」 is about ファミサポ, not the nearest childcare page)."""
        if not cands or self._named(q, cands[0].doc_id, lang):
            return cands  # the top document names itself
        named = [c for c in cands[:5] if self._named(q, c.doc_id, lang)]
        if len(named) != 1 or (cands[0].coverage >= 0.9 and named[0].coverage < cands[0].coverage):
            return cands  # the top document holds more of the question's words than the named one
        top = self.gen.kb.procedures[cands[0].doc_id]
        folded = normalize(q)
        top_tr = top.translation(lang) if lang != "ja" else None
        top_names = (top.title, *top.aliases, *((top_tr.title, *top_tr.aliases) if top_tr else ()))
        for n in map(normalize, self._named(q, named[0].doc_id, lang)):
            # 「一時預かり」 names both when the top's own name says it too (「ベビーシッターの一時預かり」 and the top's
            # 「ベビーシッター一時預かり」); but 「児童扶養手当」 inside the top's 「特別児童扶養手当」 names the top only
            # when the question also says what the longer name adds (特別)
            if any(n == normalize(m) or (n in normalize(m) and _adds_said(normalize(m), n, folded))
                   for m in top_names):  # fmt: skip
                return cands
        return [named[0], *(c for c in cands if c is not named[0])]

    def _prefer_covering(self, q: str, cands: list[Candidate]) -> list[Candidate]:
        """When the question names two services (「こども園の給食費」), prefer the document that also talks about the
        other one's name: the kindergarten page covers its lunch fee; the school-lunch page does not cover kindergartens."""
        if len(cands) < 2:
            return cands
        first, second = cands[0], cands[1]
        n1, n2 = self._named(q, first.doc_id), self._named(q, second.doc_id)
        if not n1 or not n2:
            return cands
        kb = self.gen.kb
        text1 = normalize(_doc_text(kb.procedures[first.doc_id]))
        text2 = normalize(_doc_text(kb.procedures[second.doc_id]))
        first_covers = any(_name_in(n, text1) for n in n2)
        second_covers = any(_name_in(n, text2) for n in n1)
        if second_covers and not first_covers:
            return [second, first, *cands[2:]]
        return cands

    def _names(self, q: str, doc_id: str) -> bool:
        """Does the question name the document (its title or an alias)?"""
        return bool(self._named(q, doc_id))

    # ---- kinds ----
    def _citation(self, p: Procedure) -> Citation:
        ward = self.gen.kb.ward
        return Citation.of(p, ward)

    def _office(self, office_id: str | None) -> OfficeContact | None:
        o = self.gen.kb.offices.get(office_id or "")
        return OfficeContact.of(o) if o else None

    def _handoff(self, p: Procedure) -> Handoff | None:
        for fid in p.forms:
            f = self.gen.kb.forms.get(fid)
            if f:
                return Handoff.of(f, self.gen.kb.ward)
        return None

    def _finish(self, r: AnswerResult, docs: list[Procedure]) -> AnswerResult:
        r.text = render_text(r)
        # What the reply may quote: the cited documents plus the catalogue entries (office, form) it hands off to.
        r.source_texts = [_doc_text(p) for p in docs] + [
            f"{_fmt_date(c.as_of)} {_fmt_date(c.checked)} {c.url}" for c in r.citations
        ]
        if r.office:
            r.source_texts.append(" ".join(x for x in (r.office.name, r.office.phone, r.office.hours) if x))
        if r.handoff:
            r.source_texts.append(" ".join([r.handoff.title, r.handoff.url, *r.handoff.requires, *r.handoff.prepare]))
        return r

    def _compose(
        self, q: Question, p: Procedure, debug: list[dict[str, Any]] | None, reason: str, cand: Candidate | None = None
    ) -> AnswerResult:
        """Lead with the unit that answers the asked detail; add a second asked detail; nothing twice; a definition
        only when the parent asked what something is; a "not known" sentence only about the asked detail."""
        # the contact line is always shown, so "contact" leads only when it is what was asked first
        aspects = tuple(q.aspects) if q.aspects[:1] == ("contact",) else tuple(a for a in q.aspects if a != "contact")
        has_topic = bool([w for w in q.topic_words if w not in _name_words(p) and len(w) >= 2])
        if aspects[:1] == ("what",) and has_topic:
            aspects = (*aspects[1:], "what")  # 「点数ってどうなってる?」: the named detail, not the definition
        qvec = self._query_vector(q.text)
        title_words = _title_words(p)  # not the aliases: 「保育園の点数」 routes retrieval but 点数 is the asked detail
        scored = self.composer.score(q, p, qvec, title_words, aspects)
        answers = [x for x in scored if x.unit.key not in ("caution", "contact") or aspects[:1] == ("contact",)]
        gap = self._stated_gap(q, p)
        primary = aspects[0] if aspects else None
        shown: list[Unit] = []
        unknown = False
        if gap:
            unknown = True
        elif primary in (None, "what") and not has_topic:
            # 「児童手当について教えて」: what it is, then the unit retrieval and meaning like best
            overview = [x.unit for x in scored if x.unit.key == "overview"]
            lead = min(overview, key=lambda u: u.order) if overview else (answers[0].unit if answers else None)
            shown = [lead] if lead else []
            rest = [x.unit for x in answers if x.unit.key != "overview" and not x.unit.unknown]
            if rest:
                shown.append(rest[0])
        else:
            known = [x for x in answers if not x.unit.unknown]
            fitting = [x for x in known if primary in (None, "what") or x.fits is not None]
            about: list[Scored] = []
            if primary not in (None, "what"):  # the unit that answers the first asked aspect leads, if there is one
                fitting = [x for x in fitting if aspect_fit(x.unit, primary) > 0]
                about = [x for x in answers if aspect_fit(x.unit, primary) > 0]
                if about and about[0].unit.unknown and (not fitting or fitting[0].score < 0.8 * about[0].score):
                    fitting = []  # the document's best sentence on the asked detail says it is not known here
                    about = [x for x in about if x.unit.unknown]
            by_words = max(known, key=lambda x: x.words, default=None)
            topic = [w for w in q.topic_words if w not in _title_words(p) and len(w) >= 2]
            # The question's own words (「年度の途中から」) find the sentence better than its aspect — unless the asked
            # detail itself is what the document does not know (then ``fitting`` is empty for a specific aspect).
            if (
                by_words is not None
                and by_words.words >= 0.5
                and (len(topic) >= 2 or (len(topic) == 1 and len(topic[0]) >= 3))  # 「先着順」 alone is specific
                and (fitting or primary in (None, "what"))
                and (not fitting or by_words.words >= fitting[0].words + 0.25)
            ):
                fitting = [by_words, *(x for x in fitting if x is not by_words)]
            if fitting:
                shown = [_with_antecedent(fitting[0].unit, p)]
            elif (primary in SPECIFIC_ASPECTS and (primary in q.sure or any(x.unit.unknown for x in answers[:1]))
                  and not self._strong(known) and (q.lang == "ja" or about)):  # fmt: skip
                # the document has nothing on the detail the parent surely asked: say so (its own words if any). For
                # another language the Japanese sentences cannot match its words, so only the document's own
                # "not known" sentence on that detail counts.
                unknown = True
                gap_unit = next((x.unit for x in answers if x.unit.unknown and aspect_fit(x.unit, primary) > 0), None)
                shown = [gap_unit] if gap_unit else []
            elif known:
                shown = [known[0].unit]
        verdict: tuple[str, str, Unit] | None = None
        if not unknown and asks_eligibility(q):
            verdict = self._verdict(q, p, answers)
            if verdict is not None:
                shown = [verdict[2], *(u for u in shown if u != verdict[2])]
        if shown and not unknown:
            shown = self._extend(shown, answers, aspects, p)
        caution = self._relevant_caution(q, p, shown)
        body = [gap] if gap else join_units(_connectives_follow(shown, p))
        if unknown and not gap:
            body = [u.text for u in shown if u.unknown][:1] or [
                f"{p.title}について、このご質問の答えはここでは確認できていません。"
            ]
        if verdict is not None:
            body.insert(0, verdict[1])
        if caution and not unknown:
            body.append("※" + caution.text)
        office = self._office(p.office)
        # the sentence that answers best says the asked thing is not known here: the reply is a "not known" one
        unknown = unknown or (bool(shown) and shown[0].unknown and verdict is None and shown[0].key != "caution")
        kind = AnswerKind.NO_ANSWER if unknown else AnswerKind.ANSWER
        if kind is AnswerKind.NO_ANSWER and office and office.phone:
            body.append(f"くわしくは、{office.name}({office.phone})にお問い合わせください。")
        sections = list(dict.fromkeys(u.heading for u in shown))
        details = self._details(p, shown)
        r = AnswerResult(
            question=q.text,
            kind=kind,
            text="",
            body=body,
            citations=[self._citation(p)],
            handoff=self._handoff(p),
            office=office,
            topic=p.id,
            aspects=list(q.aspects),
            sections=sections,
            reason=reason or ("the document says this is not known" if unknown else "answered"),
            candidates=debug or [],
            suggestions=self._suggestions(p, sections),
            details=details,
            verdict=verdict[0] if verdict else "",
        )
        return self._finish(r, [p])

    def _search_text(self, q: Question) -> str:
        """What retrieval reads: the message, plus the Japanese words its romaji names (「ninpu shien kyufu」 →
        妊婦 支援給付), so a Portuguese or Vietnamese question that names the service the way it sounds finds it."""
        if not re.search(r"[A-Za-z]{3}", q.text):
            return q.text
        words = _romaji(self.gen.kb).expand(q.text)
        return f"{q.text} {' '.join(words)}" if words else q.text

    def _query_vector(self, text: str) -> Any:
        try:
            return self.retriever.embedder.embed_query(normalize_query(text))
        except Exception:  # noqa: BLE001 - without the vector, words and aspects still choose the sentences
            return None

    @staticmethod
    def _verdict(q: Question, p: Procedure, answers: list[Scored]) -> tuple[str, str, Unit] | None:
        """(verdict, its sentence, the unit that decides it) — see bot.answering.eligibility; None when nothing settles it.
        Called only when the message asks whether the family can use the service (``asks_eligibility``)."""
        # a sentence about the family's very case (「…引っ越してきた場合も、対象になりません」), when the message says
        # its situation plainly (a negated situation 「通っていない」 is not matched against 「通っている子は」)
        plain = not NEGATED.search(q.text) and "eligibility" in q.aspects
        situation = [x for x in answers[:3] if x.words >= 0.5 and not x.unit.unknown and plain]
        for x in situation:
            if NEGATIVE.search(x.unit.text):
                return "not_eligible", VERDICT_TEXT["not_eligible"], x.unit
        # the 対象 section's rules; other sections' only when it states none (an amount tier 「3歳未満:15,000円」 is
        # not a rule about who can use the service)
        fitting = [u for u in units_of(p) if u.key == "eligibility" or aspect_fit(u, "eligibility") >= 0.5]
        stated = [u for u in fitting if u.key == "eligibility" and age_rule(u.text) is not None]
        rules = stated or [u for u in fitting if u.key not in ("amount", "caution")]
        income = (
            None if INCOME_STATED.search(q.text) else next((u for u in fitting if INCOME_RULE.search(u.text)), None)
        )
        # the household's stated income against the document's income rule (not an amount tier: 「非課税世帯は半額」)
        money: tuple[str, Unit] | None = None
        if q.family.income is not None:
            ruled = [u for u in units_of(p) if u.key not in ("amount", "caution") and not u.unknown]
            by_income = income_verdict([u.text for u in ruled], q.family.income)
            money = (by_income[0], ruled[by_income[1]]) if by_income else None
        if q.family.stated:
            judged = [(u, age_verdict(r, q.family)) for u in rules if (r := age_rule(u.text)) is not None]
            for u, v in judged:
                if v == "not_eligible":
                    # an exception in the rules (「特例で0歳も」) that the age meets: it depends on that exception
                    if any(w == "eligible" and EXCEPTION.search(x.text) for x, w in judged):
                        return "depends", VERDICT_TEXT["depends"], u
                    return v, VERDICT_TEXT[v], u
                if v == "eligible":
                    if money is not None and money[0] != "eligible":
                        return money[0], VERDICT_TEXT[money[0]], money[1]
                    if income is not None:
                        return "depends", VERDICT_TEXT["depends"], income
                    more = OTHER_CONDITIONS.search(u.text) is not None
                    if more and q.aspects[:1] != ("eligibility",):
                        return None  # only the age is settled and eligibility is not what was asked first: no padding
                    return v, "年齢では対象です。ほかの条件も確かめてください。" if more else VERDICT_TEXT[v], u
        # a sentence about the family's very case that says it can: 「里帰り出産の場合は、区外に住んでいても使えます」
        for x in situation:
            if CONDITIONAL.search(x.unit.text) and POSITIVE.search(x.unit.text) and not NEGATIVE.search(x.unit.text):
                return "eligible", VERDICT_TEXT["eligible"], x.unit
        if money is not None:
            return money[0], VERDICT_TEXT[money[0]], money[1]
        if income is not None:
            return "depends", VERDICT_TEXT["depends"], income
        return None

    @staticmethod
    def _strong(known: list[Scored]) -> bool:
        """Does a unit hold half of the question's own topic words (so the document does speak to it)?"""
        return bool(known) and known[0].words >= 0.5

    @staticmethod
    def _extend(shown: list[Unit], answers: list[Scored], aspects: tuple[str, ...], p: Procedure) -> list[Unit]:
        """The lead's whole section when it is short (in the document's order, unless a later sentence matches the
        question's own words better: then that one leads); a second asked aspect's best unit; about 200 chars."""
        lead = shown[0]
        by_unit = {x.unit: x for x in answers}
        section = [u for u in units_of(p) if u.section_order == lead.section_order and not u.unknown]
        first = section[0] if section else lead

        def words(u: Unit) -> float:
            return by_unit[u].words if u in by_unit else 0.0

        # the section's own order, unless its first sentence matches the question's words or aspect worse
        keep_order = first is lead or (
            first in by_unit
            and (
                not aspects
                or (words(first) >= words(lead) and aspect_fit(first, aspects[0]) >= aspect_fit(lead, aspects[0]))
            )
        )
        out = [lead]
        total = len(lead.text)
        for u in section:
            if u is lead or total + len(u.text) > MAX_LEAD_CHARS:
                continue
            out.append(u)
            total += len(u.text)
        if keep_order:
            out.sort(key=lambda u: u.order)
        for a in aspects[1:]:
            extra = next((x.unit for x in answers if x.fits == a and not x.unit.unknown), None)
            if extra is not None and extra not in out and total + len(extra.text) <= 2 * MAX_LEAD_CHARS:
                out.append(extra)
                total += len(extra.text)
        return out

    @staticmethod
    def _relevant_caution(q: Question, p: Procedure, shown: list[Unit]) -> Unit | None:
        """A caveat is shown only when it is about what the reply says or what was asked (a shared topic word)."""
        names = _name_words(p)
        asked = {w for w in q.topic_words if w not in names}
        said = set().union(*(unit_words(u.text) for u in shown)) - names if shown else set()
        for u in units_of(p):
            if u.key != "caution" or u.unknown:
                continue
            words = set(unit_words(u.text)) - names - ASPECT_WORDS
            if words & asked or (len(words & said) >= 2):
                return u
        return None

    @staticmethod
    def _details(p: Procedure, shown: list[Unit]) -> list[str]:
        """What 「くわしく」 opens: the rest of the shown sections, then the main sections not shown."""
        headings = {u.heading for u in shown}
        seen = {u.text for u in shown}
        out = []
        for sec in p.sections:
            if sec.key in ("contact",):
                continue
            if sec.heading in headings or sec.key in ("amount", "apply", "deadline", "documents", "eligibility"):
                text = "\n".join(x for x in sec.text.splitlines() if x.strip() and x.strip() not in seen)
                if text.strip():
                    out.append(f"【{sec.heading}】{text}")
        return out

    @staticmethod
    def _stated_gap(q: Question, p: Procedure) -> str | None:
        """The document's own sentence saying that what the parent asks about is not known here, if there is one.

        It counts when a specific word of the question (not a title or alias word) occurs in the document only in
        sentences that say "not known": 「キャンセル料は確認できていません」 answers 「キャンセル料は?」 honestly, while
        a word the document also uses in a known fact means the document does answer.
        """
        names = _name_words(p)
        words = [w for w in q.topic_words if w not in names and len(w) >= 2]
        if not words:
            return None
        known_text, unknown = _gap_sentences(p)
        for w in words:
            if w in known_text:
                continue
            for normalized, original in unknown:
                if w in normalized:
                    return original
        return None

    def _suggestions(self, p: Procedure, shown: list[str]) -> list[Choice]:
        labels = {"amount": "いくら?", "documents": "何が必要?", "deadline": "いつまで?", "apply": "申し込み方法は?",
                  "eligibility": "対象は?"}  # fmt: skip
        out = []
        for key, label in labels.items():
            sec = p.section(key)
            if sec and sec.heading not in shown:
                out.append(Choice(f"{p.title}:{label}", f"{p.title}の{ASPECT_LABELS[key]}を教えて", p.id))
        return out[:3]

    def _clarify(self, q: Question, cands: list[Candidate], debug: list[dict[str, Any]], reason: str) -> AnswerResult:
        kb = self.gen.kb
        aspects = list(q.aspects)
        aspect = ASPECT_LABELS[aspects[0]] if aspects else None
        choices = []
        for c in cands[:4]:
            p = kb.procedures[c.doc_id]
            choices.append(
                Choice(p.title, f"{p.title}の{aspect}を教えて" if aspect else f"{p.title}について教えて", p.id)
            )
        if not choices:
            choices = self._fallback_choices()
        body = ["どの制度についてのご質問ですか。近いものを選んでください。"]
        r = AnswerResult(q.text, AnswerKind.CLARIFY, "", body=body, choices=choices, aspects=aspects, reason=reason,
                         candidates=debug)  # fmt: skip
        return _with_choices_text(r)

    def _fallback_choices(self) -> list[Choice]:
        """The ward's usual topics (``clarify_fallbacks`` in ward.yaml), for a question or greeting that names none."""
        kb = self.gen.kb
        procs = [kb.procedures[pid] for pid in (kb.ward.clarify_fallbacks if kb.ward else ()) if pid in kb.procedures]
        return [Choice(p.title, f"{p.title}について教えて", p.id) for p in procs]

    def _no_answer(self, q: Question, top: Candidate | None, debug: list[dict[str, Any]], reason: str) -> AnswerResult:
        kb = self.gen.kb
        office = None
        if top and top.coverage >= self.t.min_coverage / 2:
            office = self._office(kb.procedures[top.doc_id].office)
        office = office or self._office(kb.ward.default_office if kb.ward else None)
        body = ["ごめんなさい。そのご質問に答えられる情報が、ここにはありません。"]
        if office:
            tel = f"({office.phone})" if office.phone else ""
            body.append(f"{office.name}{tel}にお問い合わせください。")
        r = AnswerResult(q.text, AnswerKind.NO_ANSWER, "", body=body, office=office, reason=reason, candidates=debug)
        return self._finish(r, [])

    def _out_of_scope(self, q: Question, why: OutOfScope, debug: list[dict[str, Any]] | None = None) -> AnswerResult:
        kb = self.gen.kb
        ward = kb.ward
        default = self._office(ward.default_office if ward else None)
        text = messages.sections("out_of_scope")[why.value].format(
            ward=ward.name if ward else "この区", office=default.name if default else "区役所"
        )
        cites: list[Procedure] = []
        office = None
        if why is OutOfScope.DIAGNOSIS and ward and ward.diagnosis_doc in kb.procedures:
            cites = [kb.procedures[ward.diagnosis_doc]]  # type: ignore[index]
        if why is OutOfScope.OTHER_TOPIC:
            office = default
        r = AnswerResult(q.text, AnswerKind.OUT_OF_SCOPE, "", body=text.splitlines(), office=office, reason=why.value,
                         citations=[self._citation(p) for p in cites], candidates=debug or [])  # fmt: skip
        return self._finish(r, cites)

    # Situations in which a reply that also answers the question cannot cost time: not a life, a poisoning or a missing
    # child, where the numbers must stand alone.
    _ANSWERABLE_LEVELS = frozenset(
        {EmergencyLevel.ADVICE, EmergencyLevel.ABUSE, EmergencyLevel.CRISIS, EmergencyLevel.DV}
    )

    def _borderline(self, decision: SafetyDecision) -> bool:
        """The model alone decided, below twice its threshold (e.g. P 0.11–0.15 for a long question in another
        language about an overnight stay while the mother is in hospital): the parent may be asking something else."""
        model = self.triage.model
        return (
            decision.source == "model"
            and model is not None
            and decision.level in self._ANSWERABLE_LEVELS
            and decision.score < 2 * model.threshold
        )

    def _with_rest_answered(self, emergency: AnswerResult, rest: str, lang: str | None,
                            history: list[Turn] | None) -> AnswerResult:  # fmt: skip
        """An emergency told in one sentence of a longer message (「産後ケアの申し込み方は?…涙が止まらない日もあります」):
        the numbers stay first, and when the other sentences ask something a document answers, that answer follows
        with its own source and hand-off, so the parent is not left without what she asked."""
        if len(rest) < 4:
            return emergency
        other = self._respond(self.understand(rest, lang), history or [])
        if other.kind is not AnswerKind.ANSWER:
            return emergency
        r = dataclasses.replace(
            emergency,
            body=[*emergency.body, messages.reply_frame("also_asked", emergency.lang), *other.body],
            citations=[*emergency.citations, *(c for c in other.citations if c not in emergency.citations)],
            handoff=other.handoff,
            details=other.details,
        )
        r.text = emergency.text.split("\n", 1)[0] + "\n" + render_text(r)
        r.source_texts = [*emergency.source_texts, *other.source_texts]
        return r

    def emergency(self, q: str, decision: SafetyDecision) -> AnswerResult:
        """Numbers first, from the ward profile; a line in the parent's language; then short Japanese guidance.

        Never an LLM, a curated answer or a clarify question: this only renders ``bot.safety``'s decision.
        """
        kb = self.gen.kb
        plan = kb.ward.emergency.get(decision.level) if kb.ward else None
        lang = decision.lang if decision.lang in messages.emergency_languages() else "ja"

        def shown(n: EmergencyLine) -> EmergencyNumber:  # the label in the reply's language where it has one
            return EmergencyNumber((lang != "ja" and messages.emergency_label(n.kind, lang)) or n.label, n.number)

        numbers = [shown(n) for n in (plan.numbers if plan else ())] or [EmergencyNumber("救急車", "119")]
        extra_docs: list[str] = []
        for other in decision.also:  # a situation the model finds nearly as likely: its first number too
            extra = kb.ward.emergency.get(other) if kb.ward else None
            if extra and extra.numbers and all(n.number != extra.numbers[0].number for n in numbers):
                numbers.append(shown(extra.numbers[0]))
                extra_docs += extra.docs  # the number's source is cited too
        body = messages.load(f"emergency_{decision.level.value}").splitlines()
        lead = messages.emergency_lead(decision.level.value, lang)
        if lead:
            body.insert(0, lead)
        doc_ids = dict.fromkeys([*(plan.docs if plan else ()), *extra_docs])
        cites = [kb.procedures[d] for d in doc_ids if d in kb.procedures]
        office = self._office(plan.office) if plan and plan.office else None
        r = AnswerResult(q, AnswerKind.EMERGENCY, "", body=body, citations=[self._citation(p) for p in cites],
                         emergency_numbers=numbers, office=office, topic=cites[0].id if cites else None,
                         reason=f"{decision.level.value} ({decision.source}, p={decision.score:.2f})", lang=lang,
                         emergency_title=messages.emergency_title(lang))  # fmt: skip
        r = self._finish(r, cites)
        # Plain-text channels (CLI, LINE, the API's `answer`) also get the numbers before anything else.
        r.text = f"{r.emergency_title}: " + " / ".join(f"{n.number} {n.label}" for n in numbers) + "\n" + r.text
        return r


def _with_choices_text(r: AnswerResult) -> AnswerResult:
    """A clarify reply's text: its lines, then one 「・」 line per choice (what the choices may quote is their labels)."""
    r.text = "\n".join([*r.body, *(f"・{c.label}" for c in r.choices)])
    r.source_texts = [c.label for c in r.choices]
    return r


_SUMMARY_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。!?।])")
_CONNECTIVE = re.compile(r"^(そのため|このため|また|なお|ただし|さらに|ほかに|それでも|その後|そこで)[、,]")


def _with_antecedent(u: Unit, p: Procedure) -> Unit:
    """A sentence that opens with 「そのため」「ただし」 cannot lead alone: its section's previous sentence leads."""
    if not _CONNECTIVE.match(u.text):
        return u
    prev = next((x for x in units_of(p) if x.order == u.order - 1 and x.section_order == u.section_order), None)
    return prev if prev is not None and not prev.unknown else u


def _connectives_follow(shown: list[Unit], p: Procedure) -> list[Unit]:
    """A sentence opening with 「そのため」「ただし」 comes right after the sentence it continues, wherever the scoring
    put it (a reply opened 「そのため、今払うのは延長保育料などです」 with its reason after it); leading, it brings it."""
    out = list(shown)
    for u in shown:
        if not _CONNECTIVE.match(u.text):
            continue
        prev = next((x for x in units_of(p) if x.order == u.order - 1 and x.section_order == u.section_order), None)
        if prev is None or prev.unknown:
            continue
        if prev in out:
            out.remove(u)
            out.insert(out.index(prev) + 1, u)
        elif out[0] is u:
            out.insert(0, prev)
    return out


def _bare_numbers(text: str) -> set[str]:
    return {n for n in re.findall(r"\d+(?:\.\d+)?", normalize_numbers(text)) if len(n) >= 2}


def _with_pivot(body: list[str], p: Procedure, lead: str, verdict: bool) -> list[str]:
    """The Japanese answer states what the parent read first in their language: the summary sentence that answers
    the question carries numbers (checked to occur in the Japanese text), so the document's first sentence holding
    the ones the Japanese answer lacks goes first in it (after the verdict line)."""
    wanted = _bare_numbers(lead) - _bare_numbers(" ".join(body))
    if not wanted:
        return body
    best = max(units_of(p), key=lambda u: (len(wanted & _bare_numbers(u.text)), -u.section_order, -u.order))
    if not wanted & _bare_numbers(best.text) or best.text in " ".join(body):
        return body
    at = 1 if verdict and body else 0
    return [*body[:at], best.text, *body[at:]]


def _romaji(kb: Any) -> RomajiLexicon:
    """The knowledge's words by their folded reading (built on the first message with Latin letters)."""
    return _per_kb(kb, "romaji", lambda: RomajiLexicon.of_knowledge(kb.procedures.values()))


def _service_names(kb: Any) -> Any:
    """The knowledge's titles and aliases as one pattern (built once per loaded knowledge base)."""
    return _per_kb(kb, "names", lambda: names_pattern(n for p in kb.procedures.values() for n in (p.title, *p.aliases)))


def _adds_said(longer: str, name: str, question: str) -> bool:
    """Does the question say a part that ``longer`` adds around ``name``?"""
    return any(len(part) >= 2 and part in question for part in longer.replace(name, " ").split())


def _per_kb(kb: Any, name: str, build: Any) -> Any:
    """Kept on the knowledge base itself: a cache keyed by ``id(kb)`` could hand a new knowledge base the names of an
    old one that was freed and whose id was reused."""
    cache = kb.__dict__.setdefault("_derived", {})
    if name not in cache:
        cache[name] = build()
    return cache[name]


@lru_cache(maxsize=256)
def _gap_sentences(p: Procedure) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A document's known sentences (normalised, joined) and its "not known" ones (normalised, as written); a caveat
    about the source (「区の公式ページでは確認できていません」) is about the page, not a fact, and counts as neither."""
    known: list[str] = []
    unknown: list[tuple[str, str]] = []
    for sec in p.sections:
        for sentence in _SENTENCE.split(sec.text):
            if not sentence.strip() or (sec.key == "caution" and SOURCE_TRUST.search(sentence)):
                continue
            if UNKNOWN.search(sentence):
                unknown.append((normalize(sentence), sentence.strip().lstrip("-・ ")))
            else:
                known.append(normalize(sentence))
    return "\n".join(known), tuple(unknown)


@lru_cache(maxsize=4096)
def _title_words(p: Procedure) -> frozenset[str]:
    return frozenset(content_words(p.title))


@lru_cache(maxsize=4096)
def _name_words(p: Procedure) -> frozenset[str]:
    """Content words of a document's title and aliases (Sudachi runs once per document version, not per question)."""
    return frozenset(w for n in (p.title, *p.aliases) for w in content_words(n))


def _name_in(name: str, folded_text: str) -> bool:
    """A name occurs in normalised text; an alias written with spaces (「こども園 給食費」) needs each of its pieces."""
    pieces = [
        normalize(x).replace("・", "") for x in nfkc(name).split()
    ]  # 「ファミリー・サポート」 = ファミリーサポート
    text = folded_text.replace("・", "")
    return bool(pieces) and all(len(x) >= 2 and x in text for x in pieces)


def _doc_text(p: Procedure) -> str:
    return "\n".join([p.title, *(f"{s.heading}\n{s.text}" for s in p.sections)])
