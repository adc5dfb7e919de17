"""The LINE rendering on its own (web/line_render.py): the Flex JSON for each kind of reply, within LINE's limits.

Every rendered message is also parsed by line-bot-sdk's models, which enforce part of the schema themselves (13 quick
reply items, 5 messages, the enums of sizes and styles), so a structure LINE would reject fails here first.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from linebot.v3.messaging import ReplyMessageRequest

from bot.answering.results import (
    AnswerKind,
    AnswerResult,
    Choice,
    Citation,
    EmergencyNumber,
    Handoff,
    OfficeContact,
)
from web import line_render as lr

WARD = "https://www.city.taito.lg.jp/kosodate/jidouteate.html"


def answer(**over: Any) -> AnswerResult:
    r = AnswerResult(
        question="児童手当の申請は?",
        kind=AnswerKind.ANSWER,
        text="児童手当は中学生までの子どもを育てる人に支給されます。",
        body=["児童手当は中学生までの子どもを育てる人に支給されます。", "申請は出生日の翌日から15日以内です。"],
        citations=[Citation("jidou-teate", "児童手当", WARD, "2026-04-01", "2026-11-01", True, "official_ward")],
        handoff=Handoff(
            "jidou-teate-form",
            "児童手当の認定請求",
            "https://logoform.jp/form/abc",
            "オンライン",
            ["マイナンバーカード", "健康保険証"],
            [],
            kind="application",
        ),  # fmt: skip
        office=OfficeContact("kodomo", "子育て支援課", "03-5246-1231", "平日8:30〜17:15", None, None),
        suggestions=[
            Choice("いくらもらえる?", "児童手当はいくらもらえますか"),
            Choice("振込日は?", "児童手当の振込日は"),
        ],
    )
    for k, v in over.items():
        setattr(r, k, v)
    return r


def walk(node: Any) -> list[dict[str, Any]]:
    """Every dict in the JSON tree (to find all actions and texts)."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out.extend(walk(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(walk(v))
    return out


def check_limits(messages: list[dict[str, Any]]) -> None:
    assert 1 <= len(messages) <= lr.MESSAGES_PER_REQUEST_MAX
    ReplyMessageRequest.from_dict({"replyToken": "t", "messages": messages})  # the SDK's own schema
    for m in messages:
        if m["type"] == "text":
            assert lr.units(m["text"]) <= lr.TEXT_MAX
        if m["type"] == "flex":
            assert 0 < lr.units(m["altText"]) <= lr.ALT_TEXT_MAX
            assert lr.json_size(m["contents"]) <= lr.BUBBLE_JSON_MAX
        items = m.get("quickReply", {}).get("items", [])
        assert len(items) <= lr.QUICK_REPLY_MAX
        for it in items:
            assert 0 < lr.units(it["action"]["label"]) <= lr.QUICK_REPLY_LABEL_MAX
            assert 0 < lr.units(it["action"]["text"]) <= lr.MESSAGE_ACTION_TEXT_MAX
        for d in walk(m.get("contents", {})):
            if d.get("type") == "uri":
                assert d["uri"].startswith(lr.URI_SCHEMES) and lr.units(d["uri"]) <= lr.URI_MAX
                assert 0 < lr.units(d["label"]) <= lr.FLEX_BUTTON_LABEL_MAX


def buttons(msg: dict[str, Any], block: str) -> list[dict[str, Any]]:
    return [d["action"] for d in walk(msg["contents"].get(block, {})) if d.get("type") == "button"]


def texts(msg: dict[str, Any]) -> str:
    return "\n".join(d["text"] for d in walk(msg["contents"]) if d.get("type") == "text")


def test_an_answer_has_the_text_the_source_with_publisher_and_date_and_the_hand_off_buttons() -> None:
    [msg] = lr.render_answer(answer())
    check_limits([msg])
    shown = texts(msg)
    assert "申請は出生日の翌日から15日以内です。" in shown
    assert "出典: 児童手当" in shown and "区の公式ページ" in shown and "2026年4月1日時点の情報" in shown
    footer = buttons(msg, "footer")
    assert footer[0] == {"type": "uri", "label": "オンラインで申請する", "uri": "https://logoform.jp/form/abc"}
    assert footer[1]["uri"] == "tel:0352461231" and footer[1]["label"].startswith("電話する")
    assert "必要なもの: マイナンバーカード、健康保険証" in shown
    source_box = next(d for d in walk(msg["contents"]["body"]) if d.get("action", {}).get("uri") == WARD)
    assert source_box["type"] == "box"
    assert [i["action"]["text"] for i in msg["quickReply"]["items"]] == [
        "児童手当はいくらもらえますか",
        "児童手当の振込日は",
    ]
    assert msg["altText"] == "児童手当は中学生までの子どもを育てる人に支給されます。"


def test_an_information_page_is_read_more_and_an_undated_source_says_when_it_was_checked() -> None:
    r = answer(handoff=Handoff("p", "保育園のページ", WARD, "web", [], [], kind="information", publisher="official_ward"),
               citations=[Citation("x", "保育園", WARD, "2026-11-01", "2026-11-01", False, "official_ward")])  # fmt: skip
    [msg] = lr.render_answer(r)
    check_limits([msg])
    assert buttons(msg, "footer")[0]["label"] == "くわしく見る"
    assert "更新日不明(2026年11月1日確認)" in texts(msg)


