"""Which document a message in another language is about: a linear classifier over character n-grams.

The retriever's legs compare a message with the documents' text; for a message in English, Vietnamese or Nepali
that text is mostly Japanese, and the dense legs carry the meaning across only partly (multilingual dev split,
hit@1 0.76 over the nine other languages). This classifier learns, at each ingest, from the knowledge's own words
in the parents' languages: every document's Japanese title, aliases and questions, and per language its title,
aliases, summary sentences and example questions (``i18n.<lang>.questions``), each Latin-script one also without its
diacritics (parents type «tro cap» for «trợ cấp»). Character n-grams (1–4, inside word boundaries, as the triage model
reads them) carry names as parents spell them — romaji, katakana, a service name inside a Nepali sentence — and
need no model weights. On the multilingual dev split it alone found the right document first for 0.90 of the 125
non-Japanese questions, against 0.76 for the retriever (with the e5 embedding added to its features 0.93, with USE
0.86: the n-grams alone were kept, as they cost no embedding at ingest or query time). Blended into the ranking
(``bot.retrieval.retrieve.CLASSIFIER_WEIGHT``) the retriever's hit@1 went 0.78 → 0.87 on that split.

It is trained in about 5 s for 66 documents on 2 cores (and reused when no text it learns from changed), and skipped
above ``MAX_DOCS`` documents (its weights grow with documents × n-grams); the retriever then ranks as before. Japanese messages use it lightly (their legs read
them well: ``CLASSIFIER_WEIGHT_JA``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from bot.knowledge import Procedure
from bot.safety.features import NgramVectorizer

log = logging.getLogger("bot.retrieval")
ARTIFACT = "doc_classifier.npz"
MAX_DOCS = 400
C = 10.0  # chosen on the multilingual dev split (hit@1 0.79 at C = 1, 0.83 at 10, 0.82 at 100, with embeddings)
NGRAM_MAX = 4
_SENTENCE = re.compile(r"(?<=[.。!?！？])\s*")
_LATIN_MARKED = re.compile(r"[À-ɏḀ-ỿ]")


def strip_accents(text: str) -> str:
    """«Trợ cấp đi học» → «Tro cap di hoc» (đ has no decomposition: mapped by hand); the marks of other scripts stay
    (ガ keeps its dakuten, Devanagari its vowel signs)."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def training_texts(procedures: Iterable[Procedure]) -> tuple[list[str], list[str]]:
    """(texts, document ids): what the classifier learns each document's names and wording from."""
    texts: list[str] = []
    labels: list[str] = []
    for p in procedures:
        own = [p.title, *p.aliases, *p.questions]
        for tr in p.translations.values():
            own += [tr.title, *tr.aliases, *tr.questions, *(s for s in _SENTENCE.split(tr.summary) if s.strip())]
        for t in own:
            t = t.strip()
            if not t:
                continue
            texts.append(t)
            labels.append(p.id)
            if _LATIN_MARKED.search(t):
                texts.append(strip_accents(t))
                labels.append(p.id)
    return texts, labels


def texts_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t, label in zip(texts, labels, strict=True):
        h.update(f"{label}\t{t}\n".encode())
    return h.hexdigest()


class DocClassifier:
    """P(document | message) over the documents it was trained on."""

    def __init__(self, doc_ids: Sequence[str], vectorizer: NgramVectorizer, coef: np.ndarray, intercept: np.ndarray,
                 data_sha256: str = ""):  # fmt: skip
        self.data_sha256 = data_sha256  # of what it learnt from: an ingest that changes none of it reuses it
        self.doc_ids = list(doc_ids)
        self.vectorizer = vectorizer
        self.coef = np.asarray(coef, dtype=np.float32)  # documents × n-grams
        self.intercept = np.asarray(intercept, dtype=np.float32)

    @classmethod
    def train(cls, procedures: Sequence[Procedure], c: float = C,
              previous: DocClassifier | None = None) -> DocClassifier | None:  # fmt: skip
        """None when there is nothing to learn from (fewer than two documents) or too much (over ``MAX_DOCS``);
        ``previous`` (the serving generation's) when it learnt from exactly these texts."""
        from sklearn.linear_model import LogisticRegression

        if not 2 <= len(procedures) <= MAX_DOCS:
            return None
        texts, labels = training_texts(procedures)
        sha = texts_sha256(texts, labels)
        if previous is not None and previous.data_sha256 == sha:
            return previous
        vec = NgramVectorizer.fit(texts, nmax=NGRAM_MAX)
        # saga, tol 1e-3: the same dev-split hit@1 as lbfgs (0.896) in 4.5 s instead of 8.5 s and 190 MB of memory
        # instead of 920 MB (lbfgs made it the ingest's peak)
        m = LogisticRegression(C=c, max_iter=200, tol=1e-3, solver="saga").fit(vec.matrix(texts), labels)
        return cls([str(k) for k in m.classes_], vec, m.coef_, m.intercept_, sha)

    def probabilities(self, text: str) -> dict[str, float]:
        idx, vals = self.vectorizer.row(text)
        if not len(idx):
            return {}
        logits = self.coef[:, idx] @ vals + self.intercept
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return dict(zip(self.doc_ids, p.tolist(), strict=True))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path / ARTIFACT,
            doc_ids=np.array(self.doc_ids),
            vocabulary=np.array(self.vectorizer.vocabulary),
            idf=self.vectorizer.idf,
            coef=self.coef,
            intercept=self.intercept,
            data_sha256=np.array(self.data_sha256),
        )

    @classmethod
    def load(cls, path: Path) -> DocClassifier | None:
        """The generation's classifier, or None when it has none (or it cannot be read: logged, retrieval ranks alone)."""
        file = path / ARTIFACT
        if not file.exists():
            return None
        try:
            with np.load(file, allow_pickle=False) as z:
                vec = NgramVectorizer([str(g) for g in z["vocabulary"]], z["idf"], nmax=NGRAM_MAX)
                sha = str(z["data_sha256"]) if "data_sha256" in z.files else ""
                return cls([str(d) for d in z["doc_ids"]], vec, z["coef"], z["intercept"], sha)
        except (OSError, ValueError, KeyError) as e:
            log.error("document classifier of %s unreadable (%s): retrieval ranks alone", path.name, e)
            return None
