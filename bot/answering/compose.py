"""Picking the sentences of a document that answer the asked detail, and putting the answer first.

A document is cut into *units*: a sentence, or a sentence with the list it introduces (「次の金額です。」 + the list).
Each unit is scored for the question by three signals:

- **aspect fit**: the unit's section answers the asked aspect (its heading), or the unit reads like an answer to it
  (an amount in 円 for "how much", months with 支払 for "when is it paid", a time for "what hours");
- **words**: the share of the question's topic words that the unit contains (Sudachi dictionary forms);
- **meaning**: the cosine between the question's and the unit's sentence embeddings (the retriever's model), so a
  paraphrase finds the sentence that says the same thing in other words.

The best unit leads the reply; a second asked aspect adds its own best unit; nothing is said twice, a definition only
when the parent asked what something is, and a "not known here" sentence only when it is about the asked detail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.answering.question import Question
from bot.knowledge import Procedure
from bot.retrieval.embeddings import EmbeddingModel
from bot.text.jatext import content_words
from bot.text.textnorm import nfkc

UNKNOWN = re.compile(
    r"(確認できていません|確認できませんでした|わかっていません|分かっていません|未確認|載っていません|わかりません|"
    r"分かりません|確認できない|書かれていません|資料がありません)"
)
# 「児童保育課に聞いてください」「区のページで確かめてください」: a sentence that only refers the parent elsewhere
REFERRAL = re.compile(r"(聞いて|問い合わせて|確かめて|確認して)(ください|みてください)[。]?$")
SOURCE_TRUST = re.compile(r"(区議|民間|ブログ|公式ページ|記事|資料によって|古い情報|変わっている可能性|最新の情報)")
_SENTENCE = re.compile(r"(?<=[。!?!?])")
# a list item: 「- 」「・」「* 」, or a numbered step 「1. 」「2) 」 (「次の順番で使います。」 keeps its steps)
_LIST_ITEM = re.compile(r"^(- |・|\* |\d{1,2}[.)．)](?!\d) ?)")

# The heading words of a section that answers each aspect (standard headings map by their key as well).
HEADING_CUES: dict[str, str] = {
    "amount": r"金額|料金|費用|無償|差額|給食費|0円|電話代",
    "payment_date": r"支給月|支払|振込|届くまで",
    "deadline": r"期限|受付期間|期間|時期",
    "eligibility": r"対象|利用できる理由|使えないとき|外国籍",
    "apply": r"申請|申込|申し込|予約|手続|届け出|出すとき",
    "where": r"場所|施設|実施|会場|窓口|区民事務所",
    "hours": r"時間|曜日|夜間|休日",
    "documents": r"必要なもの|用意|種類|受診票",
    "contact": r"問い合わせ|相談",
    "what": r"概要|できること|手伝って|内容",
    "limits": r"上限|日数|回数|定員|点数|指数",
}
SECTION_ASPECT = {"overview": "what", "eligibility": "eligibility", "amount": "amount", "apply": "apply",
                  "deadline": "deadline", "documents": "documents", "contact": "contact"}  # fmt: skip
# What a sentence that answers the aspect looks like.
ANSWER_CUES: dict[str, str] = {
    "amount": r"\d[\d,]*円|無料|自己負担|かかりません|0円|割引|減免|半額|助成します|補助します",
    "payment_date": r"(月|日)(に|ごろ|頃).{0,16}(支払|振込|振り込|支給|届)|支払われ|振り込まれ|支給され|偶数月|奇数月",
    "deadline": r"以内|まで(に|は|です)|期限|締切|締め切り|期間|受け付け",
    "eligibility": r"対象|\d+歳|生後|年生|住んで|区民|所得|使えます|使えません|受けられ",
    "apply": r"申請|申し込|予約|電子申請|マイナポータル|郵送|フォーム|アプリ|届け出|提出",
    "where": r"\d+階|センター|保健所|区役所|〒|住所|丁目|\d+-\d+-\d+|施設|会場|園で|で受け",
    "hours": r"\d{1,2}(:\d{2}|時)|曜日|祝日|休日|夜間|開庁|24時間|平日",
    "documents": r"必要です|持って|書類|手帳|証|カード|通帳|写し|届きます|再発行",
    "contact": r"\d{2,4}-\d{3,4}-\d{4}|#\d{4}|問い合わせ|相談してください",
    "what": r"(制度|サービス|事業|仕組み|助成|手当|相談|場所)です|ことです|できます",
    "limits": r"\d+(回|日|時間|泊|人|点|か月)|上限|まで利用|定員|指数|点数",
}
_HEADING_RX = {k: re.compile(v) for k, v in HEADING_CUES.items()}
_ANSWER_RX = {k: re.compile(v) for k, v in ANSWER_CUES.items()}

# Weights of the three signals (chosen on the development split; the test splits never set them).
W_ASPECT, W_WORDS, W_MEANING = 1.0, 0.8, 1.2
MAX_LEAD_CHARS = 200  # the text of a typical answer fits a phone screen; the rest is behind 「くわしく」


@dataclass(frozen=True)
class Unit:
    doc_id: str
    heading: str
    key: str  # the section's key ("overview", "amount", ..., "caution", "extra")
    text: str  # as shown (a lead sentence keeps the list it introduces)
    order: int
    section_order: int

    @property
    def unknown(self) -> bool:
        """Says the fact is not known here, or only sends the parent elsewhere (outside the contact section)."""
        return bool(UNKNOWN.search(self.text)) or (self.key != "contact" and bool(REFERRAL.search(self.text)))

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0]


@dataclass(frozen=True)
class Scored:
    unit: Unit
    score: float
    aspect: float
    words: float
    meaning: float
    fits: str | None  # the aspect it answers, if any


@lru_cache(maxsize=256)
def units_of(p: Procedure) -> tuple[Unit, ...]:
    out: list[Unit] = []
    for si, sec in enumerate(p.sections):
        lines = [ln.rstrip() for ln in sec.text.splitlines()]
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            i += 1
            if not line:
                continue
            if _LIST_ITEM.match(line):
                items = [line]
                while i < len(lines) and _LIST_ITEM.match(lines[i].strip()):
                    items.append(lines[i].strip())
                    i += 1
                if out and out[-1].section_order == si and out[-1].text.endswith(("です。", "ます。", ":", ":", "。")):
                    last = out.pop()
                    out.append(Unit(p.id, sec.heading, sec.key, last.text + "\n" + "\n".join(items), last.order, si))
                else:
                    out.append(Unit(p.id, sec.heading, sec.key, "\n".join(items), len(out), si))
                continue
            for sentence in (s.strip() for s in _SENTENCE.split(line)):
                if sentence:
                    out.append(Unit(p.id, sec.heading, sec.key, sentence, len(out), si))
    return tuple(out)


@lru_cache(maxsize=8192)
def unit_words(text: str) -> frozenset[str]:
    return frozenset(content_words(text))


@lru_cache(maxsize=65536)
def aspect_fit(unit: Unit, aspect: str) -> float:
    """0.6 when the unit's section is the one for this aspect, 0.5 when the sentence reads like its answer, 1 both."""
    score = 0.0
    if SECTION_ASPECT.get(unit.key) == aspect or _HEADING_RX[aspect].search(unit.heading):
        score += 0.6
    if _ANSWER_RX[aspect].search(nfkc(unit.text)):
        score += 0.5
    return min(score, 1.0)


