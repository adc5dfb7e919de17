"""``make bench``: answer latency, ingest time (real knowledge and a synthetic 10,000-chunk corpus), cold start, RSS.

Results go to benchmarks/RESULTS.md (overwritten) with the machine it ran on. Targets (2 cores): p95 answer
≤ 150 ms on the real knowledge and ≤ 300 ms on 10,000 chunks, cold start ≤ 5 s, RSS ≤ 1 GB.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _questions() -> list[str]:
    lines = (ROOT / "evals" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["question"] for x in lines if x.strip()]


def _synthetic_knowledge(src: Path, dst: Path, copies: int) -> None:
    """The real documents repeated with unique ids and aliases: realistic text, ~8 chunks per document."""
    import re

    shutil.copytree(src, dst)
    docs = sorted((src / "procedures").glob("*.md"))
    n = 0
    while n < copies:
        for d in docs:
            if n >= copies:
                break
            text = d.read_text(encoding="utf-8")
            new_id = f"syn-{n:05d}"
            text = re.sub(r"^id: .*$", f"id: {new_id}", text, count=1, flags=re.M)
            text = re.sub(r"^aliases: .*$", f"aliases: [合成{n:05d}]", text, count=1, flags=re.M)
            text = re.sub(r"^title: (.*)$", rf"title: \1 合成{n:05d}", text, count=1, flags=re.M)
            text = re.sub(r"^forms: .*$", "forms: []", text, count=1, flags=re.M)
            (dst / "procedures" / f"{new_id}.md").write_text(text, encoding="utf-8")
            n += 1
    # the forms catalogue names procedures; keep it consistent with the extra documents (they use no forms)


def _cold_start(data: Path) -> float:
    code = (
        "import time;t=time.perf_counter();from bot.config import Settings;from bot.service import Bot;"
        "b=Bot(Settings());b.ask('児童手当はいくら');print(time.perf_counter()-t)"
    )
    env = dict(os.environ, BOT_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _latency_row(bot: object, questions: list[str], label: str, target: str) -> tuple[str, str, str]:
    lat = []
    for q in questions:
        t = time.perf_counter()
        bot.ask(q)  # type: ignore[attr-defined]
        lat.append((time.perf_counter() - t) * 1000)
    return (f"answer latency, {label} ({len(lat)} asks)",
            f"p50 {_pct(lat, 50):.1f} ms, p95 {_pct(lat, 95):.1f} ms", target)  # fmt: skip


def _triage_rows(bot: object, questions: list[str]) -> list[tuple[str, str, str]]:
    """What the semantic triage adds to an answer: the same asks with the shipped model and with the rules alone."""
    from bot.safety import Triage

    answerer = bot.answerer  # type: ignore[attr-defined]
    semantic = answerer.triage
    timings: dict[str, list[float]] = {"model": [], "rules": []}
    for q in questions:
        for name, tri in (("rules", Triage(artifact=None)), ("model", semantic)):
            answerer.triage = tri
            answerer.retriever.embedder._query_cache = None  # each ask pays its own query embedding
            t = time.perf_counter()
            bot.ask(q)  # type: ignore[attr-defined]
            timings[name].append((time.perf_counter() - t) * 1000)
    answerer.triage = semantic
    added = _pct(timings["model"], 95) - _pct(timings["rules"], 95)
    only = []
    for q in questions:
        t = time.perf_counter()
        semantic.predict(q)
        only.append((time.perf_counter() - t) * 1000)
    return [
        ("answer latency with the semantic triage vs rules only",
         f"p95 {_pct(timings['model'], 95):.1f} vs {_pct(timings['rules'], 95):.1f} ms: +{added:.1f} ms", "target ≤ +5 ms"),
        ("triage model alone (vector cached)", f"p50 {_pct(only, 50):.2f} ms, p95 {_pct(only, 95):.2f} ms", ""),
    ]  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load_level(url: str, questions: list[str], clients: int, total: int) -> tuple[float, float, dict[str, int]]:
    """Send ``total`` chat requests from ``clients`` threads; return (requests/s, p95 ms, errors by status)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    lat: list[float] = []
    errors: dict[str, int] = {}

    def one(i: int, client: httpx.Client) -> None:
        t = time.perf_counter()
        try:
            r = client.post(url + "/api/chat", json={"message": questions[i % len(questions)]}, timeout=30)
            if r.status_code != 200:
                errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
        except httpx.HTTPError as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        lat.append((time.perf_counter() - t) * 1000)

    with httpx.Client(limits=httpx.Limits(max_connections=clients)) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(lambda i: one(i, client), range(total)))
        elapsed = time.perf_counter() - started
    return total / elapsed, _pct(lat, 95), errors


