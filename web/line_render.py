"""An :class:`~bot.answering.results.AnswerResult` as LINE Messaging API message objects (plain JSON dicts).

Pure functions (no I/O, no SDK, no Bot), so the limits are unit-tested on the JSON itself; web/routes/line.py turns the
dicts into line-bot-sdk models and sends them.

One reply is one Flex Message (a single bubble): the emergency numbers first as ``tel:`` buttons when there are any,
the answer's paragraphs, each source with its publisher type and date (tapping opens the page), then buttons for the
hand-off (URI action) and the office phone (``tel:``). Clarify choices and follow-up suggestions become quick replies.

LINE's limits, read in the Messaging API reference (developers.line.biz/en/reference/messaging-api/, 2026-12-02):
  - text message ``text``: max 5,000 characters (#text-message)
  - Flex Message ``altText``: max 1,500 characters (#flex-message). We keep ours to ALT_TEXT_SHOWN: it is what the
    notification and the chat list show, and a long one is cut there anyway.
  - bubble: "The maximum size of JSON data that defines a bubble is 30 KB" (#bubble; 50 KB for a carousel)
  - quick reply: up to 13 buttons (#quick-reply; docs/messaging-api/using-quick-reply); an action's ``label`` is
    required and max 20 characters on a quick reply button, max 40 on a Flex button (#action-object-label-spec)
  - message action ``text``: max 300 characters (#message-action)
  - URI action ``uri``: max 1,000 characters; schemes http, https, line and tel (#uri-action)
  - reply / push: up to 5 message objects per request (#send-reply-message)
Characters are counted as UTF-16 code units, as LINE's servers do (an emoji outside the BMP counts twice).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.answering.results import AnswerKind, AnswerResult, Choice, Citation

TEXT_MAX = 5000
ALT_TEXT_MAX = 1500
ALT_TEXT_SHOWN = 400
BUBBLE_JSON_MAX = 30 * 1024
QUICK_REPLY_MAX = 13
QUICK_REPLY_LABEL_MAX = 20
FLEX_BUTTON_LABEL_MAX = 40
MESSAGE_ACTION_TEXT_MAX = 300
URI_MAX = 1000
MESSAGES_PER_REQUEST_MAX = 5

BODY_TEXT_BUDGET = 2000  # the answer's paragraphs in one bubble: past this a phone screen is a wall of text
MAX_SOURCES = 3
URI_SCHEMES = ("https://", "http://", "tel:", "line://")

Json = dict[str, Any]

# Button and caption words in the languages the bot answers in (the answer's own text comes from the bot).
LABELS: dict[str, dict[str, str]] = {
    "ja": {"source": "出典", "as_of": "{date}時点の情報", "unknown": "更新日不明({date}確認)",
           "apply": "オンラインで申請する", "page": "くわしく見る", "call": "電話する", "needs": "必要なもの",
           "more": "…(続きは出典のページで)"},
    "en": {"source": "Source", "as_of": "as of {date}", "unknown": "date unknown (checked {date})",
           "apply": "Apply online", "page": "Read more", "call": "Call", "needs": "You need",
           "more": "… (more on the source page)"},
    "zh-Hans": {"source": "出处", "as_of": "{date}的信息", "unknown": "更新日期不明({date}确认)",
                "apply": "在线申请", "page": "查看详情", "call": "打电话", "needs": "需要", "more": "…(详见出处页面)"},
    "zh-Hant": {"source": "出處", "as_of": "{date}的資訊", "unknown": "更新日期不明({date}確認)",
                "apply": "線上申請", "page": "查看詳情", "call": "打電話", "needs": "需要", "more": "…(詳見出處頁面)"},
    "ko": {"source": "출처", "as_of": "{date} 기준", "unknown": "갱신일 불명({date} 확인)", "apply": "온라인 신청",
           "page": "자세히 보기", "call": "전화하기", "needs": "필요한 것", "more": "…(자세한 내용은 출처 페이지)"},
    "vi": {"source": "Nguồn", "as_of": "thông tin ngày {date}", "unknown": "không rõ ngày (kiểm tra {date})",
           "apply": "Nộp đơn trực tuyến", "page": "Xem chi tiết", "call": "Gọi điện", "needs": "Cần có",
           "more": "… (xem thêm ở trang nguồn)"},
    "ne": {"source": "स्रोत", "as_of": "{date} को जानकारी", "unknown": "मिति थाहा छैन ({date} मा जाँचिएको)",
           "apply": "अनलाइन आवेदन", "page": "थप हेर्नुहोस्", "call": "फोन गर्नुहोस्", "needs": "चाहिने कुरा",
           "more": "… (थप स्रोत पृष्ठमा)"},
    "tl": {"source": "Pinagmulan", "as_of": "noong {date}", "unknown": "di-alam ang petsa (sinuri {date})",
           "apply": "Mag-apply online", "page": "Basahin pa", "call": "Tumawag", "needs": "Kailangan",
           "more": "… (higit pa sa pinagmulang pahina)"},
    "pt": {"source": "Fonte", "as_of": "informação de {date}", "unknown": "data desconhecida (verificado {date})",
           "apply": "Pedir online", "page": "Ver mais", "call": "Ligar", "needs": "Precisa de",
           "more": "… (mais na página da fonte)"},
}  # fmt: skip
LABELS["ne-Latn"] = LABELS["en"] | {"source": "Srot", "call": "Phone garnuhos"}

# Replies to what is not a question in words. LINE gives no language for these, so Japanese comes first.
POLITE = {
    "follow": "友だち追加ありがとうございます。{ward}の子育て・手続きについて、文字で質問してください"
    "(例:「児童手当の申請方法は?」)。\nYou can also ask in English and other languages.",
    "not_text": "ごめんなさい、スタンプ・画像・位置情報などには答えられません。知りたいことを文字で送ってください。"
    "\nSorry, please send your question as text.",
    "too_long": "ごめんなさい、質問が長すぎます。{max}文字以内で送ってください。"
    "\nSorry, your question is too long. Please keep it under {max} characters.",
    "empty": "質問を文字で送ってください。\nPlease send your question as text.",
    "slow_down": "続けてたくさんの質問が届きました。少し時間をおいてから、もう一度送ってください。"
    "\nToo many questions at once. Please wait a minute and try again.",
    "error": "ごめんなさい、いまうまく答えられませんでした。しばらくしてからもう一度送ってください。"
    "\nSorry, something went wrong. Please try again later.",
    "not_ready": "ただいま準備中です。少し時間をおいてから、もう一度送ってください。"
    "\nThe chat is starting up. Please try again in a minute.",
}


def units(s: str) -> int:
    """The length LINE counts: UTF-16 code units."""
    return len(s.encode("utf-16-le")) // 2


def clip(s: str, limit: int, ellipsis: str = "…") -> str:
    """``s`` cut to at most ``limit`` UTF-16 code units (with an ellipsis when cut), never inside a surrogate pair."""
    s = s.strip()
    if units(s) <= limit:
        return s
    room = limit - units(ellipsis)
    out, used = [], 0
    for ch in s:
        n = units(ch)
        if used + n > room:
            break
        out.append(ch)
        used += n
    return "".join(out).rstrip() + ellipsis


def json_size(obj: Json) -> int:
    """Bytes of the JSON as the SDK sends it (ASCII-escaped: the larger of the usual encodings, so a safe measure)."""
    return len(json.dumps(obj, ensure_ascii=True, separators=(",", ":")))


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang) or LABELS["en"]


def _uri_ok(uri: str | None) -> bool:
    return uri is not None and uri.startswith(URI_SCHEMES) and units(uri) <= URI_MAX


def tel_uri(phone: str) -> str:
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch in "+#*").replace("#", "%23")


def text_message(text: str, quick: list[Json] | None = None) -> Json:
    msg: Json = {"type": "text", "text": clip(text, TEXT_MAX)}
    if quick:
        msg["quickReply"] = {"items": quick[:QUICK_REPLY_MAX]}
    return msg


def polite(key: str, **fill: object) -> Json:
    return text_message(POLITE[key].format(**({"ward": "区"} | fill)))


def quick_replies(choices: list[Choice]) -> list[Json]:
    """Message actions: tapping one sends its query as the parent's next message (so it is answered like typed text)."""
    items: list[Json] = []
    seen: set[str] = set()
    for c in choices:
        label = clip(c.label, QUICK_REPLY_LABEL_MAX)
        text = clip(c.query or c.label, MESSAGE_ACTION_TEXT_MAX)
        if not label or not text or text in seen:
            continue
        seen.add(text)
        items.append({"type": "action", "action": {"type": "message", "label": label, "text": text}})
        if len(items) == QUICK_REPLY_MAX:
            break
    return items


