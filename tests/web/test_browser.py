"""End-to-end tests in headless Chromium (Debian's /usr/bin/chromium driven by Playwright for Python).

They also write the screenshots in docs/screenshots/ (page and widget, 390 px phone and 1280 px desktop widths).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import sqlite3
import statistics
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import MARKS, checked_page, script_checked_page

sync_api = pytest.importorskip("playwright.sync_api")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = MARKS


@pytest.fixture()
def page(browser: Any, server: Any) -> Iterator[Any]:
    with checked_page(browser, 390, 844, 15_000) as pg:
        pg.goto(server.url + "/")
        yield pg  # no CSP violation, no script error


def ask(pg: Any, question: str) -> Any:
    """Type a question, send it with Enter, and return the locator of the finished answer."""
    before = pg.locator(".msg-bot").count()
    box = pg.locator("#composer-input")  # by id: its label follows the language switch
    box.fill(question)
    box.press("Enter")
    answer = pg.locator(".msg-bot").nth(before)
    answer.locator(".msg-status").wait_for(state="hidden")
    return answer


def test_question_streams_an_answer_with_source_and_handoff(page: Any) -> None:
    with page.expect_response("**/api/chat/stream") as resp:
        answer = ask(page, "児童手当について教えて")
    assert resp.value.headers["content-type"].startswith("text/event-stream")
    assert "児童手当" in answer.locator(".msg-body").inner_text()
    # the card's face: the answer, one primary step (the form) with its card note, and 「くわしく」 with the source line
    apply = answer.get_by_role("link", name="オンラインで申請する")
    assert apply.is_visible() and apply.get_attribute("href") == "https://app.oss.myna.go.jp/"
    assert apply.get_attribute("rel") == "noopener noreferrer"
    assert "マイナンバーカードが必要です" in answer.locator(".next-step").inner_text()
    more = answer.locator(".msg-more")
    assert "出典:区の公式ページ・2025年4月1日" in more.locator("summary").inner_text()
    assert not answer.locator(".sources").is_visible() and not answer.locator(".office").is_visible()
    more.locator("summary").click()
    source = answer.locator(".source-link").first
    assert source.is_visible() and source.get_attribute("href").startswith("https://www.city.midori-ku.invalid/")
    assert "情報の時点:2025年4月1日" in answer.locator(".sources").inner_text()
    assert "用意するもの" in answer.locator(".handoff").inner_text()
    assert answer.locator(".office-tel").get_attribute("href").startswith("tel:03")
    assert answer.locator(".suggestions .chip").count() >= 1
    # the log announces new answers politely
    assert page.locator("#log").get_attribute("aria-live") == "polite"

    follow = ask(page, "いくら?")
    assert "15,000円" in follow.locator(".msg-body").inner_text()


def test_an_amount_list_is_a_list_and_the_rest_is_behind_kuwashiku(page: Any) -> None:
    answer = ask(page, "病児保育の料金はいくらですか?")  # the fee section is a Markdown list of three lines
    items = answer.locator(".msg-body .msg-list li")
    assert items.count() == 3 and "2,000円" in items.first.inner_text()
    assert "- 1日" not in answer.locator(".msg-body").inner_text()  # no raw Markdown dashes
    more = answer.locator(".msg-more")
    assert more.is_visible() and not more.locator(".msg-details-body").is_visible()
    more.locator("summary").click()
    assert "【" in more.locator(".msg-details-body").inner_text()


def test_the_language_switch_answers_in_the_chosen_language(page: Any) -> None:
    page.select_option("#lang-select", "en")
    answer = ask(page, "児童手当はいくら?")
    assert answer.locator(".msg-body p").first.inner_text().startswith("Child allowance")
    # the page's own strings follow (issue 12), marked with their language for screen readers
    assert page.get_by_label("Type your question").get_attribute("placeholder").startswith("e.g.")
    assert page.get_by_role("button", name="Send").is_visible()
    assert page.get_by_role("button", name="New conversation").is_visible()
    assert answer.locator(".msg-more summary").inner_text().startswith("More details")
    assert answer.get_by_role("button", name="Not helpful").is_visible()
    privacy = page.locator("#privacy-notice .ui-translation")
    assert privacy.inner_text().startswith("Please do not type names") and privacy.get_attribute("lang") == "en"
    assert page.locator("#privacy-notice").inner_text() == privacy.inner_text()  # the Japanese one is hidden
    page.reload()  # the choice and the translated page survive a reload
    assert page.locator("#composer-send").inner_text() == "Send"
    page.select_option("#lang-select", "ja")
    assert page.locator("#composer-send").inner_text() == "送信"
    assert page.locator("#privacy-notice strong").inner_text() == "お願い:"  # the Japanese markup comes back
    assert page.locator("#privacy-notice .ui-translation").is_hidden()


UI_KEYS = ("label", "placeholder", "send", "new_chat", "more", "retry", "writing", "network", "timeout", "empty",
           "privacy", "helpful_q", "yes", "no", "suggest", "apply", "page", "related", "call", "new_tab", "started",
           "err_rate_limited", "err_message_too_long", "err_not_ready")  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "zh-Hant", "ko", "vi", "ne", "tl", "pt"])
def test_every_language_has_every_interface_string(browser: Any, server: Any, lang: str) -> None:
    with script_checked_page(browser, 390, 844) as page:  # the provoked network failure logs a console error
        page.goto(server.url + "/")
        check_interface_strings(page, lang)


def check_interface_strings(page: Any, lang: str) -> None:
    table = page.evaluate(f"() => window.KOSODATE_UI[{lang!r}]")
    missing = [k for k in UI_KEYS if not (table.get(k) or "").strip()]
    assert not missing, missing
    ja = page.evaluate("() => window.KOSODATE_UI.ja")
    assert all(table[k] != ja[k] for k in ("label", "send", "new_chat", "more", "network", "privacy"))
    page.select_option("#lang-select", lang)
    assert page.locator("#composer-send").inner_text() == table["send"]
    assert page.locator("#new-chat").inner_text() == table["new_chat"]
    assert page.locator("#composer-input").get_attribute("placeholder") == table["placeholder"]
    assert page.locator("#privacy-notice").inner_text() == table["privacy"]
    assert page.locator("#privacy-notice .ui-translation").get_attribute("lang") == lang
    box = page.locator("#composer-input")
    box.evaluate("(el) => { el.removeAttribute('maxlength'); el.value = 'あ'.repeat(501); }")
    box.press("Enter")  # the server's 422 (in Japanese) is shown in the page's language
    sync_api.expect(page.locator(".msg-error").last).to_have_text(table["err_message_too_long"])
    box.fill("")
    page.route("**/api/chat/stream", lambda route: route.abort("internetdisconnected"))
    page.locator("#composer-input").fill("児童手当")
    page.locator("#composer-input").press("Enter")
    error = page.locator(".msg-error").last
    sync_api.expect(error).to_have_text(table["network"])
    assert page.locator(".retry").last.inner_text() == table["retry"]


def test_the_conversation_survives_a_reload_and_new_conversation_starts_clean(page: Any, server: Any) -> None:
    first = ask(page, "一時預かりは何時まで使えますか?")
    assert "一時預かり" in first.locator(".msg-body").inner_text()
    page.reload()
    restored = page.locator(".msg-bot:not(.msg-welcome)")
    assert restored.count() == 1 and "一時預かり" in restored.first.locator(".msg-body").inner_text()
    assert page.locator(".msg-user").first.inner_text().endswith("一時預かりは何時まで使えますか?")
    assert restored.first.locator(".feedback-button").first.is_visible()  # still rateable
    follow = ask(page, "じゃあ料金は?")  # the session survived too: the follow-up stays on 一時預かり
    assert "一時預かり" in follow.locator(".source-link").first.text_content()
    assert "500円" in follow.locator(".msg-body").inner_text()
    old_session = page.evaluate("() => sessionStorage.getItem('kosodate.session')")
    with page.expect_response("**/api/chat/end") as ended:
        page.get_by_role("button", name="新しい相談").click()
    assert ended.value.status == 204
    assert page.locator(".msg:not(.msg-welcome)").count() == 0
    assert page.evaluate("() => document.activeElement.id") == "composer-input"
    sync_api.expect(page.locator("#composer-status")).to_have_text("新しい相談を始めました。")
    fresh = ask(page, "じゃあ料金は?")
    # no context: not an answer about 一時預かり (a choice among several services is a question back, not a follow-up)
    assert "kind-answer" not in (fresh.get_attribute("class") or "") or "一時預かり" not in (
        fresh.locator(".source-link").first.text_content() or ""
    )
    assert "500円" not in fresh.locator(".msg-body").inner_text()
    assert page.evaluate("() => sessionStorage.getItem('kosodate.session')") not in (old_session, "", None)
    page.reload()  # what was cleared stays cleared
    assert page.locator(".msg-bot:not(.msg-welcome)").count() == 1


def test_what_a_reload_keeps_is_masked(page: Any) -> None:
    """sessionStorage holds the question as the logs do (a shared computer keeps no phone number in the tab)."""
    ask(page, "山田花子です。電話は090-1234-5678です。児童手当について教えて")
    assert "090-1234-5678" in page.locator(".msg-user").last.inner_text()  # the page shows what was typed…
    saved = page.evaluate("() => sessionStorage.getItem('kosodate.turns')")
    assert "090-1234-5678" not in saved and "山田花子" not in saved and "[電話番号]" in saved
    page.reload()  # …and a reload shows the masked question
    restored = page.locator(".msg-user").last.inner_text()
    assert "[電話番号]" in restored and "090-1234-5678" not in restored


def test_suggestion_and_clarify_choices_are_buttons(page: Any) -> None:
    answer = ask(page, "いくら?")  # several services have an amount: a question back
    choices = answer.locator(".choices button")
    assert choices.count() >= 2
    choices.first.click()
    nxt = page.locator(".msg-bot").nth(2)
    nxt.locator(".msg-status").wait_for(state="hidden")
    assert nxt.locator(".source-link").count() == 1
    nxt.locator(".suggestions .chip").first.click()
    page.locator(".msg-bot").nth(3).locator(".msg-status").wait_for(state="hidden")
    assert page.locator(".msg-bot.kind-answer").count() == 2


def test_furigana_toggle_renders_ruby_and_persists(page: Any, server: Any) -> None:
    first = ask(page, "児童手当について教えて")
    assert first.locator("ruby").count() == 0
    toggle = page.get_by_role("button", name="ふりがな")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    first.locator("ruby").first.wait_for()  # the answer already shown gets ruby too
    answer = ask(page, "保育園の入園申込について教えて")
    assert answer.locator("ruby rt").count() > 3
    assert answer.locator("ruby").first.is_visible()
    bases = answer.evaluate("a => [...a.querySelectorAll('ruby')].map(r => r.firstChild.textContent)")
    assert all(re.search(r"[\u4e00-\u9fff々]", b) for b in bases), bases  # never ruby over kana alone
    page.get_by_role("button", name="文字を大きく").click()
    assert "large-text" in page.locator("html").get_attribute("class")
    page.reload()
    assert page.get_by_role("button", name="ふりがな").get_attribute("aria-pressed") == "true"
    assert "large-text" in page.locator("html").get_attribute("class")


@pytest.mark.parametrize(
    ("question", "tel"),
    [
        ("子どもが息をしていない", "tel:119"),
        ("夜中に子どもが熱を出した", "tel:%238000"),
        ("虐待されているかもしれない", "tel:189"),
    ],
)
def test_emergency_puts_large_tel_links_first(page: Any, question: str, tel: str) -> None:
    answer = ask(page, question)
    assert "kind-emergency" in answer.get_attribute("class")
    links = answer.locator(".emergency .tel-big")
    assert tel in [links.nth(i).get_attribute("href") for i in range(links.count())]
    # the numbers come before the text
    first_box = answer.locator(".emergency").bounding_box()
    body_box = answer.locator(".msg-body").bounding_box()
    assert first_box["y"] < body_box["y"]


def test_feedback_is_stored(page: Any, db_path: Path) -> None:
    answer = ask(page, "児童手当について教えて")
    answer.get_by_role("button", name="役に立たなかった").click()
    answer.locator(".feedback-form").wait_for()
    answer.get_by_label("ご意見(任意").fill("わかりにくい。電話は090-1111-2222です")
    answer.get_by_role("button", name="意見を送る").click()
    status = answer.locator(".feedback-status")
    sync_api.expect(status).to_contain_text("ご意見を受け付けました")
    con = sqlite3.connect(db_path)
    try:
        helpful, comment = con.execute(
            "SELECT helpful, comment FROM feedback ORDER BY updated_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert helpful == 0 and "わかりにくい" in comment and "090-1111-2222" not in comment


def test_typed_html_is_shown_as_text(page: Any) -> None:
    ask(page, "<b id=injected>太字</b><img src=x onerror=alert(1)>")
    assert page.locator("#injected").count() == 0 and page.locator(".msg img").count() == 0
    assert "<b id=injected>" in page.locator(".msg-user").last.inner_text()


def test_server_error_message_is_shown_politely(page: Any) -> None:
    box = page.get_by_label("質問を入力してください")
    box.evaluate("(el) => { el.removeAttribute('maxlength'); el.value = 'あ'.repeat(501); }")
    box.press("Enter")
    error = page.locator(".msg-error").last
    sync_api.expect(error).to_contain_text("500文字以内")
    page.get_by_role("button", name="送信").click()  # empty: a message, no request
    sync_api.expect(page.locator("#composer-error")).to_have_text("質問を入力してください。")


def test_keyboard_only_use(page: Any) -> None:
    page.keyboard.press("Tab")  # skip link
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.type("児童手当について教えて")
    page.keyboard.press("Enter")
    page.locator(".msg-bot.kind-answer").first.wait_for()
    for el in ("input, textarea, select",):
        unlabeled = page.evaluate(
            f"""[...document.querySelectorAll('{el}')].filter(e => !e.labels || e.labels.length === 0).length"""
        )
        assert unlabeled == 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def host_site(tmp_path: Path) -> Iterator[str]:
    """Another origin (another port) serving the ward's pages that embed the widget."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def write_host_page(directory: Path, server: Any, name: str = "index.html", attrs: str = "", footer: int = 0) -> str:
    """A ward page with hostile CSS, optionally a fixed footer ``footer`` px high, embedding the widget."""
    foot = (f'<footer id="site-footer" style="position:fixed;left:0;right:0;bottom:0;height:{footer}px;'
            f'background:#333;color:#fff">区のフッター</footer>') if footer else ""  # fmt: skip
    (directory / name).write_text(
        f"""<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>台東区のページ</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ font-family: serif; background: #fafafa; }} button {{ background: red !important; font-size: 40px; }}</style>
</head><body><h1>区のお知らせ</h1><p>子育てについてはチャットでどうぞ。</p>{foot}
<script src="{server.url}/widget.js" data-title="台東区 子育てチャット" {attrs} defer></script></body></html>""",
        encoding="utf-8",
    )
    return name


