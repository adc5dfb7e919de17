"""Building the index: chunking, content hashing, incremental embedding, and the atomic generation swap.

Layout under ``<data_dir>/index``::

    CURRENT                 the id of the generation that serves (replaced atomically with os.replace)
    gens/<id>/manifest.json embedder identity, document hashes, counts, where the vectors live
    gens/<id>/knowledge/    the exact knowledge files this generation was built from (answers quote these)
    gens/<id>/knowledge.pickle  those files parsed (cold start reads this instead of parsing thousands of documents)
    gens/<id>/chunks.jsonl  chunk texts and metadata
    gens/<id>/vectors.npy   chunk vectors (+ vector_keys.json): the embedding cache for the next ingest
    gens/<id>/keyword/      the BM25 index (bm25s)
    gens/<id>/chroma/       the dense leg (embedded Chroma; in server mode a collection per generation instead)

A new generation is written under ``gens/.tmp-<id>`` and renamed into place only when complete; ``CURRENT`` moves
last. An ingest that fails or is killed at any point leaves ``CURRENT`` on the previous, complete generation.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import shutil
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.config import Settings
from bot.knowledge import KnowledgeBase, KnowledgeError, Procedure, load_knowledge
from bot.retrieval.doc_classifier import DocClassifier
from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.store import COLLECTION_PREFIX, StoreLocation, VectorStore

TITLE_HEADING = "__title__"
I18N_HEADING = "__i18n__"  # a document's names and summary in another language (found by a question in that language)
Progress = Callable[[str, int, int], None]  # (stage, done, total)

if TYPE_CHECKING:
    from bot.retrieval.second_leg import SecondVectors


class IndexNotReady(RuntimeError):
    """No complete index generation exists yet (run ``python ingest.py``)."""


class IndexMismatch(RuntimeError):
    """The serving index was built with another embedder than the one configured."""


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    heading: str
    text: str
    embed_text: str
    keyword_text: str

    @property
    def key(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()[:32]


def chunk_procedure(proc: Procedure, max_tokens: int, token_len: Callable[[str], int]) -> list[Chunk]:
    """One chunk for the title and aliases, then one per section (long sections split on Japanese punctuation)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    names = " ".join((proc.title, *proc.aliases))
    overview = proc.section("overview")
    head_text = "\n".join(
        x for x in (names, " ".join(proc.questions), overview.first_sentence if overview else "") if x
    )
    chunks = [Chunk(f"{proc.id}#0", proc.id, TITLE_HEADING, head_text, head_text, head_text)]
    for lang, tr in sorted(proc.translations.items()):
        text = "\n".join([tr.title, " ".join(tr.aliases), tr.summary])
        chunks.append(Chunk(f"{proc.id}#i18n.{lang}", proc.id, I18N_HEADING, text, text, f"{proc.title} {text}"))
    # keep_separator="end" keeps 。 with its sentence (otherwise it starts the next chunk).
    splitter = RecursiveCharacterTextSplitter(
        separators=["\n\n", "\n", "。", "、", ""],
        keep_separator="end",
        chunk_size=max_tokens,
        chunk_overlap=0,
        length_function=token_len,
    )
    for si, sec in enumerate(proc.sections, start=1):
        parts = [sec.text] if token_len(sec.text) <= max_tokens else splitter.split_text(sec.text)
        for pi, part in enumerate(parts):
            chunks.append(
                Chunk(
                    id=f"{proc.id}#{si}.{pi}",
                    doc_id=proc.id,
                    heading=sec.heading,
                    text=part,
                    embed_text=f"{proc.title} {sec.heading}\n{part}",
                    keyword_text=f"{names} {sec.heading}\n{part}",
                )
            )
    return chunks


@dataclass
class IngestReport:
    generation: str = ""
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    second_embedded: int = 0  # chunks the second dense leg embedded (bot.retrieval.second_leg)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, excluded {len(self.excluded)}; "
            f"{self.chunks} chunks, {self.embedded} embedded; {self.seconds:.1f} s"
        )


# --- pointer and locking ------------------------------------------------------------------------------------------


