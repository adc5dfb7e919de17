"""A second dense leg for the languages the first embedder does not cover well.

The default embedder (USE multilingual) was trained on 16 languages: Vietnamese, Nepali and Tagalog are not among
them, and its Korean and Portuguese questions found the right document first far less often than its Chinese or
English ones (multilingual dev split, hit@1 by language: ko 7/14, vi 3/14, ne 4/14, pt 5/14 with USE against
13, 8, 9 and 10 of 14 with multilingual-e5-small over the same documents). A question in one of those languages
(``BOT_SECOND_EMBEDDER_LANGS``) is therefore also embedded with ``BOT_SECOND_EMBEDDER`` and compared with each
document's names and summaries (the title chunk and the i18n chunks: written in the parent's languages, a few
hundred vectors kept in memory). That ranking replaces the first leg's in the fusion; the first leg's raw
similarity still feeds the answer path's thresholds, which were chosen on its scale.

The vectors live in each generation (``second.npy``, ``second_keys.json``) and are reused by content hash, so an
ingest embeds only what changed. Japanese questions never reach this leg: it adds nothing to their latency.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.retrieval.embeddings import EmbeddingModel
    from bot.retrieval.index import Chunk

log = logging.getLogger("bot.retrieval")
VECTORS, KEYS = "second.npy", "second_keys.json"


def wanted(chunk: Chunk) -> bool:
    from bot.retrieval.index import I18N_HEADING, TITLE_HEADING

    return chunk.heading in (TITLE_HEADING, I18N_HEADING)


class SecondLeg:
    """The second embedder, loaded on first use (a process that never sees such a question never loads it)."""

    def __init__(self, settings: Settings):
        self.name = settings.second_embedder
        self.langs = frozenset(settings.second_embedder_langs)
        self._settings = settings
        self._embedder: EmbeddingModel | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.name)

    def applies(self, lang: str | None) -> bool:
        return self.enabled and lang in self.langs

    @property
    def embedder(self) -> EmbeddingModel:
        if self._embedder is None:
            from bot.retrieval.embeddings import get_embedder

            self._embedder = get_embedder(str(self.name), self._settings)
        return self._embedder

    def build(self, chunks: Sequence[Chunk], out: Path, old: Path | None) -> int:
        """Write this generation's vectors, reusing the previous generation's by content hash; returns how many were
        embedded."""
        if not self.enabled:
            return 0
        mine = [c for c in chunks if wanted(c)]
        cache = _load(old, self.embedder.identity) if old else {}
        todo = [c for c in mine if c.key not in cache]
        step = max(self.embedder.batch_size, 32)
        for i in range(0, len(todo), step):
            batch = todo[i : i + step]
            for c, v in zip(batch, self.embedder.embed_documents([c.embed_text for c in batch]), strict=True):
                cache[c.key] = np.asarray(v, dtype=np.float32)
        dim = self.embedder.dimension
        matrix = np.vstack([cache[c.key] for c in mine]) if mine else np.zeros((0, dim), dtype=np.float32)
        np.save(out / VECTORS, np.asarray(matrix, dtype=np.float32))  # no copy: vstack of float32 rows is float32
        (out / KEYS).write_text(
            json.dumps({"embedder": self.embedder.identity, "ids": [c.id for c in mine], "keys": [c.key for c in mine]})
        )
        return len(todo)


class SecondVectors:
    """One generation's second-leg vectors, for searching."""

    def __init__(self, ids: list[str], matrix: np.ndarray, identity: str):
        self.ids, self.matrix, self.identity = ids, matrix, identity

    @classmethod
    def load(cls, path: Path) -> SecondVectors | None:
        try:
            meta = json.loads((path / KEYS).read_text())
            matrix = np.load(path / VECTORS)
        except (FileNotFoundError, ValueError, KeyError) as e:
            if not isinstance(e, FileNotFoundError):
                log.error("second-leg vectors of %s unreadable (%s): the first leg ranks alone", path.name, e)
            return None
        return cls(list(meta["ids"]), matrix, str(meta["embedder"]))

    def query(self, vec: np.ndarray, k: int) -> dict[str, float]:
        if not len(self.ids):
            return {}
        sims = self.matrix @ np.asarray(vec, dtype=np.float32)
        top = np.argsort(-sims)[:k]
        return {self.ids[i]: float(sims[i]) for i in top}


def _load(path: Path, identity: str) -> dict[str, np.ndarray]:
    try:
        meta = json.loads((path / KEYS).read_text())
        if meta.get("embedder") != identity:
            return {}
        return dict(zip(meta["keys"], np.load(path / VECTORS), strict=True))
    except (FileNotFoundError, ValueError, KeyError):
        return {}
