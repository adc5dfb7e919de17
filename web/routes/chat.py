"""``POST /api/chat``, the same answer as Server-Sent Events at ``/api/chat/stream``, and ``POST /api/furigana``.

Multi-turn: the session's earlier turns (masked question + topic document) come from the log store, keyed by
``session_id``, so the server, not the browser, decides what 「いくら?」 is about.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.answering.results import AnswerResult
from bot.service import Bot
from bot.storage.logstore import LogStore
from bot.text.furigana import furigana, place_readings_for
from web.deps import BotDep, ChatRateLimit, LightRateLimit, LogStoreDep, SettingsDep
from web.errors import ApiError
from web.schemas import (
    ChatRequest,
    ChatResponse,
    EndConversationRequest,
    ErrorResponse,
    FuriganaRequest,
    FuriganaResponse,
    RubySegment,
)

router = APIRouter(prefix="/api", tags=["chat"])
log = logging.getLogger("web.chat")

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorResponse} for code in (400, 413, 422, 429, 503)}
_SENTENCE = re.compile(r"[^。\n]*(?:。|\n|$)")


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


def ruby(paragraphs: list[str], knowledge_dir: Path) -> list[list[RubySegment]]:
    places = place_readings_for(knowledge_dir)  # the ward's place names: 日本堤 is にほんづつみ, not にっぽんてい
    return [[RubySegment(text=s, reading=r) for s, r in furigana(p, places)] for p in paragraphs]


def channel_of(request: Request) -> str:
    """``widget`` when the question comes from the page served at ``/embed`` (the widget's iframe), else ``web``.

    The page's own fetch sends its address as Referer (same origin, and SecurityHeadersMiddleware sets
    strict-origin-when-cross-origin), so the widget needs no extra field; a client that sends no Referer counts as web.
    """
    referer = request.headers.get("referer", "")
    return "widget" if urlsplit(referer).path.rstrip("/") == "/embed" else "web"


def ask_and_record(bot: Bot, store: LogStore, session_id: str, message: str, lang: str | None,
                   channel: str) -> tuple[AnswerResult, int | None]:  # fmt: skip
    """The answer never depends on the log store: when it cannot be read or written (disk full, read-only, gone),
    the parent still gets the answer — an emergency above all — without a message id, and the failure is logged.
    The web chat, the widget and LINE all answer through here, so the decision and the masking are the same."""
    try:
        history = store.history(session_id)
    except SQLAlchemyError as e:
        log.error("log store unreadable, answering without the conversation's history: %s", e)
        history = []
    result = bot.ask(message, history, lang=lang)
    message_id: int | None
    try:
        message_id = store.record_message(session_id, message, result, channel)
    except SQLAlchemyError as e:
        log.error("log store unwritable, answer (kind=%s) not recorded: %s", result.kind.value, e)
        message_id = None
    return result, message_id


def answer_turn(bot: Bot, store: LogStore, req: ChatRequest, channel: str = "web") -> ChatResponse:
    session_id = req.session_id or new_session_id()
    result, message_id = ask_and_record(bot, store, session_id, req.message, req.lang, channel)
    readings = ruby(result.body, bot.settings.knowledge_dir) if req.furigana else None
    return ChatResponse.of(result, session_id, message_id, readings)


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse(resp: ChatResponse) -> Iterator[str]:
    """``meta`` (ids and kind), ``delta`` per sentence of each paragraph, then ``done`` with the whole response."""
    yield _event("meta", {"session_id": resp.session_id, "message_id": resp.message_id, "kind": resp.kind})
    for i, paragraph in enumerate(resp.body):
        for piece in _SENTENCE.findall(paragraph):
            if piece:
                yield _event("delta", {"paragraph": i, "text": piece})
    yield _event("done", resp.model_dump())


def _stream(resp: ChatResponse) -> StreamingResponse:
    return StreamingResponse(
        sse(resp),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "events: meta, delta…, done"}
}


@router.post("/chat", response_model=ChatResponse, responses=ERRORS, dependencies=[ChatRateLimit])
def chat(req: ChatRequest, bot: BotDep, store: LogStoreDep, request: Request) -> ChatResponse:
    """Answer one question. Send back the returned `session_id` with the next question for follow-ups."""
    return answer_turn(bot, store, req, channel_of(request))


@router.post("/chat/stream", responses={**ERRORS, **_SSE_DOC}, dependencies=[ChatRateLimit])
def chat_stream(req: ChatRequest, bot: BotDep, store: LogStoreDep, request: Request) -> StreamingResponse:
    """The same answer as Server-Sent Events (the page reads this with fetch, so errors stay JSON)."""
    return _stream(answer_turn(bot, store, req, channel_of(request)))


@router.get("/chat/stream", responses={**ERRORS, **_SSE_DOC}, dependencies=[ChatRateLimit])
def chat_stream_get(req: Annotated[ChatRequest, Query()], bot: BotDep, store: LogStoreDep,
                    request: Request) -> StreamingResponse:  # fmt: skip
    """For `EventSource` clients: the question in the query string."""
    return _stream(answer_turn(bot, store, req, channel_of(request)))


@router.post("/chat/end", status_code=204, responses=ERRORS, dependencies=[LightRateLimit])
def end_conversation(req: EndConversationRequest, store: LogStoreDep) -> Response:
    """「新しい相談」: the server forgets the session's context (its turns stay in the logs as a closed conversation),
    so a follow-up such as 「じゃあ日曜日は?」 starts afresh even if the same session id is sent again."""
    try:
        store.end_conversation(req.session_id)
    except SQLAlchemyError as e:
        # the page drops the session id as well, so the old context is unreachable from it either way
        log.error("log store unwritable, conversation not closed: %s", e)
        raise ApiError(
            503, "store_unavailable", "ただいま新しい相談を始められません。時間をおいてお試しください。"
        ) from None
    return Response(status_code=204)


@router.post("/furigana", response_model=FuriganaResponse, responses=ERRORS, dependencies=[LightRateLimit])
def furigana_for(req: FuriganaRequest, settings: SettingsDep) -> FuriganaResponse:
    """Ruby segments for texts already shown (used when a parent turns ふりがな on after an answer arrived)."""
    return FuriganaResponse(ruby=ruby(req.texts, settings.knowledge_dir))
