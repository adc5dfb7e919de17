"""Dependency aliases: handlers ask for ``BotDep``, ``LogStoreDep``, ``SettingsDep`` and get what ``create_app`` built."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.datastructures import State

from bot.config import Settings
from bot.retrieval.index import IndexMismatch, IndexNotReady
from bot.service import Bot
from bot.storage.logstore import LogStore
from web.errors import ApiError
from web.ratelimit import RateLimiter, retry_after

log = logging.getLogger("web")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_logstore(request: Request) -> LogStore:
    return request.app.state.logstore  # type: ignore[no-any-return]


def get_bot(request: Request) -> Bot:
    """The loaded bot, switched to the newest published index generation (a cheap pointer-file read)."""
    bot = ready_bot(request.app.state)
    if bot is None:
        raise ApiError(503)
    return bot


def ready_bot(state: State) -> Bot | None:
    """``get_bot`` outside a request (LINE answers in a background task): None while the bot is still loading."""
    bot: Bot | None = state.bot
    if bot is None:
        return None
    try:
        bot.refresh()
    except (IndexMismatch, IndexNotReady, OSError, ValueError):
        # A broken new generation must not take the service down: keep answering from the one already loaded.
        log.exception("could not switch to the newly published index; still serving %s", bot.generation.id)
    return bot


def client_key(request: Request) -> str:
    # Behind a reverse proxy, set BOT_FORWARDED_ALLOW_IPS to its address so request.client is the parent's address;
    # otherwise X-Forwarded-For is ignored (anyone could pick the key the limits count).
    return request.client.host if request.client else "unknown"


def _limit(limiter_name: str):  # type: ignore[no-untyped-def]
    def check(request: Request) -> None:
        limiter: RateLimiter = getattr(request.app.state, limiter_name)
        wait = limiter.hit(client_key(request))
        if wait is not None:
            raise ApiError(429, headers={"Retry-After": retry_after(wait)})

    return check


SettingsDep = Annotated[Settings, Depends(get_settings)]
LogStoreDep = Annotated[LogStore, Depends(get_logstore)]
BotDep = Annotated[Bot, Depends(get_bot)]
ChatRateLimit = Depends(_limit("chat_limiter"))
LightRateLimit = Depends(_limit("light_limiter"))


# A database id in a path: out-of-range numbers (2**63) are a 422, not an overflow deep in the driver (a 500).
DbId = Annotated[int, Path(ge=1, le=2**31 - 1)]
