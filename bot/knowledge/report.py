"""「ナレッジの点検」: what staff should look at in the knowledge, as one report (the admin page and
``python ingest.py --report`` print the same).

- documents by source type: the publisher of each document's first source (declared, or decided by its host), as the
  answer's citation names it;
- stale documents: ``checked`` longer ago than the limit;
- documents checked only against the project's fact sheet (``checked_against: fact_sheet``) or not saying;
- gaps the documents state: sentences such as 「キャンセル料は確認できていません」 (the ones the bot answers "not known"
  with), the facts a phone call to the ward would fill in;
- forms that are information pages (``kind: information``): the chat cannot offer an online application for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bot.knowledge import KnowledgeBase, Procedure
from bot.knowledge.publishers import LABELS, OFFICIAL, document_publisher

_SENTENCE = re.compile(r"(?<=[。!?!?])|\n")


@dataclass(frozen=True)
class StaleDocument:
    id: str
    title: str
    checked: date
    days: int


@dataclass(frozen=True)
class StatedGap:
    id: str
    title: str
    heading: str
    sentence: str


@dataclass
class KnowledgeReport:
    today: date
    stale_days: int
    documents: int
    by_source: dict[str, list[str]] = field(default_factory=dict)  # publisher type → document ids
    stale: list[StaleDocument] = field(default_factory=list)
    fact_sheet_only: list[str] = field(default_factory=list)  # checked_against: fact_sheet
    unstated_check: list[str] = field(default_factory=list)  # no checked_against
    gaps: list[StatedGap] = field(default_factory=list)
    information_forms: list[str] = field(default_factory=list)  # form ids with kind: information
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def unofficial(self) -> list[str]:
        return [d for kind, docs in self.by_source.items() if kind not in OFFICIAL for d in docs]

    def lines(self) -> list[str]:
        """The report as plain English text (the CLI)."""
        out = [f"Knowledge report for {self.today} ({self.documents} documents)", "", "Documents by source type:"]
        for kind, docs in self.by_source.items():
            out.append(f"  {kind} ({len(docs)}): {', '.join(docs)}")
        out += ["", f"Stale (checked more than {self.stale_days} days ago): {len(self.stale)}"]
        out += [f"  {s.id}: checked {s.checked} ({s.days} days)" for s in self.stale]
        out += ["", f"Checked against the fact sheet only: {len(self.fact_sheet_only)}"]
        out += [f"  {d}" for d in self.fact_sheet_only]
        out += [f"Not saying what they were checked against: {len(self.unstated_check)}"]
        out += [f"  {d}" for d in self.unstated_check]
        out += ["", f"Stated gaps (facts the documents say are not known): {len(self.gaps)}"]
        out += [f"  {g.id} / {g.heading}: {g.sentence}" for g in self.gaps]
        out += ["", f"Forms that are information pages (kind: information): {len(self.information_forms)}"]
        out += [f"  {f}" for f in self.information_forms]
        return out


def source_type(p: Procedure, kb: KnowledgeBase) -> str:
    """The publisher of the document's first source, as its citation tells parents (bot.answering.results.Citation)."""
    return document_publisher(p, kb.ward)


def stated_gaps(p: Procedure) -> list[tuple[str, str]]:
    """(heading, sentence) of each sentence that says a fact is not known; a caveat about the source in 注意
    (「区の公式ページでは確認できていません」) is about the page and is left out, as the answer path does."""
    from bot.answering.compose import SOURCE_TRUST, UNKNOWN  # the same sentences the bot answers "not known" with

    out = []
    for sec in p.sections:
        for sentence in _SENTENCE.split(sec.text):
            s = sentence.strip().lstrip("-・* ").strip()
            if not s or (sec.key == "caution" and SOURCE_TRUST.search(s)):
                continue
            if UNKNOWN.search(s):
                out.append((sec.heading, s))
    return out


def knowledge_report(kb: KnowledgeBase, today: date, stale_days: int = 365) -> KnowledgeReport:
    procs = sorted(kb.procedures.values(), key=lambda p: p.id)
    report = KnowledgeReport(today, stale_days, len(procs), titles={p.id: p.title for p in procs})
    by_source: dict[str, list[str]] = {}
    for p in procs:
        by_source.setdefault(source_type(p, kb), []).append(p.id)
        age = (today - p.checked).days
        if age > stale_days:
            report.stale.append(StaleDocument(p.id, p.title, p.checked, age))
        if p.checked_against == "fact_sheet":
            report.fact_sheet_only.append(p.id)
        elif p.checked_against is None:
            report.unstated_check.append(p.id)
        report.gaps += [StatedGap(p.id, p.title, h, s) for h, s in stated_gaps(p)]
    report.by_source = {k: by_source[k] for k in LABELS if k in by_source}
    report.stale.sort(key=lambda s: -s.days)
    report.information_forms = sorted(fid for fid, f in kb.forms.items() if f.kind == "information")
    return report
