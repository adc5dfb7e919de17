"""The tables of the bot's database as they are today (SQLAlchemy Core), for the code that reads and writes them.

These definitions are *not* how the schema is created: each numbered migration in :mod:`bot.storage.migrations` states
its own DDL, frozen when it was written, and ``tests/storage/test_migrations.py`` checks that the migrations and these
tables describe the same schema. To change the schema, add a migration and change the table here to match.

Schema (created and evolved by the numbered migrations below, each recorded in ``schema_migrations``)::

    schema_migrations  id (int, the migration number), name, applied_at
    conversations      id (the client's session id, ≤ 64 chars), created_at, last_at
    messages           id, conversation_id → conversations.id, question (masked), kind (answer/clarify/emergency/
                       out_of_scope/no_answer), doc_ids (JSON list of cited document ids, in citation order),
                       form_id (the hand-off form, or null), topic (the document the turn was about; multi-turn uses it),
                       latency_ms, created_at
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

All times are UTC. ``doc_ids``/``form_id``/``topic``/``kind`` are what the admin analytics count ("which procedures are
asked about, which hand-offs are offered, which answers were not helpful").

Several web workers and machines (m003_shared_state; bot/staff/publish.py and web/ratelimit.py)::

    knowledge_revisions  id (the revision: also the re-index ticket staff wait on), at, actor, path (the knowledge file
                         published, relative to the knowledge folder, e.g. procedures/x.md; null for a plain
                         re-index request), text (the file's published text; null with path)
    index_nodes          node (one row per machine: host name and data folder), completed (the highest revision its
                         serving index covers), running, stage, done, total, ok, error, summary, generation,
                         started_at, finished_at, history (JSON list of the last runs), updated_at
    line_events          id (LINE's webhookEventId), received_at: the events already taken, so that a redelivered event
                         is answered once even when another worker received the first delivery; rows older than
                         ``LINE_EVENT_KEEP`` are deleted as new events arrive (m004_channels, with messages.channel:
                         web/widget/line)
    handoff_clicks       id, kind (form/phone), target (a form id of forms.yaml, or the digits of a phone number that
                         the knowledge publishes: never a parent's own number), created_at (m005_handoff_clicks)
    rate_limits          bucket (chat/light/login), client (the client address), window_start (start of the fixed
                         window, epoch seconds), hits; two windows give a sliding estimate
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
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
)

SESSION_ID_MAX = 64

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
    Column("channel", String(10), nullable=False, server_default="web"),  # m004_channels
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


knowledge_revisions = Table(
    "knowledge_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("path", String(255)),
    Column("text", Text),
)

index_nodes = Table(
    "index_nodes",
    metadata,
    Column("node", String(255), primary_key=True),
    Column("completed", Integer, nullable=False),
    Column("running", Boolean, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("ok", Boolean),
    Column("error", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("summary_ja", Text, nullable=False, server_default=""),  # what staff read (m003_shared_state)
    Column("generation", String(40), nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("history", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("bucket", String(20), primary_key=True),
    Column("client", String(100), primary_key=True),
    Column("window_start", BigInteger, primary_key=True, autoincrement=False),
    Column("hits", Integer, nullable=False),
    Index("ix_rate_limits_window", "window_start"),
)

line_events = Table(
    "line_events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_line_events_received", "received_at"),
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