def current_generation(index_dir: Path) -> str | None:
    try:
        gen = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    return gen if gen and (index_dir / "gens" / gen / "manifest.json").exists() else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".ingest.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another ingest is running (lock held on {index_dir / '.ingest.lock'})") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --- building -----------------------------------------------------------------------------------------------------


def _location(settings: Settings, gen_dir: Path, gen: str) -> StoreLocation:
    if settings.chroma_host:
        return StoreLocation(COLLECTION_PREFIX + gen, host=settings.chroma_host, port=settings.chroma_port)
    return StoreLocation("chunks", path=str(gen_dir / "chroma"))


def serving_location(settings: Settings, gen_dir: Path, manifest: dict[str, Any]) -> StoreLocation:
    """Where a generation's vectors are read from: the collection the manifest names, at the Chroma server the
    *settings* name (another machine, or the same server under another address, reads the same collection), or the
    generation's own folder. The manifest's host and path are only what the ingest saw."""
    built = StoreLocation.from_json(manifest["store"])
    if built.host and not settings.chroma_host:
        raise IndexMismatch(
            f"index {gen_dir.name} keeps its vectors on a Chroma server ({built.host}) but BOT_CHROMA_HOST is unset: "
            "set it, or run 'python ingest.py --rebuild' for embedded Chroma"
        )
    if settings.chroma_host:
        if not built.host:
            raise IndexMismatch(
                f"index {gen_dir.name} keeps its vectors on disk but BOT_CHROMA_HOST is set: run 'python ingest.py'"
            )
        return StoreLocation(built.collection, host=settings.chroma_host, port=settings.chroma_port)
    return StoreLocation(built.collection, path=str(gen_dir / "chroma"))


def _load_vector_rows(gen_dir: Path) -> tuple[dict[str, int], np.ndarray | None]:
    """A generation's vectors and, per chunk text key, its row (the last one when a text occurs twice)."""
    try:
        keys = json.loads((gen_dir / "vector_keys.json").read_text())
        vecs = np.load(gen_dir / "vectors.npy")
    except (FileNotFoundError, ValueError):
        return {}, None
    if len(keys) != len(vecs):
        raise ValueError(f"{gen_dir}: {len(keys)} vector keys for {len(vecs)} vectors")
    return {k: i for i, k in enumerate(keys)}, vecs


STORE_BATCH = 2000  # vectors per Chroma add (VectorStore.add's batch)


