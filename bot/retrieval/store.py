"""The only module that talks to ChromaDB. It holds the dense leg; the keyword index lives beside it.

Embedded mode (default): one PersistentClient folder per index generation, written once by ingest and then only read.
Server mode (``CHROMA_HOST``): one collection per generation on the server. Either way a generation is complete before
the index pointer moves to it, so a reader never sees half an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

COLLECTION_PREFIX = "kosodate-"


class StoreError(RuntimeError):
    """Chroma could not be reached or returned something unexpected."""


def _client(path: Path | None, host: str | None, port: int):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    # Telemetry off: these machines have no network, and a public service should not phone home.
    cs = ChromaSettings(anonymized_telemetry=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=cs)
        assert path is not None
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=cs)
    except Exception as e:  # chromadb raises ValueError/ConnectionError/its own types
        where = f"{host}:{port}" if host else str(path)
        raise StoreError(f"cannot open Chroma at {where}: {e}") from e


@dataclass(frozen=True)
class StoreLocation:
    """Where one generation's vectors live: a folder (embedded) or a server collection."""

    collection: str
    path: str | None = None
    host: str | None = None
    port: int = 8000

    def to_json(self) -> dict[str, Any]:
        return {"collection": self.collection, "path": self.path, "host": self.host, "port": self.port}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StoreLocation:
        return cls(d["collection"], d.get("path"), d.get("host"), int(d.get("port") or 8000))


class VectorStore:
    def __init__(self, location: StoreLocation):
        self.location = location
        self._client = _client(Path(location.path) if location.path else None, location.host, location.port)
        self._col: Any = None
        self._size: int | None = None

    def create(self) -> None:
        try:
            self._client.delete_collection(self.location.collection)
        except Exception:  # not found is the normal case
            pass
        # embedding_function=None: Chroma's default function downloads an ONNX model, which fails offline.
        self._col = self._client.create_collection(
            self.location.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    @property
    def collection(self) -> Any:
        if self._col is None:
            try:
                self._col = self._client.get_collection(self.location.collection, embedding_function=None)
            except Exception as e:
                raise StoreError(f"collection '{self.location.collection}' is missing: {e}") from e
        return self._col

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]], batch: int = 2000) -> None:
        self._size = None
        for i in range(0, len(ids), batch):
            self.collection.add(
                ids=ids[i : i + batch], embeddings=vectors[i : i + batch], metadatas=metadatas[i : i + batch]
            )

    def count(self) -> int:
        return int(self.collection.count())

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Nearest chunks as (chunk id, cosine similarity), best first."""
        if self._size is None:  # a serving generation never changes: count once (~1 ms a call on this machine)
            self._size = self.count()
        k = max(1, min(k, self._size))
        res = self.collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def drop(self) -> None:
        try:
            self._client.delete_collection(self.location.collection)
        except Exception:  # already gone
            pass

    def close(self) -> None:
        """Release Chroma's shared system for this folder. Chroma keeps one per path for the life of the process,
        so without this every index swap kept ~13 MB (measured over 8 swaps: 386 → 495 MB RSS)."""
        self._col = None
        try:
            self._client.close()
        except Exception:  # closing twice, or a server that went away: nothing left to release
            pass
