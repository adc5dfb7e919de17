"""Uploads: a small PDF, HTML page and Word file made here become drafts with a front-matter skeleton; drafts are not
in the knowledge folder or the index until they are published (and publishing validates them like any edit)."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import pytest

from bot.config import Settings
from bot.service import Bot
from bot.staff.drafts import convert
from tests.admin.conftest import page_csrf


def make_pdf(text: str) -> bytes:
    """A one-page PDF with a Helvetica text line (pypdf reads but does not write text, so it is assembled here)."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("ふたご育児ヘルパー", level=0)
    d.add_heading("対象", level=1)
    d.add_paragraph("区内に住む、ふたご以上を育てている家庭が対象です。")
    d.add_heading("金額・料金", level=1)
    d.add_paragraph("1時間あたり500円です。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


HTML = """<!doctype html><html lang="ja"><head><title>ベビーカー貸し出し事業 | 台東区</title></head><body>
<nav><a href="/">トップ</a> <a href="/kosodate">子育て</a></nav>
<main><h1>ベビーカー貸し出し事業</h1>
<p>台東区では、区内の子育てひろばでベビーカーの貸し出しをしています。利用は無料で、1回につき3日間まで借りられます。</p>
<p>借りるときは、保護者の本人確認書類を持って、子育てひろばの窓口に来てください。予約はできません。</p>
</main><footer>台東区役所 〒110-8615 台東区東上野4-5-6</footer></body></html>"""


def test_convert_each_kind(admin_settings: Settings) -> None:
    today = admin_settings.current_date()
    kind, doc_id, text = convert("Twin-Helper Guide.pdf", make_pdf("Twin helper subsidy 500 yen per hour"), today)
    assert (kind, doc_id) == ("pdf", "twin-helper-guide")
    assert text.startswith("---\nid: twin-helper-guide\n") and "Twin helper subsidy 500 yen per hour" in text
    kind, _, text = convert("futago.docx", make_docx(), today)
    assert kind == "docx" and "title: ふたご育児ヘルパー" in text
    assert "## 対象\n区内に住む、ふたご以上を育てている家庭が対象です。" in text and "## 金額・料金" in text
    kind, _, text = convert("babycar.html", HTML.encode(), today)
    assert kind == "html" and "ベビーカーの貸し出し" in text and "title: ベビーカー貸し出し事業" in text
    assert "トップ" not in text  # navigation is not content


@pytest.mark.parametrize("name,data,ctype", [
    ("babycar-lending.html", HTML.encode(), "text/html"),
    ("twin-helper.pdf", make_pdf("Twin helper subsidy 500 yen per hour"), "application/pdf"),
    ("futago.docx", make_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])  # fmt: skip
def test_upload_creates_a_draft_that_is_not_indexed(
    client_as: Callable[[str], httpx.Client],
    admin_settings: Settings,
    admin_bot: Bot,
    name: str,
    data: bytes,
    ctype: str,
) -> None:
    c = client_as("editor")
    r = c.post(
        "/admin/drafts/upload", data={"csrf": page_csrf(c, "/admin/drafts")}, files={"file": (name, data, ctype)}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/drafts/")
    draft_page = c.get(r.headers["location"])
    assert draft_page.status_code == 200  # the skeleton still lacks category, aliases, source URL: shown inline
    assert "必須の項目「category」がありません。" in draft_page.text
    doc_id = name.rsplit(".", 1)[0]
    assert not (admin_settings.knowledge_dir / "procedures" / f"{doc_id}.md").exists()
    admin_bot.refresh()
    assert doc_id not in admin_bot.generation.kb.procedures
    assert all(ch.doc_id != doc_id for ch in admin_bot.generation.chunks)
    assert name in c.get("/admin/drafts").text
    # publishing an incomplete draft is refused and writes nothing
    text = draft_page.text.split('name="text"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    import html

    r = c.post(r.headers["location"], data={"csrf": page_csrf(c), "text": html.unescape(text), "action": "publish"})
    assert r.status_code == 422
    assert not (admin_settings.knowledge_dir / "procedures" / f"{doc_id}.md").exists()


def test_unsupported_upload_is_refused(client_as: Callable[[str], httpx.Client]) -> None:
    c = client_as("editor")
    r = c.post("/admin/drafts/upload", data={"csrf": page_csrf(c)}, files={"file": ("a.exe", b"MZ", "application/x")})
    assert r.status_code == 422 and "PDF・HTML・Word" in r.text


@pytest.mark.parametrize("megabytes", [60, 20], ids=["over 50 MB", "ratio over 200"])
def test_a_docx_that_unpacks_too_far_is_refused(client_as: Callable[[str], httpx.Client], megabytes: int) -> None:
    """A zip bomb: well under the 5 MB upload limit, but its members unpack past 50 MB, or 20 MB of zeros packed
    about a thousand times."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (megabytes * 1024 * 1024))
    data = buf.getvalue()
    assert len(data) < 1024 * 1024
    c = client_as("editor")
    files = {"file": ("bomb.docx", data, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")}
    r = c.post("/admin/drafts/upload", data={"csrf": page_csrf(c, "/admin/drafts")}, files=files)
    assert r.status_code == 422 and "展開すると大きすぎます" in r.text


def test_drafts_are_listed_in_pages(client_as: Callable[[str], httpx.Client], admin_settings: Settings) -> None:
    from bot.staff.drafts import PAGE_SIZE, Drafts
    from bot.storage.logstore import LogStore

    store = LogStore(admin_settings.database_url)
    try:
        before = Drafts(store.engine).pending()[1]
        for i in range(PAGE_SIZE + 5 - before % PAGE_SIZE):
            Drafts(store.engine).create(f"page-test-{i}.html", "html", f"page-test-{i}", "あ" * 1000, "editor")
        listed, total = Drafts(store.engine).pending()
    finally:
        store.close()
    assert len(listed) == PAGE_SIZE and all(d.text == "" for d in listed)  # a list never loads the bodies
    c = client_as("editor")
    first = c.get("/admin/drafts").text
    assert first.count("<tr><td>") == PAGE_SIZE and f"({total}件)" in first and "?page=2" in first
    last = c.get("/admin/drafts", params={"page": -(-total // PAGE_SIZE)}).text
    assert 0 < last.count("<tr><td>") <= PAGE_SIZE and "前へ" in last
    assert c.get("/admin/drafts", params={"page": 0}).status_code == 422


PAGE_WITH_SECTIONS = """<!doctype html><html lang="ja"><head><title>児童育成手当 | 台東区ホームページ</title>
<link rel="canonical" href="https://www.city.taito.lg.jp/kosodate/teate/ikusei.html"></head><body>
<header><a href="/">トップ</a></header><nav><a href="/kosodate">子育て</a></nav>
<main><h1>児童育成手当</h1>
<p>更新日：2025年8月25日</p>
<p>ひとり親家庭などに手当を支給します。</p>
<h2>対象</h2><p>18歳になった最初の3月31日までの児童を育てている方。</p>
<h3>所得制限</h3><p>所得制限があります。</p>
<h2>金額</h2><p>児童1人につき月額13,500円です。</p>
<h2>申請方法</h2><ul><li>子育て・若者支援課の窓口で申請します。</li><li>必要書類を持参してください。</li></ul>
</main><footer>台東区役所</footer></body></html>"""


def test_an_html_page_keeps_its_sections_url_and_date(admin_settings: Settings) -> None:
    from datetime import date

    from bot.knowledge import parse_sections

    kind, doc_id, text = convert("ikusei.html", PAGE_WITH_SECTIONS.encode(), date(2026, 12, 1))
    assert (kind, doc_id) == ("html", "ikusei") and "title: 児童育成手当\n" in text
    assert "  - url: https://www.city.taito.lg.jp/kosodate/teate/ikusei.html\n    as_of: 2025-08-25\n" in text
    assert "\nas_of: 2025-08-25\n" in text and "更新日" not in text
    body = text.split("\n---\n", 1)[1]
    problems: list = []  # type: ignore[type-arg]
    sections = {s.heading: s.text for s in parse_sections(body, 1, "x", problems)}
    assert not problems
    assert sections == {
        "概要": "ひとり親家庭などに手当を支給します。",
        "対象": "18歳になった最初の3月31日までの児童を育てている方。",
        "所得制限": "所得制限があります。",
        "金額・料金": "児童1人につき月額13,500円です。",
        "申請方法": "- 子育て・若者支援課の窓口で申請します。\n- 必要書類を持参してください。",
    }
    # the URL staff type wins over the page's own; a page in 令和 dates too
    reiwa = PAGE_WITH_SECTIONS.replace("更新日：2025年8月25日", "最終更新日 令和7年8月26日")
    _, _, text = convert("ikusei.html", reiwa.encode(), date(2026, 12, 1), "https://example.org/ikusei")
    assert "  - url: https://example.org/ikusei\n    as_of: 2025-08-26\n" in text


def test_an_uploaded_page_validates_once_staff_fill_in_the_rest(
    client_as: Callable[[str], httpx.Client], admin_settings: Settings
) -> None:
    c = client_as("editor")
    r = c.post("/admin/drafts/upload", data={"csrf": page_csrf(c, "/admin/drafts")},
               files={"file": ("ikusei-teate.html", PAGE_WITH_SECTIONS.encode(), "text/html")})  # fmt: skip
    assert r.status_code == 303
    import html

    page = c.get(r.headers["location"]).text
    text = html.unescape(page.split('name="text"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0])
    filled = text.replace("id: ikusei\n", "id: ikusei-teate\n").replace("category:\n", "category: 手当・助成\n")
    filled = filled.replace("aliases: []", "aliases: [育成手当の下書き確認]").replace(
        "title: 児童育成手当", "title: 下書き確認"
    )
    r = c.post(r.headers["location"], data={"csrf": page_csrf(c), "text": filled, "action": "validate"})
    assert r.status_code == 200, r.text
    assert "検証OK" in r.text