def _npy_blocks(path: Path, rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, block) of a 2-D ``.npy`` file, ``rows`` at a time, read with plain file reads: a memory map would
    keep every page it touched resident until it is closed."""
    fmt = np.lib.format
    with open(path, "rb") as f:
        version = fmt.read_magic(f)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        if fortran or len(shape) != 2 or dtype.hasobject:
            raise ValueError(f"{path}: expected a C-ordered 2-D numeric array, got {shape} {dtype}")
        row_bytes = shape[1] * dtype.itemsize
        for a in range(0, shape[0], rows):
            n = min(rows, shape[0] - a)
            yield a, np.frombuffer(f.read(n * row_bytes), dtype=dtype).reshape(n, shape[1])


def _release_freed_memory() -> None:
    """Hand memory freed by large Python and numpy objects back to the system (glibc keeps freed heap pages
    otherwise, and the ingest's resident size would not go down between its steps). Elsewhere: nothing."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def build_keyword_index(chunks: list[Chunk], out_dir: Path) -> None:
    import bm25s

    from bot.text.jatext import keyword_terms

    vocab: dict[str, int] = {}
    # 4-byte ids instead of lists of pointers: ~300 terms a chunk is 15 million ids at 50,000 chunks (bm25s only
    # iterates them and takes their length)
    ids = [array("i", [vocab.setdefault(t, len(vocab)) for t in keyword_terms(c.keyword_text)]) for c in chunks]
    retriever = bm25s.BM25()
    if ids and retriever.method not in retriever.methods_requiring_nonoccurrence:
        # bm25s's docstring invites overriding this step; the index it writes is the same, array for array
        retriever.build_index_from_ids = lambda unique_token_ids, corpus_token_ids, **_: _bm25_scores(  # type: ignore[method-assign]
            retriever, corpus_token_ids, len(unique_token_ids)
        )
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    retriever.save(str(out_dir), show_progress=False)


def _bm25_scores(bm: Any, docs: list[array], n_vocab: int) -> dict[str, Any]:
    """bm25s's score matrix (column-compressed: per term, the chunks containing it and their scores), built without
    its transient copies. bm25s keeps every (chunk, term, score) triple and sorts them by term through int64 keys: at
    50,000 chunks (10 million pairs) that step took RSS from 290 to 820 MB, the ingest's peak. Here the terms'
    document frequencies come first, so each chunk's scores go straight to their final place. The arithmetic is
    bm25s's own (its functions, in its order), so the arrays are identical (tests/bot/test_index.py compares them)."""
    from bm25s import scoring

    n_docs = len(docs)
    avg_doc_len = np.array([len(d) for d in docs]).mean()
    df = np.zeros(n_vocab, dtype=np.int64)
    for d in docs:
        df[np.unique(np.frombuffer(d, dtype=np.int32))] += 1
    idf_fn = scoring._select_idf_scorer(bm.idf_method)
    idf = np.zeros(n_vocab, dtype=bm.dtype)
    for t in np.flatnonzero(df).tolist():
        idf[t] = idf_fn(int(df[t]), N=n_docs)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    del df
    data = np.empty(int(indptr[-1]), dtype=bm.dtype)
    indices = np.empty(int(indptr[-1]), dtype=bm.int_dtype)
    fill = indptr[:-1].copy()  # per term, the next free slot: chunks arrive in order, as CSC wants them
    tfc_fn = scoring._select_tfc_scorer(bm.method)
    for doc_idx, token_ids in enumerate(docs):
        voc, tf = scoring._get_counts_from_token_ids(token_ids, dtype=bm.dtype, int_dtype=bm.int_dtype)
        tfc = tfc_fn(tf_array=tf, l_d=len(token_ids), l_avg=avg_doc_len, k1=bm.k1, b=bm.b, delta=bm.delta)
        at = fill[voc]
        data[at] = idf[voc] * tfc
        indices[at] = doc_idx
        fill[voc] += 1
    bm.nonoccurrence_array = None
    return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}


KNOWLEDGE_PICKLE = "knowledge.pickle"


def _knowledge_key(built_for: date, stale_days: int) -> str:
    """What a stored parse depends on: the date and staleness limit it was validated for, and the code of the
    document model (a pickle from other model code is not read: the new code parses the files again)."""
    h = hashlib.sha256(f"{built_for.isoformat()}|{stale_days}".encode())
    for src in sorted((Path(__file__).resolve().parent.parent / "knowledge").glob("*.py")):
        h.update(src.read_bytes())
    return h.hexdigest()


def _store_knowledge(gen_dir: Path, kb: KnowledgeBase, built_for: date, stale_days: int) -> None:
    blob = {"key": _knowledge_key(built_for, stale_days), "kb": kb}
    with open(gen_dir / KNOWLEDGE_PICKLE, "wb") as f:  # streamed: not the whole pickle in memory as well
        pickle.dump(blob, f, protocol=pickle.HIGHEST_PROTOCOL)


def _generation_knowledge(gen_dir: Path, built_for: date, stale_days: int) -> KnowledgeBase:
    """The generation's knowledge as ingest parsed it; parsed again from its files when the stored parse is
    missing (older generations), for other code or another staleness limit, or unreadable."""
    try:
        # our own file, written by ingest into the generation folder that nothing else writes
        blob = pickle.loads((gen_dir / KNOWLEDGE_PICKLE).read_bytes())  # noqa: S301
        if blob["key"] == _knowledge_key(built_for, stale_days) and isinstance(blob["kb"], KnowledgeBase):
            return blob["kb"]  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - missing or from other code: the files are the truth
        pass
    return load_knowledge(gen_dir / "knowledge", built_for, stale_days)


def validate(settings: Settings) -> KnowledgeBase:
    """Load and validate the configured knowledge folder (no index or embedder needed)."""
    return load_knowledge(settings.knowledge_dir, settings.current_date(), settings.stale_days)


