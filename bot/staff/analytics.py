"""EBPM analytics over the log store: what parents ask, when, about which procedure, what the bot could not answer, and
through which channel (the web chat page, the widget served at ``/embed``, LINE).

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
from urllib.parse import unquote

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.answering.curated import bigrams, similarity
from bot.knowledge import KnowledgeBase
from bot.knowledge.publishers import OFFICIAL
from bot.safety import mask_pii
from bot.storage.logstore import CHANNELS
from bot.storage.tables import feedback, handoff_clicks, messages

KINDS = ("answer", "no_answer", "clarify", "emergency", "out_of_scope")
CHANNEL_NAMES = {"web": "ウェブ(チャットページ)", "widget": "ウィジェット(埋め込み)", "line": "LINE"}
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
    channel: str = "web"  # web / widget / line (bot.storage.logstore.CHANNELS)


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
    channels: dict[str, int]  # questions per channel, every channel listed (0 when none)
    helpful: int
    not_helpful: int
    answered: int
    minutes_per_call: float
    unanswered: list[UnansweredGroup]
    form_clicks: dict[str, int] = field(default_factory=dict)  # form id → times its button was used
    phone_clicks: dict[str, int] = field(default_factory=dict)  # published number (digits) → times it was tapped
    unofficial: int = 0  # answers whose first cited source is not an official page (bot.knowledge.publishers)
    unofficial_docs: dict[str, int] = field(default_factory=dict)
    previous: Report | None = None  # the period of the same length just before, for comparison

    @property
    def unofficial_rate(self) -> float:
        return round(self.unofficial / self.answered, 3) if self.answered else 0.0

    @property
    def clicks(self) -> int:
        return sum(self.form_clicks.values()) + sum(self.phone_clicks.values())

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
                r.channel,
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


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same number of days that ends the day before ``start``."""
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def load_clicks(engine: Engine, start: date, end: date, tz: tzinfo) -> tuple[Counter[str], Counter[str]]:
    lo, hi = _utc_bounds(start, end, tz)
    q = (
        select(handoff_clicks.c.kind, handoff_clicks.c.target, func.count())
        .where(handoff_clicks.c.created_at >= lo, handoff_clicks.c.created_at < hi)
        .group_by(handoff_clicks.c.kind, handoff_clicks.c.target)
    )
    forms: Counter[str] = Counter()
    phones: Counter[str] = Counter()
    with engine.connect() as conn:
        for kind, target, n in conn.execute(q):
            (forms if kind == "form" else phones)[target] += int(n)
    return forms, phones


def source_publishers(kb: KnowledgeBase | None) -> dict[str, str]:
    """Each document's publisher type as parents are told it (Citation.publisher: the first source's)."""
    from bot.answering.results import Citation

    if kb is None:
        return {}
    return {pid: Citation.of(p, kb.ward).publisher for pid, p in kb.procedures.items()}


def compute(engine: Engine, kb: KnowledgeBase | None, start: date, end: date, minutes_per_call: float,
            tz: tzinfo, compare: bool = False) -> Report:  # fmt: skip
    """The report of ``start``..``end`` (the ward's dates); ``compare`` adds the previous period of the same length."""
    rows = load_rows(engine, start, end, tz)
    publishers = source_publishers(kb)
    unofficial: Counter[str] = Counter()
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
    channels: Counter[str] = Counter({c: 0 for c in CHANNELS})
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
        channels[r.channel] += 1
        if r.kind == "answer" and r.doc_ids and publishers.get(r.doc_ids[0], "official_ward") not in OFFICIAL:
            unofficial[r.doc_ids[0]] += 1
        if r.helpful is True:
            helpful += 1
        elif r.helpful is False:
            not_helpful += 1
    total = len(rows)
    rates = {k: round(kinds[k] / total, 3) if total else 0.0 for k in kinds}
    form_clicks, phone_clicks = load_clicks(engine, start, end, tz)
    previous = None
    if compare:
        p_start, p_end = previous_period(start, end)
        previous = compute(engine, kb, p_start, p_end, minutes_per_call, tz)
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
        channels=dict(channels),
        helpful=helpful,
        not_helpful=not_helpful,
        answered=kinds["answer"],
        minutes_per_call=minutes_per_call,
        unanswered=group_unanswered(rows),
        form_clicks=dict(form_clicks.most_common()),
        phone_clicks=dict(phone_clicks.most_common()),
        unofficial=sum(unofficial.values()),
        unofficial_docs=dict(unofficial.most_common()),
        previous=previous,
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
    for k, v in report.channels.items():
        w.writerow(["channel", k, v])
    w.writerow(["feedback", "helpful", report.helpful])
    w.writerow(["feedback", "not_helpful", report.not_helpful])
    w.writerow(["feedback", "helpful_rate", report.helpful_rate])
    w.writerow(["estimate", "answered", report.answered])
    w.writerow(["estimate", "minutes_per_call", report.minutes_per_call])
    w.writerow(["estimate", "staff_hours_saved", report.hours_saved])
    for k, v in report.form_clicks.items():
        w.writerow(["click_form", k, v])
    for k, v in report.phone_clicks.items():
        w.writerow(["click_phone", k, v])
    w.writerow(["source", "unofficial_answers", report.unofficial])
    w.writerow(["source", "unofficial_rate", report.unofficial_rate])
    for k, v in report.unofficial_docs.items():
        w.writerow(["unofficial_document", k, v])
    if report.previous is not None:
        p = report.previous
        w.writerow(["previous_period", "start", p.start.isoformat()])
        w.writerow(["previous_period", "end", p.end.isoformat()])
        for key, value in comparison(report).items():
            w.writerow(["previous", key, value[1]])
    for g in report.unanswered:
        w.writerow(["unanswered_group", g.example, g.count])
    return buf.getvalue()


