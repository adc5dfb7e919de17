"""End to end in headless Chromium: sign in, edit a document, see the validator's error for bad front matter, fix it,
publish, watch the re-index finish, and get the new fact from the bot. No CSP violation or script error on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from tests.admin.conftest import password_for
from tests.browser import MARKS, checked_page, script_checked_page
from tests.web.conftest import LiveServer

pytestmark = MARKS


@pytest.fixture()
def page(browser: Any, admin_server: LiveServer) -> Iterator[Any]:
    # a 422 for the invalid edit is expected; script errors and CSP refusals are not
    with checked_page(browser, 1280, 900, 20_000) as pg:
        yield pg


def test_edit_validate_publish_and_the_bot_answers(page: Any, admin_server: LiveServer,
                                                   admin_settings: Settings) -> None:  # fmt: skip
    url = admin_server.url
    page.goto(url + "/admin/knowledge")
    assert "/admin/login" in page.url  # not signed in yet
    page.get_by_label("ユーザー名").fill("editor")
    page.get_by_label("パスワード").fill(password_for("editor"))
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(url + "/admin/knowledge")

    page.locator('tr[data-doc="kyushokuhi"]').get_by_role("link", name="編集").click()
    page.wait_for_url("**/admin/knowledge/kyushokuhi/edit")
    box = page.locator("#doc-text")
    original = box.input_value()
    old_fact = "区立小中学校の給食費は、みどり区が全額を負担しているため、保護者が払う必要はありません。"
    new_fact = "区立小中学校の給食費は、令和8年度もみどり区が全額を負担するため、保護者が払う必要はありません。"
    assert old_fact in original

    box.fill(original.replace("checked: 2026-11-27", "checked: 2026-11-31").replace(old_fact, new_fact))
    page.get_by_role("button", name="検証する").click()
    error = page.locator(".problem-error").first
    error.wait_for()
    assert "「checked」の日付" in error.inner_text() and "正しくありません" in error.inner_text()
    line = int(error.get_attribute("data-line"))
    assert box.input_value().splitlines()[line - 1] == "checked: 2026-11-31"  # the line the message points to
    error.locator(".line-link").click()  # jumps to the line in the textarea (admin.js)
    assert page.evaluate("document.activeElement.id") == "doc-text"

    box.fill(box.input_value().replace("checked: 2026-11-31", "checked: 2026-11-27"))
    page.get_by_role("button", name="検証する").click()
    page.locator(".problems .ok").wait_for()
    page.get_by_role("button", name="公開する").click()
    page.wait_for_url("**/admin/reindex?ticket=*")
    page.locator('#reindex[data-done="ok"]').wait_for(timeout=90_000)
    assert "完了しました" in page.locator("#reindex-state").inner_text()

    saved = (admin_settings.knowledge_dir / "procedures" / "kyushokuhi.md").read_text(encoding="utf-8")
    assert new_fact in saved and old_fact not in saved
    reply = page.request.post(url + "/api/chat", data={"message": "区立小学校の給食費は払いますか?"}).json()
    assert reply["kind"] == "answer" and reply["citations"][0]["doc_id"] == "kyushokuhi"
    assert "令和8年度もみどり区が全額を負担" in reply["answer"], reply["answer"]


AXE = Path(__file__).resolve().parents[2] / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def _sign_in(pg: Any, url: str, name: str = "editor") -> None:
    pg.goto(url + "/admin/login")
    pg.get_by_label("ユーザー名").fill(name)
    pg.get_by_label("パスワード").fill(password_for(name))
    pg.get_by_role("button", name="サインイン").click()
    pg.wait_for_url(url + "/admin")


def _serious(pg: Any) -> list[dict[str, Any]]:
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate(
        "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}); "
        "return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help})); }"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_new_admin_pages_have_no_serious_accessibility_violations(browser: Any, admin_server: LiveServer) -> None:
    assert AXE.exists(), "link tools/axe/node_modules (see the brief) or run `make test`"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP", bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        _sign_in(pg, admin_server.url)
        found = {}
        for path in ("/admin/knowledge-report", "/admin/feedback", "/admin/files/offices", "/admin/files/forms",
                     "/admin/analytics", "/admin/knowledge/jidou-teate/edit"):  # fmt: skip
            pg.goto(admin_server.url + path)
            if path.endswith("/edit"):
                pg.locator("#valid-ids summary").click()
                pg.get_by_role("button", name="回答をプレビュー").click()
                pg.locator(".preview-item").first.wait_for()
            found[path] = _serious(pg)
        assert all(v == [] for v in found.values()), found
    finally:
        context.close()


def test_the_chat_page_reports_a_used_handoff(browser: Any, admin_server: LiveServer,
                                              admin_settings: Settings) -> None:  # fmt: skip
    """The beacon in chat.js: the form button and a tel: link each become one stored click."""
    import sqlite3
    import time

    def clicks() -> list[tuple[str, str]]:
        with sqlite3.connect(admin_settings.data_dir / "bot.db") as db:
            return [tuple(r) for r in db.execute("SELECT kind, target FROM handoff_clicks ORDER BY id")]

    def wait_for(n: int) -> list[tuple[str, str]]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(clicks()) < n:
            time.sleep(0.1)
        return clicks()

    before = len(clicks())
    with script_checked_page(browser, 390, 844, 20_000) as pg:
        pg.context.route("https://**", lambda route: route.abort())  # the form opens nowhere: this machine is offline
        pg.goto(admin_server.url + "/")
        box = pg.get_by_label("質問を入力してください")
        box.fill("児童手当について教えて")
        box.press("Enter")
        answer = pg.locator(".msg-bot").nth(1)
        answer.locator(".msg-status").wait_for(state="hidden")
        answer.get_by_role("link", name="オンラインで申請する").click()
        assert wait_for(before + 1)[before:] == [("form", "mynaportal-jidouteate")]
        answer.locator(".msg-more summary").click()  # the office's phone waits behind 「くわしく」 on the new card
        pg.evaluate("document.querySelector('.msg-bot .office-tel').addEventListener('click', e => e.preventDefault())")
        tel = answer.locator(".office-tel").first
        digits = "".join(ch for ch in tel.get_attribute("href") if ch.isdigit())
        tel.click()
        assert wait_for(before + 2)[before + 1 :] == [("phone", digits)]
