"""Pure metric functions: no bot, no I/O. Every function here is tested on hand-computed cases in tests/evals.

Conventions: a rank is 1-based, ``None`` means "not found"; a rate over an empty set is ``None`` (shown as "–"),
never 0, so that "nothing to measure" is not mistaken for "all wrong".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

# The groundedness check's own normalisation (NFKC, thousands separators, 万/千 expansion, か月 variants), so that a
# fact counts as found exactly when the groundedness check would see the same number. Private in bot.answering.grounding: the
# lead is asked to expose it as a public name.
from bot.answering.grounding import normalize_numbers
from bot.text.textnorm import nfkc

KINDS = ("answer", "clarify", "emergency", "out_of_scope", "no_answer")
_WS = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")


# --- facts ----------------------------------------------------------------------------------------------------------


# One date in its three notations: 令和7年4月1日 (→ R7年4月1日 by normalize_numbers), R7.4.1 and 2025年4月1日.
_ERA_DOTTED_DAY = re.compile(r"(?<![A-Za-z0-9])([RH])(\d{1,2})\.(\d{1,2})\.(\d{1,2})(?!\d)")
_ERA_DOTTED_MONTH = re.compile(r"(?<![A-Za-z0-9])([RH])(\d{1,2})\.(\d{1,2})(?![\d.])")
_WESTERN_REIWA = re.compile(r"(?<!\d)(20[2-9]\d)年")
_ERA_NAME = re.compile(r"(令和|平成)(\d{1,2}|元)年")


def fact_norm(text: str) -> str:
    """Same normalisation for the answer and the expected fact: NFKC (full/half width), no thousands separators,
    1万5千円 → 15000円, no whitespace, and a date in one notation (令和7年4月1日 = R7.4.1 = 2025年4月1日 → R7年4月1日)."""
    t = nfkc(_WS.sub("", text))
    t = _ERA_NAME.sub(lambda m: ("R" if m[1] == "令和" else "H") + ("1" if m[2] == "元" else m[2]) + "年", t)
    t = _ERA_DOTTED_DAY.sub(lambda m: f"{m[1]}{int(m[2])}年{int(m[3])}月{int(m[4])}日", t)
    t = _ERA_DOTTED_MONTH.sub(lambda m: f"{m[1]}{int(m[2])}年{int(m[3])}月", t)
    t = _WESTERN_REIWA.sub(lambda m: f"R{int(m[1]) - 2018}年", t)
    return normalize_numbers(t)


def fact_hits(answer: str, groups: Sequence[Sequence[str]]) -> list[bool]:
    """For each group of alternatives: does at least one alternative occur in the answer (substring, normalised)?"""
    norm = fact_norm(answer)
    return [any(fact_norm(alt) and fact_norm(alt) in norm for alt in group) for group in groups]


# --- retrieval ------------------------------------------------------------------------------------------------------


def first_rank(expected: Iterable[str], ranked: Sequence[str]) -> int | None:
    """1-based rank of the first expected id in ``ranked``; None when none of them is there."""
    want = set(expected)
    for i, doc in enumerate(ranked, start=1):
        if doc in want:
            return i
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None], cutoff: int | None = None) -> float | None:
    """Mean reciprocal rank; a rank beyond ``cutoff`` (or None) scores 0."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and (cutoff is None or r <= cutoff)) / len(ranks)


# --- kinds ----------------------------------------------------------------------------------------------------------


def rate(flags: Iterable[bool]) -> float | None:
    items = list(flags)
    return sum(1 for f in items if f) / len(items) if items else None


