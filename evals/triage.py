"""The emergency-triage evaluation and the training of its model.

Data: ``evals/datasets/triage/{train,dev,test}.jsonl`` (see that folder's README: who wrote what, and why the test
split has its own authors). ``train`` fits the model, ``dev`` chooses its threshold, ``test`` is only ever measured.

Metrics, overall and by level, style and language:
- ``recall``: positives answered as an emergency (any level);
- ``number_recall``: positives whose reply shows a number that helps in that situation (``EXPECTED_NUMBERS``);
  where the writer marked ``danger_now``, the number for "now" (119 or 110) must be among them;
- ``level_accuracy``: positives given the level they were written for (or one of ``also``);
- ``lang_accuracy``: positives answered in the language they were written in (``mixed`` and romaji count as ja);
- ``false_alarm_rate``: negatives answered as an emergency.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evals.jsonl import read_jsonl

HERE = Path(__file__).resolve().parent
DATA = HERE / "datasets" / "triage"
SPLITS = ("train", "dev", "test")
MEASURING = ("test", "smalltalk-test", "unseen-test")
# Ordinary messages written blind for the aspect and scope models (``evals/datasets/aspects``: childcare questions in
# ten languages, and other topics) also train the triage model as non-emergencies: parents' plain questions in the
# languages where the model raised most false alarms. Symptom, dosing and adult-health questions are left out: for
# triage a feverish child's 「薬を飲ませていい?」 is a #8000 situation, not an ordinary question.
ASPECTS = HERE / "datasets" / "aspects"
EXTRA_NEGATIVES = (ASPECTS / "train.jsonl", ASPECTS / "out_of_scope.jsonl")
NOT_NEGATIVE_KINDS = frozenset({"medical", "adult-health"})

# Which numbers help in each situation (an evaluator's expectation, independent of knowledge/ward.yaml).
POISON_LINES = {"072-727-2499", "029-852-9999", "072-726-9922"}
CRISIS_LINES = {"0120-279-338", "03-3264-4343", "0570-087478", "0120-783-556", "0570-064-556", "189"}
EXPECTED_NUMBERS: dict[str, set[str]] = {
    "life": {"119"},
    "poison": {"119"} | POISON_LINES,
    "advice": {"#8000", "#7119"},
    "abuse": {"189"},
    "crisis": CRISIS_LINES,
    "dv": {"0120-279-889", "#8008", "110"},
    "lost": {"110"},
}
NOW_NUMBER = {"poison": "119", "abuse": "110", "dv": "110"}


class TriageDataError(ValueError):
    pass


def load_split(name: str, data_dir: Path = DATA) -> list[dict[str, Any]]:
    path = data_dir / f"{name}.jsonl"
    rows = []
    for i, r in read_jsonl(path, TriageDataError):
        for key in ("id", "text", "level", "lang", "style"):
            if not isinstance(r.get(key), str) or not r[key]:
                raise TriageDataError(f"{path}:{i}: missing field '{key}'")
        rows.append(r)
    return rows


def number_ok(row: dict[str, Any], shown: Iterable[str]) -> bool:
    shown = set(shown)
    if not shown & EXPECTED_NUMBERS[row["level"]]:
        return False
    now = NOW_NUMBER.get(row["level"])
    return not (row.get("danger_now") and now and now not in shown)


def _rate(hits: Sequence[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def score(rows: Sequence[dict[str, Any]], outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``outcomes[i]``: {"emergency": bool, "level": str|None, "numbers": [..], "ms": float} for ``rows[i]``."""
    groups: dict[str, dict[str, dict[str, list[bool]]]] = {
        "by_level": defaultdict(lambda: defaultdict(list)),
        "by_style": defaultdict(lambda: defaultdict(list)),
        "by_lang": defaultdict(lambda: defaultdict(list)),
    }
    overall: dict[str, list[bool]] = defaultdict(list)
    misses, false_alarms = [], []
    for r, o in zip(rows, outcomes, strict=True):
        keys = {"by_level": r["level"], "by_style": r["style"], "by_lang": r["lang"]}
        if r["level"] == "none":
            m = {"false_alarm": o["emergency"]}
            if o["emergency"]:
                false_alarms.append({"id": r["id"], "text": r["text"], "level": o["level"], "lang": r["lang"]})
        else:
            m = {
                "recall": o["emergency"],
                "lang_accuracy": o.get("lang") == ("ja" if r["lang"] == "ja" else r["lang"]),
                "number_recall": o["emergency"] and number_ok(r, o["numbers"]),
                "level_accuracy": o["level"] in {r["level"], *r.get("also", [])},
            }
            if not m["number_recall"]:
                misses.append({"id": r["id"], "text": r["text"], "level": r["level"], "got": o["level"],
                               "lang": r["lang"], "style": r["style"]})  # fmt: skip
        for k, v in m.items():
            overall[k].append(v)
            for g, key in keys.items():
                groups[g][key][k].append(v)
    ms = [o["ms"] for o in outcomes]

    def table(g: dict[str, dict[str, list[bool]]]) -> dict[str, dict[str, Any]]:
        out = {}
        for key, mets in sorted(g.items()):
            n_pos = len(mets.get("recall", []))
            n_neg = len(mets.get("false_alarm", []))
            out[key] = {"positives": n_pos, "negatives": n_neg, **{k: _rate(v) for k, v in mets.items()}}
        return out

    summary = {
        "positives": len(overall["recall"]),
        "negatives": len(overall["false_alarm"]),
        "recall": _rate(overall["recall"]),
        "number_recall": _rate(overall["number_recall"]),
        "level_accuracy": _rate(overall["level_accuracy"]),
        "lang_accuracy": _rate(overall["lang_accuracy"]),
        "false_alarm_rate": _rate(overall["false_alarm"]),
        "latency_p50_ms": round(float(np.percentile(ms, 50)), 2) if ms else None,
        "latency_p95_ms": round(float(np.percentile(ms, 95)), 2) if ms else None,
    }
    return {
        "summary": summary,
        **{g: table(v) for g, v in groups.items()},
        "misses": misses,
        "false_alarms": false_alarms,
    }


