"""The log store on its own (bot/storage/logstore.py; kept with the web tests because the web layer is its first user)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.answering.answer import AnswerKind, AnswerResult, Citation, Handoff
from bot.storage.logstore import LogStore, UnknownMessage, line_events


def result(topic: str | None = "jidou-teate", kind: AnswerKind = AnswerKind.ANSWER) -> AnswerResult:
    r = AnswerResult("q", kind, "text", latency_ms=12.345)
    if topic:
        r.topic = topic
        r.citations = [Citation(topic, "児童手当", "https://example.jp", "2024-09-04", "2026-11-27")]
        r.handoff = Handoff("form-x", "フォーム", "https://example.jp/f", "マイナポータル", ["マイナンバーカード"], [])
    return r


@pytest.fixture()
def store(tmp_path: Path) -> LogStore:
    s = LogStore(f"sqlite:///{tmp_path / 'sub' / 'log.db'}")
    s.migrate()
    return s


def test_migrations_are_recorded_and_run_once(store: LogStore) -> None:
    from bot.storage.migrations import MIGRATIONS

    assert store.applied_migrations()[:2] == ["m001_initial", "m002_admin"]
    assert store.applied_migrations() == [name for _, name, _ in MIGRATIONS]
    assert store.migrate() == []
    tables = set(inspect(store.engine).get_table_names())
    assert {"schema_migrations", "conversations", "messages", "feedback", "handoff_clicks"} <= tables


def test_a_database_of_the_previous_version_gets_the_click_table(tmp_path: Path) -> None:
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = LogStore(url)
    old.migrate(upto=2)
    with old.engine.begin() as conn:  # a turn written by the previous version (no channel column yet)
        conn.execute(
            text("INSERT INTO conversations (id, created_at, last_at) VALUES ('s', :t, :t)"), {"t": "2026-12-01"}
        )
        mid = conn.execute(
            text("INSERT INTO messages (conversation_id, question, kind, doc_ids, latency_ms, created_at) "
                 "VALUES ('s', '児童手当', 'answer', '[\"jidou-teate\"]', 1.0, :t)"), {"t": "2026-12-01"}
        ).lastrowid  # fmt: skip
    old.close()
    new = LogStore(url)
    assert new.migrate() == ["m003_shared_state", "m004_channels", "m005_handoff_clicks"]
    assert new.record_click("form", "jidou-teate-form") >= 1 and new.message(mid) is not None
    assert new.message(mid).channel == "web"  # a turn stored before the channel column reads as the web page
    with pytest.raises(ValueError):
        new.record_click("email", "x")


def test_a_later_rating_keeps_the_earlier_comment(store: LogStore) -> None:
    mid = store.record_message("s9", "保育園の申込", result("hoikuen-nyuen"))
    store.record_feedback(mid, False, "申込期限がわかりにくい 090-1111-2222", session_id="s9")
    store.record_feedback(mid, True, session_id="s9")  # changes the vote, says nothing
    fb = store.feedback_for(mid)
    assert fb is not None and fb["helpful"] is True
    assert fb["comment"].startswith("申込期限がわかりにくい") and "090-1111-2222" not in fb["comment"]


def test_history_is_oldest_first_and_per_session(store: LogStore) -> None:
    store.record_message("a", "児童手当について教えて", result("jidou-teate"))
    store.record_message("b", "保育園", result(None, AnswerKind.CLARIFY))
    store.record_message("a", "いくら?", result("jidou-teate"))
    assert [t.question for t in store.history("a")] == ["児童手当について教えて", "いくら?"]
    assert store.recent_topics("b") == []
    assert store.history("a", limit=1)[0].question == "いくら?"


def test_record_message_masks_and_keeps_what_analytics_need(store: LogStore) -> None:
    mid = store.record_message("s1", "電話は03-1234-5678です", result())
    m = store.message(mid)
    assert m is not None
    assert "03-1234-5678" not in m.question and "[電話番号]" in m.question
    assert (m.kind, m.doc_ids, m.form_id, m.topic, m.latency_ms) == ("answer", ["jidou-teate"], "form-x",
                                                                      "jidou-teate", 12.35)  # fmt: skip
    assert m.created_at is not None
    assert store.counts_by_kind() == {"answer": 1}


def test_feedback_upserts_masks_and_checks_ownership(store: LogStore) -> None:
    mid = store.record_message("s1", "q", result())
    fid = store.record_feedback(mid, False, session_id="s1")
    assert store.record_feedback(mid, True, "メールは a@b.jp です", session_id="s1") == fid
    fb = store.feedback_for(mid)
    assert fb is not None and fb["helpful"] is True and "a@b.jp" not in fb["comment"]
    assert store.feedback_summary() == {"helpful": 1, "not_helpful": 0}
    with pytest.raises(UnknownMessage):
        store.record_feedback(mid, True, session_id="someone-else")
    with pytest.raises(UnknownMessage):
        store.record_feedback(12345, True)


def test_ending_a_conversation_forgets_its_context_and_keeps_its_turns(store: LogStore) -> None:
    first = store.record_message("a", "児童館は何時まで?", result("jidoukan"))
    store.record_message("a", "じゃあ日曜日は?", result("jidoukan"))
    store.record_feedback(first, True, session_id="a")
    other = store.record_message("b", "保育園", result("hoikuen-nyuen"))
    assert store.end_conversation("a") is True
    assert store.history("a") == [] and store.recent_topics("a") == []
    assert [t.question for t in store.history("b")] == ["保育園"]  # another session is untouched
    kept = store.message(first)
    assert kept is not None and kept.session_id not in ("a", "b")  # still in the logs, in a closed conversation
    assert store.counts_by_kind() == {"answer": 3}
    with pytest.raises(UnknownMessage):  # the old card cannot be rated as the new session's
        store.record_feedback(first, False, session_id="a")
    store.record_message("a", "じゃあ日曜日は?", result(None, AnswerKind.CLARIFY))  # the id can start afresh
    assert [t.question for t in store.history("a")] == ["じゃあ日曜日は?"]
    assert store.end_conversation("never-seen") is False
    assert store.message(other) is not None


def test_m004_adds_the_channel_to_an_older_database_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = LogStore(url)
    old.migrate(upto=3)
    with old.engine.begin() as conn:  # a turn written before the channel column existed
        conn.execute(text("INSERT INTO conversations (id, created_at, last_at) VALUES ('before', :t, :t)"),
                     {"t": "2026-12-01"})  # fmt: skip
        conn.execute(
            text("INSERT INTO messages (conversation_id, question, kind, doc_ids, latency_ms, created_at) "
                 "VALUES ('before', '児童手当について教えて', 'answer', '[]', 1.0, :t)"), {"t": "2026-12-01"}
        )  # fmt: skip
    old.close()
    store = LogStore(url)
    assert store.migrate() == ["m004_channels", "m005_handoff_clicks"]
    assert [m.channel for m in store.messages()] == ["web"]
    store.record_message("line-abc", "保育園", result(), channel="line")
    assert [(m.session_id, m.channel) for m in store.messages()] == [("before", "web"), ("line-abc", "line")]


def test_record_message_refuses_an_unknown_channel(store: LogStore) -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        store.record_message("a", "q", result(), channel="fax")
    assert store.messages() == []


def test_a_line_event_is_claimed_once_and_old_ids_are_forgotten(store: LogStore) -> None:
    assert store.claim_line_event("01HZZZEVENT1") is True
    assert store.claim_line_event("01HZZZEVENT1") is False
    other = LogStore(store.url)  # another worker on the same database
    assert other.claim_line_event("01HZZZEVENT1") is False
    assert other.claim_line_event("01HZZZEVENT2") is True
    with store.engine.begin() as conn:
        conn.execute(line_events.update().values(received_at=text("'2000-01-01 00:00:00'")))
    assert store.claim_line_event("01HZZZEVENT3") is True
    with store.engine.connect() as conn:
        assert sorted(conn.scalars(line_events.select().with_only_columns(line_events.c.id))) == ["01HZZZEVENT3"]