class Indexer:
    """Validates the knowledge folder and publishes a new index generation."""

    def __init__(self, settings: Settings, embedder: EmbeddingModel):
        self.settings = settings
        self.embedder = embedder
        self.index_dir = settings.index_dir

    def check(self) -> KnowledgeBase:
        return validate(self.settings)

    def update(
        self, rebuild: bool = False, progress: Progress | None = None, checked: KnowledgeBase | None = None
    ) -> IngestReport:
        """``checked``: the knowledge folder as the caller has just validated it (``ingest.py`` prints its problems
        first), so it is not parsed a second time (~20 s and ~55 MB at 3,000 documents)."""
        started = time.monotonic()
        kb = checked if checked is not None else self.check()
        if kb.errors:
            raise KnowledgeError(kb.errors)
        with ingest_lock(self.index_dir):
            report = self._build(kb, rebuild, progress or (lambda *_: None))
        report.seconds = time.monotonic() - started
        return report

    def _build(self, kb: KnowledgeBase, rebuild: bool, progress: Progress) -> IngestReport:
        from bot.text.tokens import count_tokens

        today = self.settings.current_date()
        gens = self.index_dir / "gens"
        gens.mkdir(parents=True, exist_ok=True)
        for stale in gens.glob(".tmp-*"):  # leftovers of a killed ingest
            shutil.rmtree(stale, ignore_errors=True)
        old_gen = current_generation(self.index_dir)
        old_manifest: dict[str, Any] = {}
        if old_gen and not rebuild:
            old_manifest = json.loads((gens / old_gen / "manifest.json").read_text())
            if old_manifest.get("embedder") != self.embedder.identity:
                old_manifest = {}

        active = sorted(kb.active(today), key=lambda p: p.id)
        report = IngestReport(excluded=sorted(set(kb.procedures) - {p.id for p in active}))
        old_docs: dict[str, str] = old_manifest.get("docs", {})
        for p in active:
            if p.id not in old_docs:
                report.added.append(p.id)
            elif old_docs[p.id] != p.content_hash:
                report.changed.append(p.id)
            else:
                report.unchanged.append(p.id)
        report.removed = sorted(set(old_docs) - {p.id for p in active})

        cache_dir = self.settings.data_dir / "cache" / "tiktoken"
        chunks = [
            c
            for p in active
            for c in chunk_procedure(p, self.settings.chunk_tokens, lambda s: count_tokens(s, cache_dir))
        ]
        report.chunks = len(chunks)
        gen = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        report.generation = gen
        tmp = gens / f".tmp-{gen}"
        final = gens / gen
        tmp.mkdir()
        try:
            # The keyword index first, while neither the vectors nor the embedding model are in memory: building it
            # is the ingest's peak (bm25s holds every chunk's terms), and it does not need them.
            progress("keyword", 0, 1)
            build_keyword_index(chunks, tmp / "keyword")
            _release_freed_memory()
            progress("keyword", 1, 1)
            docs = {p.id: p.content_hash for p in active}
            progress("classifier", 0, 1)
            # reused when it learnt from exactly these texts (not on --rebuild: old_manifest is then empty)
            previous = DocClassifier.load(gens / old_gen) if old_gen and old_manifest else None
            classifier = DocClassifier.train(active, previous=previous)
            if classifier is not None:
                classifier.save(tmp)
            del active, classifier, previous
            progress("classifier", 1, 1)
            self._publish(docs, chunks, report, old_manifest, old_gen, today, tmp, final, progress)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if self.settings.chroma_host:
                leftover = VectorStore(_location(self.settings, final, gen))
                leftover.drop()
                leftover.close()
            raise
        _write_atomic(self.index_dir / "CURRENT", gen)
        self._collect_garbage(gen)
        return report

    def _publish(
        self,
        docs: dict[str, str],
        chunks: list[Chunk],
        report: IngestReport,
        old_manifest: dict[str, Any],
        old_gen: str | None,
        today: date,
        tmp: Path,
        final: Path,
        progress: Progress,
    ) -> None:
        """Embed what the cache lacks, then write everything else of the generation into ``tmp`` and rename it.

        ``chunks`` is consumed (emptied once written), and the steps run in the order that keeps the fewest large
        things in memory together: at 50,000 chunks the Chroma add holds ~200 MB until its client closes, so it runs
        once the chunks are written and freed, and the knowledge is parsed again only after it has closed."""
        gen = report.generation
        old_dir = self.index_dir / "gens" / old_gen if old_gen else None
        vectors = self._vectors(chunks, old_dir if old_manifest else None, report, progress)
        from bot.retrieval.second_leg import SecondLeg

        report.second_embedded = SecondLeg(self.settings).build(chunks, tmp, old_dir)
        keys = [c.key for c in chunks]
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c, key in zip(chunks, keys, strict=True):
                f.write(json.dumps(asdict(c) | {"key": key}, ensure_ascii=False) + "\n")
        np.save(tmp / "vectors.npy", vectors)
        del vectors  # the store reads them back from the file a batch at a time (~100 MB less during its add)
        (tmp / "vector_keys.json").write_text(json.dumps(keys))
        ids = [c.id for c in chunks]
        metadatas = [{"doc_id": c.doc_id, "heading": c.heading} for c in chunks]
        n_chunks = len(chunks)
        del keys
        chunks.clear()
        _release_freed_memory()
        # The manifest names the final folder; the embedded store is written in tmp and renamed with it.
        location = _location(self.settings, final, gen)
        progress("store", 0, n_chunks)
        if self.settings.chroma_host:
            store = VectorStore(location)
        else:
            store = VectorStore(StoreLocation(location.collection, path=str(tmp / "chroma")))
        try:
            store.create()
            for a, block in _npy_blocks(tmp / "vectors.npy", STORE_BATCH):
                store.add(ids[a : a + len(block)], block, metadatas[a : a + len(block)], batch=STORE_BATCH)
        finally:
            store.close()  # before the folder is renamed: the writing client must not outlive its path
        del ids, metadatas
        _release_freed_memory()
        progress("store", n_chunks, n_chunks)
        shutil.copytree(self.settings.knowledge_dir, tmp / "knowledge")
        # parsed from the copy, as Generation.load would (the live folder may have changed since the check)
        _store_knowledge(
            tmp,
            load_knowledge(tmp / "knowledge", today, self.settings.stale_days),
            today,
            self.settings.stale_days,
        )
        manifest = {
            "generation": gen,
            "created": datetime.now(UTC).isoformat(),
            "embedder": self.embedder.identity,
            "docs": docs,
            "chunks": n_chunks,
            "built_for": today.isoformat(),
            "store": location.to_json(),
        }
        _write_atomic(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        os.rename(tmp, final)

    def _vectors(self, chunks: list[Chunk], old: Path | None, report: IngestReport, progress: Progress) -> np.ndarray:
        """One float32 row per chunk, filled in place: copied from the previous generation's vectors where it has the
        chunk's text, embedded otherwise (in the same batches as ever). No per-chunk dictionary of vectors and no
        second copy of them: at 50,000 chunks the copy alone was 100 MB."""
        old_keys, old_vectors = _load_vector_rows(old) if old else ({}, None)
        todo = [i for i, c in enumerate(chunks) if c.key not in old_keys]
        dim = old_vectors.shape[1] if old_vectors is not None and len(old_vectors) else self.embedder.dimension
        vectors: np.ndarray | None = None
        if len(todo) < len(chunks):
            assert old_vectors is not None
            vectors = np.empty((len(chunks), dim), dtype=np.float32)
            have = np.fromiter((i for i, c in enumerate(chunks) if c.key in old_keys), np.int64)
            for a in range(0, len(have), 4096):  # in blocks: fancy indexing copies what it selects
                sel = have[a : a + 4096]
                vectors[sel] = old_vectors[[old_keys[chunks[i].key] for i in sel.tolist()]]
        del old_vectors, old_keys
        progress("embed", 0, len(todo))
        step = max(self.embedder.batch_size, 32)
        last: dict[str, int] = {}  # a text embedded twice keeps its last vector, as the cache dictionary did
        for a in range(0, len(todo), step):
            batch = todo[a : a + step]
            embedded = self.embedder.embed_documents([chunks[i].embed_text for i in batch])
            if vectors is None:
                vectors = np.empty((len(chunks), embedded.shape[1]), dtype=np.float32)
            vectors[batch] = embedded
            last.update((chunks[i].key, i) for i in batch)
            progress("embed", a + len(batch), len(todo))
        for i in todo:
            if last[chunks[i].key] != i:
                vectors[i] = vectors[last[chunks[i].key]]  # type: ignore[index]
        report.embedded = len(todo)
        return vectors if vectors is not None else np.empty((0, dim), dtype=np.float32)

    def _collect_garbage(self, keep_gen: str) -> None:
        gens = sorted(p for p in (self.index_dir / "gens").iterdir() if not p.name.startswith("."))
        for old in gens[: -self.settings.keep_generations]:
            if old.name == keep_gen:
                continue
            try:
                manifest = json.loads((old / "manifest.json").read_text())
                if manifest["store"].get("host"):
                    old_store = VectorStore(serving_location(self.settings, old, manifest))
                    old_store.drop()
                    old_store.close()
            except Exception:  # a broken old generation is deleted all the same
                pass
            shutil.rmtree(old, ignore_errors=True)


# --- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkLayout:
    """Which document each chunk belongs to, as arrays, so retrieval takes per-document maxima with numpy."""

    doc_ids: list[str]  # document index -> id
    doc_of_chunk: np.ndarray  # chunk index -> document index
    order: np.ndarray  # chunk indices grouped by document
    starts: np.ndarray  # document index -> first position in ``order``
    ends: np.ndarray  # document index -> one past its last position in ``order``

    @classmethod
    def of(cls, chunks: list[Chunk]) -> ChunkLayout:
        index: dict[str, int] = {}
        doc_of_chunk = np.fromiter((index.setdefault(c.doc_id, len(index)) for c in chunks), np.int64, len(chunks))
        order = np.argsort(doc_of_chunk, kind="stable")
        counts = np.bincount(doc_of_chunk, minlength=len(index))
        ends = np.cumsum(counts)
        return cls(list(index), doc_of_chunk, order, ends - counts, ends)


@dataclass
class Generation:
    """One complete, immutable index generation, loaded for serving."""

    id: str
    path: Path
    manifest: dict[str, Any]
    kb: KnowledgeBase
    chunks: list[Chunk]
    keyword: Any  # bm25s.BM25
    store: VectorStore
    chunk_index: dict[str, int]

    @classmethod
    def load(cls, settings: Settings, embedder: EmbeddingModel, gen: str | None = None) -> Generation:
        import bm25s

        gen = gen or current_generation(settings.index_dir)
        if not gen:
            raise IndexNotReady(f"no index in {settings.index_dir}: run 'python ingest.py' first")
        path = settings.index_dir / "gens" / gen
        manifest = json.loads((path / "manifest.json").read_text())
        if manifest["embedder"] != embedder.identity:
            raise IndexMismatch(
                f"index {gen} was built with {manifest['embedder']} but BOT_EMBEDDER gives {embedder.identity}: "
                "run 'python ingest.py --rebuild'"
            )
        kb = _generation_knowledge(path, date.fromisoformat(manifest["built_for"]), settings.stale_days)
        chunks = []
        with open(path / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                d.pop("key", None)
                chunks.append(Chunk(**d))
        keyword = bm25s.BM25.load(str(path / "keyword"), show_progress=False, verbosity=0)
        store = VectorStore(serving_location(settings, path, manifest))
        return cls(gen, path, manifest, kb, chunks, keyword, store, {c.id: i for i, c in enumerate(chunks)})

    @cached_property
    def doc_classifier(self) -> DocClassifier | None:
        """Which document a message in another language is about (bot.retrieval.doc_classifier), if trained."""
        return DocClassifier.load(self.path)

    @cached_property
    def layout(self) -> ChunkLayout:
        return ChunkLayout.of(self.chunks)

    @cached_property
    def second(self) -> SecondVectors | None:
        """The second dense leg's vectors (bot.retrieval.second_leg), or None when the generation has none."""
        from bot.retrieval.second_leg import SecondVectors

        return SecondVectors.load(self.path)

    def close(self) -> None:
        """Release the vector store's resources once no request can still be reading this generation."""
        self.store.close()
