"""python -m evals run/gate end to end on a real tiny index (real Sudachi, the default embedder, Chroma on disk)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.answering.answer import AnswerKind, AnswerResult, Citation
from evals import runner
from evals.__main__ import main

ROWS = [
    {"id": "t1", "question": "児童手当はいくらもらえますか", "expect_kind": "answer", "expect_docs": ["jidou-teate"],
     "expect_facts": [["15,000円", "1万5千円"]], "style": "colloquial", "note": "amount"},
    {"id": "t2", "question": "子どもが息してない!!どうしよう", "expect_kind": "emergency",
     "expect_docs": ["kyukyu-yakan"], "expect_facts": [["119番"]], "style": "emergency", "note": "not breathing"},
    {"id": "t3", "question": "世田谷区の保育園の申込期間は?", "expect_kind": "out_of_scope", "expect_docs": [],
     "expect_facts": [], "style": "out_of_scope", "note": "other ward"},
    {"id": "t4", "question": "<b>児童手当</b> オンライン 申請", "expect_kind": "answer", "expect_docs": ["jidou-teate"],
     "expect_facts": [["存在しない事実<XYZ>"]], "expect_form": "mynaportal-jidouteate", "style": "typo",
     "note": "a fact no answer contains: must fail and be listed"},
]  # fmt: skip


def _dataset(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    return p


def test_run_writes_report_json_and_html(bot_env: dict[str, str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "out"
    baseline = tmp_path / "baseline.json"
    assert main(["run", "--dataset", str(_dataset(tmp_path)), "--out", str(out), "--quiet",
                 "--save-baseline", str(baseline)]) == 0  # fmt: skip
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    items = {r["id"]: r for r in rep["items"]}
    assert rep["summary"]["n"] == 4 and rep["meta"]["n"] == 4
    assert rep["summary"]["emergency_recall"] == 1.0
    assert items["t2"]["kind"] == "emergency" and items["t2"]["rank_applicable"] is False
    assert items["t3"]["kind"] == "out_of_scope" and items["t3"]["doc_ok"] is True
    assert items["t1"]["rank"] == 1 and items["t1"]["category"] == "手当・助成"
    assert items["t4"]["pass"] is False and "facts" in items["t4"]["fail_reasons"]
    assert items["t4"]["form"] == "mynaportal-jidouteate" and items["t4"]["form_ok"] is True
    assert set(rep["by_kind"]) == {"answer", "emergency", "out_of_scope"}
    assert rep["confusion"]["labels"][2] == "emergency" and sum(map(sum, rep["confusion"]["matrix"])) == 4
    # the grounding check ran on every answer (the extractive bot invents no number)
    assert rep["summary"]["groundedness_rate"] == 1.0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "id='item-t4'" in page and "&lt;b&gt;児童手当&lt;/b&gt;" in page and "存在しない事実&lt;XYZ&gt;" in page
    printed = capsys.readouterr().out
    assert "emergency recall" in printed and str(out / "report.html") in printed
    small = json.loads(baseline.read_text(encoding="utf-8"))
    assert "items" not in small and small["passed_ids"] == rep["passed_ids"]

    # comparing a second run with the first: deterministic, so no regression
    assert main(["run", "--dataset", str(_dataset(tmp_path)), "--out", str(tmp_path / "out2"), "--quiet",
                 "--compare", str(baseline), "--no-ingest"]) == 0  # fmt: skip
    assert "no regression against the baseline" in capsys.readouterr().out
    rep2 = json.loads((tmp_path / "out2" / "report.json").read_text(encoding="utf-8"))
    assert rep2["compare"]["regressions"] == []


def test_gate_runs_the_dataset_then_checks(bot_env: dict[str, str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    ok = tmp_path / "ok.toml"
    ok.write_text("[min]\nemergency_recall = 1.0\nkind_accuracy = 0.75\n", encoding="utf-8")
    strict = tmp_path / "strict.toml"
    strict.write_text("[min]\nemergency_recall = 1.0\npass_rate = 1.0\n", encoding="utf-8")
    args = ["gate", "--dataset", str(_dataset(tmp_path)), "--quiet"]
    assert main([*args, "--out", str(tmp_path / "a"), "--thresholds", str(ok)]) == 0
    assert "eval gate passed" in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "b"), "--thresholds", str(strict)]) == 1
    out = capsys.readouterr().out
    assert "eval gate FAILED: 1 of 2" in out and "pass_rate = 0.75, below minimum 1" in out


def test_adversarial_answer_is_caught(bot_env: dict[str, str]) -> None:
    """An answer that cites the right document but invents an amount: facts miss, grounding lists the number."""
    from bot.config import Settings
    from bot.service import Bot

    bot = Bot(Settings())
    real = bot.ask("児童手当はいくらもらえますか")

    def fake_ask(question: str, history: Any = None) -> AnswerResult:
        return AnswerResult(question, AnswerKind.ANSWER, "児童手当は月99,999円です。電話は03-0000-0000へ。[9]",
                            citations=[Citation("jidou-teate", "児童手当", "https://example.invalid/", "2024-09-04",
                                                "2026-11-27")],
                            topic="jidou-teate", source_texts=real.source_texts)  # fmt: skip

    bot.ask = fake_ask  # type: ignore[method-assign]
    item = runner.EvalItem("adv", "児童手当はいくら", "answer", ["jidou-teate"], [["15,000円"]], "colloquial")
    rec = runner.evaluate_item(bot, item)
    assert rec["kind_ok"] and rec["doc_ok"] and rec["facts"] == [False]
    assert rec["pass"] is False and rec["fail_reasons"] == ["facts"]
    assert "number: 99999円" in rec["violations"]
    assert "phone: 03-0000-0000" in rec["violations"]
    assert "citation: [9]" in rec["violations"]


def test_dataset_errors_name_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps(ROWS[0], ensure_ascii=False) + "\n" + '{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(runner.DatasetError, match=r"bad.jsonl:2: missing question"):
        runner.load_dataset(p)


def test_the_real_dataset_loads() -> None:
    items = runner.load_dataset(Path(runner.__file__).parent / "questions.jsonl")
    assert len(items) > 200 and sum(i.expect_kind == "emergency" for i in items) >= 10


def test_triage_report_and_gate(bot_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m evals triage` runs the whole answer path over a split, writes both reports and gates on them."""
    import json

    loose = tmp_path / "loose.toml"
    loose.write_text("[min]\nrecall = 0.5\n[max]\nfalse_alarm_rate = 0.5\n", encoding="utf-8")
    strict = tmp_path / "strict.toml"
    strict.write_text("[min]\nrecall = 1.01\n", encoding="utf-8")  # unreachable: the gate must fail
    out = tmp_path / "tri"
    assert main(["triage", "--split", "dev", "--out", str(out), "--gate", "--thresholds", str(loose)]) == 0
    text = capsys.readouterr().out
    assert "emergencies recognised" in text and "eval gate passed" in text
    rep = json.loads((out / "triage.json").read_text(encoding="utf-8"))
    assert rep["summary"]["positives"] > 100 and {"by_level", "by_style", "by_lang"} <= set(rep)
    assert "<script" not in (out / "triage.html").read_text(encoding="utf-8")
    assert main(["triage", "--split", "dev", "--out", str(out), "--gate", "--thresholds", str(strict)]) == 1
