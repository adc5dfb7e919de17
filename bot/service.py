"""The bot as one object: embedder, serving index generation, retriever and answerer, built once per process.

``refresh()`` picks up a new generation published by ``ingest.py`` (or the admin UI): the new one is loaded completely
first and then swapped in with one assignment, so requests in flight finish on the old one and none sees half an index.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import threading
import time
from datetime import date
from typing import Protocol

from bot.answering.answer import Answerer
from bot.answering.results import AnswerKind, AnswerResult, Turn
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.retrieval.embeddings import EmbeddingModel, get_embedder
from bot.retrieval.index import Generation, Indexer, current_generation
from bot.retrieval.retrieve import Retriever
from bot.retrieval.second_leg import SecondLeg

log = logging.getLogger("bot")


class CuratedSource(Protocol):
    """Staff-approved answers (bot.answering.curated.CuratedAnswers): a reply for the question, or None."""

    def respond(self, question: str, kb: KnowledgeBase, today: date) -> AnswerResult | None: ...


class Bot:
    def __init__(self, settings: Settings, embedder: EmbeddingModel | None = None):
        self.settings = settings
        self.embedder = embedder or get_embedder(settings.embedder, settings)
        self._lock = threading.Lock()
        self.generation = Generation.load(settings, self.embedder)
        self._retired: Generation | None = None
        self.retriever = Retriever(self.generation, self.embedder, settings.dense_weight, second=SecondLeg(settings))
        self.answerer = Answerer(self.retriever)
        self.curated: CuratedSource | None = None  # set by the web app; checked before the composed answer
        self.llm = None
        if settings.llm_enabled:
            from bot.answering.llm import LLMWriter

            self.llm = LLMWriter(settings, lambda: self.generation.kb)

    @classmethod
    def build_if_missing(cls, settings: Settings) -> Bot:
        """Start-up helper for ``make run``: ingest once when no index exists yet."""
        embedder = get_embedder(settings.embedder, settings)
        if current_generation(settings.index_dir) is None:
            # Workers started together (--workers 2) on a fresh machine: one builds, the others wait and then load it
            # (the ingest's own lock refuses a second ingest outright, which left those workers without a bot).
            settings.index_dir.mkdir(parents=True, exist_ok=True)
            with open(settings.index_dir / ".first-build.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    if current_generation(settings.index_dir) is None:
                        log.info("no index yet: building it from %s", settings.knowledge_dir)
                        Indexer(settings, embedder).update()
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        return cls(settings, embedder)

    def warm_up(self, sentences: bool = True) -> None:
        """Load what loads lazily (embedder weights, Sudachi's dictionary) so the first question is not slow;
        ``sentences``: also the sentence vectors the composer compares questions with (about 1,000 sentences, ~2 s;
        without them each document's are computed on its first question, ~40 ms)."""
        self.retriever.search("保育園の申込はいつまでですか")
        self.answerer.triage.assess("保育園の申込はいつまでですか")
        if sentences:
            self.warm_sentences()

    def warm_sentences(self) -> None:
        self.answerer.composer.warm(list(self.generation.kb.procedures.values()))
        self.answerer.warm(self.generation.kb)

    def refresh(self) -> bool:
        """Swap to the newest published generation. Returns True when it changed."""
        gen_id = current_generation(self.settings.index_dir)
        if not gen_id or gen_id == self.generation.id:
            return False
        with self._lock:
            if gen_id == self.generation.id:
                return False
            new = Generation.load(self.settings, self.embedder, gen_id)
            old = self.generation
            self.generation = new
            self.retriever.swap(new)
            # Requests pin the generation they started on, so the one just replaced may still be read for a moment:
            # close the one before it instead (at most two generations open).
            if self._retired is not None:
                self._retired.close()
            self._retired = old
            log.info("index generation %s now serving", gen_id)
            return True

    def ask(self, question: str, history: list[Turn] | None = None, lang: str | None = None) -> AnswerResult:
        """``lang``: the language the parent chose (the page's language switch); otherwise the message's own."""
        started = time.perf_counter()
        # Safety decides first, once: an emergency never meets a curated answer, a clarify question or the LLM.
        decision, detected = self.answerer.triage.examine(question.strip())
        if decision is not None and lang:
            decision = dataclasses.replace(decision, lang=lang)
        if decision is not None:
            result = self.answerer.answer(question, history, safety=decision)
            result.latency_ms = (time.perf_counter() - started) * 1000
            return result
        if self.curated is not None:
            # curated.respond leaves emergencies and out-of-scope questions to the answerer, so safety still wins
            curated = self.curated.respond(question, self.generation.kb, self.settings.current_date())
            if curated is not None:
                curated.latency_ms = (time.perf_counter() - started) * 1000
                return curated
        result = self.answerer.answer(question, history, safety=None, lang=lang or detected)
        if self.llm is not None and result.kind is AnswerKind.ANSWER and result.lang == "ja":
            result = self.llm.apply(result)
            result.latency_ms = (time.perf_counter() - started) * 1000
        return result