def test_an_emergency_puts_the_numbers_first_as_call_buttons() -> None:
    r = answer(kind=AnswerKind.EMERGENCY, body=["すぐに電話してください。"], citations=[], handoff=None,
               emergency_title="いますぐ電話してください",
               emergency_numbers=[EmergencyNumber("救急車", "119"), EmergencyNumber("子ども医療電話相談", "#8000")])  # fmt: skip
    [msg] = lr.render_answer(r)
    check_limits([msg])
    header = buttons(msg, "header")
    assert [b["uri"] for b in header] == ["tel:119", "tel:%238000"]
    assert header[0]["label"] == "救急車 119"
    assert list(msg["contents"]).index("header") < list(msg["contents"]).index("body")
    assert msg["altText"].startswith("いますぐ電話してください 救急車 119")


def test_clarify_choices_become_quick_replies_capped_at_13_with_short_labels() -> None:
    choices = [
        Choice(f"とても長い選択肢の名前その{i}番目ですよね本当に", f"保育園の手続き{i}について") for i in range(20)
    ]
    r = answer(kind=AnswerKind.CLARIFY, body=["どの制度のことですか?"], citations=[], handoff=None, office=None,
               choices=choices)  # fmt: skip
    [msg] = lr.render_answer(r)
    check_limits([msg])
    items = msg["quickReply"]["items"]
    assert len(items) == 13
    assert items[0]["action"]["label"].endswith("…") and lr.units(items[0]["action"]["label"]) == 20
    assert items[0]["action"]["text"] == "保育園の手続き0について"
    assert "footer" not in msg["contents"]


def test_an_oversize_answer_is_cut_to_fit_and_says_where_the_rest_is() -> None:
    huge = ["あ" * 3000, "い" * 3000, "😀" * 3000]
    many = [Citation(f"d{i}", "長い題名" * 60, WARD + "?" + "x" * 900, "2026-04-01", "2026-04-01") for i in range(10)]
    r = answer(body=huge, citations=many, handoff=Handoff("f", "題" * 500, WARD, "web", ["書類" * 200] * 10, []))
    [msg] = lr.render_answer(r)
    check_limits([msg])
    shown = texts(msg)
    assert "…(続きは出典のページで)" in shown
    assert shown.count("出典: ") == lr.MAX_SOURCES
    assert lr.units(msg["altText"]) <= lr.ALT_TEXT_SHOWN


def test_a_bubble_over_30_kb_gives_the_paragraphs_less_room_until_it_fits() -> None:
    r = answer(body=["\U0001f600" * 2000], suggestions=[])
    r.citations = [Citation(f"d{i}", "題" * 100, WARD, "2026-04-01", "2026-04-01") for i in range(3)]
    # Emergency numbers are never dropped, so many of them squeeze the answer text instead.
    r.emergency_numbers = [EmergencyNumber("相談窓口" * 10, f"03-0000-{i:04d}") for i in range(60)]
    [msg] = lr.render_answer(r)
    check_limits([msg])
    assert len(buttons(msg, "header")) == 60


def test_clip_counts_utf16_units_and_never_splits_a_surrogate_pair() -> None:
    assert lr.units("😀") == 2
    clipped = lr.clip("😀" * 30, 20)
    assert lr.units(clipped) <= 20 and clipped.endswith("…")
    clipped.encode("utf-8")  # a lone surrogate would raise here
    assert lr.clip("短い", 20) == "短い"


def test_an_answer_in_english_gets_english_buttons_and_iso_dates() -> None:
    [msg] = lr.render_answer(answer(lang="en", body=["Child allowance is paid to parents."]))
    check_limits([msg])
    assert buttons(msg, "footer")[0]["label"] == "Apply online"
    assert "as of 2026-04-01" in texts(msg)


@pytest.mark.parametrize("key", sorted(lr.POLITE))
def test_polite_replies_are_plain_text_within_limits(key: str) -> None:
    msg = lr.polite(key, max=500)
    check_limits([msg])
    assert msg["type"] == "text" and msg["text"]


def test_a_tel_or_bad_url_never_reaches_an_action() -> None:
    r = answer(citations=[Citation("x", "題", "javascript:alert(1)", "2026-04-01", "2026-04-01")],
               handoff=Handoff("f", "フォーム", "ftp://example.jp/f", "web", [], []))  # fmt: skip
    [msg] = lr.render_answer(r)
    check_limits([msg])
    assert "javascript:" not in json.dumps(msg) and "ftp:" not in json.dumps(msg)


def test_what_cannot_fit_a_bubble_at_all_goes_as_plain_text() -> None:
    r = answer(emergency_numbers=[EmergencyNumber("相談窓口" * 10, f"03-0000-{i:04d}") for i in range(400)],
               text="救急は119へ。" + "あ" * 6000)  # fmt: skip
    [msg] = lr.render_answer(r)
    check_limits([msg])
    assert msg["type"] == "text" and msg["text"].startswith("救急は119へ。") and msg["text"].endswith("…")
