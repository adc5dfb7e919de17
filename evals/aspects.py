"""Training and measuring the aspect model (bot.answering.aspect_model) on evals/datasets/aspects/train.jsonl.

``python -m evals aspects-train`` prints 5-fold cross-validated figures for the model, the cue words alone and the
combination the bot uses (AspectReader), then refits on all rows and writes bot/answering/aspect_model.npz.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bot.answering.aspect_model import NONE, THRESHOLD, AspectModel, combine, embed_texts, mask_names, names_pattern
from bot.answering.question import cue_aspects
from bot.retrieval.embeddings import EmbeddingModel
from bot.safety.model import data_sha256
from evals.jsonl import read_jsonl

DATA = Path(__file__).resolve().parent / "datasets" / "aspects" / "train.jsonl"
FOLDS = 5


def load_rows(path: Path = DATA) -> list[dict[str, Any]]:
    return [d for _, d in read_jsonl(path, ValueError)]


def service_names() -> re.Pattern[str] | None:
    """The shipped knowledge's titles and aliases (masked in training exactly as the bot masks them at run time)."""
    from bot.knowledge import load_knowledge

    kb = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge", date.today())
    return names_pattern(n for p in kb.procedures.values() for n in (p.title, *p.aliases))


def scores(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> dict[str, float]:
    """Micro precision/recall/F1 over labels, and the share of messages whose label set is exactly right."""
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": prec,
        "recall": rec,
        "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "exact": float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])),
    }


def out_of_fold(
    rows: Sequence[dict[str, Any]], vectors: np.ndarray, embedder: EmbeddingModel
) -> list[dict[str, float]]:
    """Each row's label probabilities from a model fitted on the other folds (5, fixed seed)."""
    fold = np.random.default_rng(7).permutation(len(rows)) % FOLDS
    probs: list[dict[str, float]] = [{} for _ in rows]
    for k in range(FOLDS):
        tr = [i for i in range(len(rows)) if fold[i] != k]
        m = AspectModel.train([rows[i] for i in tr], embedder, vectors=vectors[tr])
        for i in (i for i in range(len(rows)) if fold[i] == k):
            probs[i] = m.probabilities(rows[i]["text"], vectors[i])
    return probs


def train(embedder: EmbeddingModel, path: Path = DATA) -> tuple[AspectModel, dict[str, dict[str, float]]]:
    names = service_names()
    rows = [{**r, "text": mask_names(r["text"], names), "raw": r["text"]} for r in load_rows(path)]
    vectors = embed_texts(embedder, [r["text"] for r in rows])
    gold = [set(r["aspects"]) - {NONE} for r in rows]
    probs = out_of_fold(rows, vectors, embedder)
    model_pred = [{a for a, p in pr.items() if p >= THRESHOLD and a != NONE} for pr in probs]
    both_pred = [set(combine(pr, cue_aspects(r["raw"]))) for pr, r in zip(probs, rows, strict=True)]
    cue_pred = [set(cue_aspects(r["raw"])) for r in rows]
    ja = [i for i, r in enumerate(rows) if r.get("lang", "ja") == "ja"]
    other = [i for i, r in enumerate(rows) if r.get("lang", "ja") != "ja"]
    report: dict[str, dict[str, float]] = {}
    for name, pred in (("cue words", cue_pred), ("model (out of fold)", model_pred), ("bot (out of fold)", both_pred)):
        report[name] = scores(gold, pred)
        report[name + ", ja"] = scores([gold[i] for i in ja], [pred[i] for i in ja])
        report[name + ", other languages"] = scores([gold[i] for i in other], [pred[i] for i in other])
    model = AspectModel.train(rows, embedder, vectors=vectors, data_sha256=data_sha256(path),
                              meta={"rows": len(rows), "cv": report["bot (out of fold)"]})  # fmt: skip
    return model, report


# --- scope: is the message about childcare at all? -------------------------------------------------------------------

OOS_DATA = DATA.parent / "out_of_scope.jsonl"
TRIAGE = DATA.parent.parent / "triage"
SCOPE_LABEL = "out_of_scope"


def scope_rows() -> list[dict[str, Any]]:
    """Out of scope: messages a helper wrote blind (other ward services, a child mentioned in passing, diagnosis,
    adult health, small talk). In scope: the ordinary childcare questions of the triage and aspect sets, and the
    knowledge's own example questions."""
    from bot.knowledge import load_knowledge

    rows = [{"text": r["text"], "aspects": [SCOPE_LABEL], "lang": r["lang"]} for r in load_rows(OOS_DATA)]
    for split in ("train", "dev"):
        for r in load_rows(TRIAGE / f"{split}.jsonl"):
            # (small talk and short keyword messages, ``intent`` set, are neither: they train the small-talk model)
            if r["level"] == "none" and r.get("style") not in ("out_of_scope", "other") and "intent" not in r:
                rows.append({"text": r["text"], "aspects": [], "lang": r["lang"]})
    rows += [{"text": r["text"], "aspects": [], "lang": r["lang"]} for r in load_rows() if r["aspects"] != [NONE]]
    kb = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge", date.today())
    rows += [{"text": q, "aspects": [], "lang": "ja"} for p in kb.procedures.values() for q in p.questions]
    return balance_by_language(rows)