def confusion(pairs: Iterable[tuple[str, str]], labels: Sequence[str] = KINDS) -> list[list[int]]:
    """Rows are the expected kind, columns the actual kind, in ``labels`` order. Unknown labels are ignored."""
    index = {k: i for i, k in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for expected, actual in pairs:
        if expected in index and actual in index:
            m[index[expected]][index[actual]] += 1
    return m


def recall_of(pairs: Iterable[tuple[str, str]], kind: str) -> float | None:
    """Share of items expected as ``kind`` that the bot answered as ``kind`` (emergency recall must be 1.0)."""
    return rate(actual == kind for expected, actual in pairs if expected == kind)


# --- readability and latency ----------------------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    """Split on 。！？!? and line breaks; whitespace removed; empty pieces dropped."""
    out = []
    for piece in _SENTENCE_END.split(text):
        s = _WS.sub("", piece or "")
        if s:
            out.append(s)
    return out


def chars_per_sentence(texts: Iterable[str]) -> float | None:
    """Pooled: all characters (no whitespace) over all sentences of all texts."""
    n_chars = n_sent = 0
    for t in texts:
        ss = sentences(t)
        n_sent += len(ss)
        n_chars += sum(len(s) for s in ss)
    return n_chars / n_sent if n_sent else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default): p50 of [1, 2, 3, 10] is 2.5."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def mean(values: Iterable[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


# --- correlation ----------------------------------------------------------------------------------------------------


