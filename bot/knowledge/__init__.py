"""The knowledge model: procedures (Markdown + front matter), forms and offices, and their validation.

Every problem is reported as ``file:line: message`` in English, so a staff member can jump to it. Errors make the
knowledge unusable (ingest refuses it); warnings (stale ``checked`` dates, expired documents) do not.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

SECTION_KEYS = {
    "概要": "overview",
    "対象": "eligibility",
    "金額・料金": "amount",
    "申請方法": "apply",
    "期限・受付期間": "deadline",
    "必要なもの": "documents",
    "問い合わせ": "contact",
    "注意": "caution",
}
CATEGORIES = (
    "妊娠・出産",
    "手当・助成",
    "保育・預かり",
    "健診・予防接種",
    "相談・支援",
    "学童・幼稚園",
    "救急・緊急",
    "区の窓口",
)
CHANNELS = ("マイナポータル", "LoGoフォーム", "区の電子申請", "アプリ", "専用サイト", "申請フォーム")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
if TYPE_CHECKING:
    from bot.knowledge.ward import WardProfile

REQUIRED = ("id", "title", "category", "aliases", "source_urls", "checked")
KNOWN_KEYS = set(REQUIRED) | {
    "as_of",
    "valid_from",
    "valid_until",
    "office",
    "forms",
    "questions",
    "i18n",
    "checked_against",
}
# What ``checked`` was compared with: the live source pages, or only the project's fact sheet (whose own source dates
# then stay the document's ``as_of``, and the document says so).
CHECKED_AGAINST = ("sources", "fact_sheet")
SOURCE_KEYS = {"url", "publisher", "title", "as_of"}
# Languages a document may carry a summary in (`i18n:` in the front matter). Romanised Nepali reads the Nepali one.
TRANSLATION_LANGS = ("en", "zh-Hans", "zh-Hant", "ko", "vi", "ne", "tl", "pt")
MAX_SUMMARY_CHARS = 400
MAX_QUESTIONS, MAX_QUESTION_CHARS = 12, 200  # i18n.<lang>.questions
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    level: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


@dataclass(frozen=True)
class Section:
    heading: str
    text: str

    @property
    def key(self) -> str:
        return SECTION_KEYS.get(self.heading, "extra")

    @property
    def first_sentence(self) -> str:
        return first_sentence(self.text)


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    phone: str | None = None
    address: str | None = None
    hours: str | None = None
    url: str | None = None
    note: str | None = None
    # Who vouches for ``phone``: the page that shows the number (``phone_source``), or ``phone_confirmed: false`` when
    # no cited page does. Neither given = not yet checked (older knowledge folders).
    phone_source: str | None = None
    phone_confirmed: bool | None = None


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    url: str
    channel: str
    requires: tuple[str, ...] = ()
    prepare: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()
    note: str | None = None
    # "application": a form or booking system where the parent applies; "information": a page that explains it.
    # Missing means "information": the chat never claims an online application nobody confirmed.
    kind: str = "information"


FORM_KINDS = ("application", "information")


@dataclass(frozen=True)
class Translation:
    """A document's name, search names and short summary in one other language (``i18n:`` in the front matter).

    Every number of the summary occurs in the Japanese text (the validator checks it), so a translated lead never
    states an amount, date or phone that the cited document does not."""

    lang: str
    title: str
    aliases: tuple[str, ...]
    summary: str
    # Questions parents ask about the service in that language (never shown: bot.retrieval.doc_classifier learns from
    # them which document a message in that language is about)
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """One source page of a document: ``source_urls:`` items are a URL, or ``{url, publisher, title, as_of}``.

    ``publisher`` is one of bot.knowledge.publishers.LABELS (declared by staff, checked against the host);
    ``as_of`` is the page's own date (更新日) when it shows one."""

    url: str
    publisher: str | None = None
    title: str | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class Procedure:
    id: str
    title: str
    category: str
    aliases: tuple[str, ...]
    source_urls: tuple[str, ...]
    checked: date
    sections: tuple[Section, ...]
    path: str
    as_of: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    office: str | None = None
    forms: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    content_hash: str = ""
    translations: dict[str, Translation] = field(default_factory=dict, compare=False, hash=False)
    sources: tuple[Source, ...] = ()
    checked_against: str | None = None

    def translation(self, lang: str) -> Translation | None:
        return self.translations.get("ne" if lang == "ne-Latn" else lang)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key or s.heading == key), None)

    @property
    def url(self) -> str:
        return self.source_urls[0]

    @property
    def date_shown(self) -> date:
        """The "as of" date parents see: the source date when known, otherwise the date staff checked it."""
        return self.as_of or self.checked

    def status(self, today: date, stale_days: int) -> str:
        if self.valid_until and self.valid_until < today:
            return "expired"
        if (today - self.checked).days > stale_days:
            return "stale"
        return "ok"


