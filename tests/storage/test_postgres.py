"""PostgreSQL for real (issue 15): fresh starts with two workers, many first turns of one session at once, and the
admin analytics numbers, against a PostgreSQL 15 server the test starts (tests/postgres.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import Indexer
from bot.staff import analytics
from bot.storage.logstore import LogStore
from bot.storage.migrations import MIGRATIONS
from bot.storage.tables import conversations, feedback, messages
from tests.postgres import PostgresServer
from tests.web.test_server_cli import free_port

pytestmark = pytest.mark.slow  # starts PostgreSQL and web servers

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["児童手当はいくら?", "保育園の申込はどうすればいい?", "妊娠届はどこに出す?", "保育園", "明日の天気は?"]


@pytest.fixture(scope="module")
def built_data(tmp_path_factory: pytest.TempPathFactory, embedder: EmbeddingModel) -> Path:
    data = tmp_path_factory.mktemp("pg-data")
    Indexer(Settings(data_dir=data, knowledge_dir=ROOT / "knowledge"), embedder).update()
    return data


def serve(data: Path, db_url: str, workers: int = 2, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CHROMA_"))}
    env.update(BOT_DATA_DIR=str(data), BOT_DB_URL=db_url, BOT_RATE_LIMIT_PER_MINUTE="100000", **extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen[bytes], base: str, timeout: float = 240) -> None:
    """Every worker ready: /readyz answers 200 on many connections in a row (each may land on another worker)."""
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode() if proc.stdout else "server exited")
        try:
            r = httpx.get(base + "/readyz", timeout=5)
            assert r.json()["status"] != "error", r.text  # a worker that failed to load stays failed
            streak = streak + 1 if r.status_code == 200 else 0
        except httpx.TransportError:
            streak = 0
        if streak >= 12:
            return
        time.sleep(0.1 if streak else 0.5)
    raise AssertionError("the server did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


@pytest.fixture()
def running() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            stop(p)


def _fresh_start(data: Path, db_url: str, running: list[subprocess.Popen[bytes]]) -> str:
    proc, base = serve(data, db_url)
    running.append(proc)
    wait_ready(proc, base)
    store = LogStore(db_url)
    assert store.applied_migrations() == [name for _, name, _ in MIGRATIONS]
    store.close()
    return base


def test_two_workers_start_fresh_on_postgres_and_on_sqlite(pg_server: PostgresServer, built_data: Path,
                                                           tmp_path: Path, running: list[Any]) -> None:  # fmt: skip
    """Before: 3 of 3 PostgreSQL and 1 of 2 SQLite fresh starts failed, every worker running the migrations."""
    for db_url in (pg_server.new_database(), pg_server.new_database(), f"sqlite:///{tmp_path / 'fresh.db'}"):
        base = _fresh_start(built_data, db_url, running)
        assert httpx.post(base + "/api/chat", json={"message": "児童手当はいくら?"}, timeout=60).status_code == 200
        out = stop(running.pop())
        assert "Traceback" not in out, out


def test_two_workers_on_an_empty_data_folder_build_one_index(pg_url: str, tmp_path: Path, running: list[Any]) -> None:
    """Both workers found no index; one builds it, the other waits for it instead of failing 'another ingest'."""
    base = _fresh_start(tmp_path / "empty", pg_url, running)
    # The waiting worker loads the index a little after the first: "loading" may still answer for a while, a worker
    # that gave up ("error", as 'another ingest is running' did) never recovers.
    deadline, served = time.monotonic() + 180, 0
    while served < 20:
        r = httpx.post(base + "/api/chat", json={"message": "保育園の申込"}, timeout=60)
        if r.status_code == 200:
            served += 1
            continue
        ready = httpx.get(base + "/readyz", timeout=5).json()
        assert r.status_code == 503 and ready["status"] != "error", (r.status_code, ready)
        assert time.monotonic() < deadline, "a worker never loaded the index the other built"
        time.sleep(1)
    assert len([p for p in (tmp_path / "empty" / "index" / "gens").iterdir() if not p.name.startswith(".")]) == 1


def test_first_turns_written_at_the_same_instant_all_land(pg_url: str) -> None:
    """The race itself, without the answer computation in between that spreads requests out: 16 writers (one engine
    each, like separate workers) record the first turn of the same new session at once, for several sessions."""
    from bot.answering.results import AnswerKind, AnswerResult

    LogStore(pg_url).migrate()
    stores = [LogStore(pg_url) for _ in range(16)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def write(store: LogStore, session: str) -> None:
        try:
            barrier.wait(30)
            store.record_message(session, "児童手当はいくら?", AnswerResult("q", AnswerKind.ANSWER, "text"))
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    sessions = [f"race-{i}" for i in range(5)]
    for session in sessions:
        threads = [threading.Thread(target=write, args=(s, session)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    with stores[0].engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(conversations)) == len(sessions)
        assert conn.scalar(select(func.count()).select_from(messages)) == len(sessions) * len(stores)
    for s in stores:
        s.close()


def test_concurrent_first_turns_of_one_session_and_the_analytics(pg_url: str, built_data: Path,
                                                                 running: list[Any]) -> None:  # fmt: skip
    """Before: 38 of 160 concurrent first turns on one session were 500s (update-then-insert race on the session)."""
    base = _fresh_start(built_data, pg_url, running)
    session = "s-" + uuid.uuid4().hex
    n = 160

    def turn(i: int) -> httpx.Response:
        with httpx.Client(timeout=120) as c:
            return c.post(base + "/api/chat", json={"message": QUESTIONS[i % len(QUESTIONS)], "session_id": session})

    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(turn, range(n)))
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: n}, codes
    bodies = [r.json() for r in responses]
    assert {b["session_id"] for b in bodies} == {session}

    # votes on many messages at once; then a second vote on ten of them, sent twice at once (an upsert too)
    first = [(b["message_id"], i % 3 != 0) for i, b in enumerate(bodies[:60])]
    again = [(b["message_id"], True) for b in bodies[:10]] * 2

    def vote(v: tuple[int, bool]) -> int:
        with httpx.Client(timeout=60) as c:
            return c.post(base + "/api/feedback", json={"message_id": v[0], "helpful": v[1],
                                                          "session_id": session}).status_code  # fmt: skip

    for batch in (first, again):
        with ThreadPoolExecutor(max_workers=20) as pool:
            assert Counter(pool.map(vote, batch)) == {200: len(batch)}
    votes = first + again

    store = LogStore(pg_url)
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(conversations)) == 1
        assert conn.scalar(select(func.count()).select_from(messages)) == n
        assert conn.scalar(select(func.count()).select_from(feedback)) == 60
    # the admin's numbers on PostgreSQL equal what the parents were told
    settings = Settings(db_url=pg_url)
    today = settings.current_date()
    report = analytics.compute(store.engine, None, today - timedelta(days=1), today, 6.0, settings.tz)
    assert report.total == n
    assert report.kinds == {k: 0 for k in analytics.KINDS} | Counter(b["kind"] for b in bodies)
    cited = Counter(doc for b in bodies for doc in dict.fromkeys(c["doc_id"] for c in b["citations"]))
    assert report.per_document == dict(cited)
    final = {m: h for m, h in votes}  # the last vote on a message wins
    assert (report.helpful, report.not_helpful) == (sum(final.values()), sum(not h for h in final.values()))
    assert report.hours_saved == round(report.kinds["answer"] * 6.0 / 60, 1)
    store.close()