@pytest.fixture()
def host_page(tmp_path: Path, server: Any, host_site: str) -> str:
    """A page on another origin (another port) that embeds the widget the way a ward web page would."""
    return f"{host_site}/{write_host_page(tmp_path, server)}"


def test_widget_on_another_origin_opens_and_answers(browser: Any, host_page: Any) -> None:
    with script_checked_page(browser, 1280, 900) as pg:
        pg.goto(host_page)
        button = pg.get_by_role("button", name="子育てチャットを開く")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"  # host CSS kept out
        button.click()
        assert pg.get_by_role("button", name="子育てチャットを閉じる").get_attribute("aria-expanded") == "true"
        frame = chat_frame(pg)
        box = frame.get_by_label("質問を入力してください")
        box.fill("児童手当について教えて")
        box.press("Enter")
        answer = frame.locator(".msg-bot").nth(1)
        answer.locator(".msg-status").wait_for(state="hidden")
        assert answer.get_by_role("link", name="オンラインで申請する").count() == 1


def widget_button(pg: Any) -> Any:
    """The launcher inside the widget's shadow root (Playwright's locators pierce open shadow roots)."""
    return pg.locator("#kosodate-chat-widget button[aria-controls]")


WIDGET_TITLE = "台東区 子育てチャット"  # the host page's data-title (write_host_page)