@dataclass
class KnowledgeBase:
    procedures: dict[str, Procedure] = field(default_factory=dict)
    offices: dict[str, Office] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    ward: WardProfile | None = None  # knowledge/ward.yaml (bot.knowledge.ward)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    def active(self, today: date) -> list[Procedure]:
        """Procedures that may be indexed: not expired and already in force."""
        return [
            p
            for p in self.procedures.values()
            if not (p.valid_until and p.valid_until < today) and not (p.valid_from and p.valid_from > today)
        ]


class KnowledgeError(Exception):
    """The knowledge folder has errors; ``problems`` lists them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_SENTENCE_END = re.compile(r"(?<=[。!?!?])")


def first_sentence(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = line.lstrip("-・* ").strip()
    parts = [p for p in _SENTENCE_END.split(line) if p.strip()]
    return parts[0].strip() if parts else line


# libyaml's parser when PyYAML was built with it (the wheels are): the pure-Python one made cold start at 50,000
# chunks take 20 s (issue 15). Same safe constructor and resolvers either way.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that keeps dates as strings, so a bad date is reported by our validator with its line."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _compose_load(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers) and the data built from it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _load(text: str) -> Any:
    return _compose_load(text)[1]


# --- YAML with line numbers ---------------------------------------------------------------------------------------


def _node_lines(node: yaml.Node | None) -> dict[str, int]:
    """Map each top-level key of a YAML mapping node to its (0-based) line."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"not an ISO date: {value!r}")


def _str_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ValueError("must be a list of strings")
    return tuple(str(v).strip() for v in value)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter, body, line number where the body starts). Raises ValueError when it is missing."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ValueError("missing front matter: the file must start with a '---' line")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise ValueError("front matter is not closed by a '---' line")


def parse_sections(body: str, first_line: int, path: str, problems: list[Problem]) -> tuple[Section, ...]:
    sections: list[Section] = []
    heading: str | None = None
    buf: list[str] = []
    seen: set[str] = set()

    def flush() -> None:
        if heading is not None:
            text = "\n".join(buf).strip()
            if text:
                sections.append(Section(heading, text))

    for offset, line in enumerate(body.splitlines()):
        m = re.match(r"^##\s+(.+?)\s*$", line)
        if m:
            flush()
            heading, buf = m.group(1), []
            if heading in seen:
                problems.append(Problem(path, first_line + offset, f"duplicate section '## {heading}'"))
            seen.add(heading)
        elif heading is None:
            if line.strip() and not line.startswith("# "):
                problems.append(
                    Problem(path, first_line + offset, "text before the first '## ' heading is ignored", "warning")
                )
        else:
            buf.append(line)
    flush()
    if not sections:
        problems.append(Problem(path, first_line, "the body has no '## ' sections"))
    return tuple(sections)


MAX_DOCUMENT_BYTES = 200_000  # ~ 100 pages of Japanese; an 8 MB document became 7,702 chunks and a 98 s ingest


def parse_procedure(path: Path, rel: str, problems: list[Problem]) -> Procedure | None:
    return _parse_procedure(path, rel, problems)[0]


