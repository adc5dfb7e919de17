"""Curated answers: they win over the composed answer when a question matches, never over emergencies, and expire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import httpx
import pytest

from bot.answering.curated import CuratedAnswers, fiscal_year_end, similarity
from bot.config import Settings
from bot.service import Bot
from bot.staff.auth import Accounts
from tests.admin.conftest import page_csrf


def test_fiscal_year_end() -> None:
    assert fiscal_year_end(date(2025, 3, 31)) == date(2025, 3, 31)
    assert fiscal_year_end(date(2025, 4, 1)) == date(2026, 3, 31)
    assert fiscal_year_end(date(2025, 12, 31)) == date(2026, 3, 31)
    assert fiscal_year_end(date(2026, 1, 5)) == date(2026, 3, 31)


def test_similarity_is_normalised() -> None:
    assert similarity("保育園の見学はできますか?", "保育園の見学はできますか") == 1.0
    assert similarity("ホイクエンの見学", "ほいくえんの見学") == 1.0
    assert similarity("保育園の見学はできますか", "児童手当はいくら") < 0.2


def _create(c: httpx.Client, **fields: str) -> httpx.Response:
    return c.post("/admin/curated/new", data={"csrf": page_csrf(c, "/admin/curated/new"), **fields})


def ask(c: httpx.Client, q: str) -> dict:  # type: ignore[type-arg]
    r = c.post("/api/chat", json={"message": q})
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def test_curated_answer_takes_precedence(client_as: Callable[[str], httpx.Client], accounts: Accounts,
                                         admin_settings: Settings) -> None:  # fmt: skip
    c = client_as("editor")
    q = "保育園の見学は土曜日もできますか"
    assert "土曜の見学は各園に" not in ask(c, q)["answer"]
    form = c.get("/admin/curated/new", params={"pattern": q, "doc": "hoikuen-nyuen"})
    assert fiscal_year_end(admin_settings.current_date()).isoformat() in form.text  # default: end of the fiscal year
    r = _create(c, patterns=q + "\n土曜に保育園を見学したい", answer="土曜の見学は各園に電話で相談してください。",
                doc_ids="hoikuen-nyuen", form_id="", expires_on="")  # fmt: skip
    assert r.status_code == 303
    got = ask(c, "保育園の見学は土曜日もできますか?")
    assert got["kind"] == "answer"
    assert got["body"] == ["土曜の見学は各園に電話で相談してください。"]
    assert [x["doc_id"] for x in got["citations"]] == ["hoikuen-nyuen"]
    assert got["topic"] == "hoikuen-nyuen"
    # a different question is still composed from the knowledge
    assert "土曜の見学" not in ask(c, "児童手当はいくら?")["answer"]
    entry = accounts.audit_entries(10, "curated.create")[0]
    assert entry.actor == "editor" and "土曜の見学" in entry.detail


def test_unknown_document_is_refused(client_as: Callable[[str], httpx.Client]) -> None:
    c = client_as("editor")
    r = _create(c, patterns="なにか", answer="こたえ", doc_ids="no-such-doc", form_id="", expires_on="")
    assert r.status_code == 422 and "存在しない文書ID" in r.text


def test_emergency_still_wins(client_as: Callable[[str], httpx.Client]) -> None:
    c = client_as("editor")
    q = "子どもが息をしていない"
    r = _create(c, patterns=q, answer="これは定型回答です。", doc_ids="", form_id="", expires_on="")
    assert r.status_code == 303
    got = ask(c, q)
    assert got["kind"] == "emergency" and "これは定型回答です" not in got["answer"]


def test_expired_curated_answer_is_not_used(client_as: Callable[[str], httpx.Client], admin_bot: Bot) -> None:
    c = client_as("editor")
    q = "病児保育の予約は前日の何時までですか"
    yesterday = (admin_bot.settings.current_date() - timedelta(days=1)).isoformat()
    assert _create(c, patterns=q, answer="期限切れの定型回答です。", doc_ids="byouji-hoiku", form_id="",
                   expires_on=yesterday).status_code == 303  # fmt: skip
    assert "期限切れの定型回答" not in ask(c, q)["answer"]
    assert "期限切れ" in c.get("/admin/curated").text


def test_edit_and_delete(client_as: Callable[[str], httpx.Client], accounts: Accounts) -> None:
    c = client_as("editor")
    q = "一時保育の定型確認テストの質問です"
    assert _create(c, patterns=q, answer="一つ目の答え。", doc_ids="", form_id="", expires_on="").status_code == 303
    store = CuratedAnswers(accounts.engine)
    cid = next(x.id for x in store.entries() if q in x.patterns)
    r = c.post(f"/admin/curated/{cid}", data={"csrf": page_csrf(c), "patterns": q, "answer": "二つ目の答え。",
                                               "doc_ids": "", "form_id": "", "expires_on": "2099-03-31"})  # fmt: skip
    assert r.status_code == 303
    assert ask(c, q)["body"] == ["二つ目の答え。"]
    assert c.post(f"/admin/curated/{cid}/delete", data={"csrf": page_csrf(c)}).status_code == 303
    assert store.get(cid) is None
    assert "二つ目の答え" not in ask(c, q)["answer"]
    assert accounts.audit_entries(5, "curated.delete")[0].target == f"curated/{cid}"


@pytest.mark.parametrize("threshold,hit", [(0.6, True), (0.99, False)])
def test_threshold_is_configurable(accounts: Accounts, admin_bot: Bot, threshold: float, hit: bool) -> None:
    store = CuratedAnswers(accounts.engine, threshold=threshold)
    today = admin_bot.settings.current_date()
    cid = store.save(["保育園の送迎の駐輪場はどこですか"], "各園の入口横です。", [], None, today, "test")
    try:
        r = store.respond("保育園の送迎の駐輪場はどこ", admin_bot.generation.kb, today)
        assert (r is not None) is hit
    finally:
        store.delete(cid)


def test_a_curated_answer_cites_like_a_composed_one(client_as: Callable[[str], httpx.Client], admin_bot: Bot) -> None:
    """The same renderer: a source page without a date says so instead of printing 「…時点の情報」 (issue 14)."""
    undated = next(p for p in admin_bot.generation.kb.procedures.values() if p.as_of is None)
    q = "区のママ向け相談会は毎月ありますか"
    c = client_as("editor")
    r = _create(c, patterns=q, answer="相談会の日程は区のお知らせで確認してください。", doc_ids=undated.id, form_id="",
                expires_on="")  # fmt: skip
    assert r.status_code == 303
    got = ask(c, q)
    assert got["kind"] == "answer" and f"出典:{undated.title}" in got["answer"]
    assert "ページの更新日は不明" in got["answer"] and "時点の情報" not in got["answer"]
