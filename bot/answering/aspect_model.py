"""Which detail of a service a message asks for: one logistic regression per aspect (a message can ask two),
over the sentence embedding and character 1–3-grams — the same features as the safety triage model.

Trained offline (``python -m evals aspects-train``) on ``evals/datasets/aspects/train.jsonl``: examples in Japanese
and nine other languages written by a helper session that saw only the ward's fact sheet, never this code or its
cue words. The artifact (``bot/answering/aspect_model.npz``) records the embedder and a hash of the data it was fit on.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.retrieval.embeddings import EmbeddingModel
from bot.safety.features import NgramVectorizer, embedding_text
from bot.text.textnorm import nfkc

ARTIFACT = Path(__file__).with_name("aspect_model.npz")
# The same kind of model with one label, "out_of_scope": is the message about childcare at all (by meaning)?
SCOPE_ARTIFACT = Path(__file__).with_name("scope_model.npz")
# And with three: is the message small talk (a greeting, thanks, a goodbye) rather than a question?
SMALLTALK_ARTIFACT = Path(__file__).with_name("smalltalk_model.npz")
NONE = "none"
log = logging.getLogger("bot.aspects")


class AspectModelError(RuntimeError):
    """The artifact is missing or unreadable (the cue words decide alone)."""


class AspectModel:
    def __init__(self, *, labels: Sequence[str], w_emb: np.ndarray, w_chr: np.ndarray, bias: np.ndarray,
                 vectorizer: NgramVectorizer, embedder_identity: str, data_sha256: str,
                 meta: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.labels = list(labels)
        self.w_emb = np.asarray(w_emb, dtype=np.float32)
        self.w_chr = np.asarray(w_chr, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.vectorizer = vectorizer
        self.embedder_identity = embedder_identity
        self.data_sha256 = data_sha256
        self.meta = meta or {}

    def probabilities(self, text: str, vector: np.ndarray) -> dict[str, float]:
        z = self.w_emb @ vector + self.bias
        idx, vals = self.vectorizer.row(text)
        if len(idx):
            z = z + self.w_chr[:, idx] @ vals
        p = 1.0 / (1.0 + np.exp(-z))
        return {label: float(x) for label, x in zip(self.labels, p, strict=True)}

    def save(self, path: Path = ARTIFACT) -> None:
        meta = {**self.meta, "embedder_identity": self.embedder_identity, "data_sha256": self.data_sha256}
        np.savez_compressed(
            path, labels=np.array(self.labels), w_emb=self.w_emb.astype(np.float16),
            w_chr=self.w_chr.astype(np.float16), bias=self.bias, vocabulary=np.array(self.vectorizer.vocabulary),
            idf=self.vectorizer.idf.astype(np.float16), meta=np.array(json.dumps(meta, ensure_ascii=False)),
        )  # fmt: skip

    @classmethod
    def load(cls, path: Path = ARTIFACT) -> AspectModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return cls(labels=[str(x) for x in z["labels"]], w_emb=z["w_emb"], w_chr=z["w_chr"], bias=z["bias"],
                           vectorizer=NgramVectorizer([str(g) for g in z["vocabulary"]], z["idf"]),
                           embedder_identity=meta["embedder_identity"], data_sha256=meta["data_sha256"],
                           meta=meta)  # fmt: skip
        except (OSError, KeyError, ValueError) as e:
            raise AspectModelError(f"cannot load the aspect model {path}: {e}") from e

    @classmethod
    def train(cls, rows: Sequence[dict[str, Any]], embedder: EmbeddingModel, *, c: float = 4.0,
              data_sha256: str = "", meta: dict[str, Any] | None = None,
              vectors: np.ndarray | None = None) -> AspectModel:  # fmt: skip
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression

        texts = [r["text"] for r in rows]
        vec = NgramVectorizer.fit(texts)
        chr_m = vec.matrix(texts)
        emb = vectors if vectors is not None else embed_texts(embedder, texts)
        x = hstack([csr_matrix(emb), chr_m]).tocsr()
        labels = sorted({a for r in rows for a in r["aspects"]})
        # rows may carry a "weight" (the scope model balances each language's two classes with it); otherwise the
        # classes are balanced as a whole
        weights = np.array([float(r.get("weight", 1.0)) for r in rows])
        weighted = bool((weights != 1.0).any())
        coefs, biases = [], []
        for label in labels:
            y = np.array([label in r["aspects"] for r in rows], dtype=int)
            m = LogisticRegression(C=c, max_iter=5000, class_weight=None if weighted else "balanced")
            m.fit(x, y, sample_weight=weights if weighted else None)
            coefs.append(np.asarray(m.coef_)[0])
            biases.append(float(m.intercept_[0]))
        coef = np.stack(coefs)
        d = emb.shape[1]
        return cls(labels=labels, w_emb=coef[:, :d], w_chr=coef[:, d:], bias=np.array(biases), vectorizer=vec,
                   embedder_identity=embedder.identity, data_sha256=data_sha256, meta=meta)  # fmt: skip


def embed_texts(embedder: EmbeddingModel, texts: Sequence[str]) -> np.ndarray:
    return embedder.embed_queries([embedding_text(t) for t in texts])


# A label counts when its probability reaches THRESHOLD; a cue word adds its aspect when the model gives it at least
# CUE_FLOOR (a cue the model finds implausible, 「円」 in 「円山町」, is dropped). Chosen out of fold on the training
# data (python -m evals aspects-train prints the cross-validated figures).
THRESHOLD = 0.5
CUE_FLOOR = 0.3
WEAK = 0.25  # when no label reaches THRESHOLD, the (at most two) labels above this still guide the sentence choice
MAX_ASPECTS = 3
MASK = "〇〇"


def mask_names(text: str, names: re.Pattern[str] | None) -> str:
    """Service names replaced by 〇〇: the aspect is how a thing is asked, not which service (otherwise 「児童手当」
    alone would mean "payment date", because many examples ask when it is paid)."""
    return names.sub(MASK, nfkc(text)) if names is not None else nfkc(text)


def names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    keep = sorted({nfkc(n).strip() for n in names if len(nfkc(n).strip()) >= 2}, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in keep)) if keep else None


def load_for(embedder: EmbeddingModel | None, artifact: Path | None, fallback: str) -> AspectModel | None:
    """The artifact's model when it loads and was trained with this embedder; otherwise None, logged with what the
    bot does instead (a broken artifact must never stop an answer)."""
    if artifact is None or embedder is None:
        return None
    try:
        model = AspectModel.load(artifact)
    except AspectModelError as e:
        log.error("%s: %s", fallback, e)
        return None
    if model.embedder_identity != embedder.identity:
        log.warning("%s: %s was trained with %s, the embedder is %s", fallback, artifact.name,
                    model.embedder_identity, embedder.identity)  # fmt: skip
        return None
    return model


class _ModelReader:
    """One of these models with the embedder it was trained with; ``_probabilities`` is None when the model is
    absent, the text empty, or the model fails (logged: a broken artifact must never stop an answer)."""

    def __init__(self, embedder: EmbeddingModel | None, artifact: Path | None, fallback: str):
        self.embedder = embedder
        self.model = load_for(embedder, artifact, fallback)

    def _probabilities(self, text: str, failure: str) -> dict[str, float] | None:
        if self.model is None or self.embedder is None or not text.strip():
            return None
        try:
            return self.model.probabilities(text, self.embedder.embed_query(embedding_text(text)))
        except Exception:  # noqa: BLE001 - a failing model leaves the decision to what runs without it
            log.exception(failure)
            return None


class AspectReader(_ModelReader):
    """Model labels first (most probable first), then the cue words' labels the model does not rule out."""

    def __init__(self, embedder: EmbeddingModel | None, artifact: Path | None = ARTIFACT):
        super().__init__(embedder, artifact, "aspects come from cue words only")

    def read(self, text: str, cues: list[str], names: re.Pattern[str] | None = None) -> tuple[list[str], set[str]]:
        """(aspects, the ones the model is sure of). ``names``: the knowledge's service names (titles and aliases),
        masked before the model reads the text. Without the model every cue word counts as sure."""
        probs = self._probabilities(mask_names(text, names), "aspect model failed on one message; cue words decide it")
        if probs is None:
            return cues, set(cues)
        return combine(probs, cues), {a for a, p in probs.items() if p >= THRESHOLD and a != NONE}


