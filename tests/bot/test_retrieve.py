"""The keyword leg and fusion over a small real BM25 index (Sudachi, bm25s on disk); no embedder needed."""

from __future__ import annotations

from pathlib import Path

import bm25s

from bot.retrieval.index import Chunk, Generation, build_keyword_index
from bot.retrieval.retrieve import Retriever


def _generation(tmp_path: Path, texts: list[tuple[str, str]]) -> Generation:
    chunks = [Chunk(f"{d}#{i}", d, "本文", t, t, t) for i, (d, t) in enumerate(texts)]
    build_keyword_index(chunks, tmp_path / "keyword")
    keyword = bm25s.BM25.load(str(tmp_path / "keyword"), show_progress=False, verbosity=0)
    return Generation("t", tmp_path, {}, None, chunks, keyword, None, {c.id: i for i, c in enumerate(chunks)})  # type: ignore[arg-type]


def test_documents_take_their_best_chunk_even_when_their_chunks_are_not_adjacent(tmp_path: Path) -> None:
    gen = _generation(
        tmp_path,
        [
            ("a", "区役所のお知らせです。"),
            ("b", "児童手当の申請は区役所でできます。"),
            ("a", "保育園の入園申込は区役所の窓口です。"),
            ("c", "図書館の開館時間のお知らせです。"),
        ],
    )
    found = Retriever(gen, None, max_df=1.0).search("保育園の申込", legs="keyword")  # type: ignore[arg-type]
    assert found.top is not None and found.top.doc_id == "a"
    assert found.top.keyword == 1.0 and found.top.coverage == 1.0
    assert set(found.top.chunk_scores) == {"a#2"}  # the chunk without the words does not score
    assert "c" not in {c.doc_id for c in found.candidates}


def test_terms_in_most_chunks_do_not_score_unless_the_query_has_nothing_else(tmp_path: Path) -> None:
    texts = [(f"d{i}", f"申請のお知らせです。番号{i}の窓口。") for i in range(9)] + [("z", "保育園の申請です。")]
    gen = _generation(tmp_path, texts)
    everything = Retriever(gen, None, max_df=1.0).search("保育園の申請", legs="keyword")  # type: ignore[arg-type]
    pruned = Retriever(gen, None, max_df=0.3).search("保育園の申請", legs="keyword")  # type: ignore[arg-type]
    assert everything.top is not None and pruned.top is not None
    assert everything.top.doc_id == pruned.top.doc_id == "z"
    assert len(everything.candidates) > 1 and [c.doc_id for c in pruned.candidates] == ["z"]
    assert pruned.top.keyword_raw < everything.top.keyword_raw  # 申請 no longer adds to the score...
    assert pruned.top.coverage == everything.top.coverage  # ...but still counts as a word the document holds
    # a question made only of common words still finds documents
    only_common = Retriever(gen, None, max_df=0.3).search("申請", legs="keyword")  # type: ignore[arg-type]
    assert len(only_common.candidates) > 1
