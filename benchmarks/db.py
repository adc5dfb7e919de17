"""``python -m benchmarks.db``: chat throughput with 2 workers on PostgreSQL against SQLite (issue 15).

Both servers use the same index; each round starts a fresh ``python -m web --workers 2`` per database, sends chat
requests until both workers answer, then measures 8 concurrent clients (the same load as ``make bench``). The rounds
alternate SQLite and PostgreSQL so that a busy machine slows both alike. PostgreSQL is a local PostgreSQL 15 cluster
(tests/postgres.py) with ``fsync`` on, so commits cost what they cost on a real server. Target: PostgreSQL ≥ 0.85× the
SQLite figure, 0 errors. Prints one line per round and the ratio of the means; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.__main__ import ROOT, _free_port, _load_level, _questions


def _serve_and_measure(
    data: Path, db_url: str, questions: list[str], clients: int, total: int
) -> tuple[float, float, int]:
    env = dict(os.environ, BOT_DATA_DIR=str(data), PYTHONPATH=str(ROOT), BOT_RATE_LIMIT_PER_MINUTE="1000000",
               BOT_DB_URL=db_url)  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "web", "--port", str(port), "--log-level", "warning", "--workers", "2"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        ok, deadline = 0, time.monotonic() + 300
        while ok < 40:  # both workers loaded: one ready /readyz is only one of them
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the web server did not become ready")
            try:
                r = httpx.post(url + "/api/chat", json={"message": questions[ok % len(questions)]}, timeout=30)
                ok = ok + 1 if r.status_code == 200 else 0
            except httpx.HTTPError:
                ok = 0
                time.sleep(0.5)
        rps, p95, errors = _load_level(url, questions, clients, total)
        return rps, p95, sum(errors.values())
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.db", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    from bot.config import Settings
    from bot.retrieval.embeddings import get_embedder
    from bot.retrieval.index import Indexer
    from tests import postgres

    if not postgres.available():
        print(postgres.MISSING_REASON, file=sys.stderr)
        return 2
    questions = _questions()
    figures: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    errors = 0
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data)
        Indexer(settings, get_embedder(settings.embedder, settings)).update()
        pg = postgres.PostgresServer(fsync=True).start()
        try:
            for rnd in range(args.rounds):
                for label in ("sqlite", "postgresql"):
                    url = pg.new_database() if label == "postgresql" else f"sqlite:///{tmp}/round{rnd}.db"
                    rps, p95, errs = _serve_and_measure(data, url, questions, args.clients, args.requests)
                    figures[label].append(rps)
                    errors += errs
                    print(f"round {rnd} {label}: {rps:.0f} req/s, p95 {p95:.0f} ms, errors {errs}", flush=True)
        finally:
            pg.stop()
    sq, pq = statistics.mean(figures["sqlite"]), statistics.mean(figures["postgresql"])
    print(f"2 workers, {args.clients} clients: SQLite {sq:.0f} req/s, PostgreSQL {pq:.0f} req/s, "
          f"ratio {pq / sq:.2f} (target ≥ 0.85), errors {errors}")  # fmt: skip
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