def _web_load(data: Path, questions: list[str], workers: int) -> list[tuple[str, str, str]]:
    """POST /api/chat against a real `python -m web` process with 1, 8 and 32 concurrent clients (loopback only)."""
    import httpx

    port = _free_port()
    env = dict(os.environ, BOT_DATA_DIR=str(data), PYTHONPATH=str(ROOT), BOT_RATE_LIMIT_PER_MINUTE="1000000")
    server = subprocess.Popen(
        [sys.executable, "-m", "web", "--port", str(port), "--log-level", "warning", "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, str, str]] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the web server did not become ready")
            time.sleep(0.3)
        for clients in (1, 8, 32):
            total = 200 if clients == 1 else 400
            rps, p95, errors = _load_level(url, questions, clients, total)
            rows.append(
                (
                    f"POST /api/chat, {workers} worker(s), {clients} concurrent client(s), {total} requests",
                    f"{rps:.0f} req/s, p95 {p95:.0f} ms, errors {sum(errors.values())} {errors or ''}".strip(),
                    "goal at 8 clients: ≥ 100 req/s, p95 ≤ 250 ms, 0 errors",
                )  # fmt: skip
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def main() -> int:
    from bot.config import Settings
    from bot.retrieval.embeddings import get_embedder
    from bot.retrieval.index import Indexer
    from bot.service import Bot

    rows: list[tuple[str, str, str]] = []
    questions = _questions()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data)
        embedder = get_embedder(settings.embedder, settings)
        t = time.perf_counter()
        report = Indexer(settings, embedder).update()
        rows.append(("ingest knowledge/ from scratch", f"{time.perf_counter() - t:.1f} s", f"{report.chunks} chunks"))
        t = time.perf_counter()
        Indexer(settings, embedder).update()
        rows.append(("ingest knowledge/, nothing changed", f"{time.perf_counter() - t:.1f} s", "0 embedded"))
        rows.append(("cold start to first answer (new process)", f"{_cold_start(data):.2f} s", "target ≤ 5 s"))
        bot = Bot(settings, embedder)
        for q in questions[:20]:
            bot.ask(q)
        rows.append(_latency_row(bot, questions * 2, "real knowledge", "target p95 ≤ 150 ms"))
        rows.extend(_triage_rows(bot, questions))

        for workers in (1, 2):
            rows.extend(_web_load(data, questions, workers))

        syn_dir = Path(tmp) / "syn"
        _synthetic_knowledge(ROOT / "knowledge", syn_dir / "knowledge", 1250)
        syn = Settings(data_dir=syn_dir / "data", knowledge_dir=syn_dir / "knowledge")
        t = time.perf_counter()
        syn_report = Indexer(syn, embedder).update()
        rows.append(("ingest synthetic corpus", f"{time.perf_counter() - t:.1f} s", f"{syn_report.chunks} chunks"))
        syn_bot = Bot(syn, embedder)
        rows.append(_latency_row(syn_bot, questions, f"{syn_report.chunks} chunks", "target p95 ≤ 300 ms"))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak RSS of this benchmark process", f"{rss_mb:.0f} MB", "target ≤ 1 GB"))

    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| measurement | result | note |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]
    (ROOT / "benchmarks" / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
