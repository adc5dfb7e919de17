"""python -m evals: run the question set, gate on thresholds, and run the public JGLUE benchmarks.

    python -m evals run [--dataset evals/questions.jsonl] [--out DIR] [--compare BASELINE.json] [--limit N]
    python -m evals gate [--report PATH] [--thresholds evals/thresholds.toml]
    python -m evals triage [--split test] [--out DIR] [--gate]   emergency triage: recall, numbers, false alarms
    python -m evals triage-train                                   refit bot/safety/triage_model.npz (train+dev)
    python -m evals aspects-train                                  refit bot/answering/aspect_model.npz (cross-validated)
    python -m evals jsquad --data PATH [--limit N]
    python -m evals jsts --data PATH [--limit N]

Exit codes: 0 ok, 1 gate failed, 2 configuration, index or dataset error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATASET = HERE / "questions.jsonl"
DEFAULT_BASELINE = HERE / "baseline.json"


def _default_out() -> Path:
    return HERE / "reports" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _settings():  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as e:
        raise SystemExit(f"configuration error: {e}") from None


def _shown(path: Path) -> str:
    """The dataset path as recorded in reports: relative to the repository when inside it (baselines are committed)."""
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)


def run_dataset(args: argparse.Namespace) -> dict[str, Any]:
    """Run the bot over the dataset, write report.json and report.html, print the summary (and deltas)."""
    from bot.service import Bot
    from evals import metrics, report, runner

    try:
        items = runner.load_dataset(Path(args.dataset), args.limit)
    except (OSError, runner.DatasetError) as e:
        raise SystemExit(f"dataset error: {e}") from None
    settings = _settings()
    if args.no_ingest:
        bot = Bot.build_if_missing(settings)
    else:
        # Evaluate the knowledge as it is now: an incremental ingest (only changed documents are re-embedded).
        from bot.retrieval.embeddings import get_embedder
        from bot.retrieval.index import Indexer

        embedder = get_embedder(settings.embedder, settings)
        ingest = Indexer(settings, embedder).update()
        print(f"index {ingest.generation}: {ingest.summary()}", file=sys.stderr)
        bot = Bot(settings, embedder)
    judge = None
    if getattr(args, "judge", False):
        if not settings.llm_enabled:
            raise SystemExit("--judge needs an LLM endpoint: set BOT_LLM_BASE_URL and BOT_LLM_MODEL")
        from evals.judge import Judge

        judge = Judge(settings)
    rep = runner.run(bot, items, dataset=_shown(Path(args.dataset)), progress=not args.quiet, judge=judge)
    if args.compare:
        baseline = json.loads(Path(args.compare).read_text(encoding="utf-8"))
        rep["compare"] = metrics.compare(rep, baseline)
        rep["meta"]["compared_with"] = str(args.compare)
    out = Path(args.out) if args.out else _default_out()
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(report.dump_json(rep), encoding="utf-8")
    (out / "report.html").write_text(report.render_html(rep), encoding="utf-8")
    print(report.format_summary(rep))
    if "compare" in rep:
        print()
        print(report.format_compare(rep["compare"]))
    if getattr(args, "save_baseline", None):
        Path(args.save_baseline).write_text(report.dump_json(runner.baseline_of(rep)) + "\n", encoding="utf-8")
        print(f"baseline written to {args.save_baseline}")
    print(f"\nreport: {out / 'report.html'}")
    return rep


def cmd_run(args: argparse.Namespace) -> int:
    run_dataset(args)
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    from evals import gate

    thresholds = gate.load_thresholds(Path(args.thresholds))
    if args.report:
        rep = json.loads(Path(args.report).read_text(encoding="utf-8"))
        source = str(args.report)
    else:
        rep = run_dataset(args)
        source = str(args.dataset)
    failures = gate.check(rep, thresholds)
    print(gate.format_result(failures, thresholds, source))
    return 1 if failures else 0


def cmd_triage(args: argparse.Namespace) -> int:
    """Run the whole answer path over one triage split; write triage.json + triage.html; gate when asked."""
    from bot.service import Bot
    from evals import gate, report, triage, triage_report

    try:
        rows = triage.load_split(args.split)
    except (OSError, triage.TriageDataError) as e:
        raise SystemExit(f"dataset error: {e}") from None
    bot = Bot.build_if_missing(_settings())
    rep = triage.score(rows, triage.run_bot(bot, rows))
    rep["meta"] = {"split": args.split, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                   "model": bot.answerer.triage.model.meta if bot.answerer.triage.model else None}  # fmt: skip
    out = Path(args.out) if args.out else _default_out()
    out.mkdir(parents=True, exist_ok=True)
    (out / "triage.json").write_text(report.dump_json(rep), encoding="utf-8")
    (out / "triage.html").write_text(triage_report.render_html(rep), encoding="utf-8")
    print(triage_report.format_summary(rep))
    print(f"\nreport: {out / 'triage.html'}")
    if not args.gate:
        return 0
    thresholds = gate.load_thresholds(Path(args.thresholds))
    failures = gate.check(rep, thresholds)
    print(gate.format_result(failures, thresholds, f"triage {args.split}"))
    return 1 if failures else 0


def cmd_triage_train(args: argparse.Namespace) -> int:
    from bot.retrieval.embeddings import get_embedder
    from bot.safety import TRIAGE_EMBEDDER
    from bot.safety.model import ARTIFACT
    from evals import triage

    settings = _settings()
    model, curve = triage.train(get_embedder(TRIAGE_EMBEDDER, settings))
    veto, segment = model.meta.get("rule_veto", 0.0), model.meta.get("segment_threshold", 0.0)
    for x in curve:  # the threshold curve at the chosen veto and sentence threshold
        if x.get("veto") == veto and x.get("segment", 0.0) == segment:
            print(" ".join(f"{k}={v:.3f}" for k, v in x.items()))
    model.save(Path(args.out) if args.out else ARTIFACT)
    print(f"threshold {model.threshold}: {json.dumps(model.meta, ensure_ascii=False)}")
    return 0


def cmd_aspects_train(args: argparse.Namespace) -> int:
    from bot.answering.aspect_model import ARTIFACT, SCOPE_ARTIFACT, SMALLTALK_ARTIFACT
    from bot.retrieval.embeddings import get_embedder
    from bot.safety import TRIAGE_EMBEDDER
    from evals import aspects

    embedder = get_embedder(TRIAGE_EMBEDDER, _settings())
    model, report = aspects.train(embedder)
    for name, m in report.items():
        print(f"{name:<36} " + " ".join(f"{k}={v:.3f}" for k, v in m.items()))
    model.save(Path(args.out) if args.out else ARTIFACT)
    scope, figures = aspects.train_scope(embedder)
    print("scope (out of fold): " + " ".join(f"{k}={v:.3f}" for k, v in figures.items()))
    scope.save(SCOPE_ARTIFACT)
    smalltalk, figures = aspects.train_smalltalk(embedder)
    print("small talk: " + " ".join(f"{k}={v:.3f}" for k, v in figures.items()))
    smalltalk.save(SMALLTALK_ARTIFACT)
    return 0


def cmd_jsquad(args: argparse.Namespace) -> int:
    from evals import benchmarks

    result = benchmarks.jsquad(Path(args.data), _settings(), limit=args.limit, progress=not args.quiet)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_jsts(args: argparse.Namespace) -> int:
    from evals import benchmarks

    result = benchmarks.jsts(Path(args.data), _settings(), limit=args.limit)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default=str(DEFAULT_DATASET), help="question set (JSON lines)")
    p.add_argument("--out", help="report folder (default evals/reports/<UTC timestamp>/)")
    p.add_argument("--compare", metavar="BASELINE.json", help="baseline or earlier report.json to diff against")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-ingest", action="store_true", help="use the published index as is (default: update it first)")
    p.add_argument(
        "--judge", action="store_true", help="also score answers with the configured LLM (faithfulness, relevancy)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the question set and write report.json + report.html")
    _run_args(p)
    p.add_argument(
        "--save-baseline", metavar="PATH", help=f"also write the small summary (e.g. {DEFAULT_BASELINE.name})"
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("gate", help="fail (exit 1) when a metric is outside evals/thresholds.toml")
    _run_args(p)
    p.add_argument("--report", help="check this report.json instead of running the dataset")
    p.add_argument("--thresholds", default=str(HERE / "thresholds.toml"))
    p.set_defaults(func=cmd_gate)
    p = sub.add_parser("triage", help="emergency triage over a split of evals/datasets/triage (default: test)")
    p.add_argument("--split", default="test", choices=("train", "dev", "test", "smalltalk-test", "unseen-test"))
    p.add_argument("--out", help="report folder (default evals/reports/<UTC timestamp>/)")
    p.add_argument("--gate", action="store_true", help="exit 1 when a metric is outside --thresholds")
    p.add_argument("--thresholds", default=str(HERE / "triage_thresholds.toml"))
    p.set_defaults(func=cmd_triage)
    p = sub.add_parser("triage-train", help="refit the triage model on train+dev (threshold from out-of-fold scores)")
    p.add_argument("--out", help="artifact path (default bot/safety/triage_model.npz)")
    p.set_defaults(func=cmd_triage_train)
    p = sub.add_parser("aspects-train", help="refit the aspect model (prints cross-validated figures)")
    p.add_argument("--out", help="artifact path (default bot/answering/aspect_model.npz)")
    p.set_defaults(func=cmd_aspects_train)
    p = sub.add_parser("jsquad", help="JSQuAD paragraph retrieval: hit@1, hit@5, MRR@10, queries/s per leg")
    p.add_argument("--data", required=True, help="jsquad-valid-v1.3.json (SQuAD format)")
    p.add_argument("--limit", type=int, help="evaluate N evenly spaced questions (all paragraphs stay indexed)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_jsquad)
    p = sub.add_parser("jsts", help="JSTS: Spearman of embedder cosine vs human scores")
    p.add_argument("--data", required=True, help="jsts-valid-v1.3.json (JSON lines)")
    p.add_argument("--limit", type=int, help="only the first N pairs")
    p.set_defaults(func=cmd_jsts)
    args = parser.parse_args(argv)
    from bot.knowledge import KnowledgeError
    from bot.retrieval.index import IndexMismatch, IndexNotReady

    try:
        return int(args.func(args))
    except (IndexNotReady, IndexMismatch, KnowledgeError) as e:
        print(f"index error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
