"""``/healthz`` (the process is up) and ``/readyz`` (the index is loaded and answers can be given)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from web.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request) -> JSONResponse:
    bot = request.app.state.bot
    if bot is None:
        error = request.app.state.bot_error
        body = Health(status="error" if error else "loading", detail={"error": error} if error else {})
        return JSONResponse(body.model_dump(), status_code=503)
    # Answers never depend on the log store, so a failing store leaves the bot ready (200) but says "degraded".
    detail = {"generation": bot.generation.id, **request.app.state.logstore.health()}
    return JSONResponse(Health(status="ready", detail=detail).model_dump())
