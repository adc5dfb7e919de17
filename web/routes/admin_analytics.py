"""``/admin/analytics`` (EBPM charts as server-rendered SVG), its CSV export, and the unanswered-questions queue."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from bot.knowledge import KnowledgeBase, load_knowledge
from bot.service import Bot
from bot.staff.analytics import (
    CHANNEL_NAMES,
    WEEKDAYS,
    comments_csv,
    comparison,
    compute,
    default_period,
    feedback_comments,
    messages_csv,
    summary_csv,
)
from web.deps import LogStoreDep, SettingsDep
from web.routes.admin_common import ViewerDep, html_error, page

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)

MAX_DAYS = 731


def _kb(request: Request, settings: SettingsDep) -> KnowledgeBase:
    bot: Bot | None = request.app.state.bot
    if bot is not None:
        return bot.generation.kb
    return load_knowledge(settings.knowledge_dir, settings.current_date(), settings.stale_days)


EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # 0001-01-01 or 9999-12-31 overflowed to a 500


def _period(settings: SettingsDep, start: str, end: str) -> tuple[date, date]:
    d_start, d_end = default_period(settings.current_date())
    try:
        if start:
            d_start = date.fromisoformat(start)
        if end:
            d_end = date.fromisoformat(end)
    except ValueError:
        raise ValueError("日付は YYYY-MM-DD の形で入力してください。") from None
    if not (EARLIEST <= d_start <= LATEST and EARLIEST <= d_end <= LATEST):
        raise ValueError(f"日付は{EARLIEST.year}年から{LATEST.year}年の間で入力してください。")
    if d_end < d_start:
        raise ValueError("終了日が開始日より前です。")
    if (d_end - d_start).days >= MAX_DAYS:
        raise ValueError(f"期間は{MAX_DAYS}日以内にしてください。")
    return d_start, d_end


StartQ = Annotated[str, Query(max_length=10)]
EndQ = Annotated[str, Query(max_length=10)]


@router.get("/analytics")
def analytics(request: Request, session: ViewerDep, settings: SettingsDep, store: LogStoreDep,
              start: StartQ = "", end: EndQ = "") -> Response:  # fmt: skip
    try:
        d_start, d_end = _period(settings, start, end)
    except ValueError as e:
        return html_error(request, session, 422, str(e))
    kb = _kb(request, settings)
    report = compute(store.engine, kb, d_start, d_end, settings.minutes_per_call, settings.tz, compare=True)
    titles = {pid: p.title for pid, p in kb.procedures.items()}
    forms = {fid: f.title for fid, f in kb.forms.items()}
    phones = {digits: name for digits, name in _phone_names(kb).items()}
    return page(request, "admin/analytics.html", session, title="利用状況(EBPM)", report=report, titles=titles,
                forms=forms, channel_names=CHANNEL_NAMES, phones=phones, compare=comparison(report), compare_labels=COMPARE_LABELS,
                weekdays=WEEKDAYS, hours=[(f"{h}", n) for h, n in enumerate(report.per_hour)])  # fmt: skip


COMPARE_LABELS = {
    "questions": ("質問数", "件"),
    "answer_rate": ("回答できた割合", "%"),
    "helpful_rate": ("役に立った割合", "%"),
    "clicks": ("フォーム・電話の利用", "回"),
    "unofficial_rate": ("公式でない出典の回答の割合", "%"),
    "staff_hours_saved": ("削減できた職員の時間(推計)", "時間"),
}


def _phone_names(kb: KnowledgeBase) -> dict[str, str]:
    """Published numbers (digits) → who answers them, for the click chart's labels."""
    names = {re.sub(r"[^\d#]", "", o.phone): f"{o.name}({o.phone})" for o in kb.offices.values() if o.phone}
    if kb.ward is not None:
        for plan in kb.ward.emergency.values():
            for n in plan.numbers:
                names.setdefault(re.sub(r"[^\d#]", "", n.number), f"{n.label}({n.number})")
    return names


@router.get("/analytics.csv")
def analytics_csv(request: Request, session: ViewerDep, settings: SettingsDep, store: LogStoreDep,
                  start: StartQ = "", end: EndQ = "",
                  table: Annotated[str, Query(pattern="^(summary|messages)$")] = "summary") -> Response:  # fmt: skip
    try:
        d_start, d_end = _period(settings, start, end)
    except ValueError as e:
        return html_error(request, session, 422, str(e))
    if table == "messages":
        body = messages_csv(store.engine, d_start, d_end, settings.tz)
    else:
        body = summary_csv(
            compute(
                store.engine,
                _kb(request, settings),
                d_start,
                d_end,
                settings.minutes_per_call,
                settings.tz,
                compare=True,
            )  # fmt: skip
        )
    return _csv_response(body, f"kosodate-{table}-{d_start.isoformat()}-{d_end.isoformat()}.csv")


def _csv_response(body: str, name: str) -> Response:
    # A BOM so that Excel (what ward offices open CSVs with) reads the Japanese as UTF-8.
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})  # fmt: skip


COMMENTS_SHOWN = 500


@router.get("/feedback")
def feedback_page(request: Request, session: ViewerDep, settings: SettingsDep, store: LogStoreDep,
                  start: StartQ = "", end: EndQ = "") -> Response:  # fmt: skip
    try:
        d_start, d_end = _period(settings, start, end)
    except ValueError as e:
        return html_error(request, session, 422, str(e))
    comments = feedback_comments(store.engine, d_start, d_end, settings.tz, limit=COMMENTS_SHOWN + 1)
    titles = {pid: p.title for pid, p in _kb(request, settings).procedures.items()}
    return page(request, "admin/feedback.html", session, title="保護者の声(コメント)", comments=comments[:COMMENTS_SHOWN],
                more=len(comments) > COMMENTS_SHOWN, start=d_start, end=d_end, titles=titles)  # fmt: skip


@router.get("/feedback.csv")
def feedback_csv(request: Request, session: ViewerDep, settings: SettingsDep, store: LogStoreDep,
                 start: StartQ = "", end: EndQ = "") -> Response:  # fmt: skip
    try:
        d_start, d_end = _period(settings, start, end)
    except ValueError as e:
        return html_error(request, session, 422, str(e))
    body = comments_csv(feedback_comments(store.engine, d_start, d_end, settings.tz))
    return _csv_response(body, f"kosodate-comments-{d_start.isoformat()}-{d_end.isoformat()}.csv")


@router.get("/unanswered")
def unanswered(request: Request, session: ViewerDep, settings: SettingsDep, store: LogStoreDep,
               days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30) -> Response:  # fmt: skip
    end = settings.current_date()
    kb = _kb(request, settings)
    report = compute(store.engine, kb, end - timedelta(days=days - 1), end, settings.minutes_per_call, settings.tz)
    bot: Bot | None = request.app.state.bot
    nearest: dict[str, str | None] = {}
    for g in report.unanswered[:30]:
        # The document to fix: the one the group cited, otherwise what retrieval finds nearest to the example.
        if g.doc_id:
            nearest[g.example] = g.doc_id
        elif bot is not None:
            top = bot.retriever.search(g.example, k=1).top
            nearest[g.example] = top.doc_id if top else None
    titles = {pid: p.title for pid, p in kb.procedures.items()}
    return page(request, "admin/unanswered.html", session, title="答えられなかった質問", groups=report.unanswered,
                nearest=nearest, titles=titles, days=days)  # fmt: skip
