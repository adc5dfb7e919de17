"""The LINE channel end to end: real uvicorn serving ``POST /line/webhook``, line-bot-sdk calling a local LINE stub
(tests/web/line_stub.py) started here, the real Bot, real SQLite.

Webhooks are signed exactly as LINE signs them (base64 HMAC-SHA256 of the raw body with the channel secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.service import Bot
from tests.web.conftest import LiveServer
from tests.web.line_stub import StubLine
from web.routes.line import LineChannel

pytestmark = pytest.mark.slow

SECRET = "test-channel-secret-0123456789ab"
TOKEN = "test-channel-access-token"


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLine]:
    s = StubLine()
    yield s
    s.close()


@pytest.fixture(scope="module")
def line_overrides(stub: StubLine) -> dict[str, object]:
    return {"line_channel_access_token": TOKEN, "line_channel_secret": SECRET, "line_api_base": stub.url}


@pytest.fixture(scope="module")
def line_server(make_server: Callable[..., LiveServer], line_overrides: dict[str, object]) -> LiveServer:
    return make_server(**line_overrides)


@pytest.fixture(autouse=True)
def _fresh_stub(stub: StubLine) -> None:
    with stub.lock:
        stub.calls.clear()
        stub.expired.clear()
        stub.fail_status = 0


def user_id() -> str:
    return "U" + uuid.uuid4().hex  # LINE user ids: U + 32 hex digits


def base(user: str, **extra: Any) -> dict[str, Any]:
    return {"mode": "active", "timestamp": int(time.time() * 1000), "source": {"type": "user", "userId": user},
            "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(), "deliveryContext": {"isRedelivery": False},
            "replyToken": uuid.uuid4().hex, **extra}  # fmt: skip


def text_event(user: str, text: str, **extra: Any) -> dict[str, Any]:
    return base(user, type="message", message={"id": "1", "type": "text", "text": text, "quoteToken": "q"}, **extra)


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post(server: LiveServer, *events: dict[str, Any], signature: str | None = None,
         raw: bytes | None = None) -> httpx.Response:  # fmt: skip
    body = raw if raw is not None else json.dumps({"destination": "Ubot", "events": list(events)}).encode()
    headers = {"Content-Type": "application/json"}
    if signature != "":
        headers["X-Line-Signature"] = signature or sign(body)
    return httpx.post(f"{server.url}/line/webhook", content=body, headers=headers, timeout=30)


def rows(db_path: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def conversation(settings: Settings, overrides: dict[str, object], user: str) -> str:
    return LineChannel(settings.model_copy(update=overrides)).conversation_id(user)


def walk(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out.extend(walk(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(walk(v))
    return out


def uris(msg: dict[str, Any], block: str) -> list[str]:
    return [d["action"]["uri"] for d in walk(msg["contents"].get(block, {})) if d.get("type") == "button"]


# --- the webhook itself -------------------------------------------------------------------------------------------


def test_without_the_line_settings_there_is_no_webhook(server: LiveServer) -> None:
    assert post(server, text_event(user_id(), "児童手当")).status_code == 404


def test_a_bad_or_missing_signature_gets_400_and_nothing_is_processed(line_server: LiveServer, stub: StubLine,
                                                                      db_path: Path) -> None:  # fmt: skip
    before = rows(db_path, "SELECT count(*) n FROM messages")[0]["n"]
    event = text_event(user_id(), "児童手当について教えて")
    body = json.dumps({"destination": "Ubot", "events": [event]}).encode()
    assert post(line_server, raw=body, signature=sign(body, "another-secret")).status_code == 400
    assert post(line_server, raw=body, signature="").status_code == 400
    assert post(line_server, raw=body + b" ", signature=sign(body)).status_code == 400  # body changed after signing
    r = post(line_server, raw=b"not json", signature=sign(b"not json"))
    assert r.status_code == 400 and r.json()["code"] == "line_payload"
    time.sleep(1.0)  # give a wrongly started background task time to show itself
    assert stub.sent() == []
    assert rows(db_path, "SELECT count(*) n FROM messages")[0]["n"] == before
    assert rows(db_path, "SELECT count(*) n FROM line_events WHERE id = ?", event["webhookEventId"])[0]["n"] == 0
    ok = post(line_server, event)  # the same event, signed right, is taken
    assert ok.status_code == 200 and ok.json() == {"status": "ok"}
    [call] = stub.wait(1)
    assert call["path"] == "/v2/bot/message/reply" and call["body"]["replyToken"] == event["replyToken"]
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_lines_verify_button_sends_no_events_and_gets_200(line_server: LiveServer, stub: StubLine) -> None:
    assert post(line_server).status_code == 200
    time.sleep(0.3)
    assert stub.sent() == []


# --- answers ------------------------------------------------------------------------------------------------------


def test_an_answer_is_the_web_chats_answer_as_flex_with_the_hand_off_and_office_buttons(
    line_server: LiveServer, stub: StubLine, web_bot: Bot, db_path: Path, web_settings: Settings,
    line_overrides: dict[str, object],
) -> None:  # fmt: skip
    user = user_id()
    question = "児童手当の申請方法を教えて"
    assert post(line_server, text_event(user, question)).status_code == 200
    [call] = stub.wait(1)
    [msg] = call["body"]["messages"]
    expected = web_bot.ask(question)
    assert expected.handoff is not None and expected.office is not None
    assert msg["type"] == "flex" and msg["altText"] == expected.body[0][:400]
    shown = "\n".join(d["text"] for d in walk(msg["contents"]) if d.get("type") == "text")
    assert expected.body[0] in shown
    cite = expected.citations[0]
    assert f"出典: {cite.title}" in shown and cite.publisher_label in shown and "時点の情報" in shown
    assert uris(msg, "footer")[0] == expected.handoff.url  # the form, as a URI action
    assert uris(msg, "footer")[1].startswith("tel:03")  # the office
    assert [i["action"]["type"] for i in msg["quickReply"]["items"]] == ["message"] * len(msg["quickReply"]["items"])
    [stored] = rows(db_path, "SELECT * FROM messages WHERE conversation_id = ?",
                    conversation(web_settings, line_overrides, user))  # fmt: skip
    assert stored["channel"] == "line" and stored["kind"] == expected.kind.value
    assert stored["form_id"] == expected.handoff.form_id


def test_an_emergency_reply_puts_the_numbers_first_as_call_buttons(line_server: LiveServer, stub: StubLine) -> None:
    assert post(line_server, text_event(user_id(), "子どもが息をしていない")).status_code == 200
    [call] = stub.wait(1)
    [msg] = call["body"]["messages"]
    header = uris(msg, "header")
    assert header and all(u.startswith("tel:") for u in header) and "tel:119" in header
    assert msg["contents"]["header"]  # a bubble's header block is drawn above its body
    assert "119" in msg["altText"]


def test_clarify_choices_are_quick_replies_and_tapping_one_answers_in_the_same_conversation(
    line_server: LiveServer, stub: StubLine, db_path: Path, web_settings: Settings, line_overrides: dict[str, object]
) -> None:  # fmt: skip
    user = user_id()
    post(line_server, text_event(user, "手続き"))
    [msg] = stub.wait(1)[0]["body"]["messages"]
    items = msg["quickReply"]["items"]
    assert 2 <= len(items) <= 13
    assert all(1 <= len(i["action"]["label"]) <= 20 for i in items)
    tapped = items[0]["action"]["text"]  # a message action: LINE sends it as the user's next text message
    post(line_server, text_event(user, tapped))
    second = stub.wait(2)[1]["body"]["messages"][0]
    assert second["type"] == "flex"
    kinds = [r["kind"] for r in rows(db_path, "SELECT kind FROM messages WHERE conversation_id = ? ORDER BY id",
                                     conversation(web_settings, line_overrides, user))]  # fmt: skip
    assert kinds[0] == "clarify" and len(kinds) == 2 and kinds[1] != "clarify"


def test_an_english_question_gets_english_buttons(line_server: LiveServer, stub: StubLine) -> None:
    post(line_server, text_event(user_id(), "How do I apply for the child allowance?"))
    [msg] = stub.wait(1)[0]["body"]["messages"]
    labels = [d["action"]["label"] for d in walk(msg["contents"].get("footer", {})) if d.get("type") == "button"]
    assert labels and labels[0] in ("Apply online", "Read more")


# --- redelivery, size, other events, failures ---------------------------------------------------------------------


def test_a_redelivered_event_is_answered_once_even_by_another_worker(
    line_server: LiveServer, make_server: Callable[..., LiveServer], line_overrides: dict[str, object],
    stub: StubLine, db_path: Path,
) -> None:  # fmt: skip
    other = make_server(**line_overrides)  # a second worker on the same database
    event = text_event(user_id(), "保育園の申し込みは?")
    assert post(line_server, event).status_code == 200
    stub.wait(1)
    again = {**event, "deliveryContext": {"isRedelivery": True}}
    assert post(other, again).status_code == 200
    assert post(line_server, again).status_code == 200
    time.sleep(1.5)
    assert len(stub.sent()) == 1
    assert rows(db_path, "SELECT count(*) n FROM line_events WHERE id = ?", event["webhookEventId"])[0]["n"] == 1


def test_an_oversize_question_gets_a_polite_reply_and_is_not_stored(line_server: LiveServer, stub: StubLine,
                                                                    db_path: Path) -> None:  # fmt: skip
    before = rows(db_path, "SELECT count(*) n FROM messages")[0]["n"]
    post(line_server, text_event(user_id(), "保育園の申込は?" * 100))
    [msg] = stub.wait(1)[0]["body"]["messages"]
    assert msg["type"] == "text" and "500文字以内" in msg["text"]
    assert rows(db_path, "SELECT count(*) n FROM messages")[0]["n"] == before


def test_personal_data_is_masked_and_the_line_user_id_never_stored(
    line_server: LiveServer, stub: StubLine, db_path: Path, web_settings: Settings, line_overrides: dict[str, object]
) -> None:  # fmt: skip
    user = user_id()
    post(line_server, text_event(user, "児童手当の申請について。電話は090-1234-5678、メールはhanako@example.jp です"))
    stub.wait(1)
    [stored] = rows(db_path, "SELECT * FROM messages WHERE conversation_id = ?",
                    conversation(web_settings, line_overrides, user))  # fmt: skip
    assert "090-1234-5678" not in stored["question"] and "hanako@example.jp" not in stored["question"]
    assert "[電話番号]" in stored["question"]
    assert stored["conversation_id"].startswith("line-") and user not in stored["conversation_id"]
    for f in db_path.parent.glob(db_path.name + "*"):  # the database, its WAL and shared memory
        data = f.read_bytes()
        assert user.encode() not in data and b"090-1234-5678" not in data, f.name


@pytest.mark.parametrize(
    ("event", "expect"),
    [
        pytest.param(
            {"type": "follow", "follow": {"isUnblocked": False}}, "友だち追加ありがとうございます", id="follow"
        ),
        pytest.param(
            {
                "type": "message",
                "message": {
                    "id": "2",
                    "type": "sticker",
                    "packageId": "1",
                    "stickerId": "1",
                    "stickerResourceType": "STATIC",
                    "quoteToken": "q",
                },
            },
            "文字で送ってください",
            id="sticker",
        ),  # fmt: skip
        pytest.param(
            {
                "type": "message",
                "message": {"id": "3", "type": "image", "quoteToken": "q", "contentProvider": {"type": "line"}},
            },
            "文字で送ってください",
            id="image",
        ),  # fmt: skip
        pytest.param(
            {
                "type": "message",
                "message": {"id": "4", "type": "location", "latitude": 35.71, "longitude": 139.78, "address": "台東区"},
            },
            "文字で送ってください",
            id="location",
        ),  # fmt: skip
    ],
)
def test_follow_stickers_images_and_locations_get_a_short_polite_reply(
    line_server: LiveServer, stub: StubLine, event: dict[str, Any], expect: str
) -> None:
    post(line_server, base(user_id(), **event))
    [call] = stub.wait(1)
    [msg] = call["body"]["messages"]
    assert msg["type"] == "text" and expect in msg["text"] and len(msg["text"]) < 200


def test_an_unfollow_sends_nothing(line_server: LiveServer, stub: StubLine) -> None:
    event = base(user_id(), type="unfollow")
    del event["replyToken"]  # LINE gives none: the user has blocked the account
    assert post(line_server, event).status_code == 200
    time.sleep(0.5)
    assert stub.sent() == []


def test_an_expired_reply_token_is_retried_once_as_a_push(line_server: LiveServer, stub: StubLine) -> None:
    user = user_id()
    event = text_event(user, "児童手当について教えて")
    stub.expired.add(event["replyToken"])
    post(line_server, event)
    reply, push = stub.wait(2)
    assert reply["path"] == "/v2/bot/message/reply" and push["path"] == "/v2/bot/message/push"
    assert push["body"]["to"] == user and push["body"]["messages"] == reply["body"]["messages"]
    retry_key = push["headers"]["X-Line-Retry-Key"]
    assert uuid.UUID(retry_key) == uuid.uuid5(uuid.NAMESPACE_URL, f"line-event:{event['webhookEventId']}")
    time.sleep(0.3)
    assert len(stub.sent()) == 2


def test_any_other_api_failure_is_logged_and_not_retried(line_server: LiveServer, stub: StubLine,
                                                         caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    stub.fail_status = 500
    with caplog.at_level("ERROR", logger="web.line"):
        post(line_server, text_event(user_id(), "児童手当について教えて"))
        stub.wait(1)
        deadline = time.monotonic() + 10
        while "LINE reply failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "LINE reply failed" in caplog.text and "HTTP 500" in caplog.text
    time.sleep(0.3)
    assert [c["path"] for c in stub.sent()] == ["/v2/bot/message/reply"]


def test_an_emergency_is_answered_even_when_the_log_store_is_broken(
    make_server: Callable[..., LiveServer], line_overrides: dict[str, object], stub: StubLine, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    db = tmp_path / "broken.db"
    server = make_server(db_url=f"sqlite:///{db}", **line_overrides)
    post(server, text_event(user_id(), "児童手当はいくら?"))
    stub.wait(1)
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE line_events")
        conn.execute("DROP TABLE feedback")
        conn.execute("DROP TABLE messages")
    with caplog.at_level("ERROR"):
        post(server, text_event(user_id(), "子どもが息をしていない"))
        [msg] = stub.wait(2)[1]["body"]["messages"]
    assert "tel:119" in uris(msg, "header")
    assert "cannot tell if LINE event" in caplog.text and "log store unwritable" in caplog.text


def test_a_user_past_the_rate_limit_gets_a_polite_reply(make_server: Callable[..., LiveServer],
                                                        line_overrides: dict[str, object], stub: StubLine) -> None:  # fmt: skip
    server = make_server(rate_limit_per_minute=2, **line_overrides)
    user = user_id()
    for i in range(3):
        post(server, text_event(user, "児童手当について教えて"))
        stub.wait(i + 1)
    last = stub.sent()[2]["body"]["messages"][0]
    assert last["type"] == "text" and "少し時間をおいて" in last["text"]
    post(server, text_event(user_id(), "児童手当について教えて"))  # another parent is not held up
    assert stub.wait(4)[3]["body"]["messages"][0]["type"] == "flex"


def test_standby_events_are_not_answered(line_server: LiveServer, stub: StubLine) -> None:
    # LINE sends no reply token in standby (another channel has the chat); even with one, the bot stays quiet.
    event = text_event(user_id(), "児童手当について教えて", mode="standby")
    assert post(line_server, event).status_code == 200
    time.sleep(0.5)
    assert stub.sent() == []


def test_a_batch_of_long_messages_over_32_kb_is_taken(line_server: LiveServer, stub: StubLine) -> None:
    events = [text_event(user_id(), "保育園の申込について" * 490) for _ in range(5)]
    body = json.dumps({"destination": "Ubot", "events": events}).encode()
    assert len(body) > 32 * 1024
    assert post(line_server, *events).status_code == 200
    assert {c["body"]["replyToken"] for c in stub.wait(5)} == {e["replyToken"] for e in events}


def test_a_failing_bot_still_gets_the_parent_a_polite_reply(line_server: LiveServer, stub: StubLine, web_bot: Bot,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index file unreadable")

    monkeypatch.setattr(web_bot, "ask", broken)
    post(line_server, text_event(user_id(), "児童手当について教えて"))
    [msg] = stub.wait(1)[0]["body"]["messages"]
    assert msg["type"] == "text" and "うまく答えられませんでした" in msg["text"]
