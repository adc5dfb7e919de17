"""Two machines (issue 15): two web processes, each with its own data and knowledge folders, one PostgreSQL and one
Chroma server. A document published in one node's admin is answered by the other, which rebuilds its own index."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import Indexer, current_generation
from bot.staff.auth import Accounts, Role
from bot.storage.logstore import LogStore
from tests.admin.conftest import csrf_of
from tests.storage.test_postgres import serve, stop, wait_ready
from tests.web.test_server_cli import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "node-admin-password"


def start_chroma(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI ships with chromadb"
    port = free_port()
    proc = subprocess.Popen([chroma, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.3)


def ask(base: str, question: str) -> dict[str, Any]:
    r = httpx.post(base + "/api/chat", json={"message": question}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_publish_on_one_node_is_answered_by_the_other(pg_url: str, tmp_path: Path, embedder: EmbeddingModel) -> None:
    chroma, chroma_port = start_chroma(tmp_path / "chroma-server")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        nodes = {}
        for name in ("a", "b"):
            kdir = tmp_path / name / "knowledge"
            shutil.copytree(ROOT / "knowledge", kdir)
            nodes[name] = Settings(data_dir=tmp_path / name / "data", knowledge_dir=kdir, db_url=pg_url,
                                   chroma_host="127.0.0.1", chroma_port=chroma_port)  # fmt: skip
        # node a's index is built here (sharing the test's embedder saves a minute); node b starts from a copy of
        # a's data folder, as a new machine might, and builds its own generation from the copied vectors
        Indexer(nodes["a"], embedder).update()
        shutil.copytree(nodes["a"].data_dir, nodes["b"].data_dir)
        assert Indexer(nodes["b"], embedder).update().embedded == 0
        store = LogStore(pg_url)
        store.migrate()
        Accounts(store.engine).add("admin", PASSWORD, Role.ADMIN)

        bases = {}
        for name, s in nodes.items():
            proc, base = serve(s.data_dir, pg_url, workers=1, BOT_KNOWLEDGE_DIR=str(s.knowledge_dir),
                               BOT_CHROMA_HOST="127.0.0.1", BOT_CHROMA_PORT=str(chroma_port),
                               BOT_KNOWLEDGE_POLL_SECONDS="1")  # fmt: skip
            procs.append(proc)
            bases[name] = base
        for proc, base in zip(procs, bases.values(), strict=True):
            wait_ready(proc, base)
        assert "15,000円" in ask(bases["b"], "児童手当はいくら?")["answer"]

        # publish on node a through its admin, as staff do
        with httpx.Client(base_url=bases["a"], timeout=60, follow_redirects=False) as c:
            login = c.get("/admin/login")
            r = c.post("/admin/login", data={"name": "admin", "password": PASSWORD, "csrf": csrf_of(login.text),
                                             "next": "/admin"})  # fmt: skip
            assert r.status_code == 303, r.text
            edit = c.get("/admin/knowledge/jidou-teate/edit")
            text = (nodes["a"].knowledge_dir / "procedures" / "jidou-teate.md").read_text(encoding="utf-8")
            new = text.replace("15,000", "15,500")
            assert new != text
            r = c.post("/admin/knowledge/jidou-teate/edit",
                       data={"text": new, "action": "publish", "csrf": csrf_of(edit.text)})  # fmt: skip
            assert r.status_code == 303 and "/admin/reindex?ticket=" in r.headers["location"], r.text
            ticket = int(r.headers["location"].split("ticket=")[1].split("&")[0])

        # node b: nobody touched its folders, yet it picks the revision up, rebuilds and answers with the new fact
        deadline = time.monotonic() + 180
        while "15,500円" not in ask(bases["b"], "児童手当はいくら?")["answer"]:
            assert time.monotonic() < deadline, "node b never answered with the published fact"
            time.sleep(1)
        assert "15,500円" in ask(bases["a"], "児童手当はいくら?")["answer"]
        assert (nodes["b"].knowledge_dir / "procedures" / "jidou-teate.md").read_text(encoding="utf-8") == new
        # each node has its own generation, and the re-index status of both is in the database
        gen_a, gen_b = current_generation(nodes["a"].index_dir), current_generation(nodes["b"].index_dir)
        assert gen_a and gen_b and gen_a != gen_b
        from sqlalchemy import select

        from bot.storage.tables import index_nodes

        with store.engine.connect() as conn:
            rows = {r.node: r for r in conn.execute(select(index_nodes))}
        assert len(rows) == 2 and all(r.completed >= ticket and r.ok for r in rows.values()), rows
        store.close()
    finally:
        outs = [stop(p) for p in procs]
        chroma.terminate()
        chroma.wait(30)
    for out in outs:
        assert "Traceback" not in out, out
