"""EBPM analytics over the log store: what parents ask, when, about which procedure, and what the bot could not answer.

Every number is computed from the stored (masked) messages and feedback for a period of dates in the ward's time zone (``Settings.timezone``, Asia/Tokyo by default), so a report can
be reproduced from the database and exported as CSV. The unanswered queue groups no-answer, clarify and negatively
rated questions whose character-bigram similarity (:func:`bot.answering.curated.similarity`) reaches a threshold.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.answering.curated import bigrams, similarity
from bot.knowledge import KnowledgeBase
from bot.safety import mask_pii
from bot.storage.tables import feedback, messages

KINDS = ("answer", "no_answer", "clarify", "emergency", "out_of_scope")
GROUP_THRESHOLD = 0.45
WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class Row:
    id: int
    question: str
    kind: str
    doc_ids: tuple[str, ...]
    form_id: str | None
    topic: str | None
    at: datetime  # the ward's local time
    helpful: bool | None


@dataclass
class UnansweredGroup:
    example: str  # the newest question of the group (masked)
    count: int
    kinds: dict[str, int]
    newest: datetime
    message_ids: list[int] = field(default_factory=list)
    doc_id: str | None = None  # the document most often cited in the group, if any


@dataclass
class Report:
    start: date
    end: date
    total: int
    per_day: dict[str, int]
    heat: list[list[int]]  # [weekday 0=Mon][hour 0..23]
    per_hour: list[int]
    kinds: dict[str, int]
    rates: dict[str, float]
    per_category: dict[str, int]
    per_document: dict[str, int]
    handoffs: dict[str, int]
    helpful: int
    not_helpful: int
    answered: int
    minutes_per_call: float
    unanswered: list[UnansweredGroup]

    @property
    def hours_saved(self) -> float:
        return round(self.answered * self.minutes_per_call / 60, 1)

    @property
    def helpful_rate(self) -> float:
        n = self.helpful + self.not_helpful
        return round(self.helpful / n, 3) if n else 0.0


def default_period(today: date, days: int = 30) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today


def _utc_bounds(start: date, end: date, tz: tzinfo) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, time.min, tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return lo, hi


def local_time(d: datetime, tz: tzinfo) -> datetime:
    """A stored timestamp (UTC; SQLite returns it naive) as the ward's wall-clock time."""
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(tz)


def load_rows(engine: Engine, start: date, end: date, tz: tzinfo) -> list[Row]:
    lo, hi = _utc_bounds(start, end, tz)
    q = (
        select(messages, feedback.c.helpful)
        .select_from(messages.outerjoin(feedback, feedback.c.message_id == messages.c.id))
        .where(messages.c.created_at >= lo, messages.c.created_at < hi)
        .order_by(messages.c.id)
    )
    with engine.connect() as conn:
        return [
            Row(
                r.id,
                r.question,
                r.kind,
                tuple(r.doc_ids or ()),
                r.form_id,
                r.topic,
                local_time(r.created_at, tz),
                r.helpful,
            )
            for r in conn.execute(q)
        ]


def _category(r: Row, kb: KnowledgeBase | None) -> str:
    doc = r.topic or (r.doc_ids[0] if r.doc_ids else None)
    if doc and kb is not None and doc in kb.procedures:
        return kb.procedures[doc].category
    return "(該当なし)"


def needs_attention(r: Row) -> bool:
    return r.kind in ("no_answer", "clarify") or r.helpful is False


_PLACEHOLDER = re.compile(r"\[[^\]]{1,12}\]")  # what mask_pii put in place of a phone number, address...


def group_unanswered(rows: list[Row], threshold: float = GROUP_THRESHOLD, limit: int = 50) -> list[UnansweredGroup]:
    """Greedy single-link grouping, newest first: a question joins the first group with a similar member."""
    groups: list[tuple[list[frozenset[str]], UnansweredGroup, Counter[str]]] = []
    for r in sorted((r for r in rows if needs_attention(r)), key=lambda r: (r.at, r.id), reverse=True):
        grams = bigrams(_PLACEHOLDER.sub("", r.question))
        kind = "not_helpful" if r.helpful is False and r.kind not in ("no_answer", "clarify") else r.kind
        for members, g, docs in groups:
            if any(similarity(grams, m) >= threshold for m in members):
                g.count += 1
                g.kinds[kind] = g.kinds.get(kind, 0) + 1
                g.message_ids.append(r.id)
                docs.update(r.doc_ids[:1] or ([r.topic] if r.topic else []))
                if len(members) < 20:
                    members.append(grams)
                break
        else:
            docs = Counter(r.doc_ids[:1] or ([r.topic] if r.topic else []))
            groups.append(([grams], UnansweredGroup(mask_pii(r.question), 1, {kind: 1}, r.at, [r.id]), docs))
    out = []
    for _, g, docs in groups:
        g.doc_id = docs.most_common(1)[0][0] if docs else None
        out.append(g)
    out.sort(key=lambda g: (-g.count, -g.newest.timestamp()))
    return out[:limit]


