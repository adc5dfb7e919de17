"""The log store on its own (bot/storage/logstore.py; kept with the web tests because the web layer is its first user)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.answering.answer import AnswerKind, AnswerResult, Citation, Handoff
from bot.storage.logstore import LogStore, UnknownMessage


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
    assert {"schema_migrations", "conversations", "messages", "feedback"} <= tables


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