def _text(text: str, **style: object) -> Json:
    return {"type": "text", "text": text, "wrap": True, **style}


def _button(label: str, uri: str, style: str = "secondary", **extra: object) -> Json:
    return {"type": "button", "style": style, "height": "sm",
            "action": {"type": "uri", "label": clip(label, FLEX_BUTTON_LABEL_MAX), "uri": uri}, **extra}  # fmt: skip


def _date(iso: str, lang: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日" if lang.startswith(("ja", "zh")) else d.isoformat()


def _source(c: Citation, lang: str) -> Json:
    words = labels(lang)
    when = words["as_of"] if c.as_of_known else words["unknown"]
    caption = f"{c.publisher_label}・{when.format(date=_date(c.as_of if c.as_of_known else c.checked, lang))}"
    box: Json = {"type": "box", "layout": "vertical", "margin": "md", "contents": [
        _text(f"{words['source']}: {clip(c.title, 100)}", size="sm", color="#1a56a8", decoration="underline"),
        _text(caption, size="xs", color="#666666"),
    ]}  # fmt: skip
    if _uri_ok(c.url):
        box["action"] = {"type": "uri", "label": clip(c.title, FLEX_BUTTON_LABEL_MAX), "uri": c.url}
    return box


def _paragraphs(body: list[str], budget: int, more: str) -> list[str]:
    out: list[str] = []
    left = budget
    for p in (p.strip() for p in body):
        if not p:
            continue
        if units(p) > left:
            if left > 40:
                out.append(clip(p, left, "…"))
            out.append(more)
            break
        out.append(p)
        left -= units(p)
    return out


def _alt_text(r: AnswerResult) -> str:
    if r.emergency_numbers:
        first = " / ".join(f"{e.label} {e.number}" for e in r.emergency_numbers[:3])
        lead = f"{r.emergency_title} {first}" if r.emergency_title else first
    else:
        lead = next((p for p in r.body if p.strip()), r.text)
    return clip(lead.replace("\n", " "), min(ALT_TEXT_SHOWN, ALT_TEXT_MAX)) or "子育てチャット"


def _bubble(r: AnswerResult, budget: int) -> Json:
    words = labels(r.lang)
    bubble: Json = {"type": "bubble", "size": "mega"}
    if r.emergency_numbers:
        header: list[Json] = []
        if r.emergency_title:
            header.append(_text(r.emergency_title, weight="bold", color="#b00020"))
        for e in r.emergency_numbers:
            header.append(_button(f"{e.label} {e.number}", e.tel, "primary", color="#b00020", margin="sm"))
        bubble["header"] = {"type": "box", "layout": "vertical", "contents": header}
    body: list[Json] = [_text(p, margin="md") for p in _paragraphs(r.body or [r.text], budget, words["more"])]
    sources = [_source(c, r.lang) for c in r.citations[:MAX_SOURCES]]
    if sources:
        body.append({"type": "separator", "margin": "lg"})
        body.extend(sources)
    bubble["body"] = {"type": "box", "layout": "vertical", "contents": body or [_text(" ")]}
    footer: list[Json] = []
    if r.handoff and _uri_ok(r.handoff.url):
        h = r.handoff
        footer.append(_text(clip(h.title, 120), size="sm", weight="bold"))
        if h.requires:
            footer.append(_text(clip(f"{words['needs']}: {'、'.join(h.requires)}", 300), size="xs", color="#666666"))
        footer.append(_button(words["apply"] if h.is_form else words["page"], h.url, "primary", margin="sm"))
    if r.office and r.office.phone:
        footer.append(_button(f"{words['call']}: {r.office.name}", tel_uri(r.office.phone), margin="sm"))
    if footer:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer}
    return bubble


def render_answer(r: AnswerResult) -> list[Json]:
    """The reply to one question: a single Flex Message within LINE's limits (see the module docstring)."""
    budget = BODY_TEXT_BUDGET
    bubble = _bubble(r, budget)
    while json_size(bubble) > BUBBLE_JSON_MAX and budget > 100:
        budget //= 2  # long titles or many numbers: give the paragraphs less room until the bubble fits
        bubble = _bubble(r, budget)
    quick = quick_replies(r.choices if r.kind is AnswerKind.CLARIFY else (r.choices or r.suggestions))
    if json_size(bubble) > BUBBLE_JSON_MAX:  # cannot happen with the ward's data; the plain text still gets through
        return [text_message(r.text, quick)]
    msg: Json = {"type": "flex", "altText": _alt_text(r), "contents": bubble}
    if quick:
        msg["quickReply"] = {"items": quick}
    return [msg]
