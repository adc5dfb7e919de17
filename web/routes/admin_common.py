"""What every admin router shares: set-up on the app, the role and CSRF dependencies, and the page renderer.

Access rule: no session → 303 to the sign-in page; a session with too low a role → 403; a state-changing request
(every POST) whose form ``csrf`` field is not the session's token → 403. The checks are dependencies
(``ViewerDep``, ``EditorPostDep``...), so a handler cannot forget them; tests walk every route with every role.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from bot.answering.curated import CuratedAnswers
from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel, get_embedder
from bot.retrieval.index import IngestReport
from bot.service import Bot
from bot.staff.auth import Accounts, Role, Session
from bot.staff.drafts import Drafts
from bot.staff.publish import Reindexer
from bot.storage.logstore import LogStore
from web.templating import render

SESSION_COOKIE = "kb_admin"
PRE_COOKIE = "kb_admin_pre"  # CSRF token of the sign-in form (there is no session yet)
COOKIE_PATH = "/admin"


class AdminRedirect(Exception):
    def __init__(self, location: str):
        self.location = location


class AdminForbidden(Exception):
    def __init__(self, message: str = "この操作を行う権限がありません。"):
        self.message = message


def setup(app: FastAPI, settings: Settings, store: LogStore) -> None:
    """Called from the app's lifespan once the log store is migrated."""

    def embedder() -> EmbeddingModel:
        bot: Bot | None = app.state.bot
        return bot.embedder if bot is not None else get_embedder(settings.embedder, settings)

    def refresh(_: IngestReport) -> None:
        bot: Bot | None = app.state.bot
        if bot is not None:
            bot.refresh()

    app.state.accounts = Accounts(store.engine)
    app.state.curated = CuratedAnswers(store.engine, settings.curated_threshold)
    app.state.drafts = Drafts(store.engine)
    app.state.reindexer = Reindexer(settings, embedder, on_done=refresh, engine=store.engine)
    # revisions published on another worker's or machine's admin reach this node's index (bot/staff/publish.py)
    app.state.reindexer.watch(settings.knowledge_poll_seconds)


def install(app: FastAPI) -> None:
    @app.exception_handler(AdminRedirect)
    async def _redirect(_: Request, exc: AdminRedirect) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(AdminForbidden)
    async def _forbidden(request: Request, exc: AdminForbidden) -> Response:
        response = render(request, "admin/error.html", title="権限がありません", message=exc.message, session=None)
        response.status_code = 403
        return response


def get_accounts(request: Request) -> Accounts:
    return request.app.state.accounts  # type: ignore[no-any-return]


def get_curated(request: Request) -> CuratedAnswers:
    return request.app.state.curated  # type: ignore[no-any-return]


def get_drafts(request: Request) -> Drafts:
    return request.app.state.drafts  # type: ignore[no-any-return]


def get_reindexer(request: Request) -> Reindexer:
    return request.app.state.reindexer  # type: ignore[no-any-return]


def optional_bot(request: Request) -> Bot | None:
    bot: Bot | None = request.app.state.bot
    if bot is not None:
        bot.refresh()
    return bot


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
CuratedDep = Annotated[CuratedAnswers, Depends(get_curated)]
DraftsDep = Annotated[Drafts, Depends(get_drafts)]
ReindexerDep = Annotated[Reindexer, Depends(get_reindexer)]
OptionalBotDep = Annotated[Bot | None, Depends(optional_bot)]


def current_session(request: Request) -> Session | None:
    return get_accounts(request).session(request.cookies.get(SESSION_COOKIE))


def tokens_match(a: str | None, b: str | None) -> bool:
    return bool(a and b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def require(role: Role, csrf: bool = False):  # type: ignore[no-untyped-def]
    async def check(request: Request) -> Session:
        session = current_session(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method != "GET":
                target = "/admin"
            raise AdminRedirect(f"/admin/login?next={quote(target, safe='')}")
        if not session.user.can(role):
            raise AdminForbidden()
        if csrf:
            form = await request.form()
            if not tokens_match(str(form.get("csrf") or ""), session.csrf_token):
                raise AdminForbidden(
                    "フォームの有効期限が切れました(CSRF)。ページを読み込み直してからやり直してください。"
                )
        return session

    return check


ViewerDep = Annotated[Session, Depends(require(Role.VIEWER))]
EditorDep = Annotated[Session, Depends(require(Role.EDITOR))]
AdminDep = Annotated[Session, Depends(require(Role.ADMIN))]
ViewerPostDep = Annotated[Session, Depends(require(Role.VIEWER, csrf=True))]
EditorPostDep = Annotated[Session, Depends(require(Role.EDITOR, csrf=True))]
AdminPostDep = Annotated[Session, Depends(require(Role.ADMIN, csrf=True))]


def page(request: Request, template: str, session: Session | None, status: int = 200, **context: Any) -> Response:
    response = render(
        request,
        template,
        session=session,
        csrf=session.csrf_token if session else "",
        Role=Role,
        **context,
    )
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def html_error(request: Request, session: Session | None, status: int, message: str) -> Response:
    return page(request, "admin/error.html", session, status=status, title="エラー", message=message)
