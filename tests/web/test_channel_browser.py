"""In real Chromium: a question asked on the chat page is stored as channel ``web``, one asked in the widget's iframe
(``/embed``) as ``widget`` — what the admin analytics count per channel. The server tells them apart by the Referer the
page's own fetch sends, so this checks that the browser really sends it under the page's Referrer-Policy."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.browser import MARKS, checked_page

pytest.importorskip("playwright.sync_api")
pytestmark = MARKS


def last_channel(db_path: Path, question: str) -> str:
    con = sqlite3.connect(db_path)
    try:
        row = con.execute("SELECT channel FROM messages WHERE question = ? ORDER BY id DESC LIMIT 1", (question,))
        return str(row.fetchone()[0])
    finally:
        con.close()


@pytest.mark.parametrize(("path", "channel"), [("/", "web"), ("/embed", "widget")])
def test_the_page_and_the_widget_are_counted_apart(browser: Any, server: Any, db_path: Path, path: str,
                                                   channel: str) -> None:  # fmt: skip
    question = f"児童手当について教えて({channel})"
    with checked_page(browser, 390, 844, 15_000) as pg:
        pg.goto(server.url + path)
        box = pg.get_by_label("質問を入力してください")
        box.fill(question)
        with pg.expect_response("**/api/chat/stream"):
            box.press("Enter")
        pg.locator(".msg-bot").nth(1).locator(".msg-status").wait_for(state="hidden")
    assert last_channel(db_path, question) == channel
