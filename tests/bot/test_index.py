"""Incremental ingest, atomic swap, the ingest CLI and the JSON contract, with real Chroma on disk (the fixture ward)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import Indexer, current_generation
from bot.service import Bot

ROOT = Path(__file__).resolve().parents[2]


def _env(data: Path, knowledge: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(BOT_DATA_DIR=str(data), BOT_KNOWLEDGE_DIR=str(knowledge), PYTHONPATH=str(ROOT), **extra)
    return env


def test_incremental_ingest_only_reembeds_the_changed_document(
    tmp_path: Path, knowledge_copy: Path, embedder: EmbeddingModel
) -> None:
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_copy)
    indexer = Indexer(settings, embedder)
    first = indexer.update()
    assert (
        len(first.added) == len(list((knowledge_copy / "procedures").glob("*.md"))) and first.embedded == first.chunks
    )

    doc = knowledge_copy / "procedures" / "support-018.md"
    doc.write_text(
        doc.read_text(encoding="utf-8").replace("## 概要\n", "## 概要\n018サポートは東京都の事業です。\n", 1)
    )
    (knowledge_copy / "procedures" / "kyushokuhi.md").unlink()
    second = indexer.update()
    assert second.changed == ["support-018"]
    assert second.removed == ["kyushokuhi"]
    assert second.added == []
    n_support_chunks = sum(1 for line in (settings.index_dir / "gens" / second.generation / "chunks.jsonl").open()
                           if json.loads(line)["doc_id"] == "support-018")  # fmt: skip
    assert 0 < second.embedded <= n_support_chunks

    bot = Bot(settings, embedder)
    assert "kyushokuhi" not in bot.generation.kb.procedures
    assert bot.ask("018サポートはいくら").topic == "support-018"


def test_invalid_knowledge_exits_nonzero_and_changes_nothing(tmp_path: Path, knowledge_copy: Path) -> None:
    data = tmp_path / "data"
    ok = subprocess.run([sys.executable, "ingest.py", "--quiet"], cwd=ROOT, env=_env(data, knowledge_copy),
                        capture_output=True, text=True, timeout=300)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    gen = current_generation(data / "index")
    (knowledge_copy / "procedures" / "jidou-teate.md").write_text("---\nid: jidou-teate\n---\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "ingest.py"], cwd=ROOT, env=_env(data, knowledge_copy),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert bad.returncode == 1
    assert "knowledge/procedures/jidou-teate.md:" in bad.stderr and "missing required field 'title'" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert current_generation(data / "index") == gen
    check = subprocess.run([sys.executable, "ingest.py", "--check"], cwd=ROOT, env=_env(data, knowledge_copy),
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert check.returncode == 1


@pytest.mark.slow
def test_killed_ingest_leaves_the_old_index_serving(
    tmp_path: Path, knowledge_copy: Path, embedder: EmbeddingModel
) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, knowledge_dir=knowledge_copy)
    Indexer(settings, embedder).update()
    old_gen = current_generation(settings.index_dir)
    bot = Bot(settings, embedder)
    # Make the next ingest long enough to kill midway: many new documents to embed.
    src = (knowledge_copy / "procedures" / "support-018.md").read_text(encoding="utf-8")
    for i in range(150):
        text = src.replace("id: support-018", f"id: bulk-{i:03d}").replace("aliases: [", f"aliases: [bulk{i:03d}, ", 1)
        text = _strip_aliases(text, i)
        (knowledge_copy / "procedures" / f"bulk-{i:03d}.md").write_text(text, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "ingest.py", "--rebuild"], cwd=ROOT, env=_env(data, knowledge_copy),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    buf = ""
    while "embed" not in buf and time.monotonic() < deadline:
        buf += proc.stderr.read(1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert current_generation(settings.index_dir) == old_gen
    assert not bot.refresh()
    assert bot.ask("児童手当はいくら").topic == "jidou-teate"
    fresh = Bot(settings, embedder)  # a new process-equivalent reader also gets the complete old generation
    assert fresh.generation.id == old_gen and fresh.ask("児童手当はいくら").topic == "jidou-teate"


def _strip_aliases(text: str, i: int) -> str:
    import re

    return re.sub(r"^aliases: \[.*\]$", f"aliases: [bulk{i:03d}]", text, count=1, flags=re.M).replace(
        "title: ", f"title: 一括{i:03d}", 1
    )


def test_running_bot_swaps_to_new_generation(tmp_path: Path, knowledge_copy: Path, embedder: EmbeddingModel) -> None:
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_copy)
    Indexer(settings, embedder).update()
    bot = Bot(settings, embedder)
    doc = knowledge_copy / "procedures" / "kyushokuhi.md"
    text = doc.read_text(encoding="utf-8").replace(
        "## 概要\n", "## 概要\n給食費のテスト用の文です。合言葉はマシュマロ教室です。\n", 1
    )
    doc.write_text(text, encoding="utf-8")
    Indexer(settings, embedder).update()
    assert bot.refresh()
    r = bot.ask("マシュマロ教室の給食費")
    assert r.topic == "kyushokuhi" and "マシュマロ教室" in r.text


def test_cli_json_contract(fixture_settings: Settings) -> None:
    env = _env(fixture_settings.data_dir, fixture_settings.knowledge_dir)
    one = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "児童手当はいくら"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert one.returncode == 0, one.stderr
    obj = json.loads(one.stdout)
    assert set(obj) == {"question", "kind", "answer", "citations", "handoff", "latency_ms"}
    assert obj["kind"] == "answer" and obj["citations"][0] == {
        "doc_id": "jidou-teate",
        "title": "児童手当",
        "url": obj["citations"][0]["url"],
    }
    assert obj["handoff"]["form_id"] == "mynaportal-jidouteate"
    many = subprocess.run([sys.executable, "-m", "bot", "ask", "--jsonl"], cwd=ROOT, env=env, timeout=300,
                          input="児童手当はいくら\n\n子どもが息をしてない\nゴミの出し方\n", capture_output=True, text=True)  # fmt: skip
    lines = [json.loads(x) for x in many.stdout.splitlines()]
    assert [x["kind"] for x in lines] == ["answer", "emergency", "out_of_scope"]
    assert [x["question"] for x in lines] == ["児童手当はいくら", "子どもが息をしてない", "ゴミの出し方"]
    assert all(isinstance(x["latency_ms"], (int, float)) for x in lines)
    readable = subprocess.run([sys.executable, "-m", "bot", "ask", "保育園の申込"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    assert readable.returncode == 0 and "出典" in readable.stdout


@pytest.mark.slow
def test_chroma_client_server_mode(tmp_path: Path, knowledge_copy: Path, embedder: EmbeddingModel) -> None:
    import socket

    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI ships with chromadb"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_copy, chroma_host="127.0.0.1",
                            chroma_port=port)  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        report = Indexer(settings, embedder).update()
        bot = Bot(settings, embedder)
        assert bot.generation.manifest["store"]["host"] == "127.0.0.1"
        assert bot.generation.store.count() == report.chunks
        assert bot.ask("児童手当はいくら").topic == "jidou-teate"
        second = Indexer(settings, embedder).update()
        assert second.embedded == 0 and bot.refresh()
        assert bot.ask("ほいくえん もうしこみ").topic == "hoikuen-nyuen"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_index_swaps_release_old_generations(knowledge_copy: Path, tmp_path: Path, embedder: EmbeddingModel) -> None:
    """Chroma keeps a system per folder for the life of the process; without closing them every swap kept ~13 MB."""
    from chromadb.api.shared_system_client import SharedSystemClient

    from bot.service import Bot

    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_copy)
    Indexer(settings, embedder).update()
    bot = Bot(settings, embedder)
    doc = knowledge_copy / "procedures" / "jidou-teate.md"
    for i in range(4):
        doc.write_text(doc.read_text(encoding="utf-8") + f"\n追記{i}。\n", encoding="utf-8")
        Indexer(settings, embedder).update()
        assert bot.refresh()
        assert bot.ask("児童手当はいくら?").kind.value == "answer"
    open_here = [k for k in SharedSystemClient._identifier_to_system if str(tmp_path) in k]
    assert len(open_here) <= 2, open_here  # the serving generation and the one just replaced


def test_a_generation_serves_the_knowledge_ingest_parsed_and_parses_again_when_that_cannot_be_trusted(
    tmp_path: Path, knowledge_copy: Path
) -> None:
    from datetime import date

    from bot.knowledge import load_knowledge
    from bot.retrieval.index import KNOWLEDGE_PICKLE, _generation_knowledge, _store_knowledge

    gen_dir = tmp_path / "gen"
    shutil.copytree(knowledge_copy, gen_dir / "knowledge")
    built_for = date(2026, 12, 2)
    parsed = load_knowledge(gen_dir / "knowledge", built_for, 365)
    _store_knowledge(gen_dir, parsed, built_for, 365)
    # the stored parse is what serves: a document edited after ingest is not re-read...
    doc = gen_dir / "knowledge" / "procedures" / "jidou-teate.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("title: ", "title: 改", 1), encoding="utf-8")
    stored = _generation_knowledge(gen_dir, built_for, 365)
    assert stored == parsed and stored.procedures["jidou-teate"].title == parsed.procedures["jidou-teate"].title
    # ...but another staleness limit, or a damaged file, means parsing the files again
    assert _generation_knowledge(gen_dir, built_for, 30).procedures["jidou-teate"].title.startswith("改")
    (gen_dir / KNOWLEDGE_PICKLE).write_bytes(b"not a pickle")
    assert _generation_knowledge(gen_dir, built_for, 365).procedures["jidou-teate"].title.startswith("改")


def test_keyword_index_is_the_one_bm25s_builds_array_for_array(tmp_path: Path) -> None:
    """build_keyword_index computes bm25s's score matrix without its sort (the ingest's memory peak at 50,000 chunks):
    every file it writes must be byte-identical to what bm25s.BM25.index writes for the same chunks, or retrieval
    would rank differently. Chunks of the fixture ward, and chunks that repeat terms and share none."""
    from array import array

    import bm25s

    from bot.knowledge import load_knowledge
    from bot.retrieval.index import Chunk, build_keyword_index, chunk_procedure
    from bot.text.jatext import keyword_terms

    kb = load_knowledge(ROOT / "tests" / "fixtures" / "knowledge", Settings().current_date(), 10000)
    chunks = [c for p in sorted(kb.procedures.values(), key=lambda p: p.id) for c in chunk_procedure(p, 60, len)]
    chunks += [Chunk(f"x#{i}", "x", "h", t, t, t) for i, t in enumerate(["保育園 保育園 保育園", "ピアノ", "です"])]
    assert len(chunks) > 30
    build_keyword_index(chunks, tmp_path / "lean")

    vocab: dict[str, int] = {}
    ids = [array("i", [vocab.setdefault(t, len(vocab)) for t in keyword_terms(c.keyword_text)]) for c in chunks]
    reference = bm25s.BM25()
    reference.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    reference.save(str(tmp_path / "bm25s"), show_progress=False)

    names = sorted(p.name for p in (tmp_path / "bm25s").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "lean").iterdir())
    assert "data.csc.index.npy" in names
    for name in names:
        assert (tmp_path / "lean" / name).read_bytes() == (tmp_path / "bm25s" / name).read_bytes(), name


def test_incremental_ingest_puts_each_chunks_own_vector_in_its_row_and_in_chroma(
    tmp_path: Path, knowledge_copy: Path, embedder: EmbeddingModel
) -> None:
    """The vectors are copied from the previous generation or embedded straight into one matrix (no per-chunk
    dictionary): every row, reused or new, must be its own chunk's, in vectors.npy and in the dense store, also for a
    new chunk text that occurs twice (the twin's long section splits into equal parts)."""
    import numpy as np

    from bot.retrieval.index import Generation

    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_copy)
    indexer = Indexer(settings, embedder)
    indexer.update()
    doc = knowledge_copy / "procedures" / "support-018.md"
    doc.write_text(
        doc.read_text(encoding="utf-8").replace("## 概要\n", "## 概要\n018サポートは東京都の事業です。\n", 1)
    )
    twin = knowledge_copy / "procedures" / "support-018-twin.md"
    text = doc.read_text(encoding="utf-8").replace("id: support-018", "id: support-018-twin", 1)
    text = text.replace("title: 018サポート", "title: 018サポートの写し", 1).replace(
        "aliases: [", "aliases: [写し, ", 1
    )
    text = re.sub(r"aliases: .*", "aliases: [018サポートの写し]", text, count=1)
    twin.write_text(text + "\n## 補足\n" + "同じ文です。" * 300 + "\n", encoding="utf-8")  # split into equal parts
    report = indexer.update()
    assert 0 < report.embedded < report.chunks

    gen = settings.index_dir / "gens" / report.generation
    rows = [json.loads(line) for line in (gen / "chunks.jsonl").open(encoding="utf-8")]
    twins = [r["key"] for r in rows if r["doc_id"] == "support-018-twin" and r["heading"] == "補足"]
    assert len(twins) > len(set(twins))

    vectors = np.load(gen / "vectors.npy")
    assert vectors.dtype == np.float32 and vectors.shape == (len(rows), embedder.dimension)
    assert json.loads((gen / "vector_keys.json").read_text()) == [r["key"] for r in rows]
    fresh = embedder.embed_documents([r["embed_text"] for r in rows])
    assert np.abs(vectors - fresh).max() < 1e-5
    served = Generation.load(settings, embedder)
    for i in range(0, len(rows), 7):
        assert served.store.query(vectors[i], 1)[0][0] in {r["id"] for r in rows if r["key"] == rows[i]["key"]}
    served.close()
