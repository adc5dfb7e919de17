"""``make bench``: answer latency, ingest time and memory, cold start, on the real knowledge and synthetic corpora.

    python -m benchmarks                  full run (real knowledge, web load, 21k and 50k synthetic chunks);
                                          writes benchmarks/RESULTS.md
    python -m benchmarks --quick          real knowledge only, no web load; prints, writes nothing unless asked
    python -m benchmarks --quick --chunks 50000 --out /tmp/bench.md
    python -m benchmarks --help

Targets (2 cores): p95 answer ≤ 20 ms on the real knowledge and ≤ 60 ms at 50,000 chunks, cold start ≤ 6 s at
50,000 chunks, ingest peak RSS ≤ 800 MB (issue 15). Ingest runs as its own process (``ingest.py``), so its peak RSS
is the ingest's alone.
"""

from __future__ import annotations

import argparse
import json
import math
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


def _env(data: Path, knowledge: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, BOT_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    if knowledge is not None:
        env["BOT_KNOWLEDGE_DIR"] = str(knowledge)
    return env


def _cold_start(data: Path, knowledge: Path | None = None) -> float:
    code = (
        "import time;t=time.perf_counter();from bot.config import Settings;from bot.service import Bot;"
        "b=Bot(Settings());b.ask('児童手当はいくら');print(time.perf_counter()-t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(data, knowledge), capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def _ingest(data: Path, knowledge: Path | None = None) -> tuple[float, int, float]:
    """Run ``ingest.py`` in its own process: (seconds, chunks, peak RSS in MB of that process)."""
    code = (
        "import json,resource,sys,time;sys.argv=['ingest.py','--quiet'];import ingest;"
        "from bot.config import Settings;from bot.retrieval.index import current_generation;"
        "t=time.perf_counter();rc=ingest.main(['--quiet']);s=time.perf_counter()-t;st=Settings();"
        "g=current_generation(st.index_dir);m=json.loads((st.index_dir/'gens'/g/'manifest.json').read_text());"
        "print(json.dumps({'rc':rc,'s':s,'chunks':m['chunks'],"
        "'rss':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(data, knowledge), cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"ingest failed: {out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["rc"] != 0:
        raise RuntimeError(f"ingest exited {res['rc']}: {out.stderr[-2000:]}")
    return float(res["s"]), int(res["chunks"]), float(res["rss"])


def _timed_asks(bot: object, questions: list[str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per ask (CPU: this process's, so other sessions' load does not count)."""
    wall, cpu = [], []
    for q in questions:
        t, c = time.perf_counter(), time.process_time()
        bot.ask(q)  # type: ignore[attr-defined]
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
    return wall, cpu


def _latency_row(bot: object, questions: list[str], label: str, target: str) -> tuple[str, str, str]:
    wall, cpu = _timed_asks(bot, questions)
    return (f"answer latency, {label} ({len(wall)} asks)",
            f"p50 {_pct(wall, 50):.1f} ms, p95 {_pct(wall, 95):.1f} ms (CPU p50 {_pct(cpu, 50):.1f}, "
            f"p95 {_pct(cpu, 95):.1f} ms)", target)  # fmt: skip


def _served_bot(settings: object, embedder: object) -> tuple[object, float]:
    """A bot warmed as ``web/app.py`` warms it before and while serving (``Bot.warm_up``: embedder weights, Sudachi,
    every document's sentence vectors); returns it with the seconds the warm-up took."""
    from bot.service import Bot

    bot = Bot(settings, embedder)  # type: ignore[arg-type]
    t = time.perf_counter()
    bot.warm_up()
    return bot, time.perf_counter() - t


def _cold_rows(settings: object, embedder: object, questions: list[str], label: str) -> tuple[str, str, str]:
    """What the first questions cost before the sentence vectors are warm (the web app computes them on a thread
    after it reports ready): a fresh bot warmed without them, each question asked once."""
    from bot.answering import compose
    from bot.service import Bot

    compose.units_of.cache_clear()  # module-level: a previous bot's documents would otherwise be cut already
    bot = Bot(settings, embedder)  # type: ignore[arg-type]
    bot.warm_up(sentences=False)
    wall, cpu = _timed_asks(bot, questions)
    return (f"answer latency, {label}, sentence vectors not yet warm ({len(wall)} asks, each question once)",
            f"p50 {_pct(wall, 50):.1f} ms, p95 {_pct(wall, 95):.1f} ms, max {max(wall):.0f} ms (CPU p95 "
            f"{_pct(cpu, 95):.1f} ms)",
            "a document's first question embeds its sentences; the web app warms them all at start")  # fmt: skip


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
        # every worker ready: each loads the index on its own, and a request a loading worker takes gets a 503 (seen
        # as 40 of 200 errors with 2 workers when the first ready answer was taken for both)
        deadline = time.monotonic() + 120
        ready_in_a_row = 0
        while ready_in_a_row < 10 * workers:
            try:
                ready_in_a_row = ready_in_a_row + 1 if httpx.get(url + "/readyz", timeout=2).status_code == 200 else 0
            except httpx.HTTPError:
                ready_in_a_row = 0
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the web server did not become ready")
            time.sleep(0.1 if ready_in_a_row else 0.3)
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


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="real knowledge only (ingest, cold start, latency); no web load, no synthetic corpus "
        "unless --chunks; does not write benchmarks/RESULTS.md unless --write",
    )
    parser.add_argument(
        "--chunks",
        type=int,
        action="append",
        metavar="N",
        help="synthetic corpus size(s) to measure (repeatable; default 21000 and 50000, none with "
        "--quick); the corpora are built in one folder, smallest first, so each reuses the "
        "previous one's embeddings",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write the results table here (default: benchmarks/RESULTS.md for a full run, nowhere for --quick)",
    )
    parser.add_argument("--write", action="store_true", help="with --quick: write benchmarks/RESULTS.md all the same")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="build the synthetic corpora in DIR and keep them (a second run reuses their embeddings: minutes saved)",
    )
    args = parser.parse_args(argv)
    if args.chunks is None:
        args.chunks = [] if args.quick else [21000, 50000]
    if any(n <= 0 for n in args.chunks):
        parser.error("--chunks must be positive")
    return args


def _synthetic_rows(
    tmp: Path, embedder: object, real_chunks: int, real_docs: int, sizes: list[int]
) -> list[tuple[str, str, str]]:
    from bot.config import Settings
    from bot.service import Bot

    rows: list[tuple[str, str, str]] = []
    questions = _questions()
    per_doc = real_chunks / max(real_docs, 1)
    syn_dir = tmp / "syn"
    for size in sorted(sizes):
        copies = max(1, math.ceil((size - real_chunks) / per_doc))
        knowledge = syn_dir / "knowledge"
        shutil.rmtree(knowledge, ignore_errors=True)
        _synthetic_knowledge(ROOT / "knowledge", knowledge, copies)
        seconds, chunks, rss = _ingest(syn_dir / "data", knowledge)
        rows.append((f"ingest synthetic corpus ({copies} extra documents)", f"{seconds:.1f} s, peak RSS {rss:.0f} MB",
                     f"{chunks} chunks; embeddings of a smaller corpus reused; target RSS ≤ 800 MB"))  # fmt: skip
        cold = _cold_start(syn_dir / "data", knowledge)
        rows.append((f"cold start to first answer, {chunks} chunks", f"{cold:.2f} s", "target ≤ 6 s at 50,000"))
        syn = Settings(data_dir=syn_dir / "data", knowledge_dir=knowledge)
        syn_bot = Bot(syn, embedder)  # type: ignore[arg-type]
        for q in questions[:20]:
            syn_bot.ask(q)
        target = "target p95 ≤ 60 ms at 50,000" if chunks >= 40000 else ""
        rows.append(_latency_row(syn_bot, questions, f"{chunks} chunks", target))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    from bot.config import Settings
    from bot.retrieval.embeddings import get_embedder

    rows: list[tuple[str, str, str]] = []
    questions = _questions()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        settings = Settings(data_dir=data)
        seconds, real_chunks, rss = _ingest(data)
        rows.append(
            ("ingest knowledge/ from scratch", f"{seconds:.1f} s, peak RSS {rss:.0f} MB", f"{real_chunks} chunks")
        )
        seconds, _, _ = _ingest(data)
        rows.append(("ingest knowledge/, nothing changed", f"{seconds:.1f} s", "0 embedded"))
        rows.append(("cold start to first answer (new process)", f"{_cold_start(data):.2f} s", "target ≤ 5 s"))
        embedder = get_embedder(settings.embedder, settings)
        # Each question once before its document's sentence vectors exist, then the served case (the target). The
        # query-vector cache is emptied before each: a parent's question is usually new, and its embedding counts.
        embedder._query_cache = None  # type: ignore[attr-defined]
        rows.append(_cold_rows(settings, embedder, questions, "real knowledge"))
        bot, warm_s = _served_bot(settings, embedder)
        embedder._query_cache = None  # type: ignore[attr-defined]
        rows.append(_latency_row(bot, questions * 2, "real knowledge, warmed as the web app warms",
                                 f"target p95 ≤ 20 ms; the warm-up took {warm_s:.1f} s"))  # fmt: skip
        if not args.quick:
            rows.extend(_triage_rows(bot, questions))
            for workers in (1, 2):
                rows.extend(_web_load(data, questions, workers))
        if args.chunks:
            real_docs = len(bot.generation.manifest["docs"])
            keep = args.keep or tmp
            keep.mkdir(parents=True, exist_ok=True)
            rows.extend(_synthetic_rows(keep, embedder, real_chunks, real_docs, args.chunks))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(
        ("peak RSS of this benchmark process (serving; ingest runs apart)", f"{rss_mb:.0f} MB", "target ≤ 1 GB")
    )

    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m benchmarks{''.join(' ' + a for a in (sys.argv[1:] if argv is None else argv))}` "
        f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end (the machine is shared, so timings are noisy).",
        "",
        "| measurement | result | note |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]
    out = args.out
    if out is None and (not args.quick or args.write):
        out = ROOT / "benchmarks" / "RESULTS.md"
    if out is not None:
        out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
