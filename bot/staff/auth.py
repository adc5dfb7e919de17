"""Staff accounts: argon2 password hashes, three roles, lockout after repeated failures, server-side sessions, audit.

There is no default account and no default password: the first admin is created with
``python -m bot users add NAME --role admin``. Sessions live in the database (``admin_sessions``) keyed by the SHA-256
of a random cookie token, so deleting a user or changing a role takes effect on the next request, and a stolen
database does not give working cookies. Every change staff make is written to ``audit_log`` with :meth:`Accounts.audit`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from bot.storage.tables import admin_sessions, audit_log, users

MAX_FAILED = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8
MIN_PASSWORD = 10
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Role(IntEnum):
    """Ordered: each role can do everything the ones below it can."""

    VIEWER = 1  # analytics and logs
    EDITOR = 2  # + knowledge and curated answers
    ADMIN = 3  # + users

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise AccountError(f"unknown role '{name}' (use viewer, editor or admin)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class AccountError(ValueError):
    """A user could not be created or changed (bad name, weak password, unknown user, last admin...)."""


class SignInFailed(Exception):
    """Wrong name or password, or the account is locked. The message never says which (no user enumeration)."""

    def __init__(self, locked_until: datetime | None = None):
        self.locked_until = locked_until
        super().__init__("sign-in failed")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    failed_count: int = 0
    locked_until: datetime | None = None

    def can(self, role: Role) -> bool:
        return self.role >= role


@dataclass(frozen=True)
class Session:
    token: str  # the cookie value (only its hash is stored)
    csrf_token: str
    user: User
    expires_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(d: datetime | None) -> datetime | None:
    # SQLite gives back naive datetimes for timezone=True columns; everything we store is UTC.
    if d is not None and d.tzinfo is None:
        return d.replace(tzinfo=UTC)
    return d


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _user(row: object) -> User:
    r = row._mapping  # type: ignore[attr-defined]
    return User(r["id"], r["name"], Role[r["role"].upper()], r["failed_count"], _aware(r["locked_until"]))


class Accounts:
    """Users, sessions and the audit log over the log store's engine. Safe to share between threads."""

    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None):
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        # Verifying against a dummy hash for unknown names keeps the timing of "no such user" and "wrong password" alike.
        self._dummy = self.hasher.hash(secrets.token_hex(16))

    # ---- users ----
    def add(self, name: str, password: str, role: Role) -> User:
        if not NAME_RE.match(name):
            raise AccountError("user names are 1–64 ASCII letters, digits, '.', '_' or '-'")
        self._check_password(password)
        now = _now()
        with self.engine.begin() as conn:
            if conn.scalar(select(users.c.id).where(users.c.name == name)) is not None:
                raise AccountError(f"user '{name}' already exists")
            conn.execute(
                insert(users).values(
                    name=name, password_hash=self.hasher.hash(password), role=role.label, failed_count=0,
                    locked_until=None, created_at=now, updated_at=now,
                )
            )  # fmt: skip
        return self.get(name)

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")

    def get(self, name: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise AccountError(f"no user '{name}'")
        return _user(row)

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]

    def _admins(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).where(users.c.role == Role.ADMIN.label)) or 0)

    def set_role(self, name: str, role: Role) -> User:
        user = self.get(name)
        if user.role is Role.ADMIN and role is not Role.ADMIN and self._admins() <= 1:
            raise AccountError("cannot demote the last admin")
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(role=role.label, updated_at=_now()))
        return self.get(name)

    def set_password(self, name: str, password: str) -> None:
        self._check_password(password)
        user = self.get(name)
        with self.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(password_hash=self.hasher.hash(password), updated_at=_now())
            )
            conn.execute(delete(admin_sessions).where(admin_sessions.c.user_id == user.id))

    def delete(self, name: str) -> None:
        user = self.get(name)
        if user.role is Role.ADMIN and self._admins() <= 1:
            raise AccountError("cannot delete the last admin")
        with self.engine.begin() as conn:
            conn.execute(delete(admin_sessions).where(admin_sessions.c.user_id == user.id))
            conn.execute(delete(users).where(users.c.id == user.id))

    def unlock(self, name: str) -> None:
        user = self.get(name)
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(failed_count=0, locked_until=None))

    # ---- signing in ----
    def authenticate(self, name: str, password: str, now: datetime | None = None) -> User:
        """Check the password. After ``MAX_FAILED`` failures in a row the account is locked for ``LOCK_MINUTES``."""
        now = now or _now()
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            try:
                self.hasher.verify(self._dummy, password)
            except VerificationError:
                pass
            raise SignInFailed()
        user = _user(row)
        if user.locked_until and user.locked_until > now:
            # The same work as a wrong password, so timing does not tell a locked account from any other failure.
            try:
                self.hasher.verify(self._dummy, password)
            except VerificationError:
                pass
            raise SignInFailed(user.locked_until)
        try:
            self.hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            failed = user.failed_count + 1
            locked = now + timedelta(minutes=LOCK_MINUTES) if failed >= MAX_FAILED else None
            with self.engine.begin() as conn:
                conn.execute(
                    update(users)
                    .where(users.c.id == user.id)
                    .values(failed_count=0 if locked else failed, locked_until=locked)
                )
            raise SignInFailed(locked) from None
        values: dict[str, object] = {"failed_count": 0, "locked_until": None}
        if self.hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = self.hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(**values))
        return User(user.id, user.name, user.role)

    def start_session(self, user: User, hours: float = SESSION_HOURS) -> Session:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = _now()
        expires = now + timedelta(hours=hours)
        with self.engine.begin() as conn:
            conn.execute(delete(admin_sessions).where(admin_sessions.c.expires_at < now))
            conn.execute(
                insert(admin_sessions).values(
                    id=_token_id(token), user_id=user.id, csrf_token=csrf, created_at=now, expires_at=expires
                )
            )
        return Session(token, csrf, user, expires)

    def session(self, token: str | None) -> Session | None:
        if not token or len(token) > 200:
            return None
        q = (
            select(admin_sessions.c.csrf_token, admin_sessions.c.expires_at, users)
            .join(users, users.c.id == admin_sessions.c.user_id)
            .where(admin_sessions.c.id == _token_id(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return None
        expires = _aware(row.expires_at)
        assert expires is not None
        if expires <= _now():
            self.end_session(token)
            return None
        return Session(token, row.csrf_token, _user(row), expires)

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(admin_sessions).where(admin_sessions.c.id == _token_id(token)))

    # ---- audit ----
    def audit(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(at=_now(), actor=actor, action=action, target=target[:200], detail=detail)
            )

    def audit_entries(self, limit: int = 200, action: str | None = None) -> list[AuditEntry]:
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if action:
            q = q.where(audit_log.c.action == action)
        with self.engine.connect() as conn:
            return [
                AuditEntry(r.id, _aware(r.at) or _now(), r.actor, r.action, r.target, r.detail) for r in conn.execute(q)
            ]
