"""Staff editing of the knowledge folder: document status, validating an edit, publishing it, and the background re-index.

An edit is validated in a temporary copy of the whole knowledge folder (so cross-file checks such as alias collisions
and unknown form ids run too) and written only when it has no errors. Publishing then asks the :class:`Reindexer` for
the same incremental, atomic re-index as ``ingest.py``; it runs on a background thread while the serving generation
keeps answering, and ``on_done`` (the web app passes ``bot.refresh``) switches to the new generation.

Every publish is also recorded in the database (``knowledge_revisions``), so the other workers and machines that share
it write the same text into their own knowledge folders and rebuild their own index (see :class:`Reindexer`).
"""

from __future__ import annotations

import difflib
import fcntl
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.answering.results import AnswerResult
from bot.config import Settings
from bot.knowledge import ID_RE, KnowledgeBase, KnowledgeError, Problem, load_knowledge, split_front_matter
from bot.knowledge.ja import ingest_summary, stage_label, translate_reindex_error
from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import Indexer, IngestReport
from bot.storage.logstore import upsert
from bot.storage.tables import index_nodes, knowledge_revisions

log = logging.getLogger("bot.staff.publish")

STATUSES = ("ok", "stale", "expired", "invalid")
_write_lock = threading.Lock()


class UnknownDocument(LookupError):
    """No procedure document with that id."""


@dataclass(frozen=True)
class DocumentRow:
    id: str
    title: str
    category: str
    status: str  # ok / stale / expired / invalid
    checked: str
    valid_until: str
    errors: int
    warnings: int


def procedures_dir(settings: Settings) -> Path:
    return settings.knowledge_dir / "procedures"


def doc_path(settings: Settings, doc_id: str) -> Path:
    if not ID_RE.match(doc_id) or len(doc_id) > 100:
        raise UnknownDocument(doc_id)
    return procedures_dir(settings) / f"{doc_id}.md"


def _rel(settings: Settings, doc_id: str) -> str:
    return f"{settings.knowledge_dir.name}/procedures/{doc_id}.md"


def read_document(settings: Settings, doc_id: str) -> str:
    path = doc_path(settings, doc_id)
    if not path.is_file() or path.is_symlink():  # a link could show a file from outside knowledge/
        raise UnknownDocument(doc_id)
    # A file saved in another encoding opens with replacement characters; the validator says "not valid UTF-8"
    # and publishing writes it back as UTF-8, instead of a 500.
    return path.read_text(encoding="utf-8", errors="replace")


def _loose_meta(text: str) -> dict[str, Any]:
    """Best-effort front matter of a document that may be invalid (for listing its title and category)."""
    try:
        fm, _, _ = split_front_matter(text)
        meta = yaml.safe_load(fm)
    except (ValueError, yaml.YAMLError):
        return {}
    return meta if isinstance(meta, dict) else {}


def list_documents(settings: Settings, kb: KnowledgeBase | None = None) -> list[DocumentRow]:
    today = settings.current_date()
    kb = kb or load_knowledge(settings.knowledge_dir, today, settings.stale_days)
    by_file: dict[str, list[Problem]] = {}
    for p in kb.problems:
        by_file.setdefault(p.path, []).append(p)
    rows = []
    for path in sorted(procedures_dir(settings).glob("*.md")):
        doc_id = path.stem
        problems = by_file.get(_rel(settings, doc_id), [])
        errors = sum(1 for p in problems if p.level == "error")
        warnings = len(problems) - errors
        proc = kb.procedures.get(doc_id)
        if proc is not None and not errors:
            rows.append(
                DocumentRow(
                    doc_id, proc.title, proc.category, proc.status(today, settings.stale_days),
                    proc.checked.isoformat(), proc.valid_until.isoformat() if proc.valid_until else "", 0, warnings,
                )
            )  # fmt: skip
            continue
        meta = _loose_meta(path.read_text(encoding="utf-8", errors="replace"))
        rows.append(
            DocumentRow(
                doc_id, str(meta.get("title") or doc_id), str(meta.get("category") or ""), "invalid",
                str(meta.get("checked") or ""), str(meta.get("valid_until") or ""), max(errors, 1), warnings,
            )
        )  # fmt: skip
    return rows


