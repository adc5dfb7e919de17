"""Running the question set through the bot in-process and turning each answer into a record the metrics read.

The groundedness check is bot.answering.grounding's own code (the one the LLM answer validator uses), never a copy.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.answering.grounding import check_citations, check_grounded
from bot.answering.results import AnswerResult
from evals import metrics
from evals.jsonl import read_jsonl

RETRIEVAL_K = 10
NO_RETRIEVAL_KINDS = ("emergency", "out_of_scope")  # answered by rules, not by ranking documents
REQUIRED_KEYS = ("id", "question", "expect_kind", "expect_docs", "expect_facts", "style")


class DatasetError(ValueError):
    """A line of the question set is malformed (the message names the file and line)."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    expect_kind: str
    expect_docs: list[str]
    expect_facts: list[list[str]]
    style: str
    expect_form: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_dataset(path: Path, limit: int | None = None) -> list[EvalItem]:
    items: list[EvalItem] = []
    seen: set[str] = set()
    for lineno, d in read_jsonl(path, DatasetError):
        missing = [k for k in REQUIRED_KEYS if k not in d]
        if missing:
            raise DatasetError(f"{path}:{lineno}: missing {', '.join(missing)}")
        if d["expect_kind"] not in metrics.KINDS:
            raise DatasetError(f"{path}:{lineno}: unknown expect_kind {d['expect_kind']!r}")
        if d["id"] in seen:
            raise DatasetError(f"{path}:{lineno}: duplicate id {d['id']}")
        seen.add(d["id"])
        known = set(REQUIRED_KEYS) | {"expect_form", "note"}
        items.append(
            EvalItem(
                id=d["id"],
                question=d["question"],
                expect_kind=d["expect_kind"],
                expect_docs=list(d["expect_docs"]),
                expect_facts=[list(g) for g in d["expect_facts"]],
                style=d["style"],
                expect_form=d.get("expect_form"),
                note=d.get("note", ""),
                extra={k: v for k, v in d.items() if k not in known},
            )
        )
    return items[:limit] if limit else items


def _readability() -> Callable[[str], float] | None:
    try:
        import jreadability
    except ImportError:
        return None
    return jreadability.compute_readability


def prose_of(result: AnswerResult) -> str:
    """What a parent reads as the answer: the body sentences, without source lines, URLs and contact lines."""
    return "\n".join(result.body) if result.body else result.text


VERDICT_WORDS = {"eligible": "対象です", "not_eligible": "対象ではありません", "depends": "条件によります"}


def _history(bot: Any, questions: Sequence[str]) -> list[Any]:
    """Replay the parent's earlier messages, as the web chat does: each turn remembers the document it was about."""
    from bot.answering.results import Turn

    turns: list[Any] = []
    for q in questions:
        earlier = bot.ask(q, history=list(turns))
        turns.append(Turn(q, earlier.topic))
    return turns


def expected_lang(item: EvalItem) -> str | None:
    """The language a reply should lead in (None when the item does not say); やさしい日本語 is Japanese."""
    lang = item.extra.get("lang")
    return None if not lang else "ja" if lang.startswith("ja") else str(lang)


def evaluate_item(
    bot: Any, item: EvalItem, readability: Callable[[str], float] | None = None, judge: Any = None
) -> dict[str, Any]:
    history = _history(bot, item.extra.get("history") or [])
    result: AnswerResult = bot.ask(item.question, history=history) if history else bot.ask(item.question)
    judged = judge.score(result) if judge is not None and result.kind.value == "answer" else None
    kind = result.kind.value
    cited = [c.doc_id for c in result.citations]
    shown = list(dict.fromkeys([*cited[:1], *([result.topic] if result.topic else []),
                                *(c.doc_id for c in result.choices if c.doc_id)]))  # fmt: skip

    rank_applicable = bool(item.expect_docs) and item.expect_kind not in NO_RETRIEVAL_KINDS
    ranked: list[str] = []
    rank = None
    if rank_applicable:
        ranked = [c.doc_id for c in bot.retriever.search(item.question, k=RETRIEVAL_K, lang=result.lang).candidates]
        rank = metrics.first_rank(item.expect_docs, ranked)

    hits = metrics.fact_hits(result.text, item.expect_facts)
    form = result.handoff.form_id if result.handoff else None
    form_ok = (form == item.expect_form) if item.expect_form else None
    violations = [str(v) for v in check_grounded(result.text, result.source_texts)]
    violations += [str(v) for v in check_citations(result.text, len(result.source_texts))]
    kind_ok = kind == item.expect_kind
    doc_ok = not item.expect_docs or any(d in shown for d in item.expect_docs)
    want_lang = expected_lang(item)
    lang_ok = None if want_lang is None else result.lang == want_lang
    prose = prose_of(result)
    first = metrics.first_sentence_of(prose)
    expect_first = item.extra.get("expect_first") or []
    first_ok = metrics.fact_hits(first, [expect_first])[0] if expect_first and item.expect_kind == "answer" else None
    verdict = item.extra.get("expect_verdict")
    # the verdict must lead the reply (a rule sentence 「…が対象です」 further down is not a verdict)
    verdict_ok = None if not verdict or verdict not in VERDICT_WORDS else VERDICT_WORDS[verdict] in first
    passed, reasons = metrics.item_passes(kind_ok, doc_ok, hits, form_ok, lang_ok, verdict_ok)
    score = None
    if readability and metrics.sentences(prose):
        try:
            score = float(readability(prose))
        except ZeroDivisionError:  # jreadability divides by the sentence count it finds itself
            score = None
    kb = bot.generation.kb
    first_doc = item.expect_docs[0] if item.expect_docs else None
    category = kb.procedures[first_doc].category if first_doc in kb.procedures else "(none)"
    return {
        "id": item.id,
        "question": item.question,
        "history": item.extra.get("history") or [],
        "style": item.style,
        "lang": item.extra.get("lang", "ja"),
        "reply_lang": result.lang,
        "lang_ok": lang_ok,
        "first_sentence": first,
        "expect_first": expect_first,
        "first_ok": first_ok,
        "expect_verdict": verdict,
        "verdict_ok": verdict_ok,
        "note": item.note,
        "category": category,
        "expect_kind": item.expect_kind,
        "kind": kind,
        "kind_ok": kind_ok,
        "expect_docs": item.expect_docs,
        "shown_docs": shown,
        "doc_ok": doc_ok,
        "top_citations": [{"doc_id": c.doc_id, "title": c.title, "url": c.url} for c in result.citations[:3]],
        "rank_applicable": rank_applicable,
        "rank": rank,
        "ranked": ranked[:5],
        "facts": hits,
        "expect_facts": item.expect_facts,
        "expect_form": item.expect_form,
        "form": form,
        "form_ok": form_ok,
        "violations": violations,
        "text": result.text,
        "prose": prose,
        "jreadability": score,
        "latency_ms": result.latency_ms,
        "reason": getattr(result, "reason", ""),
        "llm": result.llm_reason,
        "judge": judged,  # {"faithfulness", "relevancy"} from the optional LLM judge, else None  # "" without an LLM; "llm" when its validated text was shown; else why it fell back
        "pass": passed,
        "fail_reasons": reasons,
    }