def run_bot(bot: Any, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The whole answer path (``Bot.ask``), so what is measured is what a parent would see."""
    out = []
    for r in rows:
        t0 = time.perf_counter()
        res = bot.ask(r["text"])
        ms = (time.perf_counter() - t0) * 1000
        emergency = res.kind.value == "emergency"
        level = res.reason.split(" ", 1)[0] if emergency else None
        out.append({"emergency": emergency, "level": level, "numbers": [e.number for e in res.emergency_numbers],
                    "lang": res.lang, "ms": ms})  # fmt: skip
    return out


TARGET_RECALL = 0.98  # out of fold over train + dev, rules and model together; the target for the test split
# ...and of the 1–6-word emergencies (「たすけて」「息してない」), which the main target leaves out (see below): at least
# about what the model of 2026-12-02 found of them out of fold (0.82 at its threshold 0.12; 0.80 with the rows added
# on 2026-12-08, at the same false alarms as a 0.16 threshold that finds 0.79)
FRAGMENT_RECALL = 0.80
VETOES = (0.0, 0.005, 0.01, 0.02)  # 0.0: a rule match always stands


# Character n-grams up to 4 and C = 20, chosen out of fold on train + dev (2026-12-02, after the small-talk rows, with
# the recall counted over all rows): false alarms at 98 % recall 0.073 with 3-grams and C = 40, 0.056 with 4-grams and
# C = 10, 0.052 with 4-grams and C = 20 (3-grams let "hello" share "hel" with "help": short Latin-script greetings
# were taken for emergencies).
NGRAM_MAX, C = 4, 20.0


def training_files(data_dir: Path = DATA) -> tuple[Path, ...]:
    """The files the triage model is fitted on (their hash is stored in the artifact)."""
    return (data_dir / "train.jsonl", data_dir / "dev.jsonl", *EXTRA_NEGATIVES)


def training_rows(data_dir: Path = DATA) -> list[dict[str, Any]]:
    """train + dev, and the ordinary messages of ``EXTRA_NEGATIVES`` as level ``none`` (a text that is also in a
    measuring split or already in train/dev is left out, so the measuring splits stay unseen)."""
    rows = load_split("train", data_dir) + load_split("dev", data_dir)
    taken = {r["text"] for r in rows}
    taken |= {
        r["text"] for name in MEASURING if (data_dir / f"{name}.jsonl").exists() for r in load_split(name, data_dir)
    }
    for path in EXTRA_NEGATIVES:
        for _, r in read_jsonl(path, TriageDataError):
            if r.get("kind") in NOT_NEGATIVE_KINDS or r["text"] in taken:
                continue
            taken.add(r["text"])
            rows.append({"id": r["id"], "text": r["text"], "level": "none", "lang": r.get("lang", "ja"),
                         "style": path.stem, "author": "aspects"})  # fmt: skip
    return rows


def train(
    embedder: Any, *, c: float = C, chr_weight: float = 3.0, folds: int = 5, data_dir: Path = DATA
) -> tuple[Any, list[dict[str, float]]]:
    """Fit the model on ``train`` + ``dev`` and choose its threshold from out-of-fold probabilities: the highest
    threshold at which rules + model still find ``TARGET_RECALL`` of the emergencies (a missed emergency costs more
    than a false alarm). Returns the model and the threshold curve. ``test`` is never read."""
    from bot.safety import segments
    from bot.safety.model import TriageModel, data_sha256, embed_texts
    from bot.safety.rules import detect_emergency

    rows = training_rows(data_dir)
    sha = data_sha256(*training_files(data_dir))
    vecs = embed_texts(embedder, [r["text"] for r in rows])
    fixed = _Precomputed(embedder, {r["text"]: v for r, v in zip(rows, vecs, strict=True)})
    fold_of = np.arange(len(rows)) % folds
    np.random.default_rng(20261201).shuffle(fold_of)
    # Out of fold, from the same fold models: each message's P(emergency) and its most alarming sentence's (0 for a
    # message of one sentence; bot.safety.segments)
    segs = [segments(r["text"]) for r in rows]
    flat = sorted({x for ss in segs for x in ss})
    svec = dict(zip(flat, embed_texts(embedder, flat), strict=True)) if flat else {}
    p = np.zeros(len(rows))
    seg = np.zeros(len(rows))
    for f in range(folds):
        part = TriageModel.train([r for r, k in zip(rows, fold_of, strict=True) if k != f], fixed, c=c,
                                 chr_weight=chr_weight, ngram_max=NGRAM_MAX)  # fmt: skip
        for i in np.nonzero(fold_of == f)[0]:
            p[i] = part.predict(rows[i]["text"], vecs[i]).p_emergency
            if segs[i]:
                seg[i] = max(part.predict(x, svec[x]).p_emergency for x in segs[i])
    rule = np.array([detect_emergency(r["text"]) is not None for r in rows])
    pos = np.array([r["level"] != "none" for r in rows])
    # The recall target is measured on the messages parents write as questions and reports, not on the 1–6-word
    # fragments of the small-talk rows (``intent`` set): out of fold their recall stays at 0.82 for any threshold
    # from 0.04 to 0.12, so counting them only pulled the threshold down (0.12 → 0.06) and raised the out-of-fold
    # false alarms (0.047 → 0.066). They still train the weights, and smalltalk-test.jsonl measures them.
    main = np.array(["intent" not in r for r in rows])
    # The false alarms that choose the thresholds are counted on the triage rows only: the added aspect rows are plain
    # service questions, and counting them would dilute the near-misses the thresholds must weigh.
    own = np.array([r.get("author") != "aspects" for r in rows])
    # A rule match stands unless the model is all but sure it is not an emergency (``veto``): rules match words,
    # and on near-misses (誤飲防止, 死ぬほど笑った, a febrile seizure last year) the words are there but the situation is not.
    # A message that is no emergency as a whole is looked at sentence by sentence (``segment``: 0 = off). The three
    # are chosen together: the least false alarms at which the whole path still finds TARGET_RECALL of emergencies.
    curve = []
    for veto in VETOES:
        for t in np.round(np.arange(0.02, 0.96, 0.02), 2):
            whole = (rule & (p >= veto)) | (p >= t)
            for ts in (0.0, *np.round(np.arange(0.70, 0.99, 0.02), 2)):
                hit = whole | ((seg >= ts) if ts else False)
                curve.append({"threshold": float(t), "veto": veto, "segment": float(ts),
                              "recall": float(hit[pos & main].mean()), "false_alarm": float(hit[~pos & own].mean()),
                              "fragment_recall": float(hit[pos & ~main].mean()) if (pos & ~main).any() else 1.0,
                              "model_recall": float((p >= t)[pos].mean()),
                              "rule_false_alarm": float((rule & (p >= veto))[~pos & own].mean())})  # fmt: skip
    ok = [x for x in curve if x["recall"] >= TARGET_RECALL and x["fragment_recall"] >= FRAGMENT_RECALL]
    chosen = (
        min(ok, key=lambda x: (x["false_alarm"], -x["fragment_recall"], x["veto"], -x["threshold"], -x["segment"]))
        if ok
        else min(curve, key=lambda x: x["threshold"])
    )
    meta = {"embedder": "use-multilingual", "c": c, "chr_weight": chr_weight, "rows": len(rows),
            "oof_recall": chosen["recall"], "oof_false_alarm": chosen["false_alarm"]}  # fmt: skip
    meta["rule_veto"] = chosen["veto"]
    meta["segment_threshold"] = chosen["segment"]
    model = TriageModel.train(rows, fixed, c=c, chr_weight=chr_weight, threshold=chosen["threshold"],
                              data_sha256=sha, meta=meta, ngram_max=NGRAM_MAX)  # fmt: skip
    return model, curve


class _Precomputed:
    """An embedder that answers from vectors already computed (cross-validation embeds each text once)."""

    def __init__(self, inner: Any, vectors: dict[str, np.ndarray]):
        self.inner, self.vectors = inner, vectors
        self.identity = inner.identity

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        from bot.safety.features import embedding_text

        by_norm = {embedding_text(t): v for t, v in self.vectors.items()}
        return np.vstack([by_norm[t] for t in texts])