def comparison(report: Report) -> dict[str, tuple[float, float]]:
    """(this period, the previous one) for the headline numbers; empty without a previous period."""
    p = report.previous
    if p is None:
        return {}
    return {
        "questions": (report.total, p.total),
        "answer_rate": (report.rates.get("answer", 0.0), p.rates.get("answer", 0.0)),
        "helpful_rate": (report.helpful_rate, p.helpful_rate),
        "clicks": (report.clicks, p.clicks),
        "unofficial_rate": (report.unofficial_rate, p.unofficial_rate),
        "staff_hours_saved": (report.hours_saved, p.hours_saved),
    }


# --- parents' comments ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    message_id: int
    at: datetime  # the ward's local time of the latest vote
    helpful: bool
    comment: str  # masked when it was stored
    question: str  # masked
    kind: str
    doc_id: str | None


def feedback_comments(engine: Engine, start: date, end: date, tz: tzinfo, limit: int | None = None) -> list[Comment]:
    """Parents' feedback comments of the period, newest first, as stored (masked by LogStore.record_feedback)."""
    lo, hi = _utc_bounds(start, end, tz)
    q = (
        select(
            feedback.c.message_id,
            feedback.c.updated_at,
            feedback.c.helpful,
            feedback.c.comment,
            messages.c.question,
            messages.c.kind,
            messages.c.doc_ids,
            messages.c.topic,
        )  # fmt: skip
        .select_from(feedback.join(messages, messages.c.id == feedback.c.message_id))
        .where(feedback.c.comment.is_not(None), feedback.c.updated_at >= lo, feedback.c.updated_at < hi)
        .order_by(feedback.c.updated_at.desc(), feedback.c.id.desc())
    )
    if limit is not None:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [
            Comment(
                r.message_id,
                local_time(r.updated_at, tz),
                bool(r.helpful),
                r.comment,
                r.question,
                r.kind,
                (list(r.doc_ids or []) or [r.topic])[0],
            )  # fmt: skip
            for r in conn.execute(q)
        ]


def comments_csv(comments: list[Comment]) -> str:
    buf = io.StringIO()
    w = _SafeWriter(buf)
    w.writerow(["message_id", "at_local", "helpful", "comment", "question", "kind", "doc_id"])
    for c in comments:
        w.writerow([c.message_id, c.at.isoformat(timespec="seconds"), int(c.helpful), c.comment, c.question, c.kind,
                    c.doc_id or ""])  # fmt: skip
    return buf.getvalue()


def messages_csv(engine: Engine, start: date, end: date, tz: tzinfo) -> str:
    """The period's messages (questions are stored masked) with their kind, documents, hand-off and rating."""
    buf = io.StringIO()
    w = _SafeWriter(buf)
    w.writerow(["id", "at_local", "question", "kind", "doc_ids", "form_id", "helpful", "channel"])
    for r in load_rows(engine, start, end, tz):
        helpful = "" if r.helpful is None else int(r.helpful)
        w.writerow([r.id, r.at.isoformat(timespec="seconds"), r.question, r.kind, " ".join(r.doc_ids),
                    r.form_id or "", helpful, r.channel])  # fmt: skip
    return buf.getvalue()


# --- hand-off clicks ----------------------------------------------------------------------------------------------------

_PHONE = re.compile(r"(?<![\d-])(?:0\d{1,4}-\d{1,4}-\d{3,4}|#\d{4}|0120-\d{2,3}-\d{3})(?![\d-])")


def _digits(number: str) -> str:
    return re.sub(r"[^\d#]", "", number)


def published_phones(kb: KnowledgeBase) -> set[str]:
    """Every number the knowledge publishes (offices, the ward's emergency lines, numbers in the documents), as
    digits: a click is counted only for one of these, so no parent's own number can ever be stored."""
    numbers = {_digits(o.phone) for o in kb.offices.values() if o.phone}
    if kb.ward is not None:
        numbers |= {_digits(n.number) for plan in kb.ward.emergency.values() for n in plan.numbers}
    for p in kb.procedures.values():
        for s in p.sections:
            numbers |= {_digits(m) for m in _PHONE.findall(s.text)}
    return {n for n in numbers if n}


def click_target(kb: KnowledgeBase, kind: str, target: str) -> str | None:
    """What a hand-off click is stored as: the form's id (the chat page sends the form's URL or id), or the
    published number's digits; None when it names nothing the knowledge publishes."""
    target = target.strip()
    if kind == "form":
        if target in kb.forms:
            return target
        return next((f.id for f in kb.forms.values() if f.url.rstrip("/") == target.rstrip("/")), None)
    if kind == "phone":
        digits = _digits(unquote(target).removeprefix("tel:"))  # the page's href: tel:%238000 is #8000
        return digits if digits and digits in published_phones(kb) else None
    return None
