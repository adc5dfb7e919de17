"""Hybrid retrieval: a Sudachi BM25 leg and a dense leg, fused per document with min-max weighted scores.

Why weighted min-max fusion and not equal RRF: a weak leg drags a strong one down (equal RRF was worse than BM25 alone
on JSQuAD and on the parents' pilot set; see ../shared/notes/offline-models.md). Queries with no kanji go to the
keyword leg only, because dense models fail on hiragana-only input (hit@1 .05–.11 in the pilot).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import I18N_HEADING, TITLE_HEADING, Generation
from bot.text.jatext import keyword_terms
from bot.text.textnorm import has_kanji, normalize_query


@dataclass
class Candidate:
    doc_id: str
    score: float = 0.0  # fused, 0..1
    keyword: float = 0.0  # normalised keyword score, 0..1
    dense: float = 0.0  # normalised dense score, 0..1
    keyword_raw: float = 0.0
    dense_raw: float = 0.0  # cosine similarity of the best chunk
    coverage: float = 0.0  # weighted share of the query's terms found in this document
    chunk_scores: dict[str, float] = field(default_factory=dict)  # chunk id -> fused chunk score

    def to_json(self) -> dict[str, float | str]:
        return {
            "doc_id": self.doc_id,
            "score": round(self.score, 4),
            "keyword": round(self.keyword, 4),
            "dense": round(self.dense, 4),
            "keyword_raw": round(self.keyword_raw, 4),
            "dense_raw": round(self.dense_raw, 4),
            "coverage": round(self.coverage, 4),
        }


@dataclass
class Retrieval:
    query: str
    candidates: list[Candidate]
    dense_used: bool

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _minmax(values: dict[str, float]) -> dict[str, float]:
    if not values:
        return {}
    hi = max(values.values())
    lo = min(values.values())
    if hi <= 0:
        return {k: 0.0 for k in values}
    span = hi - lo if hi > lo else hi
    return {k: (v - lo) / span if hi > lo else v / hi for k, v in values.items()}


class Retriever:
    """Searches one index generation. ``generation`` can be swapped atomically by the owner."""

    def __init__(self, generation: Generation, embedder: EmbeddingModel, dense_weight: float = 0.35):
        self.generation = generation
        self.embedder = embedder
        self.dense_weight = dense_weight
        self._lock = threading.Lock()

    def swap(self, generation: Generation) -> None:
        with self._lock:
            self.generation = generation

    def search(self, query: str, k: int = 8, legs: str = "hybrid", generation: Generation | None = None) -> Retrieval:
        # one reference for the whole search (the caller's, when it pinned one): a concurrent swap cannot mix them
        gen = generation or self.generation
        q = normalize_query(query)
        use_dense = legs in ("hybrid", "dense") and (has_kanji(q) or legs == "dense" or not _is_kana_only(q))
        use_keyword = legs in ("hybrid", "keyword")
        chunk_kw, term_hits = self._keyword(gen, q) if use_keyword else ({}, {})
        chunk_dense = self._dense(gen, q, k * 6) if use_dense else {}

        doc_kw: dict[str, float] = {}
        doc_dense: dict[str, float] = {}
        for cid, s in chunk_kw.items():
            d = gen.chunks[gen.chunk_index[cid]].doc_id
            doc_kw[d] = max(doc_kw.get(d, 0.0), s)
        for cid, s in chunk_dense.items():
            d = gen.chunks[gen.chunk_index[cid]].doc_id
            doc_dense[d] = max(doc_dense.get(d, -1.0), s)
        docs = set(doc_kw) | set(doc_dense)
        kw_n = _minmax(doc_kw)
        dn_n = _minmax({d: max(v, 0.0) for d, v in doc_dense.items()})
        w = self.dense_weight if (use_dense and use_keyword) else (1.0 if use_dense else 0.0)
        ck_n = _minmax(chunk_kw)
        cd_n = _minmax({c: max(v, 0.0) for c, v in chunk_dense.items()})

        total_weight = sum(term_hits.get("__weights__", {}).values()) if term_hits else 0.0
        cands = []
        for d in docs:
            c = Candidate(d)
            c.keyword = kw_n.get(d, 0.0)
            c.dense = dn_n.get(d, 0.0)
            c.keyword_raw = doc_kw.get(d, 0.0)
            c.dense_raw = doc_dense.get(d, 0.0)
            c.score = (1 - w) * c.keyword + w * c.dense
            if total_weight > 0:
                weights = term_hits["__weights__"]
                found = sum(wt for t, wt in weights.items() if d in term_hits.get(t, {}))
                c.coverage = found / total_weight
            cands.append(c)
        cands.sort(key=lambda c: (-c.score, -c.coverage, c.doc_id))
        cands = [c for c in cands if c.score > 0 or c.dense_raw > 0][:k]
        by_doc = {c.doc_id: c for c in cands}
        for cid in set(chunk_kw) | set(chunk_dense):
            owner = by_doc.get(gen.chunks[gen.chunk_index[cid]].doc_id)
            if owner is not None:
                owner.chunk_scores[cid] = (1 - w) * ck_n.get(cid, 0.0) + w * cd_n.get(cid, 0.0)
        return Retrieval(query, cands, use_dense)

    def _keyword(self, gen: Generation, q: str) -> tuple[dict[str, float], dict]:  # type: ignore[type-arg]
        bm = gen.keyword
        vocab = bm.vocab_dict
        all_terms = list(dict.fromkeys(keyword_terms(q)))
        terms = [t for t in all_terms if t in vocab]
        if not terms:
            return {}, {"__weights__": {t: 1.0 for t in all_terms if t.startswith("w:")}}
        ids = [vocab[t] for t in terms]
        scores = np.asarray(bm.get_scores(ids))
        out = {gen.chunks[i].id: float(scores[i]) for i in np.nonzero(scores > 0)[0]}
        # Coverage: which of the query's content words (w: terms) each document contains, weighted by the term's best
        # score (a stand-in for IDF). Words the index has never seen count as missing with the highest weight, so
        # 「ピアノ発表会の衣装」 is not "covered" by a document that only shares 子ども.
        hits: dict = {"__weights__": {}}  # type: ignore[type-arg]
        # Kana-only questions: Sudachi's words for kana are unreliable, so coverage counts reading bigrams instead.
        words = [t for t in all_terms if t.startswith("w:")] if has_kanji(q) or not _is_kana_only(q) else []
        scored = words if words else [t for t in all_terms if not t.startswith(("w:", "s:"))]
        for t in scored:
            if t not in vocab:
                continue
            s = np.asarray(bm.get_scores([vocab[t]]))
            nz = np.nonzero(s > 0)[0]
            if len(nz):
                hits["__weights__"][t] = float(s.max())
                hits[t] = {gen.chunks[i].doc_id for i in nz}
        top_weight = max(hits["__weights__"].values(), default=1.0)
        for t in scored:
            hits["__weights__"].setdefault(t, top_weight)
        return out, hits

    def _dense(self, gen: Generation, q: str, k: int) -> dict[str, float]:
        vec = self.embedder.embed_query(q)
        return dict(gen.store.query(vec, k))

    def best_chunks(self, cand: Candidate, n: int = 3) -> list[str]:
        ranked = sorted(cand.chunk_scores.items(), key=lambda kv: -kv[1])
        gen = self.generation
        names = (TITLE_HEADING, I18N_HEADING)
        return [cid for cid, _ in ranked if gen.chunks[gen.chunk_index[cid]].heading not in names][:n]


def _is_kana_only(q: str) -> bool:
    letters = [ch for ch in q if ch.isalpha()]
    return bool(letters) and not has_kanji(q) and all("\u3040" <= ch <= "\u30ff" or ch == "ー" for ch in letters)