def chat_frame(pg: Any) -> Any:
    """The open widget's chat, once its /embed page has loaded: a key pressed before chat.js runs is lost (Enter puts a
    line break in the box instead of sending, which made test_widget_on_another_origin_opens_and_answers flaky)."""
    iframe = pg.locator(f"iframe[title='{WIDGET_TITLE}']")
    iframe.element_handle().content_frame().wait_for_url(re.compile(r"/embed"), wait_until="load")
    return pg.frame_locator(f"iframe[title='{WIDGET_TITLE}']")


def shadow_focus(pg: Any) -> str | None:
    return pg.evaluate(  # type: ignore[no-any-return]
        "() => { const a = document.getElementById('kosodate-chat-widget').shadowRoot.activeElement;"
        " return a ? a.getAttribute('aria-label') : null; }"
    )


def test_widget_position_and_offset_come_from_the_script_tag(
    browser: Any, server: Any, tmp_path: Path, host_site: str
) -> None:
    page = write_host_page(tmp_path, server, "left.html", 'data-position="left" data-offset-bottom="60" data-offset-side="24"',
                           footer=60)  # fmt: skip
    with script_checked_page(browser, 1280, 800) as pg:
        pg.goto(f"{host_site}/{page}")
        box = widget_button(pg).bounding_box()
        assert box["x"] == 24  # left corner, 24 px in
        assert box["y"] + box["height"] == 800 - 60 - 16  # 16 px above the kept-free 60 px
        widget_button(pg).click()
        panel = pg.locator("#kosodate-chat-panel").bounding_box()
        footer = pg.locator("#site-footer").bounding_box()
        assert panel["x"] == 24 and panel["y"] + panel["height"] <= footer["y"]
    default = write_host_page(tmp_path, server, "default.html", 'data-offset-side="oops" data-position="top"')
    with script_checked_page(browser, 1280, 800) as pg:
        warnings: list[str] = []
        pg.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        pg.goto(f"{host_site}/{default}")
        box = widget_button(pg).bounding_box()
        assert box["x"] + box["width"] == 1280 - 16 and box["y"] + box["height"] == 800 - 16  # the defaults
        assert any("data-offset-side" in w for w in warnings)  # a bad value is said, in the console, not ignored
        assert any("data-position" in w for w in warnings)


