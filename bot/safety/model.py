"""The semantic layer of the emergency triage: a multinomial logistic regression over a sentence embedding and
character n-grams (:mod:`bot.safety.features`), with a second small head that names the message's language.

Why this and not more rules: on the triage dev split, rules alone found a fraction of the emergencies that parents
describe in their own words, kana, dialect or another language; nearest-neighbour voting over the same embeddings
raised five to ten times more false alarms at the same recall, and a small MLP lost recall (numbers and the
comparison with multilingual-e5 in ``evals/README.md``). A linear model is also cheap (well under a millisecond
once the query vector exists) and its artifact is small and diffable in size.

The artifact (``triage_model.npz``) is produced by ``python -m evals triage-train`` from
``evals/datasets/triage/train.jsonl`` and ``dev.jsonl``; the decision threshold and the rule veto come from
out-of-fold scores over the same rows, and ``test.jsonl`` is never read by training or tuning. It records the sha256
of the data it was trained on, and a test fails when the data changed without retraining.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.retrieval.embeddings import EmbeddingModel
from bot.safety.features import NgramVectorizer, embedding_text

ARTIFACT = Path(__file__).parent / "triage_model.npz"
NONE = "none"


class TriageModelError(RuntimeError):
    """The artifact is missing, corrupt, or was built for another embedder."""


@dataclass(frozen=True)
class Prediction:
    p_emergency: float  # 1 - P(none)
    level: str  # the most likely non-"none" class
    lang: str
    probs: dict[str, float]


ROMAJI = "ja-Latn"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def language_label(row: dict[str, Any]) -> str:
    """The language head's training label: Japanese written without kana or kanji (romaji) is its own class, so
    that "kodomo ga ..." does not teach the head that Latin letters are Japanese."""
    if row["lang"] == "ja" and not _CJK.search(row["text"]):
        return ROMAJI
    return str(row["lang"])


def _has_kana(text: str) -> bool:
    return any(0x3041 <= ord(c) <= 0x30FF for c in text)


_KANA = re.compile(r"[\u3041-\u30ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
# Characters Chinese uses constantly and Japanese (almost) never: a message of Han characters with a few Japanese
# service names in kana (「小孩想去こどもクラブ,什麼時候申請?」) is Chinese.
_ZH_SIMPLIFIED = "们这个么吗说请问钱还没为样给谁过总儿贴岁"
_ZH_TRADITIONAL = "們這個麼嗎說請問錢還沒為樣給誰過總兒貼歲醫"
_ZH_ONLY = re.compile(f"[{_ZH_SIMPLIFIED}{_ZH_TRADITIONAL}的了呢吧哪什怎吃跟]")


def script_language(text: str, head: Any) -> str:
    """The language of a message: the writing system decides where it can (Hangul → Korean; Devanagari → Nepali;
    kana with no Chinese-only characters → Japanese), the character n-gram head decides the rest, and Japanese
    service names inside a message in another language do not make it Japanese (「How do I get 児童手当?」)."""
    hangul = len(_HANGUL.findall(text))
    kana = len(_KANA.findall(text))
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul >= 2 and hangul >= kana:
        return "ko"
    if len(_DEVANAGARI.findall(text)) >= 2:
        return "ne"
    zh = len(_ZH_ONLY.findall(text))
    if kana and not (zh >= 2 and kana < 0.4 * (kana + han)) and latin <= 2 * (kana + han):
        return "ja"
    rest = _KANA.sub(" ", text) if kana else text
    if latin > 2 * (kana + han):  # Latin-letter sentence with embedded Japanese terms: judge the Latin part
        rest = _HAN.sub(" ", _KANA.sub(" ", text))
    lang = str(head(rest))
    if lang == "ja" and han and zh >= (2 if kana else 1):
        simplified = sum(text.count(c) for c in _ZH_SIMPLIFIED)
        traditional = sum(text.count(c) for c in _ZH_TRADITIONAL)
        return "zh-Hant" if traditional > simplified else "zh-Hans"
    return lang


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()  # type: ignore[no-any-return]


class TriageModel:
    def __init__(self, *, classes: Sequence[str], w_emb: np.ndarray, w_chr: np.ndarray, bias: np.ndarray,
                 vectorizer: NgramVectorizer, chr_weight: float, threshold: float, lang_classes: Sequence[str],
                 w_lang: np.ndarray, b_lang: np.ndarray, embedder_identity: str, data_sha256: str,
                 meta: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.classes = list(classes)
        self.w_emb = np.asarray(w_emb, dtype=np.float32)
        self.w_chr = np.asarray(w_chr, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.vectorizer = vectorizer
        self.chr_weight = float(chr_weight)
        self.threshold = float(threshold)
        self.lang_classes = list(lang_classes)
        self.w_lang = np.asarray(w_lang, dtype=np.float32)
        self.b_lang = np.asarray(b_lang, dtype=np.float32)
        self.embedder_identity = embedder_identity
        self.data_sha256 = data_sha256
        self.meta = meta or {}
        # A rule match is overruled only when P(emergency) is below this (chosen out of fold; 0 = never).
        self.rule_veto = float(self.meta.get("rule_veto", 0.0))
        self._none = self.classes.index(NONE)

    # ---- inference ----
    def predict(self, text: str, vector: np.ndarray) -> Prediction:
        idx, vals = self.vectorizer.row(text)
        z = self.w_emb @ vector + self.bias
        zl = self.b_lang.copy()
        if len(idx):
            z = z + self.chr_weight * (self.w_chr[:, idx] @ vals)
            zl = zl + self.w_lang[:, idx] @ vals
        p = _softmax(z)
        order = [i for i in np.argsort(-p) if i != self._none]
        lang = script_language(text, lambda t: self._lang_head(t, zl if t == text else None))
        if lang == ROMAJI:
            lang = "ja"  # Japanese typed in Latin letters: answered in (easy) Japanese
        return Prediction(
            p_emergency=float(1.0 - p[self._none]),
            level=self.classes[order[0]],
            lang=lang,
            probs={c: float(x) for c, x in zip(self.classes, p, strict=True)},
        )

    def _lang_head(self, text: str, scores: np.ndarray | None = None) -> str:
        if scores is None:
            idx, vals = self.vectorizer.row(text)
            scores = self.b_lang + (self.w_lang[:, idx] @ vals if len(idx) else 0)
        return self.lang_classes[int(np.argmax(scores))]

    # ---- artifact ----
    def save(self, path: Path = ARTIFACT) -> None:
        meta = {**self.meta, "embedder_identity": self.embedder_identity, "data_sha256": self.data_sha256,
                "threshold": self.threshold, "chr_weight": self.chr_weight, "ngram_max": self.vectorizer.nmax}  # fmt: skip
        np.savez_compressed(
            path,
            classes=np.array(self.classes),
            w_emb=self.w_emb.astype(np.float16),
            w_chr=self.w_chr.astype(np.float16),
            bias=self.bias,
            vocabulary=np.array(self.vectorizer.vocabulary),
            idf=self.vectorizer.idf.astype(np.float16),
            lang_classes=np.array(self.lang_classes),
            w_lang=self.w_lang.astype(np.float16),
            b_lang=self.b_lang,
            meta=np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True)),
        )

    @classmethod
    def load(cls, path: Path = ARTIFACT) -> TriageModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return cls(
                    classes=[str(c) for c in z["classes"]], w_emb=z["w_emb"], w_chr=z["w_chr"], bias=z["bias"],
                    vectorizer=NgramVectorizer([str(g) for g in z["vocabulary"]], z["idf"], meta.get("ngram_max", 3)),
                    chr_weight=meta["chr_weight"], threshold=meta["threshold"],
                    lang_classes=[str(c) for c in z["lang_classes"]], w_lang=z["w_lang"], b_lang=z["b_lang"],
                    embedder_identity=meta["embedder_identity"], data_sha256=meta["data_sha256"], meta=meta,
                )  # fmt: skip
        except (OSError, KeyError, ValueError) as e:
            raise TriageModelError(f"cannot load the triage model {path}: {e}") from e

    # ---- training (offline: python -m evals triage-train) ----
    @classmethod
    def train(cls, rows: Sequence[dict[str, Any]], embedder: EmbeddingModel, *, c: float = 10.0,
              chr_weight: float = 1.0, threshold: float = 0.5, data_sha256: str = "",
              meta: dict[str, Any] | None = None, ngram_max: int = 3) -> TriageModel:  # fmt: skip
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression

        texts = [r["text"] for r in rows]
        vec = NgramVectorizer.fit(texts, nmax=ngram_max)
        chr_m = vec.matrix(texts)
        emb = embed_texts(embedder, texts)
        x = hstack([csr_matrix(emb), chr_m * chr_weight]).tocsr()
        levels = [r["level"] for r in rows]
        m = LogisticRegression(C=c, max_iter=5000).fit(x, levels)
        d = emb.shape[1]
        coef = np.asarray(m.coef_)
        # The head only ever sees messages without kana (kana means Japanese), so it learns only from those.
        no_kana = [i for i, r in enumerate(rows) if not _has_kana(r["text"])]
        lang = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(
            chr_m[no_kana], [language_label(rows[i]) for i in no_kana]
        )
        return cls(
            classes=[str(k) for k in m.classes_], w_emb=coef[:, :d], w_chr=coef[:, d:] * chr_weight, bias=m.intercept_,
            vectorizer=vec, chr_weight=1.0, threshold=threshold, lang_classes=[str(k) for k in lang.classes_],
            w_lang=np.asarray(lang.coef_), b_lang=lang.intercept_, embedder_identity=embedder.identity,
            data_sha256=data_sha256, meta=meta,
        )  # fmt: skip


def embed_texts(embedder: EmbeddingModel, texts: Sequence[str]) -> np.ndarray:
    return embedder.embed_queries([embedding_text(t) for t in texts])


def data_sha256(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()