def combine(probs: dict[str, float], cues: list[str]) -> list[str]:
    """Sure labels first, with the cue words the model does not rule out; when the model is sure of nothing, the
    cue words lead and its likeliest labels follow."""
    ranked = sorted((p, a) for a, p in probs.items() if a != NONE)[::-1]
    sure = [a for p, a in ranked if p >= THRESHOLD]
    if sure:
        out = sure + [a for a in cues if a not in sure and probs.get(a, 0.0) >= CUE_FLOOR]
    else:
        out = list(cues) + [a for p, a in ranked[:2] if p >= WEAK and a not in cues]
    return out[:MAX_ASPECTS]


class ScopeReader(_ModelReader):
    """P(the message is not about childcare), from the scope model; None when the model is absent or fails."""

    def __init__(self, embedder: EmbeddingModel | None, artifact: Path | None = SCOPE_ARTIFACT):
        super().__init__(embedder, artifact, "scope is decided by retrieval and word lists only")

    def p_out(self, text: str) -> float | None:
        probs = self._probabilities(text, "scope model failed on one message")
        return None if probs is None else probs["out_of_scope"]


SMALLTALK_THRESHOLD = 0.5


class SmallTalkReader(_ModelReader):
    """Whether a message is only a greeting, thanks or a goodbye (「こんにちは」「thanks!」「xin chào」), from the
    small-talk model; None for anything else, and always None when the model is absent or fails (the message then
    takes the ordinary path, as before)."""

    def __init__(self, embedder: EmbeddingModel | None, artifact: Path | None = SMALLTALK_ARTIFACT):
        super().__init__(embedder, artifact, "small talk takes the ordinary answer path")

    def intent(self, text: str) -> str | None:
        probs = self._probabilities(text, "small-talk model failed on one message")
        if not probs:
            return None
        label, p = max(probs.items(), key=lambda kv: kv[1])
        return label if p >= SMALLTALK_THRESHOLD else None
