"""The log store: conversations, the messages in them, and parents' feedback (SQLAlchemy Core, SQLite or PostgreSQL).

Nothing a parent typed is stored as typed: questions and comments go through :func:`bot.safety.mask_pii` first.

Schema (created and evolved by the numbered migrations below, each recorded in ``schema_migrations``)::

    schema_migrations  id (int, the migration number), name, applied_at
    conversations      id (the client's session id, ≤ 64 chars), created_at, last_at
    messages           id, conversation_id → conversations.id, question (masked), kind (answer/clarify/emergency/
                       out_of_scope/no_answer), doc_ids (JSON list of cited document ids, in citation order),
                       form_id (the hand-off form, or null), topic (the document the turn was about; multi-turn uses it),
                       latency_ms, created_at, channel (web/widget/line; m003_channels)
    feedback           id, message_id → messages.id (unique: the latest vote on a message wins), helpful (bool),
                       comment (masked, or null), created_at, updated_at

Staff admin (m002_admin; read and written by bot/staff/auth.py, bot/answering/curated.py and bot/staff/drafts.py)::

    users              id, name (unique), password_hash (argon2id), role (viewer/editor/admin), failed_count,
                       locked_until (sign-in refused until then), created_at, updated_at
    admin_sessions     id (sha256 of the cookie token; the token itself is never stored), user_id → users.id,
                       csrf_token, created_at, expires_at
    audit_log          id, at, actor (user name), action (e.g. knowledge.publish), target, detail (a unified diff for
                       knowledge changes, otherwise a short description)
    curated_answers    id, patterns (JSON list of questions), answer, doc_ids (JSON list), form_id, expires_on (date;
                       default the end of the fiscal year), created_by, created_at, updated_at
    drafts             id, filename, source_kind (pdf/html/docx/blank), doc_id (proposed), text (Markdown with a
                       front-matter skeleton), created_by, created_at, updated_at, published_at (null until published;
                       drafts live only here and are never indexed before they are published)

LINE (m003_channels; written by web/routes/line.py)::

    line_events        id (LINE's webhookEventId), received_at: the events already taken, so that a redelivered event
                       is answered once even when another worker received the first delivery. Rows older than
                       ``LINE_EVENT_KEEP`` are deleted as new events arrive.

A LINE conversation's id is ``line-`` + a keyed hash of the LINE user id (see web/routes/line.py); the user id itself
is never stored.

Hand-off clicks (m004_handoff_clicks; written by ``POST /api/handoff-click``, counted by bot/staff/analytics.py)::

    handoff_clicks     id, kind (form/phone), target (a form id of forms.yaml, or the digits of a phone number that
                       the knowledge publishes: never a parent's own number), created_at

All times are UTC. ``doc_ids``/``form_id``/``topic``/``kind`` are what the admin analytics count ("which procedures are
asked about, which hand-offs are offered, which answers were not helpful").

To change the schema, add ``m00N_<what>(conn)`` and list it in ``MIGRATIONS``; never edit an applied migration.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.answering.results import AnswerResult, Turn
from bot.safety import mask_pii

SESSION_ID_MAX = 64
COMMENT_MAX = 1000
CHANNELS = ("web", "widget", "line")  # where a question came from: the chat page, the /embed widget, LINE
LINE_EVENT_KEEP = timedelta(days=3)  # LINE redelivers for a limited time; ids older than this cannot come back

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(SESSION_ID_MAX), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(SESSION_ID_MAX), ForeignKey("conversations.id"), nullable=False),
    Column("question", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("doc_ids", JSON, nullable=False),
    Column("form_id", String(100)),
    Column("topic", String(100)),
    Column("latency_ms", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(10), nullable=False, server_default="web"),  # m003_channels
    Index("ix_messages_conversation", "conversation_id", "id"),
    Index("ix_messages_created", "created_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False, unique=True),
    Column("helpful", Boolean, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("failed_count", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(50), nullable=False),
    Column("target", String(200), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_at", "at"),
)

curated_answers = Table(
    "curated_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patterns", JSON, nullable=False),
    Column("answer", Text, nullable=False),
    Column("doc_ids", JSON, nullable=False),
    Column("form_id", String(100)),
    Column("expires_on", Date, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

line_events = Table(
    "line_events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_line_events_received", "received_at"),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("filename", String(255), nullable=False),
    Column("source_kind", String(10), nullable=False),
    Column("doc_id", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
)

handoff_clicks = Table(
    "handoff_clicks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),
    Column("target", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_handoff_clicks_created", "created_at"),
)


# --- migrations ---------------------------------------------------------------------------------------------------


def m001_initial(conn: Connection) -> None:
    metadata.create_all(conn, tables=[conversations, messages, feedback])


def m002_admin(conn: Connection) -> None:
    metadata.create_all(conn, tables=[users, admin_sessions, audit_log, curated_answers, drafts])


def m003_channels(conn: Connection) -> None:
    # A database created after this change got the column from m001 (which builds the current table); an older one
    # gets it here. ADD COLUMN with a constant default works alike on SQLite and PostgreSQL; earlier rows were web.
    if "channel" not in {c["name"] for c in inspect(conn).get_columns("messages")}:
        conn.execute(text("ALTER TABLE messages ADD COLUMN channel VARCHAR(10) NOT NULL DEFAULT 'web'"))
    metadata.create_all(conn, tables=[line_events])


def m004_handoff_clicks(conn: Connection) -> None:
    metadata.create_all(conn, tables=[handoff_clicks])


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "m001_initial", m001_initial),
    (2, "m002_admin", m002_admin),
    (3, "m003_channels", m003_channels),
    (4, "m004_handoff_clicks", m004_handoff_clicks),
]

CLICK_KINDS = ("form", "phone")


class UnknownMessage(LookupError):
    """Feedback was sent for a message that does not exist (or belongs to another session)."""


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
    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded. Returns the names applied."""
        applied: list[str] = []
        with self.engine.begin() as conn:
            metadata.create_all(conn, tables=[schema_migrations])
            done = set(conn.scalars(select(schema_migrations.c.id)))
        for number, name, fn in MIGRATIONS:
            if number in done:
                continue
            with self.engine.begin() as conn:
                fn(conn)
                conn.execute(insert(schema_migrations).values(id=number, name=name, applied_at=_now()))
            applied.append(name)
        self._check_file()  # remember which file was opened
        return applied

    def applied_migrations(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(schema_migrations.c.name).order_by(schema_migrations.c.id)))

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
            touched = conn.execute(
                update(conversations).where(conversations.c.id == session_id).values(last_at=now)
            ).rowcount
            if not touched:
                conn.execute(insert(conversations).values(id=session_id, created_at=now, last_at=now))
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
            existing = conn.scalar(select(feedback.c.id).where(feedback.c.message_id == message_id))
            if existing is not None:
                conn.execute(
                    update(feedback)
                    .where(feedback.c.id == existing)
                    # changing the rating keeps a comment given earlier (only a new comment replaces it)
                    .values(helpful=helpful, updated_at=now, **({"comment": masked} if masked is not None else {}))
                )
                return int(existing)
            return _new_id(
                conn.execute(
                    insert(feedback).values(
                        message_id=message_id, helpful=helpful, comment=masked, created_at=now, updated_at=now
                    )
                ).inserted_primary_key
            )

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