def compute(engine: Engine, kb: KnowledgeBase | None, start: date, end: date, minutes_per_call: float,
            tz: tzinfo) -> Report:  # fmt: skip
    rows = load_rows(engine, start, end, tz)
    per_day: dict[str, int] = {}
    d = start
    while d <= end:
        per_day[d.isoformat()] = 0
        d += timedelta(days=1)
    heat = [[0] * 24 for _ in range(7)]
    per_hour = [0] * 24
    kinds: Counter[str] = Counter({k: 0 for k in KINDS})
    per_category: Counter[str] = Counter()
    per_document: Counter[str] = Counter()
    handoffs: Counter[str] = Counter()
    helpful = not_helpful = 0
    for r in rows:
        per_day[r.at.date().isoformat()] = per_day.get(r.at.date().isoformat(), 0) + 1
        heat[r.at.weekday()][r.at.hour] += 1
        per_hour[r.at.hour] += 1
        kinds[r.kind] += 1
        per_category[_category(r, kb)] += 1
        for doc in dict.fromkeys(r.doc_ids):
            per_document[doc] += 1
        if r.form_id:
            handoffs[r.form_id] += 1
        if r.helpful is True:
            helpful += 1
        elif r.helpful is False:
            not_helpful += 1
    total = len(rows)
    rates = {k: round(kinds[k] / total, 3) if total else 0.0 for k in kinds}
    return Report(
        start=start,
        end=end,
        total=total,
        per_day=per_day,
        heat=heat,
        per_hour=per_hour,
        kinds=dict(kinds),
        rates=rates,
        per_category=dict(per_category.most_common()),
        per_document=dict(per_document.most_common()),
        handoffs=dict(handoffs.most_common()),
        helpful=helpful,
        not_helpful=not_helpful,
        answered=kinds["answer"],
        minutes_per_call=minutes_per_call,
        unanswered=group_unanswered(rows),
    )


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class _SafeWriter:
    """csv.writer whose text cells cannot run as spreadsheet formulas: a cell a parent's words begin with = + - @
    (or a tab / CR) gets a leading apostrophe, which Excel shows as text (CSV injection, OWASP)."""

    def __init__(self, buf: io.StringIO):
        self._w = csv.writer(buf, lineterminator="\n")

    def writerow(self, row: list[object]) -> None:
        self._w.writerow(["'" + c if isinstance(c, str) and c.startswith(_FORMULA) else c for c in row])


def summary_csv(report: Report) -> str:
    """Every number of the report as ``metric,key,value`` rows (one tidy table a spreadsheet can pivot)."""
    buf = io.StringIO()
    w = _SafeWriter(buf)
    w.writerow(["metric", "key", "value"])
    w.writerow(["period", "start", report.start.isoformat()])
    w.writerow(["period", "end", report.end.isoformat()])
    w.writerow(["total", "questions", report.total])
    for k, v in report.per_day.items():
        w.writerow(["per_day", k, v])
    for wd in range(7):
        for h in range(24):
            if report.heat[wd][h]:
                w.writerow(["weekday_hour", f"{WEEKDAYS[wd]} {h:02d}", report.heat[wd][h]])
    for h, v in enumerate(report.per_hour):
        w.writerow(["per_hour", f"{h:02d}", v])
    for k, v in report.kinds.items():
        w.writerow(["kind", k, v])
    for k, rate in report.rates.items():
        w.writerow(["rate", k, rate])
    for k, v in report.per_category.items():
        w.writerow(["per_category", k, v])
    for k, v in report.per_document.items():
        w.writerow(["per_document", k, v])
    for k, v in report.handoffs.items():
        w.writerow(["handoff", k, v])
    w.writerow(["feedback", "helpful", report.helpful])
    w.writerow(["feedback", "not_helpful", report.not_helpful])
    w.writerow(["feedback", "helpful_rate", report.helpful_rate])
    w.writerow(["estimate", "answered", report.answered])
    w.writerow(["estimate", "minutes_per_call", report.minutes_per_call])
    w.writerow(["estimate", "staff_hours_saved", report.hours_saved])
    for g in report.unanswered:
        w.writerow(["unanswered_group", g.example, g.count])
    return buf.getvalue()


def messages_csv(engine: Engine, start: date, end: date, tz: tzinfo) -> str:
    """The period's messages (questions are stored masked) with their kind, documents, hand-off and rating."""
    buf = io.StringIO()
    w = _SafeWriter(buf)
    w.writerow(["id", "at_local", "question", "kind", "doc_ids", "form_id", "helpful"])
    for r in load_rows(engine, start, end, tz):
        helpful = "" if r.helpful is None else int(r.helpful)
        w.writerow([r.id, r.at.isoformat(timespec="seconds"), r.question, r.kind, " ".join(r.doc_ids),
                    r.form_id or "", helpful])  # fmt: skip
    return buf.getvalue()