def build_report(records: Sequence[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    summary = metrics.summarize(records)
    judged = [r["judge"] for r in records if r.get("judge")]
    if judged:  # optional LLM judge: means over the items it scored
        summary["judge_n"] = len(judged)
        summary["judge_faithfulness"] = sum(j["faithfulness"] for j in judged) / len(judged)
        summary["judge_relevancy"] = sum(j["relevancy"] for j in judged) / len(judged)
    llm_rows = [r for r in records if r.get("llm")]
    if llm_rows:  # LLM mode: how often the model's text survived validation (the rest fell back to the composed one)
        summary["llm_used_rate"] = sum(r["llm"] == "llm" for r in llm_rows) / len(llm_rows)
    return {
        "meta": meta,
        "summary": summary,
        "by_kind": {k: metrics.summarize(v) for k, v in metrics.group_by(records, "expect_kind").items()},
        "by_category": {k: metrics.summarize(v) for k, v in metrics.group_by(records, "category").items()},
        "by_style": {k: metrics.summarize(v) for k, v in metrics.group_by(records, "style").items()},
        "by_lang": {k: metrics.summarize(v) for k, v in metrics.group_by(records, "lang").items()},
        "by_doc": {k: metrics.summarize(v) for k, v in metrics.group_by(records, "expect_docs").items()},
        "confusion": {
            "labels": list(metrics.KINDS),
            "matrix": metrics.confusion([(r["expect_kind"], r["kind"]) for r in records]),
        },
        "violations": [
            {"id": r["id"], "question": r["question"], "kind": r["kind"], "violations": r["violations"]}
            for r in records
            if r["violations"]
        ],
        "item_ids": [r["id"] for r in records],
        "passed_ids": [r["id"] for r in records if r["pass"]],
        "items": list(records),
    }


def baseline_of(report: dict[str, Any]) -> dict[str, Any]:
    """The small, commit-ready summary: no per-item texts, no per-document table."""
    keep = ("meta", "summary", "by_kind", "by_category", "by_style", "by_lang", "confusion", "item_ids", "passed_ids")
    out = {k: report[k] for k in keep if k in report}
    out["meta"] = {k: v for k, v in report.get("meta", {}).items() if k != "compared_with"}
    return out


def _git_commit(cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run(bot: Any, items: Iterable[EvalItem], dataset: str, progress: bool = True, judge: Any = None) -> dict[str, Any]:
    from tqdm import tqdm

    items = list(items)
    readability = _readability()
    bot.warm_up()  # load the embedder, Sudachi and the sentence vectors now: first-call loading is not latency
    started = time.perf_counter()
    records = [
        evaluate_item(bot, item, readability, judge)
        for item in tqdm(items, desc="evals", unit="q", disable=not progress, dynamic_ncols=True)
    ]
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": dataset,
        "n": len(records),
        "seconds": round(time.perf_counter() - started, 2),
        "embedder": bot.embedder.identity,
        "generation": bot.generation.id,
        "dense_weight": bot.settings.dense_weight,
        "llm": bool(bot.settings.llm_enabled),
        "git": _git_commit(Path(__file__).resolve().parent),
        "jreadability": readability is not None,
    }
    return build_report(records, meta)
