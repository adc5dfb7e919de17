"""``/admin/curated``: staff-approved answers that take precedence over the composed answer until they expire."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from bot.answering.curated import CuratedAnswer, CuratedError, fiscal_year_end
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.service import Bot
from bot.staff.auth import Session
from web.deps import DbId, SettingsDep
from web.routes.admin_common import AccountsDep, CuratedDep, EditorDep, EditorPostDep, html_error, page

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)


def _kb(request: Request, settings: SettingsDep) -> KnowledgeBase:
    bot: Bot | None = request.app.state.bot
    return bot.generation.kb if bot is not None else load_knowledge(settings.knowledge_dir, settings.current_date())


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.replace("\r\n", "\n").split("\n") if x.strip()]


def _form(request: Request, session: Session, settings: SettingsDep, item: Mapping[str, object], cid: int | None,
          error: str = "", status: int = 200) -> Response:  # fmt: skip
    kb = _kb(request, settings)
    return page(request, "admin/curated_edit.html", session, status=status, title="定型回答", item=item, cid=cid,
                error=error, doc_ids=sorted(kb.procedures), form_ids=sorted(kb.forms))  # fmt: skip


def _as_item(ca: CuratedAnswer) -> dict[str, object]:
    return {"patterns": "\n".join(ca.patterns), "answer": ca.answer, "doc_ids": " ".join(ca.doc_ids),
            "form_id": ca.form_id or "", "expires_on": ca.expires_on.isoformat()}  # fmt: skip


@router.get("/curated")
def curated_list(request: Request, session: EditorDep, settings: SettingsDep, curated: CuratedDep) -> Response:
    today = settings.current_date()
    return page(request, "admin/curated.html", session, title="定型回答", items=curated.entries(), today=today,
                threshold=curated.threshold)  # fmt: skip


@router.get("/curated/new")
def curated_new(request: Request, session: EditorDep, settings: SettingsDep,
                pattern: Annotated[str, Query(max_length=500)] = "",
                doc: Annotated[str, Query(max_length=100)] = "") -> Response:  # fmt: skip
    item = {"patterns": pattern, "answer": "", "doc_ids": doc, "form_id": "",
            "expires_on": fiscal_year_end(settings.current_date()).isoformat()}  # fmt: skip
    return _form(request, session, settings, item, None)


@router.get("/curated/{cid}")
def curated_edit(
    request: Request, session: EditorDep, settings: SettingsDep, curated: CuratedDep, cid: DbId
) -> Response:
    ca = curated.get(cid)
    if ca is None:
        return html_error(request, session, 404, "定型回答が見つかりませんでした。")
    return _form(request, session, settings, _as_item(ca), cid)


def _save(request: Request, session: Session, settings: SettingsDep, curated: CuratedDep, accounts: AccountsDep,
          cid: int | None, patterns: str, answer: str, doc_ids: str, form_id: str, expires_on: str) -> Response:  # fmt: skip
    item: dict[str, object] = {"patterns": patterns, "answer": answer, "doc_ids": doc_ids, "form_id": form_id,
                               "expires_on": expires_on}  # fmt: skip
    try:
        expires = date.fromisoformat(expires_on) if expires_on.strip() else fiscal_year_end(settings.current_date())
        docs = doc_ids.replace(",", " ").split()
        curated.check(_lines(patterns), answer, docs, form_id.strip() or None, _kb(request, settings))
    except ValueError as e:  # CuratedError or a bad date
        msg = str(e) if isinstance(e, CuratedError) else "有効期限は YYYY-MM-DD の形で入力してください。"
        return _form(request, session, settings, item, cid, msg, 422)
    before = curated.get(cid) if cid is not None else None
    new_id = curated.save(_lines(patterns), answer, docs, form_id, expires, session.user.name, cid)
    after = curated.get(new_id)
    detail = f"before: {_as_item(before) if before else None}\nafter: {_as_item(after) if after else None}"
    accounts.audit(session.user.name, "curated.update" if cid else "curated.create", f"curated/{new_id}", detail)
    return RedirectResponse("/admin/curated", status_code=303)


@router.post("/curated/new")
def curated_create(request: Request, session: EditorPostDep, settings: SettingsDep, curated: CuratedDep,
                   accounts: AccountsDep, patterns: Annotated[str, Form(max_length=5000)] = "",
                   answer: Annotated[str, Form(max_length=5000)] = "", doc_ids: Annotated[str, Form(max_length=1000)] = "",
                   form_id: Annotated[str, Form(max_length=100)] = "",
                   expires_on: Annotated[str, Form(max_length=10)] = "") -> Response:  # fmt: skip
    return _save(request, session, settings, curated, accounts, None, patterns, answer, doc_ids, form_id, expires_on)


@router.post("/curated/{cid}")
def curated_update(request: Request, session: EditorPostDep, settings: SettingsDep, curated: CuratedDep,
                   accounts: AccountsDep, cid: DbId, patterns: Annotated[str, Form(max_length=5000)] = "",
                   answer: Annotated[str, Form(max_length=5000)] = "", doc_ids: Annotated[str, Form(max_length=1000)] = "",
                   form_id: Annotated[str, Form(max_length=100)] = "",
                   expires_on: Annotated[str, Form(max_length=10)] = "") -> Response:  # fmt: skip
    if curated.get(cid) is None:
        return html_error(request, session, 404, "定型回答が見つかりませんでした。")
    return _save(request, session, settings, curated, accounts, cid, patterns, answer, doc_ids, form_id, expires_on)


@router.post("/curated/{cid}/delete")
def curated_delete(request: Request, session: EditorPostDep, curated: CuratedDep, accounts: AccountsDep,
                   cid: DbId) -> Response:  # fmt: skip
    ca = curated.get(cid)
    if ca is None:
        return html_error(request, session, 404, "定型回答が見つかりませんでした。")
    curated.delete(cid)
    accounts.audit(session.user.name, "curated.delete", f"curated/{cid}", f"before: {_as_item(ca)}")
    return RedirectResponse("/admin/curated", status_code=303)
