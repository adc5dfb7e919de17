"""What the answer path returns: the reply's kind, its parts (sources, hand-off, office, choices, emergency numbers)
and the one renderer of its plain text. Composed, curated and LLM answers all build an :class:`AnswerResult` and
render it with :func:`render_text`; the web layer and the CLI read these types only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.knowledge import Form, Office, Procedure
from bot.knowledge.publishers import LABELS as PUBLISHER_LABELS
from bot.knowledge.publishers import document_publisher, publisher_type
from bot.knowledge.ward import WardProfile


class AnswerKind(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    EMERGENCY = "emergency"
    OUT_OF_SCOPE = "out_of_scope"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    url: str
    as_of: str  # ISO date shown to parents as 「情報の時点」 (the checked date when the source page has none)
    checked: str
    as_of_known: bool = True
    publisher: str = "private"  # bot.knowledge.publishers type of the cited page

    @classmethod
    def of(cls, p: Procedure, ward: WardProfile | None = None) -> Citation:
        kind = document_publisher(p, ward)
        return cls(p.id, p.title, p.url, p.date_shown.isoformat(), p.checked.isoformat(), p.as_of is not None, kind)

    @property
    def publisher_label(self) -> str:
        return PUBLISHER_LABELS[self.publisher]


@dataclass(frozen=True)
class Handoff:
    form_id: str
    title: str
    url: str
    channel: str
    requires: list[str]
    prepare: list[str]
    note: str | None = None
    kind: str = "information"  # "application" (an online form) or "information" (a page about it)
    publisher: str = "private"  # bot.knowledge.publishers type of the url

    @classmethod
    def of(cls, f: Form, ward: WardProfile | None = None) -> Handoff:
        kind = publisher_type(f.url, ward.hosts, ward.councillor_hosts) if ward else publisher_type(f.url)
        return cls(f.id, f.title, f.url, f.channel, list(f.requires), list(f.prepare), f.note, f.kind, kind)

    @property
    def is_form(self) -> bool:
        return self.kind == "application"

    @property
    def lead(self) -> str:
        """What the text says before the link: an online application, or a page about it named by who wrote it."""
        if self.is_form:
            return "次の手続き(オンライン申請)"
        return (
            "くわしくは区のページ"
            if self.publisher == "official_ward"
            else f"くわしくは{PUBLISHER_LABELS[self.publisher]}"
        )


@dataclass(frozen=True)
class OfficeContact:
    id: str
    name: str
    phone: str | None
    hours: str | None
    url: str | None
    address: str | None

    @classmethod
    def of(cls, o: Office) -> OfficeContact:
        return cls(o.id, o.name, o.phone, o.hours, o.url, o.address)


@dataclass(frozen=True)
class Choice:
    label: str
    query: str
    doc_id: str | None = None


@dataclass(frozen=True)
class EmergencyNumber:
    label: str
    number: str

    @property
    def tel(self) -> str:
        return "tel:" + self.number.replace("#", "%23").replace("-", "")


@dataclass
class AnswerResult:
    question: str
    kind: AnswerKind
    text: str
    body: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    handoff: Handoff | None = None
    office: OfficeContact | None = None
    choices: list[Choice] = field(default_factory=list)
    suggestions: list[Choice] = field(default_factory=list)
    emergency_numbers: list[EmergencyNumber] = field(default_factory=list)
    topic: str | None = None
    aspects: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    reason: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0
    llm_reason: str = ""  # why the LLM text was used or not ("" when no LLM is configured)
    lang: str = "ja"  # the language the reply leads in
    emergency_title: str = ""  # the heading over the emergency numbers, in that language
    details: list[str] = field(default_factory=list)  # what 「くわしく」 opens (not part of the short text)
    verdict: str = ""  # "eligible" / "not_eligible" / "depends" when the reply leads with an eligibility verdict
    source_texts: list[str] = field(default_factory=list, repr=False)

    def to_contract(self) -> dict[str, Any]:
        """The command-line JSON contract (other tools depend on these keys exactly)."""
        return {
            "question": self.question,
            "kind": self.kind.value,
            "answer": self.text,
            "citations": [{"doc_id": c.doc_id, "title": c.title, "url": c.url} for c in self.citations],
            "handoff": (
                {"form_id": self.handoff.form_id, "title": self.handoff.title, "url": self.handoff.url}
                if self.handoff
                else None
            ),
            "latency_ms": round(self.latency_ms, 2),
        }

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d.pop("source_texts", None)
        d["emergency_numbers"] = [{"label": e.label, "number": e.number, "tel": e.tel} for e in self.emergency_numbers]
        return d


@dataclass(frozen=True)
class Turn:
    """What multi-turn needs to remember of an earlier exchange: the question and the document it was about."""

    question: str
    topic: str | None


# --- the plain text of a reply ----------------------------------------------------------------------------------


def _fmt_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def render_text(r: AnswerResult) -> str:
    """The plain text of a reply: its paragraphs, then one 出典 line per citation (with the page's date, or "date
    unknown" and when staff checked it), the next step and the office. Composed, curated and LLM answers all use it."""
    lines = list(r.body)
    for c in r.citations:
        when = (
            f"{_fmt_date(c.as_of)}時点の情報"
            if c.as_of_known
            else f"ページの更新日は不明({_fmt_date(c.checked)}に確認)"
        )
        lines.append(f"出典:{c.title}({c.publisher_label}、{c.url}){when}")
    if r.handoff:
        need = f"(必要:{'、'.join(r.handoff.requires)})" if r.handoff.requires else ""
        lines.append(f"{r.handoff.lead}:{r.handoff.title}{need} {r.handoff.url}")
    if r.office:
        parts = [
            r.office.name,
            *([f"電話 {r.office.phone}"] if r.office.phone else []),
            *([r.office.hours] if r.office.hours else []),
        ]
        lines.append("問い合わせ:" + "、".join(parts))
    return "\n".join(line for line in lines if line)
