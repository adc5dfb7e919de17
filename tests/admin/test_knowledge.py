"""Knowledge editing over HTTP: status list and filters, inline validation, preview, publish → background re-index →
the bot answers with the new fact, and the audit entry with its unified diff. Also the retrieval-testing box."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from bot.config import Settings
from bot.service import Bot
from bot.staff.auth import Accounts
from bot.staff.publish import list_documents, validate_text
from tests.admin.conftest import page_csrf


def wait_reindex(c: httpx.Client, ticket: int, timeout: float = 90) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = c.get("/admin/reindex/status").json()
        if s["completed"] >= ticket and not s["running"]:
            return s  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError("re-index did not finish")


def test_status_of_each_document(knowledge_copy: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", knowledge_dir=knowledge_copy, today=date(2027, 1, 10), stale_days=365)
    procs = knowledge_copy / "procedures"
    text = (procs / "kyushokuhi.md").read_text(encoding="utf-8")
    (procs / "kyushokuhi.md").write_text(
        re.sub(r"^checked: .*$", "checked: 2025-01-01", text, count=1, flags=re.M), encoding="utf-8"
    )
    text = (procs / "ichiji-azukari.md").read_text(encoding="utf-8")
    (procs / "ichiji-azukari.md").write_text(text.replace("---\n", "---\nvalid_until: 2026-12-31\n", 1), "utf-8")
    text = (procs / "kodomo-iryohi.md").read_text(encoding="utf-8")
    (procs / "kodomo-iryohi.md").write_text(text.replace("category:", "category: 存在しない分類\nx_category:"), "utf-8")
    rows = {r.id: r for r in list_documents(settings)}
    assert rows["kyushokuhi"].status == "stale"
    assert rows["ichiji-azukari"].status == "expired"
    assert rows["kodomo-iryohi"].status == "invalid" and rows["kodomo-iryohi"].errors >= 1
    assert rows["jidou-teate"].status == "ok"


def test_list_and_filter(client_as: Callable[[str], httpx.Client]) -> None:
    c = client_as("editor")
    page = c.get("/admin/knowledge").text
    assert 'data-doc="jidou-teate"' in page and 'class="status status-ok">正常</span>' in page
    only = c.get("/admin/knowledge", params={"category": "手当・助成"}).text
    assert 'data-doc="jidou-teate"' in only and 'data-doc="hoikuen-nyuen"' not in only
    assert 'data-doc="jidou-teate"' not in c.get("/admin/knowledge", params={"status": "expired"}).text


def test_bad_front_matter_is_reported_inline_and_not_published(
    client_as: Callable[[str], httpx.Client], admin_settings: Settings
) -> None:
    c = client_as("editor")
    path = admin_settings.knowledge_dir / "procedures" / "kodomo-iryohi.md"
    before = path.read_text(encoding="utf-8")
    bad = before.replace("checked: ", "checked: 2025-13-45\nx: ", 1)
    r = c.post("/admin/knowledge/kodomo-iryohi/edit", data={"text": bad, "action": "validate", "csrf": page_csrf(c)})
    assert r.status_code == 422
    line = bad.splitlines().index("checked: 2025-13-45") + 1
    assert f'data-line="{line}"' in r.text and "「checked」の日付 &#39;2025-13-45&#39; が正しくありません" in r.text
    assert "is not a valid date" in r.text  # the English stays in an attribute (what the logs and the CLI say)
    r = c.post("/admin/knowledge/kodomo-iryohi/edit", data={"text": bad, "action": "publish", "csrf": page_csrf(c)})
    assert r.status_code == 422 and "公開できません" in r.text
    assert path.read_text(encoding="utf-8") == before


def test_validation_runs_on_a_copy(admin_settings: Settings) -> None:
    path = admin_settings.knowledge_dir / "procedures" / "jidou-teate.md"
    text = path.read_text(encoding="utf-8")
    v = validate_text(admin_settings, "jidou-teate", text.replace("id: jidou-teate", "id: other-id"))
    assert not v.ok and any("does not match the file name" in p.message for p in v.problems)
    assert path.read_text(encoding="utf-8") == text


def test_preview_answers_from_the_edited_text_while_parents_get_the_old(
    client_as: Callable[[str], httpx.Client], admin_settings: Settings
) -> None:
    c = client_as("editor")
    path = admin_settings.knowledge_dir / "procedures" / "jidou-teate.md"
    text = path.read_text(encoding="utf-8")
    old = re.search(r"3歳未満の子ども1人につき月([\d,]+)円", text)
    assert old, "the amount line moved"
    edited = text.replace(old[1], "17,250")  # every occurrence, so the translated summaries still agree
    r = c.post("/admin/knowledge/jidou-teate/edit", data={"text": edited, "action": "preview", "csrf": page_csrf(c)})
    assert r.status_code == 200, r.text
    assert "Q. 児童手当はいくらもらえますか" in r.text
    edited_answer = r.text.split('class="answer-edited"', 1)[1].split("</div>", 1)[0]
    assert "17,250円" in edited_answer and f"{old[1]}円" not in edited_answer
    now_answer = r.text.split('class="answer-now"', 1)[1].split("</div>", 1)[0]
    assert f"{old[1]}円" in now_answer
    assert 'class="kind kind-answer">回答</span>' in r.text
    # nothing was published: the file is unchanged and parents still get the old amount
    assert path.read_text(encoding="utf-8") == text
    parents = c.post("/api/chat", json={"message": "児童手当はいくらもらえますか"}).json()
    assert f"{old[1]}円" in parents["answer"] and "17,250" not in parents["answer"]


def test_publish_reindexes_and_the_bot_answers_with_the_new_fact(
    client_as: Callable[[str], httpx.Client], admin_settings: Settings, accounts: Accounts
) -> None:
    c = client_as("editor")
    path = admin_settings.knowledge_dir / "procedures" / "jidou-teate.md"
    text = path.read_text(encoding="utf-8")
    # the amount changes in the Japanese text and in every language's summary (the validator checks they agree)
    new = text.replace("15,000", "15,500")
    assert "3歳未満の子ども1人につき月15,500円" in new
    # parents keep getting answers while the index is rebuilt (the old generation serves until the swap)
    before = c.post("/api/chat", json={"message": "児童手当はいくら?"}).json()
    assert "15,000円" in before["answer"]
    r = c.post("/admin/knowledge/jidou-teate/edit", data={"text": new, "action": "publish", "csrf": page_csrf(c)})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/reindex?ticket=")
    ticket = int(r.headers["location"].split("ticket=")[1].split("&")[0])
    during = c.post("/api/chat", json={"message": "児童手当はいくら?"})
    assert during.status_code == 200 and during.json()["kind"] == "answer"
    progress_page = c.get(r.headers["location"])
    assert 'id="reindex-progress"' in progress_page.text
    status = wait_reindex(c, ticket)
    assert status["ok"], status["error"]
    assert "changed 1" in status["summary"] and "変更 1件" in status["summary_ja"]
    assert path.read_text(encoding="utf-8") == new
    after = c.post("/api/chat", json={"message": "児童手当はいくら?"}).json()
    assert "15,500円" in after["answer"], after["answer"]
    assert status["serving"] == status["generation"]
    entry = next(e for e in accounts.audit_entries(20, "knowledge.publish") if e.target == "procedures/jidou-teate.md")
    assert entry.actor == "editor"
    assert "-児童手当は、3歳未満の子ども1人につき月15,000円です。" in entry.detail
    assert "+児童手当は、3歳未満の子ども1人につき月15,500円です。" in entry.detail
    assert entry.detail.startswith("--- a/procedures/jidou-teate.md")
    audit_page = c.get("/admin/audit").text
    assert "knowledge.publish" in audit_page and "15,500円" in audit_page


def test_retrieval_box_shows_scores_and_decision(client_as: Callable[[str], httpx.Client]) -> None:
    c = client_as("editor")
    r = c.get("/admin/retrieval", params={"q": "保育園に入るには?"})
    assert r.status_code == 200
    assert 'class="candidate"' in r.text and 'class="num fused"' in r.text
    assert "判定:" in r.text and "被覆率" in r.text and "キーワード" in r.text and "密ベクトル" in r.text
    assert "hoikuen-nyuen" in r.text


def test_knowledge_report_page(client_as: Callable[[str], httpx.Client], admin_settings: Settings) -> None:
    from bot.knowledge import load_knowledge
    from bot.knowledge.report import knowledge_report

    c = client_as("editor")
    r = c.get("/admin/knowledge-report")
    assert r.status_code == 200
    today = admin_settings.current_date()
    report = knowledge_report(load_knowledge(admin_settings.knowledge_dir, today), today, admin_settings.stale_days)
    assert "ナレッジの点検" in r.text and "区議会議員のブログ(非公式)" in r.text
    councillor = r.text.split('data-source="councillor"', 1)[1].split("</tr>", 1)[0]
    assert (
        f'<td class="num">{len(report.by_source["councillor"])}</td>' in councillor
        and "公式ではありません" in councillor
    )
    assert r.text.count('<tr data-doc="') >= len(report.gaps) + len(report.stale) > 0
    assert "確認できていません" in r.text.split('id="gaps"', 1)[1]
    assert all(f'data-form="{f}"' in r.text for f in report.information_forms)


def test_offices_and_forms_are_edited_validated_and_published(
    client_as: Callable[[str], httpx.Client], admin_settings: Settings, admin_bot: Bot, accounts: Accounts
) -> None:
    c = client_as("editor")
    # the document editor lists the office and form ids a document may name
    doc_page = c.get("/admin/knowledge/jidou-teate/edit").text
    assert 'class="office-ids"' in doc_page and "<code>kosodate-wakamono</code> 子育て支援課" in doc_page
    assert "<code>mynaportal-jidouteate</code>" in doc_page
    path = admin_settings.knowledge_dir / "offices.yaml"
    before = path.read_text(encoding="utf-8")
    r = c.get("/admin/files/offices")
    assert r.status_code == 200 and "offices.yaml" in r.text and "<code>kuyakusho</code>" in r.text
    # broken YAML: a Japanese message with its line, nothing written
    r = c.post("/admin/files/offices", data={"text": before + "  - id: [x\n", "action": "publish",
                                             "csrf": page_csrf(c)})  # fmt: skip
    assert r.status_code == 422 and "YAML の書き方に誤りがあります" in r.text and "公開できません" in r.text
    assert path.read_text(encoding="utf-8") == before
    # an office a document still names cannot be removed: that document's error blocks publishing
    removed = before.replace("  - id: kosodate-wakamono\n", "  - id: kosodate-wakamono-old\n", 1)
    r = c.post("/admin/files/offices", data={"text": removed, "action": "validate", "csrf": page_csrf(c)})
    assert r.status_code == 422 and "窓口の id「kosodate-wakamono」は offices.yaml にありません。" in r.text
    # a new office publishes, re-indexes, and the serving bot knows it
    added = before.rstrip("\n") + (
        "\n\n  - id: test-madoguchi\n    name: テスト用の窓口\n    phone: 03-0000-9999\n    address: null\n"
        "    hours: null\n    url: null\n    note: null\n"
    )
    r = c.post("/admin/files/offices", data={"text": added, "action": "publish", "csrf": page_csrf(c)})
    assert r.status_code == 303, r.text
    ticket = int(r.headers["location"].split("ticket=")[1].split("&")[0])
    status = wait_reindex(c, ticket)
    assert status["ok"], status["error"]
    admin_bot.refresh()
    assert admin_bot.generation.kb.offices["test-madoguchi"].name == "テスト用の窓口"
    entry = next(e for e in accounts.audit_entries(20, "knowledge.publish") if e.target == "offices.yaml")
    assert "+  - id: test-madoguchi" in entry.detail
    # forms.yaml the same way; an unknown file is a polite 404
    forms = c.get("/admin/files/forms")
    assert forms.status_code == 200 and "<code>mynaportal-jidouteate</code>" in forms.text
    assert c.get("/admin/files/ward").status_code == 404