@dataclass
class Validation:
    problems: list[Problem]  # of the edited file
    other_errors: list[Problem]  # errors elsewhere in the folder (publishing would fail on them too)
    kb: KnowledgeBase
    doc_id: str

    @property
    def ok(self) -> bool:
        return not self.other_errors and not any(p.level == "error" for p in self.problems)


def _front_matter_id(text: str) -> str | None:
    pid = _loose_meta(text).get("id")
    return str(pid) if pid else None


def target_id(text: str, fallback: str) -> str:
    """The file a text is published to: its front-matter ``id`` when that is a valid id, else ``fallback``."""
    pid = _front_matter_id(text)
    return pid if pid and ID_RE.match(pid) and len(pid) <= 100 else fallback


def _validate_in_copy(settings: Settings, name: str, text: str, doc_id: str) -> Validation:
    """Validate ``text`` as ``<knowledge>/<name>`` in a temporary copy of the whole knowledge folder."""
    with tempfile.TemporaryDirectory(prefix="kb-edit-") as tmp:
        copy = Path(tmp) / settings.knowledge_dir.name
        shutil.copytree(settings.knowledge_dir, copy)
        (copy / "procedures").mkdir(exist_ok=True)
        (copy / name).write_text(text, encoding="utf-8")
        kb = load_knowledge(copy, settings.current_date(), settings.stale_days)
    rel = f"{settings.knowledge_dir.name}/{name}"
    mine = [p for p in kb.problems if p.path == rel]
    others = [p for p in kb.problems if p.path != rel and p.level == "error"]
    return Validation(mine, others, kb, doc_id)


def validate_text(settings: Settings, doc_id: str, text: str) -> Validation:
    """Validate ``text`` as ``procedures/<doc_id>.md`` in a temporary copy of the knowledge folder."""
    doc_path(settings, doc_id)  # checks the id
    return _validate_in_copy(settings, f"procedures/{doc_id}.md", text, doc_id)


# The folder's two lists staff edit besides the documents (the same validator; publishing re-indexes the same way).
CONFIG_FILES = {"forms": "forms.yaml", "offices": "offices.yaml"}


def config_path(settings: Settings, name: str) -> Path:
    if name not in CONFIG_FILES:
        raise UnknownDocument(name)
    return settings.knowledge_dir / CONFIG_FILES[name]


def read_config(settings: Settings, name: str) -> str:
    path = config_path(settings, name)
    if path.is_symlink():
        raise UnknownDocument(name)
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else f"{name}: []\n"


def validate_config(settings: Settings, name: str, text: str) -> Validation:
    """Validate ``text`` as forms.yaml / offices.yaml with the rest of the folder (a form or office that documents
    still name cannot be removed: their 'unknown form id' errors block publishing)."""
    config_path(settings, name)
    return _validate_in_copy(settings, CONFIG_FILES[name], text, name)


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n")
    return text if text.endswith("\n") else text + "\n"


def _write_validated(path: Path, text: str, result: Validation, name: str) -> str:
    if not result.ok:
        raise KnowledgeError([p for p in result.problems if p.level == "error"] + result.other_errors)
    old = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return unified_diff(old, text, name)


def write_config(settings: Settings, name: str, text: str) -> str:
    """Validate and write forms.yaml / offices.yaml atomically. Returns the unified diff. Raises KnowledgeError."""
    text = _normalise(text)
    with _write_lock:
        return _write_validated(config_path(settings, name), text, validate_config(settings, name, text),
                                CONFIG_FILES[name])  # fmt: skip


def unified_diff(old: str, new: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}")
    )


def write_document(settings: Settings, doc_id: str, text: str) -> str:
    """Validate and write ``procedures/<doc_id>.md`` atomically. Returns the unified diff. Raises KnowledgeError."""
    text = _normalise(text)
    with _write_lock:
        return _write_validated(doc_path(settings, doc_id), text, validate_text(settings, doc_id, text),
                                f"procedures/{doc_id}.md")  # fmt: skip


