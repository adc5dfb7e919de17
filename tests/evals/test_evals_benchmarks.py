"""JSQuAD and JSTS commands on tiny synthetic files in the JGLUE format: the last printed line is the JSON result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.__main__ import main

PARAGRAPHS = [
    ("梅雨", "梅雨 [SEP] 梅雨は、5月から7月にかけて東アジアで見られる雨の多い季節である。", ["梅雨が見られるのは何月から何月か?"]),
    ("富士山", "富士山 [SEP] 富士山は静岡県と山梨県にまたがる日本一高い山で、標高は3776メートルである。",
     ["日本一高い山の標高は?", "富士山はどの県にまたがっている?"]),
    ("将棋", "将棋 [SEP] 将棋は二人で行うボードゲームで、相手の玉将を詰ませた方が勝ちとなる。", ["将棋で勝つには何を詰ませる?"]),
]  # fmt: skip


def _jsquad(tmp_path: Path) -> Path:
    data = {"version": "v1.3", "data": [
        {"title": title, "paragraphs": [{"context": ctx, "qas": [
            {"question": q, "id": f"{title}{i}", "answers": [{"text": "x", "answer_start": 0}], "is_impossible": False}
            for i, q in enumerate(qs)]}]}
        for title, ctx, qs in PARAGRAPHS]}  # fmt: skip
    p = tmp_path / "jsquad-tiny.json"
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return p


def _last_json(out: str) -> dict:  # type: ignore[type-arg]
    return json.loads(out.strip().splitlines()[-1])


def test_jsquad_last_line_is_the_result(bot_env: dict[str, str], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert main(["jsquad", "--data", str(_jsquad(tmp_path)), "--quiet"]) == 0
    res = _last_json(capsys.readouterr().out)
    keys = {"n", "hit@1", "hit@5", "mrr@10", "qps"}
    assert set(res) == keys | {"legs"} and set(res["legs"]) == {"keyword", "dense"}
    for r in (res, res["legs"]["keyword"], res["legs"]["dense"]):
        assert set(r) - {"legs"} == keys and r["n"] == 4 and r["qps"] > 0
        assert 0 <= r["hit@1"] <= r["hit@5"] <= 1 and 0 <= r["mrr@10"] <= 1
    assert res["hit@5"] == 1.0  # three paragraphs: every question's own paragraph is in the top five
    assert res["legs"]["keyword"]["hit@1"] == 1.0  # each question shares its paragraph's key words


def test_jsquad_limit(bot_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jsquad", "--data", str(_jsquad(tmp_path)), "--limit", "2", "--quiet"]) == 0
    assert _last_json(capsys.readouterr().out)["n"] == 2


def test_jsts_last_line_is_the_result(bot_env: dict[str, str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    rows = [
        ("猫がソファの上で寝ています。", "ソファで猫が眠っている。", 4.8),
        ("男性が自転車に乗っています。", "自転車に乗る男の人がいます。", 4.2),
        ("子どもが公園で遊んでいます。", "公園のベンチに老人が座っています。", 1.5),
        ("赤い車が駐車場に停まっています。", "海の上を鳥が飛んでいます。", 0.0),
    ]
    p = tmp_path / "jsts-tiny.json"
    p.write_text("".join(json.dumps({"sentence_pair_id": str(i), "yjcaptions_id": "x", "sentence1": a,
                                     "sentence2": b, "label": s}, ensure_ascii=False) + "\n"
                         for i, (a, b, s) in enumerate(rows)), encoding="utf-8")  # fmt: skip
    assert main(["jsts", "--data", str(p)]) == 0
    res = _last_json(capsys.readouterr().out)
    assert set(res) == {"n", "spearman"} and res["n"] == 4
    assert 0 < res["spearman"] <= 1  # the default embedder ranks paraphrases above unrelated pairs
