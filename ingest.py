#!/usr/bin/env python
"""Staff CLI: validate knowledge/ and publish a new index generation (incremental, atomic).

    python ingest.py            validate, then update the index (only changed documents are re-embedded)
    python ingest.py --check    validate only
    python ingest.py --rebuild  re-embed everything
    python ingest.py --report   validate, then print the knowledge report (sources, stale, fact-sheet-only, stated gaps,
                                information-only forms); the index is not touched

Exit codes: 0 ok, 1 invalid knowledge (nothing changed), 2 configuration or index error.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="validate only; do not touch the index")
    parser.add_argument("--rebuild", action="store_true", help="rebuild from scratch instead of incrementally")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--report", action="store_true", help="print the knowledge report; do not touch the index")
    args = parser.parse_args(argv)

    from bot.config import Settings
    from bot.knowledge import KnowledgeError
    from bot.retrieval.embeddings import EmbedderError, get_embedder
    from bot.retrieval.index import Indexer, validate

    try:
        settings = Settings()
    except ValidationError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    kb = validate(settings)
    for p in kb.problems:
        print(p, file=sys.stderr)
    print(
        f"{len(kb.procedures)} documents, {len(kb.forms)} forms, {len(kb.offices)} offices: "
        f"{len(kb.errors)} errors, {len(kb.warnings)} warnings",
        file=sys.stderr,
    )
    if args.report:
        from bot.knowledge.report import knowledge_report

        print("\n".join(knowledge_report(kb, settings.current_date(), settings.stale_days).lines()))
        return 1 if kb.errors else 0
    if kb.errors:
        print("knowledge is invalid: the index was not changed", file=sys.stderr)
        return 1
    if args.check:
        return 0

    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if args.quiet or total == 0:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="chunk" if stage != "keyword" else "step")
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    try:
        indexer = Indexer(settings, get_embedder(settings.embedder, settings))
        report = indexer.update(rebuild=args.rebuild, progress=progress, checked=kb)
    except KnowledgeError as e:
        print(e, file=sys.stderr)
        return 1
    except (EmbedderError, RuntimeError, OSError) as e:
        print(f"ingest failed, the previous index still serves: {e}", file=sys.stderr)
        return 2
    print(f"generation {report.generation}: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
