"""The web app factory. ``create_app(settings)`` wires settings, the bot, the log store and the routers together.

Nothing heavy happens at import or in ``create_app``: the lifespan migrates the log store and loads the bot (building
the index first when there is none) on a background thread, so ``/healthz`` answers at once and ``/readyz`` turns
ready when the index is loaded. Tests pass a ready ``bot`` to share one across several apps.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from bot.config import Settings
from bot.service import Bot
from bot.storage.logstore import LogStore
from web import errors
from web.ratelimit import RateLimiter
from web.routes import (
    admin,
    admin_analytics,
    admin_common,
    admin_curated,
    admin_knowledge,
    admin_users,
    chat,
    clicks,
    feedback,
    health,
    line,
    pages,
)
from web.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from web.server import BodyTimeout
from web.templating import STATIC_DIR, make_templates

log = logging.getLogger("web")

MAX_BODY_BYTES = 32 * 1024
ADMIN_MAX_BODY_BYTES = 6 * 1024 * 1024  # uploads of ward PDFs / Word files and whole documents in the editor
LINE_MAX_BODY_BYTES = 1024 * 1024  # LINE batches events: several 5,000-character messages pass 32 KB


def _load_bot(app: FastAPI, settings: Settings) -> None:
    try:
        loaded = Bot.build_if_missing(settings)
        loaded.warm_up(sentences=False)  # the embedder weights and Sudachi now, not in the first parent's request
        loaded.curated = getattr(app.state, "curated", None)
        app.state.bot = loaded
        log.info("bot ready on index generation %s", app.state.bot.generation.id)
        loaded.warm_sentences()  # while already serving: a document's first question would otherwise pay ~40 ms
    except Exception as e:  # noqa: BLE001 - reported by /readyz and the log; the process stays up for /healthz
        log.exception("the bot could not be loaded")
        app.state.bot_error = f"{type(e).__name__}: {e}"


def create_app(settings: Settings | None = None, bot: Bot | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = LogStore(settings.database_url)
        store.migrate()
        app.state.logstore = store
        # Counted in the database, so every worker and machine shares one limit per client (web/ratelimit.py).
        app.state.chat_limiter = RateLimiter(store.engine, "chat", settings.rate_limit_per_minute)
        # feedback and furigana are cheap, but still bounded per client
        app.state.light_limiter = RateLimiter(store.engine, "light", settings.rate_limit_per_minute * 4)
        # Sign-in attempts per address (any account names): 10 in 5 minutes, beside the per-account lock.
        app.state.login_limiter = RateLimiter(store.engine, "login", settings.login_attempts_per_5min, window=300.0)
        admin_common.setup(app, settings, store)
        if bot is not None:
            bot.curated = app.state.curated
        app.state.bot = bot
        app.state.bot_error = None
        if bot is None:
            threading.Thread(target=_load_bot, args=(app, settings), name="bot-loader", daemon=True).start()
        yield
        app.state.reindexer.close()
        store.close()
        if getattr(app.state, "line", None) is not None:
            app.state.line.close()

    app = FastAPI(
        title="kosodate-bot API (子育てチャット)",
        description="Answers parents' questions about Taito ward childcare procedures, with sources and hand-offs.",
        version="1.0",
        lifespan=lifespan,
        # Swagger UI loads from a CDN with inline script, which the CSP forbids; the schema is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.bot = bot
    app.state.bot_error = None
    app.state.templates = make_templates(settings.tz)

    errors.install(app)
    admin_common.install(app)
    app.include_router(chat.router)
    app.include_router(feedback.router)
    app.include_router(clicks.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    for admin_router in (admin, admin_knowledge, admin_curated, admin_analytics, admin_users):
        app.include_router(admin_router.router)
    line.setup(app, settings)  # POST /line/webhook, only when both LINE settings are set
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=MAX_BODY_BYTES,
        prefix_limits={"/admin/": ADMIN_MAX_BODY_BYTES, "/line/": LINE_MAX_BODY_BYTES},
    )
    app.add_middleware(SecurityHeadersMiddleware, frame_origins=settings.frame_ancestors)
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout)
    return app
