"""The numbered migrations of the bot's database, and the runner that applies them once, under a lock.

Each migration states its own DDL as it was when written (its tables are declared on a private ``MetaData`` inside the
function), never today's tables from :mod:`bot.storage.tables`: a database created at migration 1 and upgraded later
goes through exactly the statements a new one does, so both end with the same schema (``tests/storage`` checks it).

Migrations run at start-up. Several web workers (``--workers 2``) and several machines start at the same moment, so the
runner holds a lock while it looks at ``schema_migrations`` and applies what is missing: a PostgreSQL advisory lock
(every worker and machine on the database waits for it), a file lock beside an SQLite file. The second worker then
finds everything applied and does nothing.

To change the schema, add ``m00N_<what>(conn)`` at the end of ``MIGRATIONS`` and change :mod:`bot.storage.tables` to
match; never edit an applied migration. A new table that refers to an older one declares a stub of it (its ``id``
column) on the same private ``MetaData``; a new column is ``conn.execute(text("ALTER TABLE t ADD COLUMN c VARCHAR(20)"))``.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
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
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine

# pg_advisory_lock takes a bigint: any fixed number the bot alone uses ("kosodate" in ASCII, folded to 63 bits).
ADVISORY_LOCK_KEY = 0x6B6F736F64617465 & 0x7FFFFFFFFFFFFFFF

_meta = MetaData()
# The migrations table itself never changes shape: the runner creates it before anything else.
schema_migrations = Table(
    "schema_migrations",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def m001_initial(conn: Connection) -> None:
    md = MetaData()
    Table(
        "conversations",
        md,
        Column("id", String(64), primary_key=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("last_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "messages",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
        Column("question", Text, nullable=False),
        Column("kind", String(20), nullable=False),
        Column("doc_ids", JSON, nullable=False),
        Column("form_id", String(100)),
        Column("topic", String(100)),
        Column("latency_ms", Float, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_created", "created_at"),
    )
    Table(
        "feedback",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("message_id", Integer, ForeignKey("messages.id"), nullable=False, unique=True),
        Column("helpful", Boolean, nullable=False),
        Column("comment", Text),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    md.create_all(conn)


def m002_admin(conn: Connection) -> None:
    md = MetaData()
    Table(
        "users",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(64), nullable=False, unique=True),
        Column("password_hash", String(255), nullable=False),
        Column("role", String(20), nullable=False),
        Column("failed_count", Integer, nullable=False),
        Column("locked_until", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "admin_sessions",
        md,
        Column("id", String(64), primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("csrf_token", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "audit_log",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(64), nullable=False),
        Column("action", String(50), nullable=False),
        Column("target", String(200), nullable=False),
        Column("detail", Text, nullable=False),
        Index("ix_audit_at", "at"),
    )
    Table(
        "curated_answers",
        md,
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
    Table(
        "drafts",
        md,
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
    md.create_all(conn)


def m003_shared_state(conn: Connection) -> None:
    """What several workers and machines must share: published knowledge, each node's re-index, the rate limits."""
    md = MetaData()
    Table(
        "knowledge_revisions",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(64), nullable=False),
        Column("path", String(255)),
        Column("text", Text),
    )
    Table(
        "index_nodes",
        md,
        Column("node", String(255), primary_key=True),
        Column("completed", Integer, nullable=False),
        Column("running", Boolean, nullable=False),
        Column("stage", String(20), nullable=False),
        Column("done", Integer, nullable=False),
        Column("total", Integer, nullable=False),
        Column("ok", Boolean),
        Column("error", Text, nullable=False),
        Column("summary", Text, nullable=False),
        Column("summary_ja", Text, nullable=False, server_default=""),
        Column("generation", String(40), nullable=False),
        Column("started_at", Float),
        Column("finished_at", Float),
        Column("history", JSON, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "rate_limits",
        md,
        Column("bucket", String(20), primary_key=True),
        Column("client", String(100), primary_key=True),
        Column("window_start", BigInteger, primary_key=True, autoincrement=False),
        Column("hits", Integer, nullable=False),
        Index("ix_rate_limits_window", "window_start"),
    )
    md.create_all(conn)


def m004_channels(conn: Connection) -> None:
    """Where each question came from (the chat page, the widget, LINE), and the LINE events already taken."""
    conn.execute(text("ALTER TABLE messages ADD COLUMN channel VARCHAR(10) NOT NULL DEFAULT 'web'"))
    md = MetaData()
    Table(
        "line_events",
        md,
        Column("id", String(64), primary_key=True),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Index("ix_line_events_received", "received_at"),
    )
    md.create_all(conn)


def m005_handoff_clicks(conn: Connection) -> None:
    """Each use of a hand-off (a form opened, a phone tapped), for the EBPM analytics."""
    md = MetaData()
    Table(
        "handoff_clicks",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(10), nullable=False),
        Column("target", String(100), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_handoff_clicks_created", "created_at"),
    )
    md.create_all(conn)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "m001_initial", m001_initial),
    (2, "m002_admin", m002_admin),
    (3, "m003_shared_state", m003_shared_state),
    (4, "m004_channels", m004_channels),
    (5, "m005_handoff_clicks", m005_handoff_clicks),
]


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Only one process migrates at a time: the others wait here, then find nothing left to do."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with engine.connect() as conn:
            # session-level: held across the migrations' own transactions (on other connections) until unlocked
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if backend == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return
    yield  # an in-memory database belongs to one process


def migrate(engine: Engine, upto: int | None = None) -> list[str]:
    """Apply the migrations not yet recorded (up to number ``upto``, for tests of old databases); returns their names."""
    applied: list[str] = []
    with migration_lock(engine):
        with engine.begin() as conn:
            _meta.create_all(conn, tables=[schema_migrations])
            done = set(conn.scalars(select(schema_migrations.c.id)))
        for number, name, fn in MIGRATIONS:
            if number in done or (upto is not None and number > upto):
                continue
            with engine.begin() as conn:
                fn(conn)
                conn.execute(insert(schema_migrations).values(id=number, name=name, applied_at=datetime.now(UTC)))
            applied.append(name)
    return applied


def applied_migrations(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(schema_migrations.c.name).order_by(schema_migrations.c.id)))
