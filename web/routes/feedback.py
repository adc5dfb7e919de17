"""``POST /api/feedback``: 役に立った / 役に立たなかった on one answer, with an optional (masked) comment."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.logstore import UnknownMessage
from web.deps import LightRateLimit, LogStoreDep
from web.errors import ApiError
from web.schemas import ErrorResponse, FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/api", tags=["feedback"])
log = logging.getLogger("web.feedback")


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses={code: {"model": ErrorResponse} for code in (400, 404, 422, 429, 503)},
    dependencies=[LightRateLimit],
)
def post_feedback(req: FeedbackRequest, store: LogStoreDep) -> FeedbackResponse:
    try:
        fid = store.record_feedback(req.message_id, req.helpful, req.comment, req.session_id)
    except UnknownMessage:
        raise ApiError(404, "unknown_message", "評価する回答が見つかりませんでした。") from None
    except SQLAlchemyError as e:
        log.error("log store unwritable, feedback on message %s not recorded: %s", req.message_id, e)
        raise ApiError(
            503, "store_unavailable", "ただいま評価を受け付けられません。時間をおいてお試しください。"
        ) from None
    return FeedbackResponse(feedback_id=fid)
