"""「ナレッジの点検」: bot.knowledge.report over a copy of the fixture ward's knowledge with known changes, and
``python ingest.py --report`` printing the same (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge
from bot.knowledge.report import knowledge_report

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 2)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path.name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture()
def changed(knowledge_copy: Path) -> Path:
    procs = knowledge_copy / "procedures"
    text = (procs / "kyushokuhi.md").read_text(encoding="utf-8")
    checked = next(ln for ln in text.splitlines() if ln.startswith("checked: "))
    _edit(procs / "kyushokuhi.md", checked, "checked: 2024-06-01")  # 549 days before TODAY
    _edit(procs / "jidou-teate.md", "\nchecked_against: sources\n", "\nchecked_against: fact_sheet\n")
    _edit(procs / "ichiji-azukari.md", "\nchecked: ", "\nchecked_against: sources\nchecked: ")
    _edit(
        procs / "kodomo-iryohi.md",
        "url: https://www.city.midori-ku.invalid/kosodate/iryohi.html\n    publisher: official_ward",
        "url: https://giin-blog.invalid/iryohi\n    publisher: councillor",
    )
    _edit(procs / "jidou-teate.md", "\n## 金額・料金\n", "\n## 金額・料金\n振込手数料は確認できていません。\n")
    return knowledge_copy


def test_report_of_a_changed_folder(changed: Path) -> None:
    kb = load_knowledge(changed, TODAY)
    assert not kb.errors, kb.errors
    r = knowledge_report(kb, TODAY, 365)
    assert r.documents == len(kb.procedures)
    # every document is in exactly one source type, named by its first source's publisher
    listed = [d for docs in r.by_source.values() for d in docs]
    assert sorted(listed) == sorted(kb.procedures)
    assert "jidou-teate" in r.by_source["official_ward"]
    assert "kodomo-iryohi" in r.by_source["councillor"] and "kodomo-iryohi" in r.unofficial
    assert "jidou-teate" not in r.unofficial
    assert [(s.id, s.days) for s in r.stale] == [("kyushokuhi", (TODAY - date(2024, 6, 1)).days)]
    assert r.fact_sheet_only == ["jidou-teate"]
    assert "ichiji-azukari" not in r.unstated_check and "jidou-teate" not in r.unstated_check
    assert "kyushokuhi" in r.unstated_check
    gaps = [(g.id, g.heading, g.sentence) for g in r.gaps]
    assert ("jidou-teate", "金額・料金", "振込手数料は確認できていません。") in gaps
    # a caveat about the source in 注意 is about the page, not a missing fact
    assert not any(h == "注意" and "公式ページでは確認できていません" in s for _, h, s in gaps)
    assert "hoiku-annai" in r.information_forms and "mynaportal-jidouteate" not in r.information_forms


@pytest.mark.slow
def test_ingest_report_prints_it(changed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_KNOWLEDGE_DIR": str(changed),
           "BOT_TODAY": TODAY.isoformat(), "PYTHONPATH": str(ROOT)}  # fmt: skip
    out = subprocess.run([sys.executable, "ingest.py", "--report"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Stale (checked more than 365 days ago): 1\n  kyushokuhi: checked 2024-06-01" in out.stdout
    assert "Checked against the fact sheet only: 1\n  jidou-teate" in out.stdout
    assert "jidou-teate / 金額・料金: 振込手数料は確認できていません。" in out.stdout
    assert "  hoiku-annai" in out.stdout
    assert not (tmp_path / "data" / "index").exists()  # the report never touches the index
