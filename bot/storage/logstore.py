"""The log store: conversations, the messages in them, and parents' feedback (SQLAlchemy Core, SQLite or PostgreSQL).

Nothing a parent typed is stored as typed: questions and comments go through :func:`bot.safety.mask_pii` first.

The tables are defined in :mod:`bot.storage.tables` (which explains the schema) and created by the numbered
migrations in :mod:`bot.storage.migrations`, applied once at start-up under a lock. Writes that two workers may race on
(a session's first turn, a second vote on a message) are single upserts, so neither sees a duplicate-key error.

A LINE conversation's id is ``line-`` + a keyed hash of the LINE user id (see web/routes/line.py); the user id itself
is never stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.answering.results import AnswerResult, Turn
from bot.safety import mask_pii
from bot.storage import migrations
from bot.storage.tables import SESSION_ID_MAX, conversations, feedback, handoff_clicks, line_events, messages

__all__ = [
    "CHANNELS",
    "COMMENT_MAX",
    "SESSION_ID_MAX",
    "LogStore",
    "StoredMessage",
    "UnknownMessage",
    "make_engine",
    "upsert",
]

COMMENT_MAX = 1000


class UnknownMessage(LookupError):
    """Feedback was sent for a message that does not exist (or belongs to another session)."""


CHANNELS = ("web", "widget", "line")  # where a question came from: the chat page, the /embed widget, LINE
LINE_EVENT_KEEP = timedelta(days=3)  # LINE redelivers for a limited time; ids older than this cannot come back
CLICK_KINDS = ("form", "phone")


@dataclass(frozen=True)
class StoredMessage:
    id: int
    session_id: str
    question: str
    kind: str
    doc_ids: list[str]
    form_id: str | None
    topic: str | None
    latency_ms: float
    created_at: datetime
    channel: str = "web"


def _new_id(pk: Any) -> int:
    assert pk is not None, "the database returned no primary key"
    return int(pk[0])


def _now() -> datetime:
    return datetime.now(UTC)


def upsert(
    conn: Connection,
    table: Any,
    row: dict[str, Any],
    key: list[str],
    update_columns: list[str],
    returning: Any = None,
    increment: str | None = None,
) -> Any:
    """INSERT ``row``, or on a clash of the unique ``key`` columns UPDATE ``update_columns`` from it (and add 1 to the
    ``increment`` column), as one statement: PostgreSQL and SQLite both have ON CONFLICT, so two workers writing the
    same key at once both succeed. Returns the ``returning`` column's value when asked."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**row)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**row)
    else:  # pragma: no cover - the README names SQLite and PostgreSQL only
        raise NotImplementedError(f"upsert on {dialect}")
    set_: dict[str, Any] = {c: stmt.excluded[c] for c in update_columns}
    if increment is not None:
        set_[increment] = table.c[increment] + 1
    stmt = stmt.on_conflict_do_update(index_elements=key, set_=set_)
    if returning is None:
        conn.execute(stmt)
        return None
    return conn.execute(stmt.returning(returning)).scalar_one()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web server's threads read while one writes; the timeout rides out short write locks.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints instead of every commit: a power cut can lose the last log lines but never
    # corrupts the database, and a chat turn's write drops from ~3.5 ms to well under 1 ms.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class StoreReplaced(SQLAlchemyError):
    """The SQLite file was deleted or replaced while the store was open: writing on would go to a file nobody reads
    (an unlinked inode), or to another worker's new empty database."""


