"""End to end in headless Chromium: sign in, edit a document, see the validator's error for bad front matter, fix it,
publish, watch the re-index finish, and get the new fact from the bot. No CSP violation or script error on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Settings
from tests.admin.conftest import password_for
from tests.browser import MARKS, checked_page
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
    old_fact = "区立小中学校の給食費は、令和5年1月からは親の負担がありません(2023年時点)。"
    new_fact = "区立小中学校の給食費は、令和8年度も親の負担がありません(区の発表)。"
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
    reply = page.request.post(url + "/api/chat", data={"message": "区立小学校の給食費はいくら?"}).json()
    assert reply["kind"] == "answer" and reply["citations"][0]["doc_id"] == "kyushokuhi"
    assert "令和8年度も親の負担がありません" in reply["answer"], reply["answer"]
