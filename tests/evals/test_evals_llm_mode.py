"""The harness in LLM mode against the local OpenAI-compatible stub: validated text is used, invented facts fall back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.__main__ import main
from tests.llm_stub import StubLLM

ROWS = [
    {"id": "l1", "question": "児童手当について教えて", "expect_kind": "answer", "expect_docs": ["jidou-teate"],
     "expect_facts": [], "style": "colloquial", "note": "llm text"},
    {"id": "l2", "question": "子どもが息してない", "expect_kind": "emergency", "expect_docs": ["kyukyu-yakan"],
     "expect_facts": [["119番"]], "style": "emergency", "note": "never sent to the LLM"},
]  # fmt: skip


@pytest.fixture()
def stub() -> Iterator[StubLLM]:
    with StubLLM() as s:
        yield s


def _run(tmp_path: Path, stub: StubLLM, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[type-arg]
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    monkeypatch.setenv("BOT_LLM_BASE_URL", stub.base_url)
    monkeypatch.setenv("BOT_LLM_MODEL", "stub")
    out = tmp_path / "out"
    assert main(["run", "--dataset", str(data), "--out", str(out), "--quiet", "--no-ingest"]) == 0
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_llm_mode_uses_validated_text(bot_env: dict[str, str], tmp_path: Path, stub: StubLLM,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    stub.text = "児童手当は、子どもを育てている人にお金が出る国の制度です[1]。"
    rep = _run(tmp_path, stub, monkeypatch)
    rows = {r["id"]: r for r in rep["items"]}
    assert rows["l1"]["llm"] == "llm" and rows["l1"]["text"].startswith(stub.text)
    assert rows["l2"]["llm"] == "" and rows["l2"]["kind"] == "emergency"
    assert rep["summary"]["llm_used_rate"] == 1.0 and rep["summary"]["groundedness_rate"] == 1.0
    assert len(stub.requests) == 1


def test_llm_mode_invented_fact_falls_back(bot_env: dict[str, str], tmp_path: Path, stub: StubLLM,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    stub.text = "児童手当は月50,000円です[1]。"
    rep = _run(tmp_path, stub, monkeypatch)
    rows = {r["id"]: r for r in rep["items"]}
    assert rows["l1"]["llm"].startswith("invalid") and "50,000円" not in rows["l1"]["text"]
    assert rep["summary"]["llm_used_rate"] == 0.0 and rep["summary"]["groundedness_rate"] == 1.0


def test_judge_scores_answers(bot_env: dict[str, str], tmp_path: Path, stub: StubLLM,
                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # The stub answers every request with this text: as an answer it fails validation (so the composed answer is
    # shown), as a judge reply it is the JSON the judge asked for.
    stub.text = '{"faithfulness": 0.9, "relevancy": 0.75}'
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    monkeypatch.setenv("BOT_LLM_BASE_URL", stub.base_url)
    monkeypatch.setenv("BOT_LLM_MODEL", "stub")
    out = tmp_path / "out"
    assert main(["run", "--dataset", str(data), "--out", str(out), "--quiet", "--no-ingest", "--judge"]) == 0
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in rep["items"]}
    assert rows["l1"]["judge"] == {"faithfulness": 0.9, "relevancy": 0.75}
    assert rows["l2"]["judge"] is None  # emergencies are not judged
    assert rep["summary"]["judge_n"] == 1 and rep["summary"]["judge_faithfulness"] == pytest.approx(0.9)


def test_judge_needs_an_endpoint(bot_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps(ROWS[0], ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="--judge needs an LLM endpoint"):
        main(["run", "--dataset", str(data), "--out", str(tmp_path / "o"), "--quiet", "--no-ingest", "--judge"])


@pytest.mark.parametrize(
    ("reply", "scores"),
    [
        ('{"faithfulness": 1, "relevancy": 0.5}', {"faithfulness": 1.0, "relevancy": 0.5}),
        ('採点: {"faithfulness": 0.2, "relevancy": 0.0} です', {"faithfulness": 0.2, "relevancy": 0.0}),
        ('{"faithfulness": 1.5, "relevancy": 0.5}', None),
        ("わかりません", None),
        ('{"faithfulness": "high"}', None),
    ],
)
def test_parse_judge_scores(reply: str, scores: dict[str, float] | None) -> None:
    from evals.judge import parse_scores

    assert parse_scores(reply) == scores