# --- the background re-index ----------------------------------------------------------------------------------------


@dataclass
class ReindexStatus:
    running: bool = False
    stage: str = ""
    done: int = 0
    total: int = 0
    requested: int = 0  # the newest knowledge revision (ticket) recorded, on any node
    completed: int = 0  # the highest revision a finished run on this node covered (successfully or not)
    ok: bool | None = None  # outcome of the last finished run
    error: str = ""
    summary: str = ""
    summary_ja: str = ""  # what staff read (the English summary/error stay for logs)
    error_ja: str = ""
    stage_ja: str = ""
    generation: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    history: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "history"}
        d["percent"] = int(100 * self.done / self.total) if self.total else (100 if not self.running else 0)
        d["stage_ja"] = stage_label(self.stage)
        return d


def node_name(settings: Settings) -> str:
    """This machine's name in ``index_nodes``: every worker on one data folder is one node (they share its index)."""
    return f"{socket.gethostname()}:{settings.data_dir}"[:255]


def _safe_relpath(rel: str) -> Path:
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"knowledge revision path {rel!r} is outside the knowledge folder")
    return p


class Reindexer:
    """Keeps this node's index at the newest published knowledge revision, and tells every worker how far it is.

    Several workers and machines share one database. A publish is recorded as a row in ``knowledge_revisions`` (the
    file's text with it); its id is the ticket staff wait on. Each node (one data folder, however many workers) keeps
    its status in ``index_nodes``: ``completed`` is the highest revision its serving index covers. A node behind the
    newest revision writes the published texts into its own knowledge folder and rebuilds its own index generation
    (incremental: unchanged chunks keep their vectors) -- nodes *rebuild*, they do not copy another node's index.
    One worker per node does it (a file lock in the data folder); the others pick the new generation up from
    ``CURRENT`` on their next request. ``watch`` polls for revisions published on other nodes.
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Callable[[], EmbeddingModel],
        on_done: Callable[[IngestReport], None] | None = None,
        *,
        engine: Engine,
        node: str | None = None,
    ):
        self.settings = settings
        self.embedder = embedder
        self.on_done = on_done
        self.engine = engine
        self.node = node or node_name(settings)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._last_progress = 0.0

    # ---- shared state ----
    def _latest(self, conn: Connection) -> int:
        return int(conn.scalar(select(func.max(knowledge_revisions.c.id))) or 0)

    def status(self) -> ReindexStatus:
        with self.engine.connect() as conn:
            requested = self._latest(conn)
            row = conn.execute(select(index_nodes).where(index_nodes.c.node == self.node)).first()
        if row is None:
            return ReindexStatus(requested=requested)
        return ReindexStatus(
            running=bool(row.running), stage=row.stage, done=row.done, total=row.total, requested=requested,
            completed=row.completed, ok=row.ok, error=row.error, summary=row.summary, generation=row.generation,
            summary_ja=row.summary_ja or "", error_ja=translate_reindex_error(row.error or ""),
            started_at=row.started_at, finished_at=row.finished_at, history=list(row.history or []),
        )  # fmt: skip

    def _save(self, s: ReindexStatus) -> None:
        row = {
            "node": self.node, "completed": s.completed, "running": s.running, "stage": s.stage, "done": s.done,
            "total": s.total, "ok": s.ok, "error": s.error, "summary": s.summary, "summary_ja": s.summary_ja,
            "generation": s.generation,
            "started_at": s.started_at, "finished_at": s.finished_at, "history": s.history, "updated_at": _utcnow(),
        }  # fmt: skip
        with self.engine.begin() as conn:
            upsert(conn, index_nodes, row, ["node"], [k for k in row if k != "node"])

    # ---- asking ----
    def request(self, actor: str = "", path: str | None = None, text: str | None = None) -> int:
        """Record a revision (a published file, or with no ``path`` a plain re-index) and start covering it here.
        Returns the ticket: the change is live on a node once its ``status().completed >= ticket``."""
        if path is not None:
            _safe_relpath(path)
        with self.engine.begin() as conn:
            ticket = int(
                conn.execute(
                    insert(knowledge_revisions).values(at=_utcnow(), actor=actor[:64], path=path, text=text)
                ).inserted_primary_key[0]  # type: ignore[index]
            )
        self._kick()
        return ticket

    def wait(self, ticket: int, timeout: float = 120) -> ReindexStatus:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.status()
            if s.completed >= ticket:
                return s
            time.sleep(0.1)
        raise TimeoutError(f"re-index ticket {ticket} not done after {timeout} s")

    def watch(self, interval: float) -> None:
        """Poll the database every ``interval`` seconds for revisions this node has not covered (published on another
        node, or left over from a run that was killed), and cover them."""

        def loop() -> None:
            while not self._stop.wait(interval):
                self.check()

        self.check()
        self._watcher = threading.Thread(target=loop, name="knowledge-watch", daemon=True)
        self._watcher.start()

    def check(self) -> None:
        try:
            s = self.status()
        except SQLAlchemyError as e:
            log.warning("cannot read the knowledge revision: %s", e)
            return
        if s.requested > s.completed:
            self._kick()

    def close(self) -> None:
        self._stop.set()

    # ---- running ----
    def _kick(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="reindex", daemon=True)
                self._thread.start()

    def _progress(self, s: ReindexStatus, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        changed_stage = stage != s.stage
        s.stage, s.done, s.total = stage, done, total
        if changed_stage or done == total or now - self._last_progress > 0.5:  # not one write per embedded batch
            self._last_progress = now
            self._save(s)

    def _loop(self) -> None:
        try:
            while True:
                with node_lock(self.settings.data_dir) as mine:
                    if not mine:
                        return  # another worker on this node is covering it (and re-checks after it lets go)
                    while self._run_once():
                        pass
                # a revision recorded while we held the lock, by a worker that then found it held: ours to cover
                s = self.status()
                if s.requested <= s.completed:
                    return
        except SQLAlchemyError:
            log.exception("re-index status could not be read or written")
        finally:
            with self._lock:
                self._thread = None

    def _run_once(self) -> bool:
        """Cover the newest revision, if this node has not. Returns False when there was nothing to do."""
        s = self.status()
        covering = s.requested
        if covering <= s.completed:
            return False
        s.running, s.stage, s.done, s.total, s.started_at, s.error = True, "validate", 0, 0, time.time(), ""
        self._save(s)
        ok, error, summary, summary_ja, gen = False, "", "", "", ""
        try:
            self._apply_revisions(s.completed, covering)
            report = Indexer(self.settings, self.embedder()).update(
                progress=lambda stage, done, total: self._progress(s, stage, done, total)
            )
            ok, summary, gen = True, report.summary(), report.generation
            summary_ja = ingest_summary(len(report.added), len(report.changed), len(report.removed),
                                        len(report.unchanged), len(report.excluded), report.chunks,
                                        report.seconds)  # fmt: skip
            if self.on_done is not None:
                self.on_done(report)
        except KnowledgeError as e:
            error = "knowledge has errors:\n" + "\n".join(str(p) for p in e.problems[:20])
        except Exception as e:  # noqa: BLE001 - a background job: shown on the admin page and logged, never lost
            log.exception("re-index failed")
            error = f"{type(e).__name__}: {e}"
        s.running, s.ok, s.error, s.summary, s.finished_at = False, ok, error, summary, time.time()
        s.summary_ja, s.error_ja = summary_ja, translate_reindex_error(error)
        s.completed = covering
        if gen:
            s.generation = gen
        s.stage = "done" if ok else "failed"
        s.history = ([f"{self.settings.now():%H:%M:%S} {summary_ja or s.error_ja}"] + s.history)[:10]
        self._save(s)
        return True

    def _apply_revisions(self, after: int, upto: int) -> None:
        """Write the texts published since ``after`` (on any node) into this node's knowledge folder, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(knowledge_revisions.c.path, knowledge_revisions.c.text)
                .where(knowledge_revisions.c.id > after, knowledge_revisions.c.id <= upto)
                .where(knowledge_revisions.c.path.is_not(None))
                .order_by(knowledge_revisions.c.id)
            ).all()
        latest: dict[str, str] = {}
        for rel, text in rows:
            latest[rel] = text or ""
        with _write_lock:
            for rel, text in latest.items():
                path = self.settings.knowledge_dir / _safe_relpath(rel)
                if path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text:
                    continue  # published on this node: already written
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
                log.info("knowledge revision applied: %s", rel)


