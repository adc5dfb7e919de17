"""The gate fails (exit 1, readable message) when a metric is outside its threshold and passes otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import gate
from evals.__main__ import main

REPORT = {
    "summary": {"pass_rate": 0.70, "hit@1": 0.90, "emergency_recall": 0.95, "latency_p95_ms": 120.0, "mrr": None},
    "by_kind": {"answer": {"pass_rate": 0.65}},
}


def _write(tmp_path: Path, thresholds: str) -> tuple[Path, Path]:
    rp = tmp_path / "report.json"
    rp.write_text(json.dumps(REPORT), encoding="utf-8")
    tp = tmp_path / "thresholds.toml"
    tp.write_text(thresholds, encoding="utf-8")
    return rp, tp


def test_gate_passes_at_or_above_thresholds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rp, tp = _write(tmp_path, '[min]\npass_rate = 0.70\n"hit@1" = 0.85\n"by_kind.answer.pass_rate" = 0.6\n'
                              "[max]\nlatency_p95_ms = 500\n")  # fmt: skip
    assert main(["gate", "--report", str(rp), "--thresholds", str(tp)]) == 0
    assert "eval gate passed: 4 metrics" in capsys.readouterr().out


def test_gate_fails_below_threshold_with_readable_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rp, tp = _write(tmp_path, "[min]\nemergency_recall = 1.0\npass_rate = 0.5\n"
                              '"by_kind.answer.pass_rate" = 0.8\nmrr = 0.5\n[max]\nlatency_p95_ms = 100\n')  # fmt: skip
    assert main(["gate", "--report", str(rp), "--thresholds", str(tp)]) == 1
    out = capsys.readouterr().out
    assert "eval gate FAILED: 4 of 5 metrics" in out
    assert "emergency_recall = 0.95, below minimum 1" in out
    assert "by_kind.answer.pass_rate = 0.65, below minimum 0.8" in out
    assert "mrr: not measured" in out  # None is a failure, not a silent skip
    assert "latency_p95_ms = 120, above maximum 100" in out
    assert "pass_rate" not in out.split("below minimum 1")[1].split("by_kind")[0]


def test_bad_thresholds_file_is_rejected(tmp_path: Path) -> None:
    _, tp = _write(tmp_path, '[min]\npass_rate = "high"\n')
    with pytest.raises(gate.ThresholdError, match="must be a number"):
        gate.load_thresholds(tp)
    tp.write_text("[minimum]\npass_rate = 0.5\n")
    with pytest.raises(gate.ThresholdError, match="unknown table"):
        gate.load_thresholds(tp)


def test_repo_thresholds_name_metrics_the_baseline_has() -> None:
    thresholds = gate.load_thresholds()
    assert thresholds["min"]["emergency_recall"] == 1.0
    baseline = json.loads((Path(gate.__file__).parent / "baseline.json").read_text(encoding="utf-8"))
    for table in thresholds.values():
        for name in table:
            assert gate.lookup(baseline, name) is not None, f"{name} is not in evals/baseline.json"
