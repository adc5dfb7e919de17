"""Hybrid retrieval: a Sudachi BM25 leg and a dense leg, fused per document with min-max weighted scores.

Why weighted min-max fusion and not equal RRF: a weak leg drags a strong one down (equal RRF was worse than BM25 alone
on JSQuAD and on the parents' pilot set; see ../shared/notes/offline-models.md). Queries with no kanji go to the
keyword leg only, because dense models fail on hiragana-only input (hit@1 .05–.11 in the pilot).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import I18N_HEADING, TITLE_HEADING, Generation
from bot.retrieval.second_leg import SecondLeg
from bot.text.jatext import keyword_terms
from bot.text.textnorm import has_kanji, normalize_query

log = logging.getLogger("bot.retrieval")

# Keyword terms in more than this share of the chunks do not score. Chosen on the dev sets and the JSQuAD dev half
# (hit@1 with the hybrid unchanged at 0.3 on all four; 0.2 lost 0.008 on evals/questions.jsonl): at 50,000 chunks it
# cuts the postings a query sums from 231,000 to 127,000 on average (p95 690,000 to 420,000).
MAX_DF = 0.3
# When the keyword leg's best document holds at least this weighted share of the question's content words, the
# fusion ranks by the keyword leg alone. On the JSQuAD dev half (questions of even-numbered paragraphs) hit@1 went
# 0.894 → 0.914 (keyword alone 0.911); on the dev sets 0.933 → 0.929, 0.865 → 0.859, 0.706 → 0.699 (one question each).
KEYWORD_SURE_COVERAGE = 0.7
# The document classifier's share of the ranking for a message in another language and for a Japanese one, and the
# probability at which a document it names is a candidate although neither leg found it. Chosen on the dev splits:
# other languages hit@1 0.853 / 0.874 / 0.881 at 0.3 / 0.5 / 0.7 (pass 0.503 / 0.503 / 0.490); Japanese pass on the
# understanding and old dev sets 0.586, 0.739 at 0 → 0.592, 0.746 at 0.1 → 0.586, 0.750 at 0.2 → 0.571, 0.743 at 0.3.
CLASSIFIER_WEIGHT = 0.5
CLASSIFIER_WEIGHT_JA = 0.1
MIN_CLASSIFIER_P = 0.2


@dataclass
class Candidate:
    doc_id: str
    score: float = 0.0  # fused, 0..1
    keyword: float = 0.0  # normalised keyword score, 0..1
    dense: float = 0.0  # normalised dense score, 0..1
    keyword_raw: float = 0.0
    dense_raw: float = 0.0  # cosine similarity of the best chunk
    coverage: float = 0.0  # weighted share of the query's terms found in this document
    p_doc: float = 0.0  # the document classifier's probability
    second_raw: float = 0.0  # the second dense leg's cosine of the best name or summary (its languages only)
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
            "p_doc": round(self.p_doc, 4),
        }


@dataclass
class Retrieval:
    query: str
    candidates: list[Candidate]
    dense_used: bool

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _minmax_masked(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Min-max over the masked entries (the rest are 0); a single value, or all equal, maps to v / max."""
    out = np.zeros(len(values))
    if not mask.any():
        return out
    sel = values[mask]
    hi, lo = float(sel.max()), float(sel.min())
    if hi <= 0:
        return out
    out[mask] = (sel - lo) / (hi - lo) if hi > lo else sel / hi
    return out


@dataclass
class _KeywordHits:
    chunk_scores: np.ndarray  # BM25 score per chunk (0 where no scoring term occurs)
    doc_found: np.ndarray  # per document: summed weight of the coverage terms it contains
    total_weight: float = 0.0  # summed weight of all the query's coverage terms (missing words at the top weight)

    @classmethod
    def empty(cls, n_chunks: int, n_docs: int) -> _KeywordHits:
        return cls(np.zeros(n_chunks), np.zeros(n_docs))


