"""Features the triage model reads, computed the same way when it is trained (``python -m evals triage-train``) and
when it runs: a sentence embedding of the message, and TF-IDF weights of character n-grams of the message folded
to lower-case hiragana (1–3-grams by default; the triage model reads 1–4-grams, its artifact records which).

The embedding carries meaning across wordings and languages; the character n-grams carry what embedders miss: kana
typed without conversion, typos, dialect endings, and words of languages the embedder does not know.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from bot.text.textnorm import nfkc, normalize_query, to_hiragana

NGRAM_MIN, NGRAM_MAX = 1, 3
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    return _SPACE.sub(" ", to_hiragana(nfkc(text).lower())).strip()


def embedding_text(text: str) -> str:
    """What is embedded: the same string the retriever embeds, so one query vector serves both."""
    return normalize_query(text)


def ngrams(text: str, nmax: int = NGRAM_MAX) -> list[str]:
    """Character n-grams inside word boundaries (each word padded with a space), like scikit-learn's ``char_wb``."""
    out: list[str] = []
    for word in fold(text).split(" "):
        if not word:
            continue
        padded = f" {word} "
        for n in range(NGRAM_MIN, nmax + 1):
            if n == 1:
                out.extend(word)  # unigrams without the padding
                continue
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


class NgramVectorizer:
    """Sublinear TF × IDF over a fixed vocabulary, L2-normalised; returns (indices, values) pairs, i.e. a sparse row."""

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray, nmax: int = NGRAM_MAX):
        self.nmax = nmax  # the longest n-gram (the triage model reads up to 4; Latin words need it, see its train())
        self.vocabulary = list(vocabulary)
        self.index = {g: i for i, g in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float32)

    @classmethod
    def fit(cls, texts: Iterable[str], min_df: int = 2, nmax: int = NGRAM_MAX) -> NgramVectorizer:
        df: Counter[str] = Counter()
        n = 0
        for t in texts:
            n += 1
            df.update(set(ngrams(t, nmax)))
        vocab = sorted(g for g, c in df.items() if c >= min_df)
        idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in vocab], dtype=np.float32)
        return cls(vocab, idf, nmax)

    def matrix(self, texts: Sequence[str]) -> Any:
        """The rows of ``texts`` as one scipy CSR matrix (training only)."""
        from scipy.sparse import csr_matrix

        rows = [self.row(t) for t in texts]
        indptr = np.cumsum([0] + [len(i) for i, _ in rows])
        return csr_matrix(
            (np.concatenate([v for _, v in rows]), np.concatenate([i for i, _ in rows]), indptr),
            shape=(len(texts), len(self.vocabulary)),
        )

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(self.index[g] for g in ngrams(text, self.nmax) if g in self.index)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        vals = (1 + np.log(tf)) * self.idf[idx]
        return idx, vals / max(float(np.linalg.norm(vals)), 1e-12)
