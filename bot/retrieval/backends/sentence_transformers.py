"""Any sentence-transformers model by name or local path (e.g. ruri-v3 or multilingual-e5 on a ward's own server).

Imported lazily: sentence-transformers and torch cost 8–11 s and ~450 MB, so they load only when this backend is chosen.
Hub downloads are switched off: the model must already be on disk.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.retrieval.embeddings import EmbedderError, EmbeddingModel, register_embedder


class SentenceTransformerEmbedder(EmbeddingModel):
    batch_size = 32

    def __init__(self, model: str, query_prefix: str = "", document_prefix: str = "") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as e:  # the library raises many types (OSError, ValueError, HF errors)
            raise EmbedderError(f"cannot load sentence-transformers model '{model}' offline: {e}") from e
        dim = self._model.get_sentence_embedding_dimension()
        if not dim:
            raise EmbedderError(f"model '{model}' does not report an embedding dimension")
        self.dimension = int(dim)
        self.model_id = f"st:{Path(model).name if os.path.isdir(model) else model}"  # type: ignore[misc]
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self._lock = threading.Lock()

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.query_prefix if is_query else self.document_prefix
        with self._lock:
            vecs = self._model.encode([prefix + t for t in texts], batch_size=self.batch_size, convert_to_numpy=True)
        return np.asarray(vecs)


@register_embedder("sentence-transformers")
def _factory(settings: Settings) -> EmbeddingModel:
    assert settings.embedder_model  # checked by Settings
    return SentenceTransformerEmbedder(
        settings.embedder_model, settings.embedder_query_prefix, settings.embedder_document_prefix
    )
