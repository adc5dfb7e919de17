"""``/admin``: sign-in and sign-out, the dashboard, the conversation log and the audit log."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from bot.config import Settings
from bot.staff.analytics import default_period, load_rows
from bot.staff.auth import SESSION_HOURS, SignInFailed
from web.deps import LogStoreDep, SettingsDep, client_key
from web.ratelimit import retry_after
from web.routes.admin_common import (
    COOKIE_PATH,
    PRE_COOKIE,
    SESSION_COOKIE,
    AccountsDep,
    EditorDep,
    ReindexerDep,
    ViewerDep,
    ViewerPostDep,
    current_session,
    page,
    tokens_match,
)

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local admin paths: an open redirect would let a phishing link bounce through the sign-in page.
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


def _login_page(request: Request, settings: Settings, next_: str, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "admin/login.html", None, status=status, title="職員サインイン", pre_csrf=token,
                    next=next_, error=error)  # fmt: skip
    response.set_cookie(PRE_COOKIE, token, max_age=3600, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=settings.secure_cookies)  # fmt: skip
    return response


SIGN_IN_FAILED = (
    "サインインできませんでした。ユーザー名とパスワードを確かめてください。"
    "続けて失敗すると、しばらくサインインできなくなります(管理者に解除を頼めます)。"
)
SIGN_IN_WAIT = "サインインの試行が多すぎます。しばらく待ってから、もう一度お試しください。"


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: Annotated[str, Query()] = "/admin") -> Response:
    if current_session(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, settings, _safe_next(next))


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    accounts: AccountsDep,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/admin",
) -> Response:
    if not tokens_match(csrf, request.cookies.get(PRE_COOKIE)):
        return _login_page(
            request, settings, _safe_next(next), "フォームの有効期限が切れました。もう一度お試しください。", 403
        )
    wait = request.app.state.login_limiter.hit(client_key(request))
    if wait is not None:
        response = _login_page(request, settings, _safe_next(next), SIGN_IN_WAIT, 429)
        response.headers["Retry-After"] = retry_after(wait)
        return response
    try:
        user = accounts.authenticate(name.strip(), password)
    except SignInFailed as e:
        accounts.audit(name.strip()[:64] or "?", "auth.failed", name.strip()[:64], "locked" if e.locked_until else "")
        # One message for a wrong name, a wrong password and a locked account: the page must not tell which names
        # exist or are locked (the audit log tells staff).
        return _login_page(request, settings, _safe_next(next), SIGN_IN_FAILED, 401)
    session = accounts.start_session(user)
    accounts.audit(user.name, "auth.sign_in")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, session.token, max_age=SESSION_HOURS * 3600, path=COOKIE_PATH, httponly=True,
                        samesite="strict", secure=settings.secure_cookies)  # fmt: skip
    response.delete_cookie(PRE_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
def logout(session: ViewerPostDep, accounts: AccountsDep, settings: SettingsDep) -> Response:
    accounts.end_session(session.token)
    accounts.audit(session.user.name, "auth.sign_out")
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                           secure=settings.secure_cookies)  # fmt: skip
    return response


@router.get("")
def dashboard(request: Request, session: ViewerDep, settings: SettingsDep, store: LogStoreDep,
              reindexer: ReindexerDep) -> Response:  # fmt: skip
    start, end = default_period(settings.current_date(), 7)
    rows = load_rows(store.engine, start, end, settings.tz)
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    bot = request.app.state.bot
    return page(request, "admin/dashboard.html", session, title="管理画面", start=start, end=end, total=len(rows),
                kinds=kinds, reindex=reindexer.status(), generation=bot.generation.id if bot else None)  # fmt: skip


@router.get("/logs")
def logs(request: Request, session: ViewerDep, settings: SettingsDep, store: LogStoreDep,
         kind: Annotated[str, Query(max_length=20)] = "", days: Annotated[int, Query(ge=1, le=366)] = 7) -> Response:  # fmt: skip
    end = settings.current_date()
    rows = load_rows(store.engine, end - timedelta(days=days - 1), end, settings.tz)
    if kind:
        rows = [r for r in rows if r.kind == kind or (kind == "not_helpful" and r.helpful is False)]
    rows = list(reversed(rows))[:500]
    return page(request, "admin/logs.html", session, title="会話ログ", rows=rows, kind=kind, days=days)


@router.get("/audit")
def audit(request: Request, session: EditorDep, accounts: AccountsDep,
          action: Annotated[str, Query(max_length=50)] = "") -> Response:  # fmt: skip
    entries = accounts.audit_entries(300, action or None)
    return page(request, "admin/audit.html", session, title="変更履歴", entries=entries, action=action)