def rankdata(values: Sequence[float]) -> np.ndarray:
    """1-based ranks, ties get the average of the ranks they span (scipy.stats.rankdata's 'average')."""
    a = np.asarray(values, dtype=float)
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a), dtype=float)
    sorted_a = a[order]
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and sorted_a[j + 1] == sorted_a[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation of the average-tie ranks. NaN when either side is constant or shorter than 2."""
    if len(x) != len(y):
        raise ValueError(f"length mismatch: {len(x)} vs {len(y)}")
    if len(x) < 2:
        return math.nan
    rx, ry = rankdata(x), rankdata(y)
    rx -= rx.mean()
    ry -= ry.mean()
    den = math.sqrt(float((rx * rx).sum()) * float((ry * ry).sum()))
    return float((rx * ry).sum() / den) if den else math.nan


# --- per item and per group -----------------------------------------------------------------------------------------


def first_sentence_of(text: str) -> str:
    """The first sentence a parent reads (a list that the sentence introduces counts with it: 「次の金額です。- 3歳未満…」)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    head = next((s for s in _SENTENCE_END.split(lines[0]) if s.strip()), lines[0]).strip()
    items = []
    for ln in lines[1:]:
        if not ln.startswith(("-", "・", "*")):
            break
        items.append(ln)
    return "\n".join([head, *items]) if head.endswith(("です。", "ます。", ":", ":")) and items else head


def item_passes(
    kind_ok: bool,
    doc_ok: bool,
    facts: Sequence[bool],
    form_ok: bool | None,
    lang_ok: bool | None = None,
    verdict_ok: bool | None = None,
) -> tuple[bool, list[str]]:
    """Pass = kind right AND an expected doc shown AND every fact group found AND the form right when one is expected
    AND (when the item says) the reply in the parent's language and the eligibility verdict right.
    Returns (passed, reasons it failed)."""
    reasons = []
    if not kind_ok:
        reasons.append("kind")
    if not doc_ok:
        reasons.append("document")
    if not all(facts):
        reasons.append("facts")
    if form_ok is False:
        reasons.append("form")
    if lang_ok is False:
        reasons.append("language")
    if verdict_ok is False:
        reasons.append("verdict")
    return not reasons, reasons


# Direction of each summary metric: +1 higher is better, -1 lower is better, 0 informational.
DIRECTION: dict[str, int] = {
    "pass_rate": 1,
    "kind_accuracy": 1,
    "doc_accuracy": 1,
    "hit@1": 1,
    "hit@3": 1,
    "mrr": 1,
    "fact_recall": 1,
    "facts_all_rate": 1,
    "handoff_accuracy": 1,
    "emergency_recall": 1,
    "groundedness_rate": 1,
    "answer_first_rate": 1,
    "language_rate": 1,
    "verdict_accuracy": 1,
    "latency_p50_ms": -1,
    "latency_p95_ms": -1,
    "chars_per_sentence": 0,
    "jreadability": 0,
}
MIN_TIMED_ITEMS = 30
LATENCY_SLACK = (0.5, 5.0)  # a latency "regresses" only when worse by >50% and >5 ms: timings are noisy


def summarize(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Metrics over item records (the dicts evals.runner builds). Keys match DIRECTION plus counts."""
    ranks = [r["rank"] for r in records if r["rank_applicable"]]
    groups = [f for r in records for f in r["facts"]]
    with_facts = [r for r in records if r["facts"]]
    forms = [r["form_ok"] for r in records if r["form_ok"] is not None]
    pairs = [(r["expect_kind"], r["kind"]) for r in records]
    latencies = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    return {
        "n": len(records),
        "pass_rate": rate(r["pass"] for r in records),
        "kind_accuracy": rate(r["kind_ok"] for r in records),
        "doc_accuracy": rate(r["doc_ok"] for r in records if r["expect_docs"]),
        "n_retrieval": len(ranks),
        "hit@1": hit_at(ranks, 1),
        "hit@3": hit_at(ranks, 3),
        "mrr": mrr(ranks),
        "n_fact_groups": len(groups),
        "fact_recall": rate(groups),
        "facts_all_rate": rate(all(r["facts"]) for r in with_facts),
        "n_forms": len(forms),
        "handoff_accuracy": rate(forms),
        "emergency_recall": recall_of(pairs, "emergency"),
        "groundedness_rate": rate(not r["violations"] for r in records),
        "answer_first_rate": rate(r["first_ok"] for r in records if r.get("first_ok") is not None),
        "language_rate": rate(r["lang_ok"] for r in records if r.get("lang_ok") is not None),
        "verdict_accuracy": rate(r["verdict_ok"] for r in records if r.get("verdict_ok") is not None),
        "n_violations": sum(len(r["violations"]) for r in records),
        "chars_per_sentence": chars_per_sentence(r["prose"] for r in records if r["prose"]),
        "jreadability": mean(r.get("jreadability") for r in records),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def group_by(records: Sequence[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    """Group records by a field; a list-valued field puts the record in each of its groups."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        value = r.get(key, "ja" if key == "lang" else "(none)")  # records of older reports have no language
        values = value if isinstance(value, list) else [value]
        for v in values or ["(none)"]:
            out.setdefault(str(v), []).append(r)
    return dict(sorted(out.items()))


def compare(current: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """Deltas of every shared metric (summary and per kind/category/style), regressions marked, and which items
    changed between passing and failing (when the baseline lists its passing ids)."""

    def diff(cur: Mapping[str, Any], base: Mapping[str, Any], timing: bool = True) -> dict[str, Any]:
        out = {}
        for name, direction in DIRECTION.items():
            c, b = cur.get(name), base.get(name)
            if c is None or b is None:
                continue
            delta = c - b
            if direction > 0:
                regression = delta < -1e-9
            elif direction < 0:
                regression = timing and delta > max(abs(b) * LATENCY_SLACK[0], LATENCY_SLACK[1])
            else:
                regression = False
            out[name] = {"current": c, "baseline": b, "delta": delta, "regression": regression}
        return out

    # Latency over a handful of items is noise (a 4-question run on a busy CI machine easily doubles): only runs of at
    # least MIN_TIMED_ITEMS items on both sides can regress on time. Speed itself is measured by `make bench`.
    n_cur, n_base = current["summary"].get("n"), baseline["summary"].get("n")
    timed = n_cur is None or n_base is None or min(n_cur, n_base) >= MIN_TIMED_ITEMS
    result: dict[str, Any] = {"summary": diff(current["summary"], baseline["summary"], timing=timed)}
    for section in ("by_kind", "by_category", "by_style", "by_lang"):
        cur, base = current.get(section) or {}, baseline.get(section) or {}
        # per-group latencies over a handful of items are too noisy to call a regression: shown, never marked
        result[section] = {g: diff(cur[g], base[g], timing=False) for g in cur if g in base}
    if "passed_ids" in baseline:
        was = set(baseline["passed_ids"])
        now = set(current.get("passed_ids", []))
        known = set(baseline.get("item_ids", was)) & set(current.get("item_ids", now))
        result["newly_failing"] = sorted((was - now) & known)
        result["newly_passing"] = sorted((now - was) & known)
    result["regressions"] = [
        f"{section}:{group}:{name}" if group else name for section, group, name in _walk_regressions(result)
    ]
    return result


def _walk_regressions(result: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    out = [("summary", "", n) for n, d in result["summary"].items() if d["regression"]]
    for section in ("by_kind", "by_category", "by_style", "by_lang"):
        for group, metrics in result.get(section, {}).items():
            out += [(section, group, n) for n, d in metrics.items() if d["regression"]]
    return out
