"""``POST /api/handoff-click``: the chat page reports (with ``navigator.sendBeacon``) that a parent opened a form or
tapped a phone number, for the EBPM count of hand-offs used (not just offered)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from bot.staff.analytics import click_target
from web.deps import BotDep, LightRateLimit, LogStoreDep
from web.errors import ApiError
from web.schemas import ErrorResponse, HandoffClickRequest

router = APIRouter(prefix="/api", tags=["feedback"])
log = logging.getLogger("web.clicks")


@router.post(
    "/handoff-click",
    status_code=204,
    responses={code: {"model": ErrorResponse} for code in (422, 429, 503)},
    dependencies=[LightRateLimit],
)
def post_click(req: HandoffClickRequest, bot: BotDep, store: LogStoreDep) -> Response:
    target = click_target(bot.generation.kb, req.kind, req.target)
    if target is None:
        raise ApiError(422, "unknown_target", "案内先が見つかりませんでした。")
    try:
        store.record_click(req.kind, target)
    except SQLAlchemyError as e:  # a count lost is not worth an error on the parent's page: logged, 204 all the same
        log.error("log store unwritable, %s click on %s not recorded: %s", req.kind, target, e)
    return Response(status_code=204)