def test_widget_escape_closes_from_inside_the_chat_and_returns_focus(browser: Any, host_page: str) -> None:
    with script_checked_page(browser, 1280, 800) as pg:
        pg.goto(host_page)
        widget_button(pg).click()
        frame = chat_frame(pg)
        box = frame.locator("#composer-input")
        box.click()  # focus is inside the cross-origin frame: the host page never sees this key itself
        box.press("Escape")
        sync_api.expect(pg.locator("#kosodate-chat-panel")).to_be_hidden()
        assert widget_button(pg).get_attribute("aria-expanded") == "false"
        assert shadow_focus(pg) == "子育てチャットを開く"
        widget_button(pg).click()  # and from the host page's side, focus on the launcher
        assert pg.locator("#kosodate-chat-panel").is_visible()
        pg.keyboard.press("Escape")
        sync_api.expect(pg.locator("#kosodate-chat-panel")).to_be_hidden()
        assert shadow_focus(pg) == "子育てチャットを開く"


@pytest.mark.parametrize("footer", [0, 56])
def test_widget_on_a_phone_opens_full_screen_above_the_footer(
    browser: Any, server: Any, tmp_path: Path, host_site: str, footer: int
) -> None:
    attrs = f'data-offset-bottom="{footer}"' if footer else ""
    page = write_host_page(tmp_path, server, f"phone{footer}.html", attrs, footer=footer)
    with script_checked_page(browser, 390, 844) as pg:
        pg.goto(f"{host_site}/{page}")
        widget_button(pg).click()
        panel = pg.locator("#kosodate-chat-panel").bounding_box()
        assert (panel["x"], panel["y"], panel["width"]) == (0, 0, 390)
        assert panel["y"] + panel["height"] == 844 - footer  # the whole screen, except the footer when there is one
        if footer:
            assert pg.locator("#site-footer").bounding_box()["y"] >= panel["y"] + panel["height"]
        frame = chat_frame(pg)
        send = frame.locator("#composer-send").bounding_box()
        assert send["y"] + send["height"] <= 844 - footer  # the chat's own send button is on screen, uncovered
        assert not widget_button(pg).is_visible()
        close = pg.get_by_role("button", name="チャットを閉じる", exact=True)
        close.click()  # the panel's bar closes it (the launcher is hidden under a full-screen panel)
        sync_api.expect(pg.locator("#kosodate-chat-panel")).to_be_hidden()
        assert shadow_focus(pg) == "子育てチャットを開く"