def _parse_procedure(path: Path, rel: str, problems: list[Problem]) -> tuple[Procedure | None, dict[str, int]]:
    """The procedure (None when it has errors) and the 1-based line of each front-matter key."""
    if path.is_symlink():
        # a link could pull any file of the server (outside knowledge/) into the index and the admin editor
        problems.append(Problem(rel, 1, "is a symbolic link: put the document itself in procedures/"))
        return None, {}
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        problems.append(Problem(rel, 1, f"is {size:,} bytes, over the {MAX_DOCUMENT_BYTES:,}-byte limit: split it"))
        return None, {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        problems.append(Problem(rel, 1, f"not valid UTF-8 ({e.reason} at byte {e.start})"))
        return None, {}
    try:
        fm_text, body, body_line = split_front_matter(text)
        node, meta = _compose_load(fm_text)
        meta = meta or {}
    except (ValueError, yaml.YAMLError) as e:
        line = getattr(getattr(e, "problem_mark", None), "line", 0) + 2 if hasattr(e, "problem_mark") else 1
        msg = str(e).splitlines()[0] if not hasattr(e, "problem") else f"invalid YAML: {e.problem}"
        problems.append(Problem(rel, line, msg))
        return None, {}
    if not isinstance(meta, dict):
        problems.append(Problem(rel, 2, "front matter must be a YAML mapping"))
        return None, {}
    lines = {k: v + 2 for k, v in _node_lines(node).items()}  # +1 for the '---' line, +1 for 1-based
    start = len(problems)

    def err(key: str, msg: str, level: str = "error") -> None:
        problems.append(Problem(rel, lines.get(key, 2), msg, level))

    for key in REQUIRED:
        if key not in meta or meta[key] in (None, "", []):
            err(key, f"missing required field '{key}'")
    for key in meta:
        if key not in KNOWN_KEYS:
            err(key, f"unknown field '{key}' (known: {', '.join(sorted(KNOWN_KEYS))})", "warning")

    pid = str(meta.get("id") or "")
    if pid and not ID_RE.match(pid):
        err("id", f"id '{pid}' must be lowercase ascii letters, digits and hyphens")
    if pid and pid != path.stem:
        err("id", f"id '{pid}' does not match the file name '{path.name}'")
    category = meta.get("category")
    if category and category not in CATEGORIES:
        err("category", f"unknown category '{category}' (use one of: {', '.join(CATEGORIES)})")

    dates: dict[str, date | None] = {}
    for key in ("checked", "as_of", "valid_from", "valid_until"):
        try:
            dates[key] = _as_date(meta[key]) if meta.get(key) is not None else None
        except ValueError:
            err(key, f"'{key}' is not a valid date (use YYYY-MM-DD): {meta[key]!r}")
            dates[key] = None
    lists: dict[str, tuple[str, ...]] = {}
    sources = _parse_sources(meta.get("source_urls"), lambda msg: err("source_urls", msg))
    lists["source_urls"] = tuple(s.url for s in sources)
    for key in ("aliases", "forms", "questions"):
        try:
            lists[key] = _str_list(meta.get(key))
        except ValueError as e:
            err(key, f"'{key}' {e}")
            lists[key] = ()
    for url in lists["source_urls"]:
        if not re.match(r"^https?://\S+$", url):
            err("source_urls", f"source URL is not an http(s) URL: {url!r}")
    if dates["valid_from"] and dates["valid_until"] and dates["valid_from"] > dates["valid_until"]:
        err("valid_until", "valid_until is before valid_from")
    checked_against = meta.get("checked_against")
    if checked_against is not None and checked_against not in CHECKED_AGAINST:
        err("checked_against", f"checked_against must be one of {', '.join(CHECKED_AGAINST)}: {checked_against!r}")

    sections = parse_sections(body, body_line, rel, problems)
    japanese = "\n".join([str(meta.get("title") or ""), body])
    translations = _parse_translations(meta.get("i18n"), japanese, lambda msg: err("i18n", msg))
    if any(p.level == "error" for p in problems[start:]):
        return None, lines
    assert dates["checked"] is not None
    proc = Procedure(
        id=pid,
        title=str(meta["title"]).strip(),
        category=str(category),
        aliases=lists["aliases"],
        source_urls=lists["source_urls"],
        checked=dates["checked"],
        as_of=dates["as_of"],
        valid_from=dates["valid_from"],
        valid_until=dates["valid_until"],
        office=str(meta["office"]) if meta.get("office") else None,
        forms=lists["forms"],
        questions=lists["questions"],
        sources=sources,
        checked_against=str(checked_against) if checked_against else None,
        sections=sections,
        path=rel,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        translations=translations,
    )
    return proc, lines


def _parse_sources(value: Any, err: Any) -> tuple[Source, ...]:
    from bot.knowledge.publishers import LABELS

    if value is None:
        return ()
    if not isinstance(value, list):
        err("'source_urls' must be a list of URLs or of {url, publisher, title, as_of} mappings")
        return ()
    out: list[Source] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            err(f"a source must be a URL or a mapping with 'url': {item!r}")
            continue
        url = item["url"].strip()
        if not re.match(r"^https?://\S+$", url):
            err(f"source URL is not an http(s) URL: {url!r}")
            continue
        unknown = set(item) - SOURCE_KEYS
        if unknown:
            err(
                f"unknown key(s) {', '.join(sorted(unknown))} in source {url} (known: {', '.join(sorted(SOURCE_KEYS))})"
            )
        publisher = item.get("publisher")
        if publisher is not None and publisher not in LABELS:
            err(f"unknown publisher {publisher!r} for {url} (use one of: {', '.join(LABELS)})")
            publisher = None
        try:
            as_of = _as_date(item["as_of"]) if item.get("as_of") is not None else None
        except ValueError:
            err(f"'as_of' of source {url} is not a valid date (use YYYY-MM-DD): {item['as_of']!r}")
            as_of = None
        title = str(item["title"]).strip() if item.get("title") else None
        out.append(Source(url, publisher, title, as_of))
    return tuple(out)


def check_publishers(
    procedures: dict[str, Procedure],
    ward: WardProfile | None,
    directory: Path,
    problems: list[Problem],
    key_lines: dict[str, dict[str, int]] | None = None,
) -> None:
    """A declared publisher must agree with the host wherever the host decides it: a page on a government host is
    that government's, and only a government host may be declared official. Among the rest (related bodies,
    councillors, private sites) the host cannot tell, so the declaration stands."""
    from bot.knowledge.publishers import OFFICIAL, publisher_type

    hosts, councillors = (ward.hosts, ward.councillor_hosts) if ward else ((), ())
    for proc in procedures.values():
        for s in proc.sources:
            if s.publisher is None:
                continue
            by_host = publisher_type(s.url, hosts, councillors)
            if (s.publisher in OFFICIAL or by_host in OFFICIAL) and s.publisher != by_host:
                lines = (
                    key_lines[proc.id]
                    if key_lines and proc.id in key_lines
                    else _front_matter_lines(directory.parent / proc.path)
                )
                line = lines.get("source_urls", 2)
                problems.append(
                    Problem(proc.path, line, f"source {s.url} is declared '{s.publisher}' but its host is '{by_host}'")
                )


def _parse_translations(value: Any, japanese: str, err: Any) -> dict[str, Translation]:
    """``i18n: {en: {title, aliases, summary, questions}, ...}``; a number in a summary that the Japanese text lacks is an
    error (``questions`` are only searched, never shown, so they may hold the parent's own numbers)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        err("'i18n' must be a mapping of language codes (en, zh-Hans, ...) to {title, aliases, summary}")
        return {}
    from bot.answering.grounding import normalize_numbers

    known_numbers = set(_DIGITS.findall(normalize_numbers(japanese)))
    out: dict[str, Translation] = {}
    for lang, entry in value.items():
        if lang not in TRANSLATION_LANGS:
            err(f"i18n: unknown language '{lang}' (use one of: {', '.join(TRANSLATION_LANGS)})")
            continue
        if not isinstance(entry, dict) or not entry.get("title") or not entry.get("summary"):
            err(f"i18n.{lang}: needs 'title' and 'summary'")
            continue
        summary = " ".join(str(entry["summary"]).split())
        if len(summary) > MAX_SUMMARY_CHARS:
            err(f"i18n.{lang}: summary is {len(summary)} characters, over {MAX_SUMMARY_CHARS}")
            continue
        unknown = sorted(set(_DIGITS.findall(normalize_numbers(summary))) - known_numbers)
        if unknown:
            err(f"i18n.{lang}: the summary states {', '.join(unknown)}, which the Japanese text does not contain")
            continue
        try:
            aliases = _str_list(entry.get("aliases"))
        except ValueError as e:
            err(f"i18n.{lang}.aliases {e}")
            continue
        try:
            questions = tuple(q for q in _str_list(entry.get("questions")) if q)
        except ValueError as e:
            err(f"i18n.{lang}.questions {e}")
            continue
        if len(questions) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION_CHARS for q in questions):
            err(f"i18n.{lang}.questions: at most {MAX_QUESTIONS}, each at most {MAX_QUESTION_CHARS} characters")
            continue
        out[lang] = Translation(lang, str(entry["title"]).strip(), aliases, summary, questions)
    return out


def _load_yaml_list(path: Path, rel: str, key: str, problems: list[Problem]) -> list[tuple[dict[str, Any], int]]:
    if not path.exists():
        problems.append(Problem(rel, 1, f"missing file (expected a '{key}:' list)"))
        return []
    try:
        text = path.read_text(encoding="utf-8")
        node, data = _compose_load(text)
        data = data or {}
    except UnicodeDecodeError as e:
        problems.append(Problem(rel, 1, f"not valid UTF-8 ({e.reason})"))
        return []
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problems.append(Problem(rel, (mark.line + 1) if mark else 1, f"invalid YAML: {getattr(e, 'problem', e)}"))
        return []
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(Problem(rel, 1, f"top level must be a mapping with a '{key}:' list"))
        return []
    item_lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key and isinstance(v, yaml.SequenceNode):
                item_lines = [item.start_mark.line + 1 for item in v.value]
    out = []
    for i, item in enumerate(data[key]):
        line = item_lines[i] if i < len(item_lines) else 1
        if not isinstance(item, dict):
            problems.append(Problem(rel, line, f"entry {i + 1} must be a mapping"))
            continue
        out.append((item, line))
    return out


def _opt_str(item: dict[str, Any], key: str) -> str | None:
    v = item.get(key)
    return str(v).strip() if v not in (None, "") else None


def load_offices(path: Path, rel: str, problems: list[Problem]) -> dict[str, Office]:
    offices: dict[str, Office] = {}
    for item, line in _load_yaml_list(path, rel, "offices", problems):
        missing = [k for k in ("id", "name") if not item.get(k)]
        if missing:
            problems.append(Problem(rel, line, f"office is missing required field(s): {', '.join(missing)}"))
            continue
        oid = str(item["id"])
        if oid in offices:
            problems.append(Problem(rel, line, f"duplicate office id '{oid}'"))
            continue
        phone_source = _opt_str(item, "phone_source")
        if phone_source and not re.match(r"^https?://\S+$", phone_source):
            problems.append(
                Problem(
                    rel, line, f"office '{oid}': phone_source must be the http(s) URL of the page showing the phone"
                )
            )
            phone_source = None
        confirmed = item.get("phone_confirmed")
        if confirmed is not None and not isinstance(confirmed, bool):
            problems.append(
                Problem(rel, line, f"office '{oid}': phone_confirmed must be true or false, not {confirmed!r}")
            )
            confirmed = None
        if phone_source and confirmed is False:
            problems.append(
                Problem(rel, line, f"office '{oid}': phone_source names a page but phone_confirmed is false; keep one")
            )
        if (phone_source or confirmed is not None) and not _opt_str(item, "phone"):
            problems.append(Problem(rel, line, f"office '{oid}': phone_source/phone_confirmed given but no phone"))
        offices[oid] = Office(
            id=oid,
            name=str(item["name"]),
            phone=_opt_str(item, "phone"),
            address=_opt_str(item, "address"),
            hours=_opt_str(item, "hours"),
            url=_opt_str(item, "url"),
            note=_opt_str(item, "note"),
            phone_source=phone_source,
            phone_confirmed=True if phone_source else confirmed,
        )
    return offices


def load_forms(path: Path, rel: str, problems: list[Problem]) -> tuple[dict[str, Form], dict[str, int]]:
    forms: dict[str, Form] = {}
    lines: dict[str, int] = {}
    for item, line in _load_yaml_list(path, rel, "forms", problems):
        missing = [k for k in ("id", "title", "url", "channel") if not item.get(k)]
        if missing:
            problems.append(Problem(rel, line, f"form is missing required field(s): {', '.join(missing)}"))
            continue
        fid = str(item["id"])
        if fid in forms:
            problems.append(Problem(rel, line, f"duplicate form id '{fid}'"))
            continue
        if item["channel"] not in CHANNELS:
            problems.append(Problem(rel, line, f"form '{fid}': unknown channel '{item['channel']}'", "warning"))
        if not re.match(r"^https?://\S+$", str(item["url"])):
            problems.append(Problem(rel, line, f"form '{fid}': url is not an http(s) URL"))
            continue
        kind = str(item.get("kind") or "information")
        if kind not in FORM_KINDS:
            problems.append(Problem(rel, line, f"form '{fid}': kind must be one of {', '.join(FORM_KINDS)}"))
            continue
        try:
            forms[fid] = Form(
                id=fid,
                title=str(item["title"]),
                url=str(item["url"]),
                channel=str(item["channel"]),
                requires=_str_list(item.get("requires")),
                prepare=_str_list(item.get("prepare")),
                procedures=_str_list(item.get("procedures")),
                note=_opt_str(item, "note"),
                kind=kind,
            )
            lines[fid] = line
        except ValueError as e:
            problems.append(Problem(rel, line, f"form '{fid}': {e}"))
    return forms, lines


def _alias_key(alias: str) -> str:
    from bot.text.textnorm import normalize

    return normalize(alias)


def load_knowledge(directory: Path, today: date, stale_days: int = 365) -> KnowledgeBase:
    """Load and validate the whole knowledge folder. Never raises for content problems: they go to ``problems``."""
    directory = Path(directory)
    problems: list[Problem] = []

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(directory.parent))
        except ValueError:
            return str(p)

    offices = load_offices(directory / "offices.yaml", rel(directory / "offices.yaml"), problems)
    forms, form_lines = load_forms(directory / "forms.yaml", rel(directory / "forms.yaml"), problems)
    procedures: dict[str, Procedure] = {}
    proc_dir = directory / "procedures"
    files = sorted(proc_dir.glob("*.md")) if proc_dir.is_dir() else []
    if not files:
        problems.append(Problem(rel(proc_dir), 1, "no procedure documents (*.md) found"))
    alias_owner: dict[str, str] = {}
    key_lines: dict[str, dict[str, int]] = {}  # procedure id -> front-matter key -> line (each file is parsed once)
    for path in files:
        r = rel(path)
        proc, fm_lines = _parse_procedure(path, r, problems)
        if proc is None:
            continue
        if proc.id in procedures:
            problems.append(Problem(r, 2, f"duplicate id '{proc.id}' (also in {procedures[proc.id].path})"))
            continue
        key_lines[proc.id] = fm_lines
        if proc.office and proc.office not in offices:
            problems.append(Problem(r, fm_lines.get("office", 2), f"unknown office id '{proc.office}'"))
        for fid in proc.forms:
            if fid not in forms:
                problems.append(Problem(r, fm_lines.get("forms", 2), f"unknown form id '{fid}'"))
        for name in (proc.title, *proc.aliases):
            key = _alias_key(name)
            owner = alias_owner.get(key)
            if owner and owner != proc.id:
                problems.append(
                    Problem(r, fm_lines.get("aliases", 2), f"alias or title '{name}' collides with document '{owner}'")
                )
            alias_owner.setdefault(key, proc.id)
        if proc.valid_until and proc.valid_until < today:
            problems.append(
                Problem(
                    r,
                    fm_lines.get("valid_until", 2),
                    f"valid_until {proc.valid_until} is in the past: the document is excluded from the index",
                    "warning",
                )
            )
        age = (today - proc.checked).days
        if age > stale_days:
            problems.append(
                Problem(
                    r,
                    fm_lines.get("checked", 2),
                    f"stale: facts were checked {age} days ago ({proc.checked}); re-check them (limit {stale_days} days)",
                    "warning",
                )
            )
        if proc.checked > today:
            problems.append(Problem(r, fm_lines.get("checked", 2), f"checked date {proc.checked} is in the future"))
        procedures[proc.id] = proc
    forms_rel = rel(directory / "forms.yaml")
    for fid, form in forms.items():
        for pid in form.procedures:
            if pid not in procedures and not any(p.path.endswith(f"/{pid}.md") for p in procedures.values()):
                problems.append(
                    Problem(forms_rel, form_lines.get(fid, 1), f"form '{fid}' names unknown procedure '{pid}'")
                )
    from bot.knowledge.ward import WARD_FILE, load_ward  # bot.knowledge.ward reads this module's types

    ward = load_ward(directory, rel(directory / WARD_FILE), procedures, offices, problems)
    check_publishers(procedures, ward, directory, problems, key_lines)
    return KnowledgeBase(procedures=procedures, offices=offices, forms=forms, problems=problems, ward=ward)


def _front_matter_lines(path: Path) -> dict[str, int]:
    try:
        fm_text, _, _ = split_front_matter(path.read_text(encoding="utf-8"))
        return {k: v + 2 for k, v in _node_lines(_compose_load(fm_text)[0]).items()}
    except (ValueError, yaml.YAMLError):
        return {}
