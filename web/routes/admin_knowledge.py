"""``/admin/knowledge``: documents and their status, the editor (validate, preview, publish), uploads turned into
drafts, the background re-index with its progress, and the retrieval-testing box."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from bot.config import Settings
from bot.knowledge import CATEGORIES, KnowledgeError, load_knowledge
from bot.knowledge.publishers import LABELS as PUBLISHER_LABELS
from bot.knowledge.publishers import OFFICIAL
from bot.knowledge.report import knowledge_report
from bot.service import Bot
from bot.staff.auth import Session
from bot.staff.drafts import MAX_UPLOAD_BYTES, PAGE_SIZE, DraftError, Drafts, convert, skeleton
from bot.staff.publish import (
    CONFIG_FILES,
    STATUSES,
    UnknownDocument,
    Validation,
    list_documents,
    preview,
    read_config,
    read_document,
    target_id,
    validate_config,
    validate_text,
    write_config,
    write_document,
)
from web.deps import DbId, SettingsDep
from web.routes.admin_common import (
    AccountsDep,
    DraftsDep,
    EditorDep,
    EditorPostDep,
    OptionalBotDep,
    ReindexerDep,
    html_error,
    page,
)

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)

TEXT_MAX = 200_000
ACTIONS = ("validate", "preview", "publish")


@router.get("/knowledge")
def documents(request: Request, session: EditorDep, settings: SettingsDep,
              category: Annotated[str, Query(max_length=50)] = "",
              status: Annotated[str, Query(max_length=20)] = "") -> Response:  # fmt: skip
    rows = list_documents(settings)
    counts = {s: sum(1 for r in rows if r.status == s) for s in STATUSES}
    shown = [r for r in rows if (not category or r.category == category) and (not status or r.status == status)]
    return page(request, "admin/knowledge.html", session, title="知識の管理", rows=shown, counts=counts, total=len(rows),
                categories=CATEGORIES, statuses=STATUSES, category=category, status_filter=status)  # fmt: skip


def _editor(request: Request, session: Session, doc_id: str, text: str, *, action: str = "", status: int = 200,
            validation: Validation | None = None, bot: Bot | None = None, draft_id: int | None = None,
            message: str = "") -> Response:  # fmt: skip
    items = None
    if action == "preview" and validation and validation.ok and bot:
        settings: Settings = request.app.state.settings
        items = preview(settings, validation, text, bot.embedder, bot.ask, bot.generation.path)
    return page(request, "admin/edit.html", session, status=status, title=f"編集: {doc_id}", doc_id=doc_id, text=text,
                validation=validation, preview_items=items, action=action, draft_id=draft_id, message=message,
                bot_ready=bot is not None)  # fmt: skip


@router.get("/knowledge/{doc_id}/edit")
def edit_form(request: Request, session: EditorDep, settings: SettingsDep, doc_id: str) -> Response:
    try:
        text = read_document(settings, doc_id)
    except UnknownDocument:
        return html_error(request, session, 404, f"文書 {doc_id} は見つかりませんでした。")
    return _editor(request, session, doc_id, text, validation=validate_text(settings, doc_id, text))


def _publish(request: Request, session: Session, settings: SettingsDep, accounts: AccountsDep,
             reindexer: ReindexerDep, doc_id: str, text: str) -> tuple[Response | None, Validation]:  # fmt: skip
    """Write and audit the document, then ask for the re-index. Returns (redirect, _) or (None, failed validation)."""
    try:
        diff = write_document(settings, doc_id, text)
    except KnowledgeError:
        return None, validate_text(settings, doc_id, text)
    accounts.audit(session.user.name, "knowledge.publish", f"procedures/{doc_id}.md", diff or "(no change)")
    # the text as written (line ends normalised), for the other nodes to write into their knowledge folders
    ticket = reindexer.request(session.user.name, f"procedures/{doc_id}.md", read_document(settings, doc_id))
    return RedirectResponse(f"/admin/reindex?ticket={ticket}&doc={doc_id}", status_code=303), validate_text(
        settings, doc_id, text
    )


@router.post("/knowledge/{doc_id}/edit")
def edit(request: Request, session: EditorPostDep, settings: SettingsDep, accounts: AccountsDep,
         reindexer: ReindexerDep, bot: OptionalBotDep, doc_id: str,
         text: Annotated[str, Form(max_length=TEXT_MAX)], action: Annotated[str, Form()] = "validate") -> Response:  # fmt: skip
    try:
        read_document(settings, doc_id)
    except UnknownDocument:
        return html_error(request, session, 404, f"文書 {doc_id} は見つかりませんでした。")
    text = text.replace("\r\n", "\n")
    if action == "publish":
        redirect, validation = _publish(request, session, settings, accounts, reindexer, doc_id, text)
        if redirect is not None:
            return redirect
        return _editor(request, session, doc_id, text, action=action, status=422, validation=validation, bot=bot,
                       message="エラーがあるため公開できません。下の指摘を直してください。")  # fmt: skip
    validation = validate_text(settings, doc_id, text)
    return _editor(request, session, doc_id, text, action=action if action in ACTIONS else "validate",
                   validation=validation, bot=bot, status=200 if validation.ok else 422)  # fmt: skip


# --- drafts (uploads) -------------------------------------------------------------------------------------------------


def _drafts_page(request: Request, session: Session, drafts: Drafts, page_no: int = 1, status: int = 200,
                 error: str = "") -> Response:  # fmt: skip
    listed, total = drafts.pending(page_no)
    pages = max(1, -(-total // PAGE_SIZE))
    return page(request, "admin/drafts.html", session, status=status, title="下書き(アップロード)", drafts=listed,
                total=total, page_no=page_no, pages=pages, max_mb=MAX_UPLOAD_BYTES // (1024 * 1024), error=error)  # fmt: skip


@router.get("/drafts")
def drafts_page(request: Request, session: EditorDep, drafts: DraftsDep,
                page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    return _drafts_page(request, session, drafts, page_no)


@router.post("/drafts/upload")
async def upload(request: Request, session: EditorPostDep, settings: SettingsDep, drafts: DraftsDep,
                 accounts: AccountsDep, file: Annotated[UploadFile, File()],
                 source_url: Annotated[str, Form(max_length=2000)] = "") -> Response:  # fmt: skip
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    filename = (file.filename or "upload").rsplit("/", 1)[-1][:200]
    try:
        # parsing is CPU work: off the event loop, so parents' chats keep flowing while a PDF is read
        kind, doc_id, text = await run_in_threadpool(
            convert, filename, data, settings.current_date(), source_url.strip()
        )
    except DraftError as e:
        return _drafts_page(request, session, drafts, status=422, error=str(e))
    draft_id = drafts.create(filename, kind, doc_id, text, session.user.name)
    accounts.audit(session.user.name, "draft.upload", f"draft/{draft_id}", f"{filename} ({kind}, {len(data)} bytes)")
    return RedirectResponse(f"/admin/drafts/{draft_id}", status_code=303)


@router.post("/drafts/new")
def new_draft(session: EditorPostDep, settings: SettingsDep, drafts: DraftsDep, accounts: AccountsDep,
              doc_id: Annotated[str, Form(max_length=100)] = "new-document",
              title: Annotated[str, Form(max_length=200)] = "") -> Response:  # fmt: skip
    text = skeleton(doc_id.strip() or "new-document", title, "(ここに説明を書きます。)", settings.current_date())
    draft_id = drafts.create("(新規)", "blank", doc_id.strip() or "new-document", text, session.user.name)
    accounts.audit(session.user.name, "draft.create", f"draft/{draft_id}")
    return RedirectResponse(f"/admin/drafts/{draft_id}", status_code=303)


@router.get("/drafts/{draft_id}")
def draft_form(request: Request, session: EditorDep, settings: SettingsDep, drafts: DraftsDep,
               draft_id: DbId) -> Response:  # fmt: skip
    draft = drafts.get(draft_id)
    if draft is None:
        return html_error(request, session, 404, "下書きが見つかりませんでした。")
    doc_id = target_id(draft.text, draft.doc_id)
    return _editor(request, session, doc_id, draft.text, draft_id=draft_id,
                   validation=validate_text(settings, doc_id, draft.text))  # fmt: skip


@router.post("/drafts/{draft_id}")
def draft_action(request: Request, session: EditorPostDep, settings: SettingsDep, drafts: DraftsDep,
                 accounts: AccountsDep, reindexer: ReindexerDep, bot: OptionalBotDep, draft_id: DbId,
                 text: Annotated[str, Form(max_length=TEXT_MAX)] = "",
                 action: Annotated[str, Form()] = "validate") -> Response:  # fmt: skip
    draft = drafts.get(draft_id)
    if draft is None or draft.published_at is not None:
        return html_error(request, session, 404, "下書きが見つかりませんでした(公開済みの可能性があります)。")
    if action == "delete":
        drafts.delete(draft_id)
        accounts.audit(session.user.name, "draft.delete", f"draft/{draft_id}", draft.filename)
        return RedirectResponse("/admin/drafts", status_code=303)
    text = text.replace("\r\n", "\n")
    drafts.save(draft_id, text)
    doc_id = target_id(text, draft.doc_id)
    if action == "publish":
        exists = True
        try:
            read_document(settings, doc_id)
        except UnknownDocument:
            exists = False
        if exists:
            validation = validate_text(settings, doc_id, text)
            return _editor(request, session, doc_id, text, action=action, status=409, validation=validation, bot=bot,
                           draft_id=draft_id, message=f"文書 {doc_id} は既にあります。別の id にするか、その文書を編集してください。")  # fmt: skip
        redirect, validation = _publish(request, session, settings, accounts, reindexer, doc_id, text)
        if redirect is not None:
            drafts.mark_published(draft_id, doc_id)
            return redirect
        return _editor(request, session, doc_id, text, action=action, status=422, validation=validation, bot=bot,
                       draft_id=draft_id, message="エラーがあるため公開できません。下の指摘を直してください。")  # fmt: skip
    validation = validate_text(settings, doc_id, text)
    return _editor(request, session, doc_id, text, action=action if action in ACTIONS else "validate",
                   validation=validation, bot=bot, draft_id=draft_id, status=200 if validation.ok else 422)  # fmt: skip


# --- forms.yaml and offices.yaml ---------------------------------------------------------------------------------------

CONFIG_TITLES = {"forms": "申請フォームの一覧(forms.yaml)", "offices": "窓口の一覧(offices.yaml)"}


def _config_editor(request: Request, session: Session, name: str, text: str, validation: Validation,
                   status: int = 200, message: str = "") -> Response:  # fmt: skip
    kb = validation.kb
    return page(request, "admin/config_edit.html", session, status=status, title=CONFIG_TITLES[name], name=name,
                filename=CONFIG_FILES[name], text=text, validation=validation, message=message,
                offices=sorted(kb.offices.values(), key=lambda o: o.id),
                forms=sorted(kb.forms.values(), key=lambda f: f.id))  # fmt: skip


@router.get("/files/{name}")
def config_form(request: Request, session: EditorDep, settings: SettingsDep, name: str) -> Response:
    try:
        text = read_config(settings, name)
    except UnknownDocument:
        return html_error(request, session, 404, "編集できるのは forms.yaml と offices.yaml です。")
    return _config_editor(request, session, name, text, validate_config(settings, name, text))


@router.post("/files/{name}")
def config_edit(request: Request, session: EditorPostDep, settings: SettingsDep, accounts: AccountsDep,
                reindexer: ReindexerDep, name: str, text: Annotated[str, Form(max_length=TEXT_MAX)],
                action: Annotated[str, Form()] = "validate") -> Response:  # fmt: skip
    try:
        read_config(settings, name)
    except UnknownDocument:
        return html_error(request, session, 404, "編集できるのは forms.yaml と offices.yaml です。")
    text = text.replace("\r\n", "\n")
    if action == "publish":
        try:
            diff = write_config(settings, name, text)
        except KnowledgeError:
            return _config_editor(request, session, name, text, validate_config(settings, name, text), status=422,
                                  message="エラーがあるため公開できません。下の指摘を直してください。")  # fmt: skip
        accounts.audit(session.user.name, "knowledge.publish", CONFIG_FILES[name], diff or "(no change)")
        ticket = reindexer.request()
        return RedirectResponse(f"/admin/reindex?ticket={ticket}", status_code=303)
    validation = validate_config(settings, name, text)
    return _config_editor(request, session, name, text, validation, status=200 if validation.ok else 422)


# --- 「ナレッジの点検」 ------------------------------------------------------------------------------------------------


@router.get("/knowledge-report")
def knowledge_report_page(request: Request, session: EditorDep, settings: SettingsDep) -> Response:
    today = settings.current_date()
    kb = load_knowledge(settings.knowledge_dir, today, settings.stale_days)
    report = knowledge_report(kb, today, settings.stale_days)
    forms = {fid: f.title for fid, f in kb.forms.items()}
    return page(request, "admin/knowledge_report.html", session, title="ナレッジの点検", report=report,
                labels=PUBLISHER_LABELS, official=OFFICIAL, forms=forms)  # fmt: skip


# --- re-index progress --------------------------------------------------------------------------------------------------


@router.get("/reindex")
def reindex_page(request: Request, session: EditorDep, reindexer: ReindexerDep,
                 ticket: Annotated[int, Query(ge=0)] = 0, doc: Annotated[str, Query(max_length=100)] = "") -> Response:  # fmt: skip
    return page(request, "admin/reindex.html", session, title="再インデックス", job=reindexer.status(),
                ticket=ticket, doc=doc)  # fmt: skip


@router.get("/reindex/status")
def reindex_status(session: EditorDep, reindexer: ReindexerDep, request: Request) -> JSONResponse:
    s = reindexer.status()
    bot: Bot | None = request.app.state.bot
    if bot is not None and s.completed and not s.running:
        bot.refresh()
    body = s.to_json() | {"serving": bot.generation.id if bot else None}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/reindex")
def reindex_now(session: EditorPostDep, reindexer: ReindexerDep, accounts: AccountsDep) -> Response:
    ticket = reindexer.request(session.user.name)
    accounts.audit(session.user.name, "knowledge.reindex", "", f"ticket {ticket}")
    return RedirectResponse(f"/admin/reindex?ticket={ticket}", status_code=303)


# --- retrieval testing ----------------------------------------------------------------------------------------------------


@router.get("/retrieval")
def retrieval(request: Request, session: EditorDep, settings: SettingsDep, bot: OptionalBotDep,
              q: Annotated[str, Query(max_length=500)] = "") -> Response:  # fmt: skip
    q = q.strip()
    result = search = None
    titles: dict[str, str] = {}
    if q and bot is not None:
        search = bot.retriever.search(q)
        result = bot.ask(q)
        titles = {pid: p.title for pid, p in bot.generation.kb.procedures.items()}
    elif q:
        titles = {
            pid: p.title
            for pid, p in load_knowledge(settings.knowledge_dir, settings.current_date()).procedures.items()
        }
    return page(request, "admin/retrieval.html", session, title="検索テスト", q=q, search=search, result=result,
                titles=titles, bot_ready=bot is not None)  # fmt: skip
