"""Public Japanese benchmarks (JGLUE v1.3, CC BY-SA 4.0, github.com/yahoojapan/JGLUE): the data is read from where it
lies (../shared/benchmarks/jglue/) and never copied into this repository.

- JSQuAD paragraph retrieval: every paragraph is one document; each question must find its own paragraph. The index is
  built with the project's own code (bot.retrieval.index.build_keyword_index over bot.text.jatext.keyword_terms, the configured
  embedder, bot.retrieval.store.VectorStore in a temporary folder), and searched with bot.retrieval.retrieve.Retriever, so the fusion,
  the kana-only routing and the normalisation measured are exactly the ones that serve parents.
- JSTS: Spearman correlation between the embedder's cosine similarity and the human 0–5 scores.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel, get_embedder
from bot.retrieval.index import Chunk, Generation, build_keyword_index
from bot.retrieval.retrieve import Retriever
from bot.retrieval.store import StoreLocation, VectorStore
from evals import metrics

LEGS = ("hybrid", "keyword", "dense")


def load_jsquad(path: Path) -> tuple[list[str], list[tuple[str, int]]]:
    """(paragraph texts, [(question, index of its paragraph)]). JGLUE writes 'title [SEP] text'; the separator
    becomes a line break so that neither leg indexes the literal token."""
    data = json.loads(path.read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: list[tuple[str, int]] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            idx = len(paragraphs)
            paragraphs.append(para["context"].replace(" [SEP] ", "\n"))
            questions.extend((qa["question"], idx) for qa in para["qas"])
    return paragraphs, questions


def evenly_spaced(n_total: int, limit: int | None) -> list[int]:
    """Indices of ``limit`` items spread over the whole file (the first N would all come from a few articles)."""
    if not limit or limit >= n_total:
        return list(range(n_total))
    return sorted({int(i) for i in np.linspace(0, n_total - 1, limit)})


def build_generation(texts: list[str], embedder: EmbeddingModel, folder: Path) -> Generation:
    """A throwaway index generation over plain texts (one chunk per text), built with the project's own parts.

    Generation normally comes from Generation.load over a published knowledge folder; here kb is not needed (the
    Retriever never reads it), so it is left empty.
    """
    import bm25s

    chunks = [Chunk(id=f"p{i}", doc_id=f"p{i}", heading="本文", text=t, embed_text=t, keyword_text=t)
              for i, t in enumerate(texts)]  # fmt: skip
    build_keyword_index(chunks, folder / "keyword")
    keyword = bm25s.BM25.load(str(folder / "keyword"), show_progress=False, verbosity=0)
    vectors = embedder.embed_documents([c.embed_text for c in chunks])
    store = VectorStore(StoreLocation("benchmark", path=str(folder / "chroma")))
    store.create()
    store.add([c.id for c in chunks], vectors, [{"doc_id": c.doc_id, "heading": c.heading} for c in chunks])
    return Generation(
        id="benchmark",
        path=folder,
        manifest={"embedder": embedder.identity},
        kb=None,  # type: ignore[arg-type]
        chunks=chunks,
        keyword=keyword,
        store=store,
        chunk_index={c.id: i for i, c in enumerate(chunks)},
    )


def score_ranks(ranks: list[int | None], seconds: float) -> dict[str, Any]:
    return {
        "n": len(ranks),
        "hit@1": round(metrics.hit_at(ranks, 1) or 0.0, 4),
        "hit@5": round(metrics.hit_at(ranks, 5) or 0.0, 4),
        "mrr@10": round(metrics.mrr(ranks, cutoff=10) or 0.0, 4),
        "qps": round(len(ranks) / seconds, 1) if seconds > 0 else 0.0,
    }


def jsquad(path: Path, settings: Settings, limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """hit@1, hit@5, MRR@10 and queries per second for the hybrid retriever and each leg alone."""
    from tqdm import tqdm

    paragraphs, questions = load_jsquad(path)
    questions = [questions[i] for i in evenly_spaced(len(questions), limit)]
    embedder = get_embedder(settings.embedder, settings)
    print(f"JSQuAD {path.name}: {len(paragraphs)} paragraphs, {len(questions)} questions, "
          f"embedder {embedder.identity}, dense weight {settings.dense_weight}", file=sys.stderr)  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="jsquad-") as tmp:
        started = time.perf_counter()
        gen = build_generation(paragraphs, embedder, Path(tmp))
        print(f"index built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        retriever = Retriever(gen, embedder, settings.dense_weight)
        embedder.embed_query("ウォームアップ")  # lazy model loading is not a query cost
        for legs in LEGS:
            ranks: list[int | None] = []
            elapsed = 0.0
            for q, idx in tqdm(questions, desc=legs, unit="q", disable=not progress, dynamic_ncols=True):
                t0 = time.perf_counter()
                found = retriever.search(q, k=10, legs=legs)
                elapsed += time.perf_counter() - t0
                ranks.append(metrics.first_rank([f"p{idx}"], [c.doc_id for c in found.candidates]))
            results[legs] = score_ranks(ranks, elapsed)
            r = results[legs]
            print(f"{legs:<8} n={r['n']} hit@1={r['hit@1']:.3f} hit@5={r['hit@5']:.3f} "
                  f"mrr@10={r['mrr@10']:.3f} qps={r['qps']:.1f}")  # fmt: skip
        del retriever, gen  # Chroma keeps files open until the client goes
    out = dict(results["hybrid"])
    out["legs"] = {"keyword": results["keyword"], "dense": results["dense"]}
    return out


def load_jsts(path: Path, limit: int | None = None) -> list[tuple[str, str, float]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                rows.append((d["sentence1"], d["sentence2"], float(d["label"])))
    return rows[:limit] if limit else rows


def jsts(path: Path, settings: Settings, limit: int | None = None) -> dict[str, Any]:
    rows = load_jsts(path, limit)
    embedder = get_embedder(settings.embedder, settings)
    a = embedder.embed_documents([r[0] for r in rows])
    b = embedder.embed_documents([r[1] for r in rows])
    cosine = (a * b).sum(axis=1)  # vectors are L2-normalised by EmbeddingModel
    rho = metrics.spearman(cosine.tolist(), [r[2] for r in rows])
    print(f"JSTS {path.name}: n={len(rows)} spearman={rho:.4f} (embedder {embedder.identity})")
    return {"n": len(rows), "spearman": round(rho, 4)}