@pytest.mark.content  # the pictures in docs/screenshots/ show Taito's bot, as the README describes it
def test_screenshots(browser: Any, content_server: Any, tmp_path: Path, host_site: str) -> None:
    server = content_server
    host_page = f"{host_site}/{write_host_page(tmp_path, server)}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP",
                                      device_scale_factor=1)  # fmt: skip
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        pg.goto(server.url + "/")
        answer = ask(pg, "児童手当について教えて")
        answer.evaluate("e => e.scrollIntoView({block: 'start'})")
        pg.screenshot(path=str(SCREENSHOTS / f"chat-{width}.png"))
        if width == 390:
            pg.get_by_role("button", name="ふりがな").click()
            answer.locator("ruby").first.wait_for()
            answer.evaluate("e => e.scrollIntoView({block: 'start'})")
            pg.screenshot(path=str(SCREENSHOTS / "chat-furigana-390.png"))
            pg.get_by_role("button", name="ふりがな").click()
        ask(pg, "夜中に子どもが熱を出した")
        pg.locator(".msg-bot").last.screenshot(path=str(SCREENSHOTS / f"emergency-{width}.png"))
        pg.goto(host_page)
        pg.get_by_role("button", name="子育てチャットを開く").click()
        frame = chat_frame(pg)
        box = frame.get_by_label("質問を入力してください")
        box.fill("保育園")
        box.press("Enter")
        frame.locator(".msg-bot").nth(1).locator(".msg-status").wait_for(state="hidden")
        pg.screenshot(path=str(SCREENSHOTS / f"widget-{width}.png"))
        context.close()
    assert (SCREENSHOTS / "chat-390.png").stat().st_size > 10_000


