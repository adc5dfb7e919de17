"""Drafts: a ward PDF, HTML page or Word file turned into a Markdown document with a front-matter skeleton.

Text extraction uses pypdf (PDF), the standard library's HTML parser (the main content, without menus and footers;
h2/h3 headings become ``## `` sections, the page's canonical URL its source and its 更新日 its ``as_of``) and python-docx
(Word; headings become ``## `` sections). Drafts live only in the log store's ``drafts`` table, never in the knowledge
folder, so nothing is indexed until staff fill in the front matter and publish (which validates like any edit).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import PurePath

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from bot.storage.tables import drafts

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A 1 MB .docx can unpack to 400 MB (a zip bomb): 7.5 min of CPU and 1.9 GB RSS before these limits.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
MAX_ZIP_RATIO = 200  # Word's XML packs 5–30 times; a bomb packs a thousand times and more
MAX_PDF_PAGES = 300
PAGE_SIZE = 50  # drafts per page in the admin list
MAX_DRAFT_CHARS = 200_000  # ~ 100 pages of Japanese text; a longer draft is refused, never cut silently
KINDS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".docx": "docx"}


class DraftError(ValueError):
    """The upload cannot be converted (unsupported type, unreadable, empty)."""


@dataclass(frozen=True)
class Draft:
    id: int
    filename: str
    source_kind: str
    doc_id: str
    text: str
    created_by: str
    created_at: datetime
    published_at: datetime | None


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[ \t\u3000]+", " ", ln).strip() for ln in text.split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip()


def extract_pdf(data: bytes) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise DraftError(f"PDF のページが多すぎます({MAX_PDF_PAGES}ページまで)。必要なページだけにしてください。")
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
        title = str(reader.metadata.title or "") if reader.metadata else ""
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise DraftError(f"PDF を読み取れませんでした({type(e).__name__})") from None
    return title, _clean(text)


class _MainText(HTMLParser):
    """HTML extraction (stdlib): the text of <main>/<article> (or <body>) without menus, headers and footers; h2/h3
    become ``## `` sections and list items ``- `` lines, and the page's canonical URL is kept as its source."""

    SKIP = {"script", "style", "nav", "header", "footer", "aside", "noscript", "template", "form"}
    BLOCK = {"p", "div", "tr", "br", "section", "article", "main", "table", "ul", "ol", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.in_title = False
        self.title = ""
        self.h1: str | None = None
        self.in_h1 = False
        self.url = ""
        self.parts: list[str] = []
        self.main_parts: list[str] | None = None
        self.main_depth = 0

    def _out(self, text: str) -> None:
        self.parts.append(text)
        if self.main_depth and self.main_parts is not None:
            self.main_parts.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and (a.get("rel") or "").lower() == "canonical" and a.get("href"):
            self.url = self.url or str(a["href"])
        elif tag == "meta" and (a.get("property") or "").lower() == "og:url" and a.get("content"):
            self.url = self.url or str(a["content"])
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag in ("main", "article"):
            self.main_depth += 1
            if self.main_parts is None:
                self.main_parts = []
        if self.skip:
            return
        if tag in ("h2", "h3", "h4"):
            self._out("\n## ")
        elif tag == "h1":
            self.in_h1 = self.h1 is None
            self._out("\n")
        elif tag == "li":
            self._out("\n- ")
        elif tag in self.BLOCK:
            self._out("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        elif tag == "title":
            self.in_title = False
        elif tag in ("main", "article") and self.main_depth:
            self.main_depth -= 1
        if tag == "h1":
            self.in_h1 = False
        if tag in self.BLOCK or tag in ("h1", "h2", "h3", "h4"):
            self._out("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skip:
            if self.in_h1:
                self.h1 = (self.h1 or "") + data
            self._out(data)

    def text(self) -> str:
        return "".join(self.main_parts if self.main_parts else self.parts)


# Page headings staff write in other words, to the section names the bot knows (bot.knowledge.SECTION_KEYS).
HEADING_ALIASES = {
    "概要": ("概要", "事業概要", "制度の概要", "内容", "事業内容", "サービス内容"),
    "対象": ("対象", "対象者", "対象となる方", "対象となるかた", "対象児童", "利用できる方", "支給対象"),
    "金額・料金": ("金額", "料金", "費用", "利用料", "利用料金", "支給額", "手当額", "助成額", "助成内容", "手当月額"),
    "申請方法": ("申請方法", "申込方法", "申し込み方法", "申込み方法", "手続き", "手続き方法", "申請", "申し込み"),
    "期限・受付期間": ("期限", "受付期間", "申請期限", "申込期間", "申し込み期間", "申請期間"),
    "必要なもの": ("必要なもの", "必要書類", "持ち物", "申請に必要なもの", "必要な書類"),
    "問い合わせ": ("問い合わせ", "問合せ", "お問い合わせ", "お問合せ", "問い合わせ先", "お問い合わせ先"),
    "注意": ("注意", "注意事項", "ご注意", "留意事項"),
}
_HEADING = {alias: canonical for canonical, aliases in HEADING_ALIASES.items() for alias in aliases}
# 「更新日：2025年8月25日」「最終更新日 令和7年8月25日」「掲載日:2025/8/25」
_UPDATED = re.compile(
    r"(?:最終)?(?:更新日|更新|掲載日|公開日)\s*[:：]?\s*"
    r"(?:(?P<y>\d{4})|令和\s*(?P<r>\d{1,2}|元))\s*[年/.\-]\s*(?P<m>\d{1,2})\s*[月/.\-]\s*(?P<d>\d{1,2})\s*日?"
)


def page_date(text: str) -> tuple[date | None, str]:
    """The page's own 更新日 (its ``as_of``) and the text without that line."""
    m = _UPDATED.search(text)
    if m is None:
        return None, text
    year = int(m["y"]) if m["y"] else 2018 + (1 if m["r"] == "元" else int(m["r"]))
    try:
        found = date(year, int(m["m"]), int(m["d"]))
    except ValueError:
        return None, text
    lines = [ln for ln in text.split("\n") if not (m[0] in ln and len(ln.strip()) <= len(m[0]) + 4)]
    return found, "\n".join(lines)


def _sections(text: str) -> str:
    """Headings become the bot's section names where one fits; text before the first heading is the 概要; a heading
    with no text under it is dropped; a heading repeated is numbered (the validator refuses duplicates)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    pending: str | None = None
    for ln in text.split("\n"):
        if ln.startswith("## "):
            name = ln[3:].strip().rstrip(":：")
            if not name:
                continue
            name = _HEADING.get(name, name)
            pending = name
            continue
        if not ln.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        if pending is not None or not out:
            heading = pending or "概要"
            seen[heading] = seen.get(heading, 0) + 1
            if seen[heading] > 1:
                heading = f"{heading}({seen[heading]})"
            if out and out[-1] != "":
                out.append("")
            out.append(f"## {heading}")
            pending = None
        out.append(ln)
    return "\n".join(out).strip()


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    url: str = ""
    as_of: date | None = None


def read_html(data: bytes, url: str = "") -> Page:
    """Title (the page's h1, else its <title> before " | site"), body with sections, canonical URL and 更新日."""
    parser = _MainText()
    parser.feed(data.decode("utf-8", errors="replace"))
    parser.close()
    title = (parser.h1 or "").strip()
    if not title and parser.title.strip():
        title = re.split(r"\s*[|\uff5c\u2013\u2014]\s*|\s+-\s+", parser.title.strip())[0]
    text = _clean(parser.text())
    as_of, text = page_date(text)
    if title:  # the h1 is the document's title, not a line of its body
        lines = text.split("\n")
        if lines and lines[0].strip() == _clean(title):
            text = "\n".join(lines[1:])
    page_url = url or parser.url
    if not re.match(r"^https?://\S+$", page_url):
        page_url = ""
    return Page(_clean(title), _sections(_clean(text)), page_url, as_of)


def extract_html(data: bytes) -> tuple[str, str]:
    # trafilatura was used here before, but it flattens h2/h3 into plain lines (issue 16), so the page's sections
    # were lost; the stdlib parser keeps them.
    page = read_html(data)
    return page.title, page.text


def _check_zip(data: bytes) -> None:
    """Refuse a package whose members would unpack past the limits (their sizes are bounds: zipfile stops reading a
    member at its declared size and checks its CRC)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise DraftError(f"Word ファイルを読み取れませんでした({type(e).__name__})") from None
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if len(infos) > MAX_ZIP_MEMBERS or unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_ZIP_RATIO:
        raise DraftError(
            f"このファイルは展開すると大きすぎます({MAX_UNPACKED_BYTES // (1024 * 1024)}MBまで)。"
            "文章だけを新しい Word ファイルにコピーして、もう一度お試しください。"
        )


def extract_docx(data: bytes) -> tuple[str, str]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as e:
        raise DraftError(f"Word ファイルを読み取れませんでした({type(e).__name__})") from None
    lines: list[str] = []
    title = document.core_properties.title or ""
    for para in document.paragraphs:
        style = (para.style.name if para.style is not None else "") or ""
        text = para.text.strip()
        if not text:
            continue
        if style == "Title":
            title = title or text
        elif style.startswith("Heading"):
            lines.append(f"\n## {text}")
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(c.text.strip() for c in row.cells))
    return title, _clean("\n".join(lines))


def slug(filename: str) -> str:
    stem = PurePath(filename).stem.lower()
    s = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")
    return s[:60] or "new-document"


def skeleton(doc_id: str, title: str, body: str, today: date, source_url: str = "",
             as_of: date | None = None) -> str:  # fmt: skip
    """A document for staff to complete: the validator flags what is still missing (category, aliases, URL...).
    ``as_of`` is the source page's own 更新日: the date parents are shown, and the source's date."""
    body = body.strip()
    if not body.startswith("## "):
        body = "## 概要\n" + body
    if source_url and as_of:
        url = f"\n  - url: {source_url}\n    as_of: {as_of.isoformat()}"
    else:
        url = f"\n  - {source_url}" if source_url else " []"
    return (
        "---\n"
        f"id: {doc_id}\n"
        f"title: {title.strip() or '(題名を入力)'}\n"
        "category:\n"
        "aliases: []\n"
        f"source_urls:{url}\n"
        f"checked: {today.isoformat()}\n" + (f"as_of: {as_of.isoformat()}\n" if as_of else "") + "questions: []\n"
        "---\n"
        f"{body}\n"
    )


def convert(filename: str, data: bytes, today: date, source_url: str = "") -> tuple[str, str, str]:
    """(source kind, proposed id, draft text) for an uploaded file. ``source_url``: where staff got it (an HTML page's
    own canonical address is used when it is not given)."""
    kind = KINDS.get(PurePath(filename).suffix.lower())
    if kind is None:
        raise DraftError("PDF・HTML・Word(.docx)のファイルを選んでください。")
    if not data:
        raise DraftError("ファイルが空です。")
    if len(data) > MAX_UPLOAD_BYTES:
        raise DraftError("ファイルが大きすぎます(5MBまで)。")
    if source_url and not re.match(r"^https?://\S+$", source_url):
        raise DraftError("ページの URL は http:// か https:// で始まる形で入力してください。")
    as_of: date | None = None
    if kind == "html":
        page = read_html(data, source_url)
        title, text, source_url, as_of = page.title, page.text, page.url, page.as_of
    else:
        title, text = {"pdf": extract_pdf, "docx": extract_docx}[kind](data)
    if not text:
        raise DraftError("ファイルから文章を取り出せませんでした(画像だけのPDFなど)。")
    if len(text) > MAX_DRAFT_CHARS:
        raise DraftError(f"文章が長すぎます({MAX_DRAFT_CHARS:,}字まで)。制度ごとにファイルを分けてください。")
    doc_id = slug(filename)
    return kind, doc_id, skeleton(doc_id, title or PurePath(filename).stem, text, today, source_url, as_of)


def _row(r: object) -> Draft:
    m = r._mapping  # type: ignore[attr-defined]
    return Draft(
        m["id"], m["filename"], m["source_kind"], m["doc_id"], m.get("text", ""), m["created_by"], m["created_at"],
        m["published_at"],
    )  # fmt: skip


class Drafts:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, filename: str, kind: str, doc_id: str, text: str, actor: str) -> int:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            pk = conn.execute(
                insert(drafts).values(
                    filename=filename[:255], source_kind=kind, doc_id=doc_id, text=text, created_by=actor,
                    created_at=now, updated_at=now, published_at=None,
                )
            ).inserted_primary_key  # fmt: skip
        assert pk is not None
        return int(pk[0])

    def get(self, draft_id: int) -> Draft | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(drafts).where(drafts.c.id == draft_id)).first()
        return _row(r) if r else None

    def pending(self, page: int = 1, per_page: int = PAGE_SIZE) -> tuple[list[Draft], int]:
        """One page of the unpublished drafts, newest first, without their text (a list never loads 200,000-character
        bodies it does not show), and how many there are."""
        listed = [c for c in drafts.c if c.name != "text"]
        where = drafts.c.published_at.is_(None)
        q = select(*listed).where(where).order_by(drafts.c.id.desc()).limit(per_page).offset((page - 1) * per_page)
        with self.engine.connect() as conn:
            total = int(conn.scalar(select(func.count()).select_from(drafts).where(where)) or 0)
            return [_row(r) for r in conn.execute(q)], total

    def save(self, draft_id: int, text: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(drafts).where(drafts.c.id == draft_id).values(text=text, updated_at=datetime.now(UTC)))

    def mark_published(self, draft_id: int, doc_id: str) -> None:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(
                update(drafts).where(drafts.c.id == draft_id).values(doc_id=doc_id, published_at=now, updated_at=now)
            )

    def delete(self, draft_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(drafts).where(drafts.c.id == draft_id))