def balance_by_language(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Weights that give each language's in-scope and out-of-scope rows the same total (the language keeps its own
    total). The sets were written with far more childcare questions than other topics in some languages (810 English,
    Chinese, Korean, … questions against 14 other-topic messages each, 2026-12-08): unweighted, the model learnt that a
    message in those languages is almost never out of scope (「What time does the garbage collection start?」 fell
    from P 0.58 to 0.45)."""
    count: dict[tuple[str, bool], int] = {}
    for r in rows:
        key = (r["lang"], bool(r["aspects"]))
        count[key] = count.get(key, 0) + 1
    out = []
    for r in rows:
        n_lang = count.get((r["lang"], True), 0) + count.get((r["lang"], False), 0)
        both = count.get((r["lang"], True), 0) and count.get((r["lang"], False), 0)
        weight = n_lang / (2 * count[(r["lang"], bool(r["aspects"]))]) if both else 1.0
        out.append({**r, "weight": weight})
    return out


def train_scope(embedder: EmbeddingModel) -> tuple[AspectModel, dict[str, float]]:
    rows = scope_rows()
    vectors = embed_texts(embedder, [r["text"] for r in rows])
    p_oos = np.array([pr[SCOPE_LABEL] for pr in out_of_fold(rows, vectors, embedder)])
    y = np.array([bool(r["aspects"]) for r in rows])
    report: dict[str, float] = {"rows": float(len(rows)), "out_of_scope rows": float(y.sum())}
    for t in (0.5, 0.7, 0.8, 0.9):
        pred = p_oos >= t
        report[f"t={t} recall"] = float((pred & y).sum() / y.sum())
        report[f"t={t} false out-of-scope"] = float((pred & ~y).sum() / (~y).sum())
    paths = [OOS_DATA, TRIAGE / "train.jsonl", TRIAGE / "dev.jsonl", DATA]
    model = AspectModel.train(rows, embedder, vectors=vectors, data_sha256=data_sha256(*paths),
                              meta={"rows": len(rows), "cv": report})  # fmt: skip
    return model, report


# --- small talk: a greeting, thanks or goodbye, not a question -------------------------------------------------------

SMALLTALK_LABELS = ("greeting", "thanks", "bye")


def smalltalk_rows() -> list[dict[str, Any]]:
    """Small talk: the triage rows a helper wrote blind with an ``intent`` (greeting / thanks / bye; ``other`` for the
    short questions, acknowledgements and frustration beside them). Not small talk: every other triage row
    (questions, near-misses, emergencies) and the aspect set's questions that ask a detail."""
    rows = []
    for split in ("train", "dev"):
        for r in load_rows(TRIAGE / f"{split}.jsonl"):
            intent = r.get("intent")
            rows.append({"text": r["text"], "aspects": [intent] if intent in SMALLTALK_LABELS else []})
    # the aspect set's questions that ask a detail (its ``none`` rows may be a greeting or thanks with a topic)
    rows += [{"text": r["text"], "aspects": []} for r in load_rows() if set(r["aspects"]) != {NONE}]
    return rows


def train_smalltalk(embedder: EmbeddingModel) -> tuple[AspectModel, dict[str, float]]:
    from bot.answering.aspect_model import SMALLTALK_THRESHOLD

    rows = smalltalk_rows()
    vectors = embed_texts(embedder, [r["text"] for r in rows])
    probs = out_of_fold(rows, vectors, embedder)
    gold = [set(r["aspects"]) for r in rows]
    pred = [{a for a, p in pr.items() if p >= SMALLTALK_THRESHOLD} for pr in probs]
    report = {"rows": float(len(rows)), "small-talk rows": float(sum(bool(g) for g in gold))}
    report |= {f"{k} (out of fold)": v for k, v in scores(gold, pred).items()}
    report["questions taken for small talk (out of fold)"] = float(
        sum(bool(p) and not g for g, p in zip(gold, pred, strict=True))
    )
    paths = [TRIAGE / "train.jsonl", TRIAGE / "dev.jsonl", DATA]
    model = AspectModel.train(rows, embedder, vectors=vectors, data_sha256=data_sha256(*paths),
                              meta={"rows": len(rows), "cv": report})  # fmt: skip
    return model, report