AXE = Path(__file__).resolve().parents[2] / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(pg: Any) -> list[dict[str, Any]]:
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate(
        "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}); "
        "return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,"
        " where: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(
    ("question", "state"),
    [
        ("児童手当はいくら?", ""),
        ("子どもが息をしていない", ""),
        ("手続き", ""),
        ("児童手当について教えて", "open"),  # 「くわしく」 opened: sources, form details, office
        ("児童手当について教えて", "en"),  # the interface in English
        ("児童手当について教えて", "ne"),  # …and in Nepali
        ("児童手当について教えて", "restored"),  # after a reload
        ("児童手当について教えて", "new"),  # after 「新しい相談」
        ("児童手当について教えて", "furigana"),
    ],
)
def test_accessibility_has_no_serious_violations(browser: Any, server: Any, question: str, state: str) -> None:
    """axe-core (installed from npm by `make test`) finds no serious or critical WCAG 2.1 A/AA violations."""
    assert AXE.exists(), "run `make test` (it installs axe-core from npm into tools/axe)"
    # bypass_csp only lets the test inject axe; the page itself is tested under its real CSP in the other tests
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    try:
        pg.goto(server.url + "/")
        if state in ("en", "ne"):
            pg.select_option("#lang-select", state)
        answer = ask(pg, question)
        if state == "open":
            answer.locator(".msg-more summary").click()
        elif state == "restored":
            pg.reload()
            pg.locator(".msg-bot:not(.msg-welcome)").first.wait_for()
        elif state == "new":
            pg.get_by_role("button", name="新しい相談").click()
        elif state == "furigana":
            pg.get_by_role("button", name="ふりがな").click()
            answer.locator("ruby").first.wait_for()
        bad = axe_violations(pg)
        assert bad == [], bad
    finally:
        context.close()