class LogStore:
    """Writes and reads the log. One instance per process; safe to share between threads.

    Every failure is counted (``failures``, ``last_failure``) for ``/readyz``; writes are simply tried again on the next
    request, so they resume by themselves when the database recovers.
    """

    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine or make_engine(url)
        u = make_url(url)
        self._file = (
            Path(u.database) if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") else None
        )
        self._identity: tuple[int, int] | None = None
        self.failures = 0
        self.last_failure = ""

    def _check_file(self) -> None:
        """Refuse to write when the SQLite file is gone or is another file than the one opened."""
        if self._file is None:
            return
        try:
            st = self._file.stat()
        except FileNotFoundError:
            raise StoreReplaced(f"{self._file} was deleted while the bot was running") from None
        if self._identity is None:
            self._identity = (st.st_dev, st.st_ino)
        elif (st.st_dev, st.st_ino) != self._identity:
            raise StoreReplaced(f"{self._file} was replaced by another file while the bot was running")

    @contextmanager
    def _counted(self) -> Iterator[None]:
        """Every write goes through here: a failure is counted and remembered for ``/readyz``, a success clears it."""
        try:
            yield
        except SQLAlchemyError as e:
            self.failures += 1
            self.last_failure = f"{type(e).__name__}: {str(e)[:200]}"
            raise
        self.last_failure = ""

    def health(self) -> dict[str, object]:
        return {"log_store": "degraded" if self.last_failure else "ok", "log_failures": self.failures,
                **({"last_failure": self.last_failure} if self.last_failure else {})}  # fmt: skip

    # ---- schema ----
    def migrate(self, upto: int | None = None) -> list[str]:
        """Apply the migrations not yet recorded (once, under a lock shared by every worker). Returns the names."""
        applied = migrations.migrate(self.engine, upto)
        self._check_file()  # remember which file was opened
        return applied

    def applied_migrations(self) -> list[str]:
        return migrations.applied_migrations(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # ---- writing ----
    def record_message(self, session_id: str, question: str, result: AnswerResult, channel: str = "web") -> int:
        """Store one answered question (masked) and return its message id. ``channel`` is one of :data:`CHANNELS`."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
        with self._counted():
            return self._record_message(session_id, question, result, channel)

    def _record_message(self, session_id: str, question: str, result: AnswerResult, channel: str) -> int:
        self._check_file()
        now = _now()
        with self.engine.begin() as conn:
            # One statement: two first turns of a session at once (two workers) must not both try to insert it.
            upsert(conn, conversations, {"id": session_id, "created_at": now, "last_at": now}, ["id"], ["last_at"])
            return _new_id(
                conn.execute(
                    insert(messages).values(
                        conversation_id=session_id,
                        question=mask_pii(question),
                        kind=result.kind.value,
                        doc_ids=[c.doc_id for c in result.citations],
                        form_id=result.handoff.form_id if result.handoff else None,
                        topic=result.topic,
                        latency_ms=round(result.latency_ms, 2),
                        created_at=now,
                        channel=channel,
                    )
                ).inserted_primary_key
            )

    def end_conversation(self, session_id: str) -> bool:
        """「新しい相談」: the session's turns move to a closed conversation of their own (a fresh id nobody holds), so
        the session starts with no context while the turns and their feedback stay for the analytics, with their
        times. The session id may be used again: its next turn opens a new conversation. False when it had none."""
        with self._counted():
            self._check_file()
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(conversations.c.created_at, conversations.c.last_at).where(conversations.c.id == session_id)
                ).first()
                if row is None:
                    return False
                closed = secrets.token_urlsafe(16)
                conn.execute(insert(conversations).values(id=closed, created_at=row.created_at, last_at=row.last_at))
                conn.execute(
                    update(messages).where(messages.c.conversation_id == session_id).values(conversation_id=closed)
                )
                conn.execute(delete(conversations).where(conversations.c.id == session_id))
                return True

    def claim_line_event(self, event_id: str) -> bool:
        """True the first time a LINE ``webhookEventId`` is seen (by any worker sharing this database), False for a
        redelivery of an event already taken. Old ids are forgotten on the way."""
        with self._counted():
            self._check_file()
            now = _now()
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(line_events).values(id=event_id[:64], received_at=now))
            except IntegrityError:
                return False
            with self.engine.begin() as conn:
                conn.execute(delete(line_events).where(line_events.c.received_at < now - LINE_EVENT_KEEP))
            return True

    def record_click(self, kind: str, target: str) -> int:
        """One use of a hand-off: the form button opened (``form``, the form id) or a tel: link tapped (``phone``, the
        published number's digits). The caller checks ``target`` against the knowledge."""
        if kind not in CLICK_KINDS:
            raise ValueError(f"unknown click kind {kind!r}")
        with self._counted():
            self._check_file()
            with self.engine.begin() as conn:
                pk = conn.execute(
                    insert(handoff_clicks).values(kind=kind, target=target[:100], created_at=_now())
                ).inserted_primary_key
            return _new_id(pk)

    def record_feedback(
        self, message_id: int, helpful: bool, comment: str | None = None, session_id: str | None = None
    ) -> int:
        """Store (or replace) the feedback on a message. ``session_id``, when given, must own the message."""
        with self._counted():
            return self._record_feedback(message_id, helpful, comment, session_id)

    def _record_feedback(self, message_id: int, helpful: bool, comment: str | None, session_id: str | None) -> int:
        masked = mask_pii(comment.strip())[:COMMENT_MAX] if comment and comment.strip() else None
        self._check_file()
        now = _now()
        with self.engine.begin() as conn:
            owner = conn.scalar(select(messages.c.conversation_id).where(messages.c.id == message_id))
            if owner is None or (session_id is not None and owner != session_id):
                raise UnknownMessage(message_id)
            # changing the rating keeps a comment given earlier (only a new comment replaces it)
            keep = ["helpful", "updated_at"] + (["comment"] if masked is not None else [])
            row = {
                "message_id": message_id,
                "helpful": helpful,
                "comment": masked,
                "created_at": now,
                "updated_at": now,
            }
            return int(upsert(conn, feedback, row, ["message_id"], keep, returning=feedback.c.id))

    # ---- reading ----
    def history(self, session_id: str, limit: int = 6) -> list[Turn]:
        """The session's last ``limit`` turns, oldest first: what ``Bot.ask`` needs for multi-turn."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages.c.question, messages.c.topic)
                .where(messages.c.conversation_id == session_id)
                .order_by(messages.c.id.desc())
                .limit(limit)
            ).all()
        return [Turn(q, t) for q, t in reversed(rows)]

    def recent_topics(self, session_id: str, limit: int = 6) -> list[str]:
        return [t.topic for t in self.history(session_id, limit) if t.topic]

    def messages(self, since: datetime | None = None, limit: int | None = None) -> list[StoredMessage]:
        q = select(messages).order_by(messages.c.id)
        if since is not None:
            q = q.where(messages.c.created_at >= since)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [
                StoredMessage(
                    r.id,
                    r.conversation_id,
                    r.question,
                    r.kind,
                    list(r.doc_ids or []),
                    r.form_id,
                    r.topic,
                    r.latency_ms,
                    r.created_at,
                    r.channel,
                )  # fmt: skip
                for r in conn.execute(q)
            ]

    def message(self, message_id: int) -> StoredMessage | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        if r is None:
            return None
        return StoredMessage(
            r.id, r.conversation_id, r.question, r.kind, list(r.doc_ids or []), r.form_id, r.topic, r.latency_ms,
            r.created_at, r.channel,
        )  # fmt: skip

    def feedback_for(self, message_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(feedback).where(feedback.c.message_id == message_id)).first()
        return dict(r._mapping) if r else None

    def counts_by_kind(self, since: datetime | None = None) -> dict[str, int]:
        q = select(messages.c.kind, func.count()).group_by(messages.c.kind)
        if since is not None:
            q = q.where(messages.c.created_at >= since)
        with self.engine.connect() as conn:
            return {k: int(n) for k, n in conn.execute(q)}

    def feedback_summary(self) -> dict[str, int]:
        """How many answers were rated helpful / not helpful."""
        q = select(feedback.c.helpful, func.count()).group_by(feedback.c.helpful)
        with self.engine.connect() as conn:
            got = {bool(h): int(n) for h, n in conn.execute(q)}
        return {"helpful": got.get(True, 0), "not_helpful": got.get(False, 0)}
