"""Optional LLM answer writer (langchain, any OpenAI-compatible endpoint or Azure OpenAI), validated, with fallback.

The retrieval layer keeps every decision (emergency, out of scope, clarify, no answer, hand-off). The LLM only
rewrites the text of an ``answer`` from numbered source sections, budgeted with tiktoken. Every reply is validated
before a parent sees it: each [n] must name a provided source, and every number, amount, date and phone number must
occur in the sources it cites (``bot.answering.grounding``, the same check the evals use). On any failure — invalid text,
timeout, HTTP error — the composed extractive answer is shown instead and the reason is logged.

Streaming choice: we stream from the model into a buffer and validate the complete text before sending anything to
the parent, then send it in pieces. A parent therefore never sees a wrong fact that is later corrected; the cost is
that the first characters arrive when the model has finished (a few seconds), which the UI covers with a typing
indicator. Replacing text already shown would be worse for a parent reading on a phone.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answering import messages
from bot.answering.grounding import Violation, check_citations, check_grounded
from bot.answering.results import AnswerKind, AnswerResult, Citation, render_text
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.safety import OutOfScope, detect_out_of_scope, mask_pii
from bot.text.tokens import count_tokens

log = logging.getLogger("bot.answering.llm")


@dataclass(frozen=True)
class Source:
    number: int
    doc_id: str
    title: str
    heading: str
    text: str

    def render(self) -> str:
        return f"[{self.number}] {self.title} / {self.heading}\n{self.text}"


@dataclass
class LLMOutcome:
    used: bool
    text: str = ""
    reason: str = ""
    violations: list[Violation] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    prompt: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def build_sources(kb: KnowledgeBase, doc_ids: list[str], budget_tokens: int, cache_dir: Path | None) -> list[Source]:
    """Number the sections of the given documents (most relevant first) until the token budget is spent."""
    out: list[Source] = []
    used = 0
    for doc_id in doc_ids:
        p = kb.procedures.get(doc_id)
        if not p:
            continue
        for sec in p.sections:
            src = Source(len(out) + 1, p.id, p.title, sec.heading, sec.text)
            cost = count_tokens(src.render(), cache_dir)
            if used + cost > budget_tokens:
                return out
            out.append(src)
            used += cost
    return out


def build_prompt(question: str, sources: list[Source], ward: str = "区") -> list[dict[str, str]]:
    user = messages.load("llm_user").format(
        sources="\n\n".join(s.render() for s in sources), question=mask_pii(question)
    )
    return [
        {"role": "system", "content": messages.load("llm_system").format(ward=ward)},
        {"role": "user", "content": user},
    ]


_MARKER = re.compile(r"\[(\d+)\]")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]「」『』、。]+", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_LINK_MARKUP = re.compile(r"\[[^\]]*\]\([^)]*\)|<\s*/?\s*[a-z!][^>]*>", re.IGNORECASE)  # Markdown links, HTML tags
_SECRETS = re.compile(r"パスワード|暗証番号|password|passcode", re.IGNORECASE)


def validate(text: str, sources: list[Source], allowed_urls: Sequence[str] = ()) -> tuple[list[Violation], list[int]]:
    """Citations must name provided sources; facts must occur in the cited ones; every URL must be one the sources
    or the hand-off give; no link markup, no instruction-following text, no request for a password (a model that
    was prompt-injected through a parent's message must not reach the parent). Returns (violations, cited)."""
    if not text.strip():
        return [Violation("empty reply", "citation")], []
    known = "\n".join([*(s.text for s in sources), *allowed_urls])
    bad = [Violation(u, "url not in sources") for u in _URL.findall(text) if u.rstrip(".,") not in known]
    bad += [Violation(m, "e-mail not in sources") for m in _EMAIL.findall(text) if m not in known]
    if _LINK_MARKUP.search(text):
        bad.append(Violation("link markup", "markup"))
    if detect_out_of_scope(text) is OutOfScope.INJECTION:
        bad.append(Violation("instruction text", "injection"))
    if _SECRETS.search(text) and not _SECRETS.search(known):
        bad.append(Violation("asks for a password", "injection"))
    bad += check_citations(text, len(sources))
    cited = sorted({int(n) for n in _MARKER.findall(text) if 1 <= int(n) <= len(sources)})
    if not cited:
        bad.append(Violation("no [n] citation", "citation"))
    bad += check_grounded(text, [sources[n - 1].text for n in cited] + [sources[n - 1].title for n in cited])
    return bad, cited


def build_chat_model(settings: Settings) -> Any:
    """The langchain chat model for the configured endpoint (OpenAI-compatible or Azure OpenAI)."""
    s = settings
    common: dict[str, Any] = {"temperature": 0, "max_retries": 0, "timeout": s.llm_timeout}
    if s.llm_azure_endpoint:
        from langchain_openai import AzureChatOpenAI

        return AzureChatOpenAI(
            azure_endpoint=s.llm_azure_endpoint,
            azure_deployment=s.llm_azure_deployment or s.llm_model,
            api_version=s.llm_azure_api_version,
            api_key=s.llm_api_key,
            **common,
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=s.llm_base_url, model=s.llm_model, api_key=s.llm_api_key or "not-needed", **common)


class StreamCut(RuntimeError):
    """The model's stream ended without a finish marker: the text may stop mid-sentence."""


class LLMWriter:
    def __init__(self, settings: Settings, kb_provider: Any):
        self.settings = settings
        self._kb = kb_provider  # callable returning the serving KnowledgeBase (it changes on index swaps)
        self._model = self._build_model()
        # One deadline per request (BOT_LLM_TIMEOUT), not per chunk: the stream is read on a small pool of its own,
        # so a model that trickles a chunk every few seconds cannot hold a web worker thread past the deadline, and
        # at most BOT_LLM_MAX_CONCURRENT such streams exist at once (the rest answer without the LLM at once).
        self._pool = ThreadPoolExecutor(max_workers=settings.llm_max_concurrent, thread_name_prefix="llm")
        self._slots = threading.BoundedSemaphore(settings.llm_max_concurrent)

    def _build_model(self) -> Any:
        return build_chat_model(self.settings)

    def _sources_for(self, result: AnswerResult) -> list[Source]:
        doc_ids = [c.doc_id for c in result.citations]
        doc_ids += [c["doc_id"] for c in result.candidates[1:2] if c["doc_id"] not in doc_ids]
        cache = self.settings.data_dir / "cache" / "tiktoken"
        return build_sources(self._kb(), doc_ids, self.settings.llm_context_tokens, cache)

    def _stream_text(self, prompt: list[dict[str, str]]) -> Iterator[str]:
        finished = False
        for chunk in self._model.stream(prompt):
            content = chunk.content if isinstance(chunk.content, str) else ""
            if content:
                yield content
            if (getattr(chunk, "response_metadata", None) or {}).get("finish_reason"):
                finished = True
        if not finished:
            raise StreamCut("the stream ended without a finish marker")

    def _collect(self, prompt: list[dict[str, str]], cancel: threading.Event) -> str:
        try:
            parts = []
            for piece in self._stream_text(prompt):
                if cancel.is_set():  # the request gave up; stop reading as soon as the next chunk arrives
                    break
                parts.append(piece)
            return "".join(parts).strip()
        finally:
            self._slots.release()

    def write(self, result: AnswerResult) -> LLMOutcome:
        """Ask the model for the answer text and validate it. Never raises: failures become ``used=False``."""
        if result.kind is not AnswerKind.ANSWER:
            return LLMOutcome(False, reason="not an answer")
        started = time.monotonic()
        sources = self._sources_for(result)
        ward = self._kb().ward
        prompt = build_prompt(result.question, sources, ward.name if ward else "区")
        outcome = LLMOutcome(False, sources=sources, prompt=prompt)
        if not self._slots.acquire(blocking=False):
            outcome.reason = f"llm busy: {self.settings.llm_max_concurrent} requests already waiting for the model"
            log.warning("LLM fallback (%s)", outcome.reason)
            return outcome
        cancel = threading.Event()
        try:
            future = self._pool.submit(self._collect, prompt, cancel)
        except RuntimeError as e:  # the pool is shut down
            self._slots.release()
            outcome.reason = f"llm error: {e}"
            return outcome
        try:
            text = future.result(timeout=self.settings.llm_timeout)
        except FutureTimeout:
            cancel.set()
            outcome.seconds = time.monotonic() - started
            outcome.reason = f"llm timeout after {outcome.seconds:.1f} s (deadline for the whole request)"
            log.warning("LLM fallback (%s)", outcome.reason)
            return outcome
        except Exception as e:  # network errors, HTTP 5xx, a cut stream: every one falls back to the composed answer
            outcome.reason = f"llm error: {type(e).__name__}: {str(e)[:200]}"
            outcome.seconds = time.monotonic() - started
            log.warning("LLM fallback (%s)", outcome.reason)
            return outcome
        outcome.seconds = time.monotonic() - started
        allowed = [c.url for c in result.citations] + ([result.handoff.url] if result.handoff else [])
        violations, cited = validate(text, sources, allowed)
        outcome.text, outcome.violations, outcome.cited = text, violations, cited
        if violations:
            outcome.reason = "invalid: " + "; ".join(str(v) for v in violations)
            log.warning("LLM fallback (%s)", outcome.reason)
            return outcome
        outcome.used = True
        outcome.reason = "llm"
        return outcome

    def apply(self, result: AnswerResult) -> AnswerResult:
        """Replace the body of an answer with a validated LLM text, keeping sources, hand-off and office."""
        outcome = self.write(result)
        result.llm_reason = outcome.reason
        if not outcome.used:
            return result
        kb = self._kb()
        cited_docs: list[str] = []
        for n in outcome.cited:
            d = outcome.sources[n - 1].doc_id
            if d not in cited_docs:
                cited_docs.append(d)
        by_id = {c.doc_id: c for c in result.citations}
        citations: list[Citation] = []
        for d in cited_docs:
            p = kb.procedures[d]
            citations.append(by_id.get(d) or Citation.of(p, kb.ward))
        result.body = [outcome.text]
        result.citations = citations or result.citations
        result.text = render_text(result)  # the same 出典 / 次の手続き / 問い合わせ lines, from the data, not re-parsed
        result.source_texts = result.source_texts + [s.text for s in outcome.sources]
        return result
