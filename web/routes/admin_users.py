"""``/admin/users`` (admin role only): add users, change roles and passwords, unlock, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from bot.staff.auth import AccountError, Role, Session
from web.routes.admin_common import AccountsDep, AdminDep, AdminPostDep, page

router = APIRouter(prefix="/admin/users", tags=["admin"], include_in_schema=False)

NameF = Annotated[str, Form(max_length=64)]


def _page(request: Request, session: Session, accounts: AccountsDep, error: str = "", status: int = 200) -> Response:
    return page(request, "admin/users.html", session, status=status, title="ユーザー管理", users=accounts.list_users(),
                roles=[r.label for r in Role], error=error)  # fmt: skip


@router.get("")
def users(request: Request, session: AdminDep, accounts: AccountsDep) -> Response:
    return _page(request, session, accounts)


def _do(request: Request, session: Session, accounts: AccountsDep, action: str, target: str, detail: str,
        fn) -> Response:  # type: ignore[no-untyped-def]  # fmt: skip
    try:
        fn()
    except AccountError as e:
        return _page(request, session, accounts, str(e), 422)
    accounts.audit(session.user.name, action, target, detail)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("")
def add_user(request: Request, session: AdminPostDep, accounts: AccountsDep, name: NameF,
             password: Annotated[str, Form(max_length=1024)], role: Annotated[str, Form(max_length=10)]) -> Response:  # fmt: skip
    return _do(request, session, accounts, "user.add", name, f"role {role}",
               lambda: accounts.add(name.strip(), password, Role.parse(role)))  # fmt: skip


@router.post("/{name}/role")
def set_role(request: Request, session: AdminPostDep, accounts: AccountsDep, name: str,
             role: Annotated[str, Form(max_length=10)]) -> Response:  # fmt: skip
    return _do(request, session, accounts, "user.set_role", name, f"role {role}",
               lambda: accounts.set_role(name, Role.parse(role)))  # fmt: skip


@router.post("/{name}/password")
def set_password(request: Request, session: AdminPostDep, accounts: AccountsDep, name: str,
                 password: Annotated[str, Form(max_length=1024)]) -> Response:  # fmt: skip
    return _do(request, session, accounts, "user.set_password", name, "", lambda: accounts.set_password(name, password))


@router.post("/{name}/unlock")
def unlock(request: Request, session: AdminPostDep, accounts: AccountsDep, name: str) -> Response:
    return _do(request, session, accounts, "user.unlock", name, "", lambda: accounts.unlock(name))


@router.post("/{name}/delete")
def delete_user(request: Request, session: AdminPostDep, accounts: AccountsDep, name: str) -> Response:
    if name == session.user.name:
        return _page(request, session, accounts, "自分自身は削除できません。", 422)
    return _do(request, session, accounts, "user.delete", name, "", lambda: accounts.delete(name))
