"""Deciding the kind of reply and composing it from the knowledge, with a hand-off to the right form or office.

Order of decisions: emergency → out of scope → clarify → no answer → answer. Answers are extractive: every sentence
comes from the cited document's sections, so no number, date or amount appears that the document does not contain.
"""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from bot import messages
from bot.index import Generation
from bot.jatext import content_words
from bot.knowledge import Office, Procedure
from bot.publishers import LABELS as PUBLISHER_LABELS
from bot.publishers import publisher_type
from bot.retrieve import Candidate, Retriever
from bot.safety import OutOfScope, SafetyDecision, Triage, detect_out_of_scope, mentions_childcare
from bot.textnorm import nfkc, normalize, to_hiragana
from bot.ward import EmergencyLine, WardProfile


class AnswerKind(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    EMERGENCY = "emergency"
    OUT_OF_SCOPE = "out_of_scope"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    url: str
    as_of: str  # ISO date shown to parents as 「情報の時点」 (the checked date when the source page has none)
    checked: str
    as_of_known: bool = True
    publisher: str = "private"  # bot.publishers type of the cited page

    @classmethod
    def of(cls, p: Procedure, ward: WardProfile | None = None) -> Citation:
        kind = publisher_type(p.url, ward.hosts, ward.councillor_hosts) if ward else publisher_type(p.url)
        return cls(p.id, p.title, p.url, p.date_shown.isoformat(), p.checked.isoformat(), p.as_of is not None, kind)

    @property
    def publisher_label(self) -> str:
        return PUBLISHER_LABELS[self.publisher]


@dataclass(frozen=True)
class Handoff:
    form_id: str
    title: str
    url: str
    channel: str
    requires: list[str]
    prepare: list[str]
    note: str | None = None


@dataclass(frozen=True)
class OfficeContact:
    id: str
    name: str
    phone: str | None
    hours: str | None
    url: str | None
    address: str | None

    @classmethod
    def of(cls, o: Office) -> OfficeContact:
        return cls(o.id, o.name, o.phone, o.hours, o.url, o.address)


@dataclass(frozen=True)
class Choice:
    label: str
    query: str
    doc_id: str | None = None


@dataclass(frozen=True)
class EmergencyNumber:
    label: str
    number: str

    @property
    def tel(self) -> str:
        return "tel:" + self.number.replace("#", "%23").replace("-", "")


@dataclass
class AnswerResult:
    question: str
    kind: AnswerKind
    text: str
    body: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    handoff: Handoff | None = None
    office: OfficeContact | None = None
    choices: list[Choice] = field(default_factory=list)
    suggestions: list[Choice] = field(default_factory=list)
    emergency_numbers: list[EmergencyNumber] = field(default_factory=list)
    topic: str | None = None
    aspects: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    reason: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0
    llm_reason: str = ""  # why the LLM text was used or not ("" when no LLM is configured)
    lang: str = "ja"  # the language the reply leads in
    emergency_title: str = ""  # the heading over the emergency numbers, in that language
    source_texts: list[str] = field(default_factory=list, repr=False)

    def to_contract(self) -> dict[str, Any]:
        """The command-line JSON contract (other tools depend on these keys exactly)."""
        return {
            "question": self.question,
            "kind": self.kind.value,
            "answer": self.text,
            "citations": [{"doc_id": c.doc_id, "title": c.title, "url": c.url} for c in self.citations],
            "handoff": (
                {"form_id": self.handoff.form_id, "title": self.handoff.title, "url": self.handoff.url}
                if self.handoff
                else None
            ),
            "latency_ms": round(self.latency_ms, 2),
        }

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d.pop("source_texts", None)
        d["emergency_numbers"] = [{"label": e.label, "number": e.number, "tel": e.tel} for e in self.emergency_numbers]
        return d


@dataclass(frozen=True)
class Turn:
    """What multi-turn needs to remember of an earlier exchange: the question and the document it was about."""

    question: str
    topic: str | None


# --- what was asked -------------------------------------------------------------------------------------------------

ASPECTS: dict[str, tuple[str, list[str]]] = {
    "amount": ("金額・料金", [r"いくら", r"幾ら", r"金額", r"料金", r"費用", r"値段", r"何円", r"なんえん", r"お金", r"おかね",
                            r"無料", r"むりょう", r"ただ(に|で)", r"負担", r"補助(額|は)", r"上限", r"月額", r"助成額", r"円"]),
    "documents": ("必要なもの", [r"必要な(もの|物|書類)", r"ひつようなもの", r"持ち物", r"もちもの", r"持って(いく|行く|く)",
                              r"もって(いく|く|け|こ)", r"持って(け|こ)", r"準備", r"じゅんび", r"書類", r"しょるい", r"何(が|を)(いる|要る|必要)", r"用意"]),
    "deadline": ("期限・受付期間", [r"いつまで", r"期限", r"きげん", r"締め?切", r"しめきり", r"何日以内", r"受付期間",
                                r"いつから", r"いつ(申|もう)", r"期間", r"日程", r"スケジュール"]),
    "apply": ("申請方法", [r"申請", r"しんせい", r"申し?込", r"もうしこ", r"手続", r"てつづき", r"どうやって", r"やり方",
                          r"方法", r"予約", r"よやく", r"登録", r"とうろく", r"届け?出", r"出し方", r"オンライン", r"ネット",
                          r"スマホ", r"電子申請", r"どこで"]),
    "eligibility": ("対象", [r"対象", r"たいしょう", r"使える", r"つかえる", r"利用でき", r"誰が", r"だれが", r"何歳",
                             r"なんさい", r"条件", r"受けられ", r"うけられ", r"入れる", r"もらえる\?", r"該当", r"資格"]),
    "contact": ("問い合わせ", [r"電話", r"でんわ", r"問い?合わせ", r"といあわせ", r"連絡先", r"窓口", r"まどぐち",
                              r"どこに(聞|き)", r"相談先", r"場所", r"どこ(に|へ)(行|い)"]),
}  # fmt: skip
_ASPECT_RX = {k: re.compile("|".join(to_hiragana(p) for p in v[1])) for k, v in ASPECTS.items()}
_ASPECT_WORDS = {
    "幾ら", "金額", "料金", "費用", "値段", "円", "お金", "金", "無料", "負担", "上限", "持つ", "持ち物", "必要", "書類",
    "期限", "締め切り", "いつ", "期間", "申請", "申し込み", "申し込む", "手続き", "方法", "やり方", "予約", "登録",
    "届け出", "電話", "問い合わせ", "窓口", "対象", "使う", "利用", "貰う", "何", "どう", "どこ", "行く", "要る",
    "いる", "聞く", "知る", "ある", "為る", "出す", "それ", "其れ", "これ", "此れ", "あれ", "其の", "何歳", "条件",
    "場所", "連絡", "先", "いくら", "時", "よい", "良い", "欲しい", "下さる", "くれる", "もらう",
}  # fmt: skip
_ANAPHORA = re.compile(r"(それ|その|そっち|そこ|これ|この制度|あれ|さっきの|上の)")
_SENTENCE = re.compile(r"(?<=[。!?])|\n")
_UNKNOWN = re.compile(
    r"(確認できていません|確認できませんでした|わかっていません|分かっていません|未確認|載っていません|わかりません|分かりません|確認できない)"
)


_SOURCE_TRUST = re.compile(r"(区議|民間|ブログ|公式ページ|記事|資料によって|古い情報)")
_REFERRAL = re.compile(r"(聞いて|問い合わせ|確かめて|確認して|相談して)")


def _all_unknown(text: str) -> bool:
    """Every sentence of the section says "not known here" or refers the parent elsewhere."""
    sentences = [x for x in _SENTENCE.split(text) if x.strip()]
    return bool(sentences) and all(_UNKNOWN.search(x) or _REFERRAL.search(x) for x in sentences)


def detect_aspects(question: str) -> list[str]:
    folded = to_hiragana(nfkc(question))
    return [k for k, rx in _ASPECT_RX.items() if rx.search(folded)]


def is_topicless(question: str) -> bool:
    """True when the question names no topic of its own (「いくら?」「何を持っていけばいい?」「それっていつまで?」)."""
    words = [w for w in content_words(question) if w not in _ASPECT_WORDS]
    return not words or (bool(_ANAPHORA.search(question)) and len(words) <= 1)


# --- composing ----------------------------------------------------------------------------------------------------


def _fmt_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def render_text(r: AnswerResult) -> str:
    """The plain text of a reply: its paragraphs, then one 出典 line per citation (with the page's date, or "date
    unknown" and when staff checked it), the next step and the office. Composed, curated and LLM answers all use it."""
    lines = list(r.body)
    for c in r.citations:
        when = (
            f"{_fmt_date(c.as_of)}時点の情報"
            if c.as_of_known
            else f"ページの更新日は不明({_fmt_date(c.checked)}に確認)"
        )
        lines.append(f"出典:{c.title}({c.publisher_label}、{c.url}){when}")
    if r.handoff:
        need = f"(必要:{'、'.join(r.handoff.requires)})" if r.handoff.requires else ""
        lines.append(f"次の手続き:{r.handoff.title}{need} {r.handoff.url}")
    if r.office:
        parts = [
            r.office.name,
            *([f"電話 {r.office.phone}"] if r.office.phone else []),
            *([r.office.hours] if r.office.hours else []),
        ]
        lines.append("問い合わせ:" + "、".join(parts))
    return "\n".join(line for line in lines if line)


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


_PINNED: ContextVar[Generation | None] = ContextVar("pinned_generation", default=None)


class Answerer:
    def __init__(self, retriever: Retriever, thresholds: Thresholds | None = None, triage: Triage | None = None):
        self.retriever = retriever
        self.t = thresholds or Thresholds()
        self.triage = triage if triage is not None else Triage(retriever.embedder)

    @property
    def gen(self) -> Generation:
        """The generation this request started on (pinned in ``answer``): an index swap in the middle of a request
        cannot mix the old retrieval with the new documents."""
        return _PINNED.get() or self.retriever.generation

    def answer(self, question: str, history: list[Turn] | None = None,
               safety: SafetyDecision | None | bool = True) -> AnswerResult:  # fmt: skip
        """``safety``: True runs the triage here; a decision (or None) passes one the caller already made."""
        started = time.perf_counter()
        q = question.strip()
        token = _PINNED.set(self.retriever.generation)
        try:
            decision = self.triage.assess(q) if safety is True else (safety or None)
            result = self.emergency(q, decision) if decision else self._decide(q, history or [])
        finally:
            _PINNED.reset(token)
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    # ---- decision ----
    def _decide(self, q: str, history: list[Turn]) -> AnswerResult:
        gen = self.gen
        ward = gen.kb.ward
        oos = detect_out_of_scope(q, ward.name, ward.other_municipalities) if ward else detect_out_of_scope(q)
        if oos:
            return self._out_of_scope(q, oos)
        aspects = detect_aspects(q)
        prev_topic = next((t.topic for t in reversed(history) if t.topic and t.topic in gen.kb.procedures), None)
        topicless = is_topicless(q)
        if topicless and prev_topic:
            return self._compose(q, gen.kb.procedures[prev_topic], aspects, None, "follow-up on the previous topic")
        retrieval = self.retriever.search(q, generation=gen)
        cands = retrieval.candidates
        debug = [c.to_json() for c in cands[:5]]
        if topicless or not cands:
            if not mentions_childcare(q) and not aspects and not cands:
                return self._out_of_scope(q, OutOfScope.OTHER_TOPIC)
            return self._clarify(q, cands, aspects, debug, "the question names no topic")
        cands = self._prefer_covering(q, cands)
        top = cands[0]
        confident = top.coverage >= self.t.min_coverage or top.dense_raw >= self.t.min_dense
        if not confident:
            if prev_topic and (aspects or _ANAPHORA.search(q)):
                return self._compose(q, gen.kb.procedures[prev_topic], aspects, debug, "follow-up (weak retrieval)")
            if not mentions_childcare(q):
                return self._out_of_scope(q, OutOfScope.OTHER_TOPIC, debug)
            return self._no_answer(q, top, debug, "no document covers the question")
        if len(cands) > 1:
            second = cands[1]
            n_words = len([w for w in content_words(q) if w not in _ASPECT_WORDS])
            named_top = self._names(q, top.doc_id)
            ratio = second.score / top.score if top.score else 1.0
            generic = not named_top and second.coverage >= 0.8 * top.coverage
            if generic and (
                (n_words <= 1 and ratio >= self.t.clarify_ratio_one_word)
                or (n_words <= self.t.clarify_max_words and ratio >= self.t.clarify_ratio)
            ):
                return self._clarify(q, cands, aspects, debug, "two documents match about equally")
        return self._compose(q, gen.kb.procedures[top.doc_id], aspects, debug, "", top)

    def _named(self, q: str, doc_id: str) -> list[str]:
        """The document's names (title, aliases) that the question contains."""
        p = self.gen.kb.procedures[doc_id]
        folded = normalize(q)
        return [n for n in (p.title, *p.aliases) if _name_in(n, folded)]

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
                return Handoff(f.id, f.title, f.url, f.channel, list(f.requires), list(f.prepare), f.note)
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
        self,
        q: str,
        p: Procedure,
        aspects: list[str],
        debug: list[dict[str, Any]] | None,
        reason: str,
        cand: Candidate | None = None,
    ) -> AnswerResult:
        """Quote the sections that were asked about (by aspect, then by retrieval score), never more than needed."""
        wanted = [a for a in aspects if a != "contact"]
        chosen: list[str] = []
        missing: list[str] = []
        for a in wanted:
            sec = p.section(a)
            if sec is None:
                continue  # no such section: the retrieval's best sections below may still hold the answer
            chosen.append(sec.heading)
            if _all_unknown(sec.text) or (
                _UNKNOWN.search(sec.first_sentence) and not self._asks_known_detail(q, p, sec.text)
            ):
                missing.append(a)
        asked = list(chosen)
        gap = self._stated_gap(q, p)
        best = [h for h in self._best_sections(cand, 2) if h not in ("注意", "問い合わせ")] if cand else []
        overview = p.section("overview")
        best_sec = p.section(best[0]) if best else None
        if (
            not gap
            and not chosen
            and overview is not None
            and _UNKNOWN.search(overview.first_sentence)
            and (best_sec is None or best_sec is overview or _UNKNOWN.search(best_sec.first_sentence))
        ):
            gap = overview.first_sentence  # a document that exists to say "this is not known here"
        if not chosen:
            if "contact" in aspects and (sec := p.section("contact")) is not None:
                chosen = [sec.heading]
            else:
                chosen = [sec.heading for sec in p.sections if sec.key == "overview"]
                extra = best[:1] or [sec.heading for sec in p.sections if sec.key == "apply"]
                chosen += [h for h in extra if h not in chosen]
        elif best and best[0] not in chosen and len(chosen) < 2:
            chosen.append(best[0])  # the retrieval's best section often holds the detail the aspect words missed
        body: list[str] = []
        if gap:
            body.append(gap)
        if overview is not None and overview.heading not in chosen and not gap:
            body.append(overview.first_sentence)
        for heading in chosen:
            sec = p.section(heading)
            if sec is not None and sec.text not in body:
                body.append(sec.text)
        caution = p.section("caution")
        if caution:
            body.append("※" + caution.first_sentence)
        office = self._office(p.office)
        # The specific aspects (amount, deadline, documents) carry the question: if one of them is unknown, the reply
        # is an honest "not known here" even when a general section (how to apply, who is eligible) is known.
        core_missing = [a for a in missing if a in ("amount", "deadline", "documents")]
        unknown = bool(gap) or bool(core_missing) or (bool(missing) and len(missing) == len(asked))
        kind = AnswerKind.NO_ANSWER if unknown else AnswerKind.ANSWER
        if kind is AnswerKind.NO_ANSWER and office and office.phone:
            body.append(f"くわしくは、{office.name}({office.phone})にお問い合わせください。")
        r = AnswerResult(
            question=q,
            kind=kind,
            text="",
            body=body,
            citations=[self._citation(p)],
            handoff=self._handoff(p),
            office=office,
            topic=p.id,
            aspects=aspects,
            sections=chosen,
            reason=reason or ("the document says this is not known" if unknown else "answered"),
            candidates=debug or [],
            suggestions=self._suggestions(p, chosen),
        )
        return self._finish(r, [p])

    def _stated_gap(self, q: str, p: Procedure) -> str | None:
        """The document's own sentence saying that what the parent asks about is not known here, if there is one.

        It counts when a specific word of the question (not a title or alias word) occurs in the document only in
        sentences that say "not known": 「キャンセル料は確認できていません」 answers 「キャンセル料は?」 honestly, while
        a word the document also uses in a known fact means the document does answer.
        """
        known: list[str] = []
        unknown: list[str] = []
        for sec in p.sections:
            for sentence in _SENTENCE.split(sec.text):
                if sec.key == "caution" and _SOURCE_TRUST.search(sentence):
                    continue  # 「区の公式ページでは確認できていません」 is about the source, not about a fact
                if sentence.strip():
                    (unknown if _UNKNOWN.search(sentence) else known).append(normalize(sentence))
        words = self._specific_words(q, p)
        if not words:
            return None
        known_text = "\n".join(known)
        for w in words:
            if w in known_text:
                continue
            for sentence in unknown:
                if w in sentence:
                    return self._original_sentence(p, sentence)
        return None

    def _specific_words(self, q: str, p: Procedure) -> list[str]:
        names = _name_words(p)
        return [w for w in content_words(q) if w not in _ASPECT_WORDS and w not in names and len(w) >= 2]

    def _asks_known_detail(self, q: str, p: Procedure, text: str) -> bool:
        """Does a specific word of the question occur in a sentence of ``text`` that states a known fact?"""
        known = [normalize(x) for x in _SENTENCE.split(text) if x.strip() and not _UNKNOWN.search(x)]
        return any(w in x for w in self._specific_words(q, p) for x in known)

    @staticmethod
    def _original_sentence(p: Procedure, normalized: str) -> str:
        for sec in p.sections:
            for sentence in _SENTENCE.split(sec.text):
                if normalize(sentence) == normalized:
                    return sentence.strip().lstrip("-・ ")
        return normalized

    def _best_sections(self, cand: Candidate | None, n: int) -> list[str]:
        if not cand:
            return []
        out: list[str] = []
        for cid in self.retriever.best_chunks(cand, n + 2):
            heading = self.gen.chunks[self.gen.chunk_index[cid]].heading
            if heading not in out:
                out.append(heading)
        return out[:n]

    def _suggestions(self, p: Procedure, shown: list[str]) -> list[Choice]:
        labels = {"amount": "いくら?", "documents": "何が必要?", "deadline": "いつまで?", "apply": "申し込み方法は?",
                  "eligibility": "対象は?"}  # fmt: skip
        out = []
        for key, label in labels.items():
            sec = p.section(key)
            if sec and sec.heading not in shown:
                out.append(Choice(f"{p.title}:{label}", f"{p.title}の{ASPECTS[key][0]}を教えて", p.id))
        return out[:3]

    def _clarify(
        self, q: str, cands: list[Candidate], aspects: list[str], debug: list[dict[str, Any]], reason: str
    ) -> AnswerResult:
        kb = self.gen.kb
        aspect = ASPECTS[aspects[0]][0] if aspects else None
        choices = []
        for c in cands[:4]:
            p = kb.procedures[c.doc_id]
            choices.append(
                Choice(p.title, f"{p.title}の{aspect}を教えて" if aspect else f"{p.title}について教えて", p.id)
            )
        if not choices:
            for pid in kb.ward.clarify_fallbacks if kb.ward else ():
                if pid in kb.procedures:
                    p = kb.procedures[pid]
                    choices.append(Choice(p.title, f"{p.title}について教えて", p.id))
        body = ["どの制度についてのご質問ですか。近いものを選んでください。"]
        r = AnswerResult(q, AnswerKind.CLARIFY, "", body=body, choices=choices, aspects=aspects, reason=reason,
                         candidates=debug)  # fmt: skip
        r.text = body[0] + "\n" + "\n".join(f"・{c.label}" for c in choices)
        r.source_texts = [c.label for c in choices]
        return r

    def _no_answer(self, q: str, top: Candidate | None, debug: list[dict[str, Any]], reason: str) -> AnswerResult:
        kb = self.gen.kb
        office = None
        if top and top.coverage >= self.t.min_coverage / 2:
            office = self._office(kb.procedures[top.doc_id].office)
        office = office or self._office(kb.ward.default_office if kb.ward else None)
        body = ["ごめんなさい。そのご質問に答えられる情報が、ここにはありません。"]
        if office:
            tel = f"({office.phone})" if office.phone else ""
            body.append(f"{office.name}{tel}にお問い合わせください。")
        r = AnswerResult(q, AnswerKind.NO_ANSWER, "", body=body, office=office, reason=reason, candidates=debug)
        return self._finish(r, [])

    def _out_of_scope(self, q: str, why: OutOfScope, debug: list[dict[str, Any]] | None = None) -> AnswerResult:
        kb = self.gen.kb
        text = messages.sections("out_of_scope")[why.value]
        cites: list[Procedure] = []
        office = None
        ward = kb.ward
        if why is OutOfScope.DIAGNOSIS and ward and ward.diagnosis_doc in kb.procedures:
            cites = [kb.procedures[ward.diagnosis_doc]]  # type: ignore[index]
        if why is OutOfScope.OTHER_TOPIC:
            office = self._office(ward.default_office if ward else None)
        r = AnswerResult(q, AnswerKind.OUT_OF_SCOPE, "", body=text.splitlines(), office=office, reason=why.value,
                         citations=[self._citation(p) for p in cites], candidates=debug or [])  # fmt: skip
        return self._finish(r, cites)

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


@lru_cache(maxsize=4096)
def _name_words(p: Procedure) -> frozenset[str]:
    """Content words of a document's title and aliases (Sudachi runs once per document version, not per question)."""
    return frozenset(w for n in (p.title, *p.aliases) for w in content_words(n))


def _name_in(name: str, folded_text: str) -> bool:
    """A name occurs in normalised text; an alias written with spaces (「こども園 給食費」) needs each of its pieces."""
    pieces = [normalize(x) for x in nfkc(name).split()]
    return bool(pieces) and all(len(x) >= 2 and x in folded_text for x in pieces)


def _doc_text(p: Procedure) -> str:
    return "\n".join([p.title, *(f"{s.heading}\n{s.text}" for s in p.sections)])