class Retriever:
    """Searches one index generation. ``generation`` can be swapped atomically by the owner."""

    def __init__(
        self, generation: Generation, embedder: EmbeddingModel, dense_weight: float = 0.35, max_df: float = MAX_DF,
        second: SecondLeg | None = None, classifier_weight: float = CLASSIFIER_WEIGHT,
        classifier_weight_ja: float = CLASSIFIER_WEIGHT_JA,
    ):  # fmt: skip
        self.generation = generation
        self.embedder = embedder
        self.second = second
        self.classifier_weight = classifier_weight
        self.classifier_weight_ja = classifier_weight_ja
        self.dense_weight = dense_weight
        self.max_df = max_df  # keyword terms in more than this share of the chunks do not score (see _keyword)
        self._lock = threading.Lock()

    def swap(self, generation: Generation) -> None:
        with self._lock:
            self.generation = generation

    def search(self, query: str, k: int = 8, legs: str = "hybrid", generation: Generation | None = None,
               lang: str | None = None) -> Retrieval:  # fmt: skip
        """``lang``: the message's language; where the second dense leg covers it (bot.retrieval.second_leg), that
        leg's ranking replaces the first's in the fusion (the first's raw similarity is still reported)."""
        # one reference for the whole search (the caller's, when it pinned one): a concurrent swap cannot mix them
        gen = generation or self.generation
        lay = gen.layout
        q = normalize_query(query)
        use_dense = legs in ("hybrid", "dense") and (has_kanji(q) or legs == "dense" or not _is_kana_only(q))
        use_keyword = legs in ("hybrid", "keyword")
        n_docs = len(lay.doc_ids)
        kw = self._keyword(gen, q) if use_keyword else _KeywordHits.empty(len(gen.chunks), n_docs)
        chunk_dense = self._dense(gen, q, k * 6) if use_dense else {}

        # Document level, vectorised over the chunks (numpy, not a Python loop over every matching chunk): a
        # document's keyword score is its best chunk's; its dense score is its best chunk's among the dense hits.
        doc_kw = np.maximum.reduceat(kw.chunk_scores[lay.order], lay.starts) if n_docs else np.zeros(0)
        dense_idx = np.fromiter((gen.chunk_index[c] for c in chunk_dense), dtype=np.int64, count=len(chunk_dense))
        dense_val = np.fromiter(chunk_dense.values(), dtype=np.float64, count=len(chunk_dense))
        doc_dense = np.full(n_docs, -1.0)
        np.maximum.at(doc_dense, lay.doc_of_chunk[dense_idx], dense_val)
        in_dense = doc_dense > -1.0
        doc_dense[~in_dense] = 0.0
        in_kw = doc_kw > 0
        kw_n = _minmax_masked(doc_kw, in_kw)
        dn_n = _minmax_masked(np.maximum(doc_dense, 0.0), in_dense)
        second_raw = np.zeros(n_docs)
        if use_dense and self.second is not None and self.second.applies(lang) and gen.second is not None:
            dn_n, in_dense, second_raw = self._second_leg(gen, query, k * 6, dn_n, in_dense)
        coverage = kw.doc_found / kw.total_weight if kw.total_weight > 0 else np.zeros(n_docs)
        w = self.dense_weight if (use_dense and use_keyword) else (1.0 if use_dense else 0.0)
        if use_dense and use_keyword and in_kw.any() and coverage[int(np.argmax(doc_kw))] >= KEYWORD_SURE_COVERAGE:
            w = 0.0  # the best keyword document holds most of the question's words: the dense leg only adds noise
        score = (1 - w) * kw_n + w * dn_n
        # the document classifier's probabilities, scaled to its best, blended into the ranking
        # (bot.retrieval.doc_classifier): strongly for another language, lightly for Japanese, whose legs read it well
        share = self.classifier_weight_ja if lang in (None, "ja") else self.classifier_weight
        clf = gen.doc_classifier if share > 0 else None
        p_doc = np.zeros(n_docs)
        if clf is not None:
            probs = clf.probabilities(query)
            p_doc = np.array([probs.get(d, 0.0) for d in lay.doc_ids])
            if p_doc.max() > 0:
                score = (1 - share) * score + share * p_doc / p_doc.max()

        eligible = np.nonzero(((in_kw | in_dense) & ((score > 0) | (doc_dense > 0))) | (p_doc >= MIN_CLASSIFIER_P))[0]
        if len(eligible) > k:
            # every document scoring at least the k-th best, so the tie-breaks below see all the ties
            kth = np.partition(score[eligible], len(eligible) - k)[len(eligible) - k]
            eligible = eligible[score[eligible] >= kth]
        chosen = sorted(eligible.tolist(), key=lambda d: (-score[d], -coverage[d], lay.doc_ids[d]))[:k]

        ck_n = _minmax_masked(kw.chunk_scores, kw.chunk_scores > 0)
        cd_vals = np.maximum(dense_val, 0.0)
        cd_n = _minmax_masked(cd_vals, np.ones(len(cd_vals), dtype=bool))
        dense_by_chunk = dict(zip(dense_idx.tolist(), cd_n.tolist(), strict=True))
        cands = []
        for d in chosen:
            c = Candidate(lay.doc_ids[d])
            c.keyword = float(kw_n[d])
            c.dense = float(dn_n[d])
            c.keyword_raw = float(doc_kw[d])
            c.dense_raw = float(doc_dense[d])
            c.score = float(score[d])
            c.coverage = float(coverage[d])
            c.p_doc = float(p_doc[d])
            c.second_raw = float(second_raw[d])
            for ci in lay.order[lay.starts[d] : lay.ends[d]].tolist():
                in_kw_chunk = kw.chunk_scores[ci] > 0
                if in_kw_chunk or ci in dense_by_chunk:
                    c.chunk_scores[gen.chunks[ci].id] = (1 - w) * float(ck_n[ci]) + w * dense_by_chunk.get(ci, 0.0)
            cands.append(c)
        return Retrieval(query, cands, use_dense)

    def _keyword(self, gen: Generation, q: str) -> _KeywordHits:
        bm = gen.keyword
        lay = gen.layout
        n_chunks, n_docs = len(gen.chunks), len(lay.doc_ids)
        vocab = bm.vocab_dict
        all_terms = list(dict.fromkeys(keyword_terms(q)))
        terms = [t for t in all_terms if t in vocab]
        hits = _KeywordHits.empty(n_chunks, n_docs)
        if not terms:
            hits.total_weight = float(sum(1.0 for t in all_terms if t.startswith("w:")))
            return hits
        mat = bm.scores
        data, indices, indptr = mat["data"], mat["indices"], mat["indptr"]
        ids = np.asarray([vocab[t] for t in terms], dtype=np.int64)
        # Candidates from the terms that do not occur in most chunks: reading bigrams such as です or まで match nearly
        # every chunk (97% at 48,000 chunks, issue 15) and add almost nothing to BM25 (IDF ~ log 1.03), but summing
        # their postings was most of the keyword leg's time. A query made only of such terms keeps them all.
        df = indptr[ids + 1] - indptr[ids]
        common = df > self.max_df * n_chunks
        scoring = ids[~common] if not common.all() else ids
        if bm.nonoccurrence_array is not None:  # BM25L/BM25+ add a score to every chunk: use bm25s itself
            hits.chunk_scores = np.asarray(bm.get_scores(scoring.tolist()), dtype=np.float64)
        else:
            starts, ends = indptr[scoring], indptr[scoring + 1]
            idx = np.concatenate([indices[a:b] for a, b in zip(starts, ends, strict=True)])
            val = np.concatenate([data[a:b] for a, b in zip(starts, ends, strict=True)])
            hits.chunk_scores = np.bincount(idx, weights=val, minlength=n_chunks).astype(np.float64)
        # Coverage: which of the query's content words (w: terms) each document contains, weighted by the term's best
        # score (a stand-in for IDF). Words the index has never seen count as missing with the highest weight, so
        # 「ピアノ発表会の衣装」 is not "covered" by a document that only shares 子ども.
        # Kana-only questions: Sudachi's words for kana are unreliable, so coverage counts reading bigrams instead.
        words = [t for t in all_terms if t.startswith("w:")] if has_kanji(q) or not _is_kana_only(q) else []
        scored = words if words else [t for t in all_terms if not t.startswith(("w:", "s:"))]
        weights: dict[str, float] = {}
        for t in scored:
            if t not in vocab:
                continue
            a, b = indptr[vocab[t]], indptr[vocab[t] + 1]
            if b > a:
                weights[t] = float(data[a:b].max())
                present = np.zeros(n_docs, dtype=bool)
                present[lay.doc_of_chunk[indices[a:b]]] = True
                hits.doc_found += weights[t] * present
        top_weight = max(weights.values(), default=1.0)
        hits.total_weight = sum(weights.get(t, top_weight) for t in scored)
        return hits

    def _second_leg(self, gen: Generation, query: str, k: int, dn_n: np.ndarray,
                    in_dense: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """Documents' normalised dense scores from the second leg (its best chunk per document), and their raw
        cosines; the first leg's stand (raw 0) when the second cannot embed (it is logged: an answer never depends
        on it)."""
        assert self.second is not None and gen.second is not None
        none = np.zeros(len(dn_n))
        try:
            if gen.second.identity != self.second.embedder.identity:
                return dn_n, in_dense, none
            hits = gen.second.query(self.second.embedder.embed_query(query), k)
        except Exception as e:  # noqa: BLE001 - a model that fails to load must not stop the answer
            log.error("second dense leg unavailable (%s): the first leg ranks alone", e)
            return dn_n, in_dense, none
        lay = gen.layout
        idx = np.fromiter((gen.chunk_index[c] for c in hits if c in gen.chunk_index), dtype=np.int64)
        val = np.fromiter((v for c, v in hits.items() if c in gen.chunk_index), dtype=np.float64)
        doc = np.full(len(lay.doc_ids), -1.0)
        np.maximum.at(doc, lay.doc_of_chunk[idx], val)
        found = doc > -1.0
        return _minmax_masked(np.maximum(doc, 0.0), found), in_dense | found, np.maximum(doc, 0.0)

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
