"""EBPM analytics: every number equals a count computed straight from the stored conversations; the unanswered queue
groups similar questions; the CSV export covers the chosen period."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from bot.answering.answer import AnswerKind, AnswerResult
from bot.config import Settings
from bot.service import Bot
from bot.storage.logstore import LogStore

QUESTIONS = [
    "児童手当はいくら?",  # answer + hand-off
    "保育園の申込はどうすればいい?",
    "夜中に子どもが熱を出した",  # emergency
    "手続き",  # clarify
    "ピアノ発表会の衣装はどこで買える?",  # no answer / out of scope
    "明日の天気は?",  # out of scope
    "妊娠届はどこに出す?",
]


def _csv(text: str) -> dict[tuple[str, str], str]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["metric", "key", "value"]
    return {(m, k): v for m, k, v in rows[1:]}


def _db(settings: Settings) -> sqlite3.Connection:
    conn = sqlite3.connect(settings.data_dir / "bot.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_numbers_match_the_stored_conversations(client_as: Callable[[str], httpx.Client], admin_settings: Settings,
                                                admin_bot: Bot) -> None:  # fmt: skip
    c = client_as("viewer")
    ids = []
    session = None
    for q in QUESTIONS:
        body = c.post("/api/chat", json={"message": q, **({"session_id": session} if session else {})}).json()
        session = body["session_id"]
        ids.append(body["message_id"])
    for i, helpful in ((0, True), (1, False), (6, True)):
        r = c.post("/api/feedback", json={"message_id": ids[i], "helpful": helpful, "session_id": session})
        assert r.status_code == 200

    today = admin_settings.current_date()
    period = {"start": (today - timedelta(days=30)).isoformat(), "end": (today + timedelta(days=1)).isoformat()}
    r = c.get("/admin/analytics.csv", params=period)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    got = _csv(r.text)

    with _db(admin_settings) as db:
        msgs = db.execute("SELECT * FROM messages").fetchall()
        fb = db.execute("SELECT helpful, count(*) n FROM feedback GROUP BY helpful").fetchall()
    kinds = Counter(m["kind"] for m in msgs)
    assert int(got[("total", "questions")]) == len(msgs) >= len(QUESTIONS)
    for kind in ("answer", "no_answer", "clarify", "emergency", "out_of_scope"):
        assert int(got[("kind", kind)]) == kinds[kind], kind
        assert float(got[("rate", kind)]) == round(kinds[kind] / len(msgs), 3)
    assert kinds["emergency"] >= 1 and kinds["answer"] >= 2
    votes = {bool(row["helpful"]): row["n"] for row in fb}
    assert int(got[("feedback", "helpful")]) == votes.get(True, 0)
    assert int(got[("feedback", "not_helpful")]) == votes.get(False, 0)
    forms = Counter(m["form_id"] for m in msgs if m["form_id"])
    assert {k: int(v) for (m, k), v in got.items() if m == "handoff"} == dict(forms)
    docs = Counter(d for m in msgs for d in dict.fromkeys(json.loads(m["doc_ids"])))
    assert {k: int(v) for (m, k), v in got.items() if m == "per_document"} == dict(docs)
    tokyo = ZoneInfo("Asia/Tokyo")
    hours = Counter(datetime.fromisoformat(m["created_at"]).replace(tzinfo=UTC).astimezone(tokyo).hour for m in msgs)
    assert {int(k): int(v) for (m, k), v in got.items() if m == "per_hour" and int(v)} == dict(hours)
    days = Counter(datetime.fromisoformat(m["created_at"]).replace(tzinfo=UTC).astimezone(tokyo).date().isoformat()
                   for m in msgs)  # fmt: skip
    assert {k: int(v) for (m, k), v in got.items() if m == "per_day" and int(v)} == dict(days)
    kb = admin_bot.generation.kb
    cats = Counter(
        kb.procedures[m["topic"] or json.loads(m["doc_ids"])[0]].category
        if (m["topic"] or json.loads(m["doc_ids"])) else "(該当なし)"
        for m in msgs
    )  # fmt: skip
    assert {k: int(v) for (m, k), v in got.items() if m == "per_category"} == dict(cats)
    assert float(got[("estimate", "staff_hours_saved")]) == round(kinds["answer"] * 6.0 / 60, 1)

    page = c.get("/admin/analytics", params=period)
    assert page.status_code == 200
    assert f'id="m-total">{len(msgs)}<' in page.text
    assert page.text.count("<svg") >= 5 and "<script>" not in page.text and "style=" not in page.text

    messages_csv = c.get("/admin/analytics.csv", params={**period, "table": "messages"}).text
    assert len(list(csv.reader(io.StringIO(messages_csv.lstrip("\ufeff"))))) == len(msgs) + 1


def test_period_outside_the_data_is_empty(client_as: Callable[[str], httpx.Client]) -> None:
    c = client_as("viewer")
    got = _csv(c.get("/admin/analytics.csv", params={"start": "2001-01-01", "end": "2001-01-31"}).text)
    assert got[("total", "questions")] == "0" and got[("per_day", "2001-01-15")] == "0"
    assert c.get("/admin/analytics", params={"start": "2001-02-01", "end": "2001-01-01"}).status_code == 422


def _result(q: str, kind: AnswerKind, doc: str | None = None) -> AnswerResult:
    return AnswerResult(q, kind, "", topic=doc)


def test_unanswered_queue_groups_similar_questions(client_as: Callable[[str], httpx.Client],
                                                   admin_settings: Settings) -> None:  # fmt: skip
    store = LogStore(admin_settings.database_url)
    try:
        store.record_message("uq1", "おむつ用のゴミ袋はもらえますか", _result("", AnswerKind.NO_ANSWER))
        store.record_message("uq2", "おむつのゴミ袋はもらえる?", _result("", AnswerKind.NO_ANSWER))
        store.record_message("uq3", "おむつ用ゴミ袋はもらえますか 090-1234-5678", _result("", AnswerKind.CLARIFY))
        store.record_message("uq4", "ベビーカーの貸し出しはありますか", _result("", AnswerKind.NO_ANSWER))
        rated = store.record_message("uq5", "児童手当の振込日は?", _result("", AnswerKind.ANSWER, "jidou-teate"))
        store.record_feedback(rated, False)
    finally:
        store.close()
    viewer = client_as("viewer")
    page = viewer.get("/admin/unanswered").text
    rows = page.split('<tr class="group">')[1:]
    diaper = next(r for r in rows if "ゴミ袋" in r)
    assert '<td class="num">3</td>' in diaper
    assert "[電話番号]" in diaper and "090-1234-5678" not in diaper  # the newest example, masked
    assert 'kind-no_answer">回答なし 2' in diaper and 'kind-clarify">聞き返し 1' in diaper
    assert any("ベビーカー" in r and '<td class="num">1</td>' in r for r in rows)
    assert any("振込日" in r and "役に立たなかった 1" in r for r in rows)
    assert "定型回答を作る" not in page  # viewers read; editors act
    editor_page = client_as("editor").get("/admin/unanswered").text
    assert "/admin/curated/new?pattern=" in editor_page
    assert "/admin/knowledge/jidou-teate/edit" in editor_page


def test_csv_cells_cannot_run_as_formulas(client_as: Callable[[str], httpx.Client], admin_settings: Settings) -> None:
    store = LogStore(admin_settings.database_url)
    try:
        store.record_message("csv1", '=HYPERLINK("http://evil.example","保育園")', _result("", AnswerKind.NO_ANSWER))
        store.record_message("csv2", "+1+2 保育料", _result("", AnswerKind.NO_ANSWER))
    finally:
        store.close()
    c = client_as("viewer")
    today = admin_settings.current_date()
    period = {"start": (today - timedelta(days=1)).isoformat(), "end": (today + timedelta(days=1)).isoformat()}
    for table in ("summary", "messages"):
        rows = list(csv.reader(io.StringIO(c.get("/admin/analytics.csv", params={**period, "table": table}).text)))
        cells = [cell.lstrip("\ufeff") for row in rows for cell in row]
        assert not any(cell.startswith(("=", "+", "@")) for cell in cells), table
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)


def test_questions_are_counted_per_channel_web_widget_and_line(client_as: Callable[[str], httpx.Client],
                                                               admin_settings: Settings, admin_server: object) -> None:  # fmt: skip
    c = client_as("viewer")
    base = str(c.base_url).rstrip("/")
    # The widget's iframe page (/embed) sends its address as Referer; the chat page sends "/"
    assert c.post(
        "/api/chat", json={"message": "児童手当について教えて"}, headers={"Referer": f"{base}/embed"}
    ).is_success
    assert c.post("/api/chat", json={"message": "保育園の申込は?"}, headers={"Referer": f"{base}/embed?x=1"}).is_success
    assert c.post("/api/chat", json={"message": "妊娠届はどこに出す?"}, headers={"Referer": f"{base}/"}).is_success
    store = LogStore(admin_settings.database_url)
    try:
        store.record_message("line-abc", "児童手当はいくら?", _result("", AnswerKind.ANSWER, "jidou-teate"), "line")
    finally:
        store.close()
    with _db(admin_settings) as db:
        stored = Counter(r["channel"] for r in db.execute("SELECT channel FROM messages"))
    assert stored["widget"] >= 2 and stored["line"] >= 1 and stored["web"] >= 1
    today = admin_settings.current_date()
    period = {"start": (today - timedelta(days=30)).isoformat(), "end": (today + timedelta(days=1)).isoformat()}
    got = _csv(c.get("/admin/analytics.csv", params=period).text)
    assert {k: int(v) for (m, k), v in got.items() if m == "channel"} == {
        "web": stored["web"], "widget": stored["widget"], "line": stored["line"]}  # fmt: skip
    page = c.get("/admin/analytics", params=period).text
    section = page.split('id="m-channels"')[1].split("</div>")[0]
    assert "ウィジェット(埋め込み)" in section and "LINE" in section and "ウェブ(チャットページ)" in section
    rows = list(csv.reader(io.StringIO(c.get("/admin/analytics.csv", params={**period, "table": "messages"}).text)))
    assert rows[0][-1] == "channel" and {r[-1] for r in rows[1:]} == {"web", "widget", "line"}


def test_handoff_clicks_are_counted_per_form_and_number(client_as: Callable[[str], httpx.Client],
                                                        admin_settings: Settings, admin_bot: Bot) -> None:  # fmt: skip
    kb = admin_bot.generation.kb
    form = next(iter(kb.forms.values()))
    office = next(o for o in kb.offices.values() if o.phone)
    c = client_as("viewer")
    today = admin_settings.current_date()
    period = {"start": today.isoformat(), "end": today.isoformat()}
    before = _csv(c.get("/admin/analytics.csv", params=period).text)
    digits = "".join(ch for ch in office.phone if ch.isdigit())
    for body in ({"kind": "form", "target": form.url}, {"kind": "form", "target": form.url},
                 {"kind": "phone", "target": f"tel:{office.phone}"}):  # fmt: skip
        assert c.post("/api/handoff-click", json=body).status_code == 204
    # a number the knowledge does not publish (a parent's own, typed into a link somewhere) is never stored
    r = c.post("/api/handoff-click", json={"kind": "phone", "target": "tel:090-1234-5678"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_target"
    assert c.post("/api/handoff-click", json={"kind": "form", "target": "https://evil.example/"}).status_code == 422
    assert c.post("/api/handoff-click", json={"kind": "mail", "target": "x"}).status_code == 422
    with _db(admin_settings) as db:
        stored = {tuple(r) for r in db.execute("SELECT kind, target FROM handoff_clicks")}
    assert ("form", form.id) in stored and ("phone", digits) in stored
    assert not any("09012345678" in t for _, t in stored)
    got = _csv(c.get("/admin/analytics.csv", params=period).text)
    assert int(got[("click_form", form.id)]) == int(before.get(("click_form", form.id), 0)) + 2
    assert int(got[("click_phone", digits)]) == int(before.get(("click_phone", digits), 0)) + 1
    page = c.get("/admin/analytics", params=period).text
    assert form.title in page and office.name in page


def test_previous_period_and_unofficial_sources(client_as: Callable[[str], httpx.Client], admin_settings: Settings,
                                                admin_bot: Bot) -> None:  # fmt: skip
    from sqlalchemy import insert

    from bot.answering.results import Citation
    from bot.knowledge.publishers import OFFICIAL, document_publisher
    from bot.storage.tables import conversations, messages

    kb = admin_bot.generation.kb
    ward = kb.ward
    assert ward is not None

    def publisher(pid: str) -> str:
        return document_publisher(kb.procedures[pid], ward)

    unofficial = next(pid for pid in sorted(kb.procedures) if publisher(pid) not in OFFICIAL)
    official = next(pid for pid in sorted(kb.procedures) if publisher(pid) == "official_ward")
    # a week far back, with a previous week before it: 3 questions then, 2 now (all answers; 1 now unofficial)
    start, end = datetime(2024, 3, 11, 12, tzinfo=UTC), datetime(2024, 3, 17, 12, tzinfo=UTC)
    store = LogStore(admin_settings.database_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(conversations).values(id="pp", created_at=start, last_at=end))
            for at, doc in ((start - timedelta(days=7), official), (start - timedelta(days=6), official),
                            (start - timedelta(days=2), official), (start, unofficial), (end, official)):  # fmt: skip
                conn.execute(insert(messages).values(conversation_id="pp", question="q", kind="answer",
                                                     doc_ids=[doc], form_id=None, topic=doc, latency_ms=1,
                                                     created_at=at))  # fmt: skip
    finally:
        store.close()
    assert Citation.of(kb.procedures[unofficial], ward).publisher not in OFFICIAL
    c = client_as("viewer")
    period = {"start": "2024-03-11", "end": "2024-03-17"}
    got = _csv(c.get("/admin/analytics.csv", params=period).text)
    assert got[("total", "questions")] == "2"
    assert got[("previous_period", "start")] == "2024-03-04" and got[("previous_period", "end")] == "2024-03-10"
    assert got[("previous", "questions")] == "3"
    assert got[("source", "unofficial_answers")] == "1" and float(got[("source", "unofficial_rate")]) == 0.5
    assert got[("unofficial_document", unofficial)] == "1"
    page = c.get("/admin/analytics", params=period).text
    row = page.split('data-metric="questions"', 1)[1].split("</tr>", 1)[0]
    assert ">2件<" in row and ">3件<" in row and ">-1件<" in row
    assert "2 件のうち 1 件(50.0%)" in page


def test_feedback_comments_newest_first_masked_and_exported(client_as: Callable[[str], httpx.Client],
                                                            admin_settings: Settings) -> None:  # fmt: skip
    store = LogStore(admin_settings.database_url)
    try:
        first = store.record_message("fc1", "保育園の申込", _result("", AnswerKind.ANSWER, "hoikuen-nyuen"))
        second = store.record_message("fc2", "児童手当", _result("", AnswerKind.ANSWER, "jidou-teate"))
        store.record_feedback(first, False, "期限がわかりにくい。連絡は090-1234-5678へ")
        store.record_feedback(second, True, '=HYPERLINK("http://evil.example","x")')
        store.record_feedback(first, True)  # a later vote without a comment keeps the comment
    finally:
        store.close()
    c = client_as("viewer")
    page = c.get("/admin/feedback").text
    rows = page.split('<tr class="comment"')[1:]
    ours = [r for r in rows if f'data-message="{first}"' in r or f'data-message="{second}"' in r]
    assert f'data-message="{first}"' in ours[0]  # its vote is the newest
    assert "期限がわかりにくい" in ours[0] and "090-1234-5678" not in page and "[電話番号]" in ours[0]
    assert "役に立った" in ours[0]
    assert "保護者の声" in page
    export = c.get("/admin/feedback.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows_csv = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows_csv[0][:4] == ["message_id", "at_local", "helpful", "comment"]
    cells = [cell for row in rows_csv for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    ids = [int(r[0]) for r in rows_csv[1:]]
    assert ids.index(first) < ids.index(second)