class Composer:
    """Scores a document's units for a question. Unit vectors are computed once per unit text and kept."""

    def __init__(self, embedder: EmbeddingModel | None):
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}  # written whole per key: safe to share between threads

    def vector(self, text: str) -> np.ndarray:
        """One text's vector, kept (the summaries a foreign-language reply reorders)."""
        if text not in self._vectors:
            assert self.embedder is not None
            self._vectors[text] = np.asarray(self.embedder.embed_documents([text])[0], dtype=np.float32)
        return self._vectors[text]

    def warm(self, procedures: list[Procedure]) -> None:
        for p in procedures:
            self._unit_vectors(units_of(p))

    def _unit_vectors(self, units: tuple[Unit, ...]) -> np.ndarray | None:
        if self.embedder is None:
            return None
        missing = [u.text for u in units if u.text not in self._vectors]
        if missing:
            try:
                vecs = self.embedder.embed_documents(missing)
            except Exception:  # noqa: BLE001 - the meaning signal is optional: words and aspects still score
                return None
            for text, v in zip(missing, vecs, strict=True):
                self._vectors[text] = np.asarray(v, dtype=np.float32)
        return np.stack([self._vectors[u.text] for u in units])

    def score(
        self, q: Question, p: Procedure, qvec: np.ndarray | None, name_words: frozenset[str], aspects: tuple[str, ...]
    ) -> list[Scored]:
        units = units_of(p)
        if not units:
            return []
        topic = [w for w in q.topic_words if w not in name_words and len(w) >= 2]  # 「分」「出」 match everything
        vectors = self._unit_vectors(units) if qvec is not None else None
        cos = vectors @ qvec if vectors is not None and qvec is not None else np.zeros(len(units))
        # relative meaning: how much closer than the document's average sentence (the title words make all close)
        rel = cos - float(np.mean(cos)) if len(units) > 1 else cos * 0
        out = []
        for u, c, r in zip(units, cos, rel, strict=True):
            fits = [(aspect_fit(u, a) * (1.0 if i == 0 else 0.85), a) for i, a in enumerate(aspects)]
            best_fit, fit_aspect = max(fits, default=(0.0, None))
            words = unit_words(u.text)
            overlap = (sum(1 for w in topic if w in words) / len(topic)) if topic else 0.0
            s = W_ASPECT * best_fit + W_WORDS * overlap + W_MEANING * max(float(r), 0.0) * 4
            if u.key == "caution" or u.key == "contact":
                s -= 0.5  # caveats and the contact line are added on their own terms, not as the answer
            out.append(Scored(u, s, best_fit, overlap, float(c), fit_aspect if best_fit > 0 else None))
        out.sort(key=lambda x: (-x.score, x.unit.order))
        return out


def join_units(units: list[Unit]) -> list[str]:
    """Paragraphs for the reply: consecutive units of one section are joined into one paragraph."""
    paras: list[str] = []
    last: Unit | None = None
    for u in units:
        if last is not None and last.section_order == u.section_order and "\n" not in last.text and "\n" not in u.text:
            paras[-1] += u.text
        else:
            paras.append(u.text)
        last = u
    return paras