def test_the_widget_panel_has_no_serious_violations(browser: Any, host_page: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    try:
        pg.goto(host_page)
        widget_button(pg).click()
        chat_frame(pg).locator("#composer-input").wait_for()
        bad = axe_violations(pg)  # the host page with the open panel (axe looks into the shadow root)
        assert bad == [], bad
    finally:
        context.close()


def test_a_lost_connection_is_told_in_japanese_keeps_the_question_and_retries(browser: Any, server: Any) -> None:
    """Offline or server down: no "Failed to fetch", the typed question comes back, one tap sends it again."""
    with script_checked_page(browser, 390, 844) as pg:
        pg.goto(server.url + "/")
        pg.route("**/api/chat/stream", lambda route: route.abort("internetdisconnected"))
        box = pg.get_by_label("質問を入力してください")
        before = pg.locator(".msg-bot").count()
        box.fill("児童手当について教えて")
        box.press("Enter")
        failed = pg.locator(".msg-bot").nth(before)
        failed.locator(".msg-error").wait_for()
        message = failed.locator(".msg-error").inner_text()
        assert "通信できませんでした" in message and "fetch" not in message.lower()
        assert box.input_value() == "児童手当について教えて"
        pg.unroute("**/api/chat/stream")
        failed.locator(".retry").click()
        answer = pg.locator(".msg-bot").nth(before + 1)
        # waits until the retried answer has arrived: a bare wait for the status to be hidden also returns at once
        # while the new message is not yet on the page (seen once in CI, an empty body read too early)
        sync_api.expect(answer.locator(".msg-body")).to_contain_text("児童手当", timeout=30_000)
        assert box.input_value() == "" and failed.locator(".retry").is_hidden()


# Typical questions from the dev split (never test): short facts, plain words, a long story, two-part questions.
TYPICAL = ("und-d-001", "und-d-003", "und-d-006", "und-d-009", "und-d-012", "und-d-017", "und-d-023", "und-d-026",
           "und-d-028", "und-d-029", "und-d-033", "und-d-036", "und-d-045", "und-d-049", "und-d-055", "und-d-061",
           "und-d-071", "und-d-079", "und-d-097", "und-d-137")  # fmt: skip
DEV = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "understand" / "dev.jsonl"


@pytest.mark.content  # typical questions about Taito's services, answered from Taito's knowledge
def test_a_typical_answer_card_fits_one_phone_screen(browser: Any, content_server: Any) -> None:
    """Issue 16: the answer, one next step and 「くわしく」 fit a 390×844 screen; sources and office details wait behind
    the disclosure. The median height is printed (run with -s) for the report."""
    server = content_server
    rows = {r["id"]: r for r in map(json.loads, DEV.read_text(encoding="utf-8").splitlines())}
    heights: dict[str, float] = {}
    with checked_page(browser, 390, 844, 15_000) as pg:
        for qid in TYPICAL:
            pg.goto(server.url + "/")
            pg.evaluate("() => sessionStorage.clear()")
            answer = ask(pg, rows[qid]["question"])
            heights[qid] = answer.bounding_box()["height"]
    print("card heights:", heights, "median", statistics.median(heights.values()))
    too_tall = {q: h for q, h in heights.items() if h > 844}
    assert not too_tall, too_tall


def test_a_stopped_server_is_told_in_japanese_and_the_question_kept(browser: Any, make_server: Any) -> None:
    """The server goes away after the page loaded (a restart, a crash): a polite message, the question back, a retry."""
    own = make_server()
    with script_checked_page(browser, 390, 844) as pg:
        pg.goto(own.url + "/")
        own.stop()
        box = pg.locator("#composer-input")
        box.fill("保育園の入園申込について教えて")
        box.press("Enter")
        failed = pg.locator(".msg-bot").last
        sync_api.expect(failed.locator(".msg-error")).to_contain_text("通信できませんでした")
        assert box.input_value() == "保育園の入園申込について教えて"
        assert failed.locator(".retry").is_visible() and failed.locator(".msg-body").inner_text() == ""
        pg.get_by_role("button", name="新しい相談").click()  # still works with the server gone
        assert pg.locator(".msg:not(.msg-welcome)").count() == 0
        assert pg.evaluate("() => sessionStorage.getItem('kosodate.session')") in ("", None)


def test_a_cut_stream_leaves_no_half_sentence(browser: Any, server: Any) -> None:
    """The connection drops after a few sentences: the half answer goes, the message says why, the retry works."""
    cut = (
        'event: meta\ndata: {"session_id": "s-cut", "message_id": null, "kind": "answer"}\n\n'
        'event: delta\ndata: {"paragraph": 0, "text": "児童手当は、子どもを育てている"}\n\n'
    )
    with script_checked_page(browser, 390, 844) as pg:
        pg.goto(server.url + "/")
        pg.route("**/api/chat/stream", lambda route: route.fulfill(status=200, body=cut,
                 headers={"Content-Type": "text/event-stream; charset=utf-8"}))  # fmt: skip
        box = pg.locator("#composer-input")
        box.fill("児童手当について教えて")
        box.press("Enter")
        failed = pg.locator(".msg-bot").last
        sync_api.expect(failed.locator(".msg-error")).to_contain_text("通信できませんでした")
        assert failed.locator(".msg-body").inner_text() == ""  # not 「児童手当は、子どもを育てている」
        assert pg.evaluate("() => sessionStorage.getItem('kosodate.turns')") in (None, "[]")  # a cut turn is not kept
        pg.unroute("**/api/chat/stream")
        failed.locator(".retry").click()
        answer = pg.locator(".msg-bot").last
        answer.locator(".msg-status").wait_for(state="hidden")
        assert "児童手当" in answer.locator(".msg-body").inner_text()


def test_a_slow_answer_times_out_politely(browser: Any, server: Any) -> None:
    """No answer within the page's deadline (35 s; the clock is fast-forwarded): a Japanese message and a retry."""
    with script_checked_page(browser, 390, 844) as pg:
        pg.clock.install()
        pg.goto(server.url + "/")
        pg.route("**/api/chat/stream", lambda route: None)  # the request hangs: never answered
        box = pg.locator("#composer-input")
        box.fill("児童手当について教えて")
        box.press("Enter")
        failed = pg.locator(".msg-bot").last
        sync_api.expect(failed.locator(".msg-status")).to_be_visible()
        pg.clock.fast_forward(36_000)
        sync_api.expect(failed.locator(".msg-error")).to_contain_text("回答に時間がかかりすぎています")
        assert failed.locator(".retry").is_visible() and box.input_value() == "児童手当について教えて"
