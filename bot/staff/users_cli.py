"""``python -m bot users add|list|set-role|set-password|delete|unlock``: staff accounts for the admin UI.

There is no default account: the first admin is created here. Passwords are read with getpass (never from the
command line, where they would end up in the shell history); scripts pass ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.config import Settings
from bot.staff.auth import AccountError, Accounts, Role
from bot.storage.logstore import LogStore

ROLES = [r.label for r in Role]


def _accounts() -> tuple[Accounts, LogStore]:
    store = LogStore(Settings().database_url)
    store.migrate()
    return Accounts(store.engine), store


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise AccountError("the two passwords differ")
    return first


def _run(args: argparse.Namespace) -> int:
    accounts, store = _accounts()
    try:
        if args.users_command == "add":
            user = accounts.add(args.name, _read_password(args), Role.parse(args.role))
            accounts.audit("cli", "user.add", user.name, f"role {user.role.label}")
            print(f"added {user.name} ({user.role.label})")
        elif args.users_command == "list":
            for u in accounts.list_users():
                locked = f"  locked until {u.locked_until:%Y-%m-%d %H:%M} UTC" if u.locked_until else ""
                print(f"{u.name}\t{u.role.label}{locked}")
        elif args.users_command == "set-role":
            user = accounts.set_role(args.name, Role.parse(args.role))
            accounts.audit("cli", "user.set_role", user.name, f"role {user.role.label}")
            print(f"{user.name} is now {user.role.label}")
        elif args.users_command == "set-password":
            accounts.set_password(args.name, _read_password(args))
            accounts.audit("cli", "user.set_password", args.name)
            print(f"password changed for {args.name}")
        elif args.users_command == "delete":
            accounts.delete(args.name)
            accounts.audit("cli", "user.delete", args.name)
            print(f"deleted {args.name}")
        elif args.users_command == "unlock":
            accounts.unlock(args.name)
            accounts.audit("cli", "user.unlock", args.name)
            print(f"unlocked {args.name}")
    except AccountError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def add_user_commands(sub: Any) -> None:
    users = sub.add_parser("users", help="staff accounts for /admin")
    users.set_defaults(func=_run)
    cmds = users.add_subparsers(dest="users_command", required=True)
    add = cmds.add_parser("add", help="create a user (prompts for the password)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    cmds.add_parser("list", help="list users and their roles")
    sr = cmds.add_parser("set-role", help="change a user's role")
    sr.add_argument("name")
    sr.add_argument("--role", choices=ROLES, required=True)
    sp = cmds.add_parser("set-password", help="change a user's password (signs the user out everywhere)")
    sp.add_argument("name")
    sp.add_argument("--password-stdin", action="store_true")
    d = cmds.add_parser("delete", help="delete a user")
    d.add_argument("name")
    u = cmds.add_parser("unlock", help="clear a lockout after failed sign-ins")
    u.add_argument("name")