@contextmanager
def node_lock(data_dir: Path) -> Iterator[bool]:
    """Non-blocking: yields True to the one worker of this data folder that may re-index now, False to the others."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".reindex.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- preview --------------------------------------------------------------------------------------------------------


@dataclass
class PreviewItem:
    question: str
    kind: str  # the edited answer's kind
    cited: list[str]  # document ids the edited answer cites
    sections: list[str]  # the sections the edited answer quotes
    body: list[str]  # the edited answer: what parents will read once this is published
    now_kind: str  # the answer parents get today, from the serving index
    now_body: list[str]
    edited_sections: list[tuple[str, str]]  # (heading, text) of the edited document that the question asks about


def _seed_vectors(serving: Path | None, index_dir: Path) -> None:
    """Give the throw-away index the serving generation's vectors, both dense legs', so only the edited document's
    chunks are embedded (embedding the whole folder per preview takes minutes: the second leg alone took 60 s for the
    real knowledge, and the admin preview timed out in CI)."""
    from bot.retrieval.second_leg import KEYS, VECTORS

    if serving is None or not (serving / "manifest.json").is_file():
        return
    seed = index_dir / "gens" / "seed"
    seed.mkdir(parents=True)
    for name in ("manifest.json", "vectors.npy", "vector_keys.json", VECTORS, KEYS):
        if (serving / name).is_file():
            shutil.copy2(serving / name, seed / name)
    (index_dir / "CURRENT").write_text("seed", encoding="utf-8")


def preview(
    settings: Settings,
    validation: Validation,
    text: str,
    embedder: EmbeddingModel,
    ask_now: Callable[[str], AnswerResult],
    serving_generation: Path | None = None,
) -> list[PreviewItem]:
    """How the bot will answer the edited document's ``questions``, next to how it answers them today.

    The edited answers come from a throw-away index generation built from a temporary copy of the knowledge folder
    holding the edited text (embedded Chroma in the temporary folder, whatever the serving store is); parents keep
    getting the serving index's answers until the document is published.
    """
    from bot.answering.question import cue_aspects
    from bot.service import Bot

    proc = validation.kb.procedures.get(validation.doc_id)
    if proc is None:
        return []
    questions = (list(proc.questions) or [f"{proc.title}について教えて"])[:8]
    with tempfile.TemporaryDirectory(prefix="kb-preview-") as tmp:
        kdir = Path(tmp) / settings.knowledge_dir.name
        shutil.copytree(settings.knowledge_dir, kdir)
        (kdir / "procedures").mkdir(exist_ok=True)
        (kdir / "procedures" / f"{validation.doc_id}.md").write_text(text, encoding="utf-8")
        temp = settings.model_copy(update={"data_dir": Path(tmp) / "data", "knowledge_dir": kdir, "chroma_host": None})
        _seed_vectors(serving_generation, temp.index_dir)
        Indexer(temp, embedder).update()
        edited_bot = Bot(temp, embedder)
        try:
            answers = [edited_bot.ask(q) for q in questions]
        finally:
            edited_bot.generation.close()
    items = []
    for q, r in zip(questions, answers, strict=True):
        now = ask_now(q)
        wanted = [proc.section(a) for a in cue_aspects(q) if a != "contact"]
        secs = [s for s in wanted if s is not None] or [s for s in (proc.section("overview"),) if s is not None]
        items.append(
            PreviewItem(
                q,
                r.kind.value,
                [c.doc_id for c in r.citations],
                list(r.sections),
                list(r.body),
                now.kind.value,
                list(now.body),
                [(s.heading, s.text) for s in secs],
            )  # fmt: skip
        )
    return items
