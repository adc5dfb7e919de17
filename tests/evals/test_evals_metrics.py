"""Metric functions on small cases whose right values were computed by hand (in the comments)."""

from __future__ import annotations

import math

import pytest

from bot.answering.grounding import check_grounded
from evals import metrics

# --- facts: the same normalisation on both sides ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["15,000円", "15000円", "1万5千円", "１５，０００円", "１万５千円", "15, 000円"])
def test_amount_spellings_normalise_to_one_form(text: str) -> None:
    assert metrics.fact_norm(text) == "15000円"


def test_a_date_matches_in_any_of_its_notations() -> None:
    answer = "令和7年4月1日以降に生まれた子が対象です。申込は2025年11月1日から。R8年3月まで。"
    assert metrics.fact_hits(answer, [["R7.4.1以降"], ["R7.11.1"], ["R8.3まで"]]) == [True, True, True]
    assert metrics.fact_hits(answer, [["R7.4.2"], ["R6.4.1"], ["H7.4.1"]]) == [False, False, False]
    assert metrics.fact_norm("ver1.5.2") == "ver1.5.2"  # not a date


def test_fact_hits_any_alternative_in_each_group() -> None:
    answer = "3歳未満は1か月1万5千円です。電話 ０３－５２４６－１２３２"
    groups = [["15,000円"], ["3歳", "三歳"], ["03-5246-1232"], ["30,000円"]]
    assert metrics.fact_hits(answer, groups) == [True, True, True, False]


def test_fact_hits_perfect_empty_and_no_groups() -> None:
    assert metrics.fact_hits("15,000円", [["15000円"]]) == [True]
    assert metrics.fact_hits("", [["15,000円"], ["保健所"]]) == [False, False]
    assert metrics.fact_hits("なんでも", []) == []


def test_fact_hits_adversarial_near_miss_amount() -> None:
    # 150,000円 → 150000円 does not contain 15000円 (the 6th character is 0, not 円)
    assert metrics.fact_hits("150,000円です", [["15,000円"]]) == [False]
    # an empty alternative never matches everything
    assert metrics.fact_hits("何か", [[""]]) == [False]


def test_groundedness_uses_the_same_normalisation() -> None:
    # the shared bot.answering.grounding check: 1万5千円 is grounded by a source that says 15,000円, 20,000円 is not
    assert check_grounded("1万5千円です", ["月15,000円"]) == []
    assert [str(v) for v in check_grounded("20,000円です", ["月15,000円"])] == ["number: 20000円"]


# --- retrieval ------------------------------------------------------------------------------------------------------


def test_first_rank() -> None:
    assert metrics.first_rank(["a", "b"], ["x", "b", "a"]) == 2
    assert metrics.first_rank(["a"], ["x", "y"]) is None
    assert metrics.first_rank(["a"], []) is None
    assert metrics.first_rank([], ["a"]) is None


def test_hit_and_mrr_by_hand() -> None:
    ranks = [1, 2, None, 4]
    assert metrics.hit_at(ranks, 1) == 0.25
    assert metrics.hit_at(ranks, 3) == 0.5
    assert metrics.mrr(ranks) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)  # 0.4375
    assert metrics.mrr(ranks, cutoff=3) == pytest.approx((1 + 0.5) / 4)  # 0.375
    assert metrics.hit_at([], 1) is None and metrics.mrr([]) is None
    assert metrics.hit_at([1, 1], 1) == 1.0 and metrics.mrr([1, 1]) == 1.0
    assert metrics.hit_at([None, None], 3) == 0.0 and metrics.mrr([None]) == 0.0


# --- kinds ----------------------------------------------------------------------------------------------------------


def test_confusion_and_recall() -> None:
    pairs = [("answer", "answer"), ("answer", "clarify"), ("emergency", "answer"), ("emergency", "emergency")]
    labels = ("answer", "clarify", "emergency")
    assert metrics.confusion(pairs, labels) == [[1, 1, 0], [0, 0, 0], [1, 0, 1]]
    assert metrics.recall_of(pairs, "emergency") == 0.5
    assert metrics.recall_of(pairs, "clarify") is None  # nothing expected as clarify: not measured, not 0
    assert metrics.confusion([("answer", "bogus")], labels) == [[0, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_rate() -> None:
    assert metrics.rate([True, False, True, True]) == 0.75
    assert metrics.rate([]) is None


# --- readability and latency ----------------------------------------------------------------------------------------


def test_sentences_and_chars_per_sentence() -> None:
    assert metrics.sentences("今日は晴れ。明日は雨!\n出典: x\n\n") == ["今日は晴れ。", "明日は雨!", "出典:x"]
    # "あいう。" = 4 chars, "えお。" = 3 chars → 7 / 2
    assert metrics.chars_per_sentence(["あいう。えお。", ""]) == 3.5
    assert metrics.chars_per_sentence(["", "  "]) is None


def test_percentile_linear_interpolation() -> None:
    values = [1.0, 2.0, 3.0, 10.0]
    assert metrics.percentile(values, 50) == 2.5
    assert metrics.percentile(values, 95) == pytest.approx(8.95)  # position 2.85: 3 + 0.85 * 7
    assert metrics.percentile([], 50) is None


# --- Spearman -------------------------------------------------------------------------------------------------------


def test_rankdata_average_ties() -> None:
    assert metrics.rankdata([10, 20, 20, 30]).tolist() == [1.0, 2.5, 2.5, 4.0]
    assert metrics.rankdata([3, 1, 2]).tolist() == [3.0, 1.0, 2.0]


def test_spearman_by_hand() -> None:
    assert metrics.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert metrics.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert metrics.spearman([1, 2, 3, 4], [1, 8, 27, 64]) == pytest.approx(1.0)  # monotone, not linear
    # ties: ranks x [1, 2.5, 2.5, 4], y [1, 2, 3, 4] → 4.5 / sqrt(4.5 * 5) = 0.948683
    assert metrics.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(22.5))
    assert math.isnan(metrics.spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError):
        metrics.spearman([1, 2], [1])


# --- per item and per group -----------------------------------------------------------------------------------------


def test_item_passes() -> None:
    assert metrics.item_passes(True, True, [True, True], None) == (True, [])
    assert metrics.item_passes(True, True, [], True) == (True, [])
    assert metrics.item_passes(False, True, [True], False) == (False, ["kind", "form"])
    assert metrics.item_passes(True, False, [True, False], None) == (False, ["document", "facts"])


def test_summarize_by_hand(make_record) -> None:  # type: ignore[no-untyped-def]
    records = [
        # perfect answer
        make_record(id="a", latency_ms=10.0),
        # wrong document, rank 2, one of two fact groups, wrong form, one ungrounded number
        make_record(id="b", doc_ok=False, shown_docs=["x"], rank=2, facts=[True, False], expect_form="f",
                    form="g", form_ok=False, violations=["number: 20000円"], pass_=False, latency_ms=20.0,
                    prose="あいう。えお。"),
        # missed emergency (answered as a normal answer), no retrieval rank for emergencies
        make_record(id="c", expect_kind="emergency", kind="answer", kind_ok=False, rank_applicable=False, rank=None,
                    facts=[False], latency_ms=30.0, prose=""),
        # out of scope, right, nothing expected
        make_record(id="d", expect_kind="out_of_scope", kind="out_of_scope", expect_docs=[], rank_applicable=False,
                    rank=None, facts=[], latency_ms=40.0, prose=""),
    ]  # fmt: skip
    for r in records:
        r["pass"] = r.pop("pass_", r["kind_ok"] and r["doc_ok"] and all(r["facts"]))
    s = metrics.summarize(records)
    assert s["n"] == 4
    assert s["pass_rate"] == 0.5  # a, d
    assert s["kind_accuracy"] == 0.75  # c wrong
    assert s["doc_accuracy"] == pytest.approx(2 / 3)  # a, b, c expect docs; b wrong
    assert s["n_retrieval"] == 2 and s["hit@1"] == 0.5 and s["hit@3"] == 1.0 and s["mrr"] == 0.75
    assert s["n_fact_groups"] == 4 and s["fact_recall"] == 0.5  # a:1/1, b:1/2, c:0/1
    assert s["facts_all_rate"] == pytest.approx(1 / 3)
    assert s["n_forms"] == 1 and s["handoff_accuracy"] == 0.0
    assert s["emergency_recall"] == 0.0
    assert s["groundedness_rate"] == 0.75 and s["n_violations"] == 1
    # prose: a "3歳未満は15,000円です。" = 15 chars, 1 sentence; b 7 chars, 2 sentences → 22 / 3
    assert s["chars_per_sentence"] == pytest.approx(22 / 3)
    assert s["latency_p50_ms"] == 25.0 and s["latency_p95_ms"] == pytest.approx(38.5)


def test_summarize_empty() -> None:
    s = metrics.summarize([])
    assert s["n"] == 0 and s["pass_rate"] is None and s["hit@1"] is None and s["latency_p95_ms"] is None


def test_group_by_list_field_puts_item_in_each_group(make_record) -> None:  # type: ignore[no-untyped-def]
    rs = [make_record(id="a", expect_docs=["x", "y"]), make_record(id="b", expect_docs=[])]
    groups = metrics.group_by(rs, "expect_docs")
    assert {k: [r["id"] for r in v] for k, v in groups.items()} == {"(none)": ["b"], "x": ["a"], "y": ["a"]}


def test_compare_marks_regressions_and_changed_items() -> None:
    base = {
        "summary": {
            "pass_rate": 0.8,
            "hit@1": 0.9,
            "latency_p95_ms": 100.0,
            "latency_p50_ms": 10.0,
            "jreadability": 3.0,
        },
        "by_kind": {"answer": {"pass_rate": 0.7}},
        "passed_ids": ["q1", "q2"],
        "item_ids": ["q1", "q2", "q3"],
    }
    cur = {
        "summary": {
            "pass_rate": 0.7,
            "hit@1": 0.95,
            "latency_p95_ms": 140.0,
            "latency_p50_ms": 100.0,
            "jreadability": 1.0,
        },
        "by_kind": {"answer": {"pass_rate": 0.6}},
        "passed_ids": ["q1", "q3"],
        "item_ids": ["q1", "q2", "q3"],
    }
    c = metrics.compare(cur, base)
    assert c["summary"]["pass_rate"]["delta"] == pytest.approx(-0.1) and c["summary"]["pass_rate"]["regression"]
    assert not c["summary"]["hit@1"]["regression"]
    tiny = metrics.compare(
        {**cur, "summary": {**cur["summary"], "n": 4}}, {**base, "summary": {**base["summary"], "n": 4}}
    )
    assert not tiny["summary"]["latency_p50_ms"]["regression"]  # 4 items: timing is noise, never a regression
    assert not c["summary"]["latency_p95_ms"]["regression"]  # +40% is within the 50% noise allowance
    assert c["summary"]["latency_p50_ms"]["regression"]  # 10x slower
    assert not c["summary"]["jreadability"]["regression"]  # informational only
    assert c["by_kind"]["answer"]["pass_rate"]["regression"]
    assert c["newly_failing"] == ["q2"] and c["newly_passing"] == ["q3"]
    assert c["regressions"] == ["pass_rate", "latency_p50_ms", "by_kind:answer:pass_rate"]


def test_compare_against_itself_has_no_regression() -> None:
    rep = {"summary": {"pass_rate": 0.5, "hit@1": 0.9}, "by_kind": {}, "passed_ids": ["a"]}
    c = metrics.compare(rep, rep)
    assert c["regressions"] == [] and c["newly_failing"] == [] and c["newly_passing"] == []


def test_group_latency_is_shown_but_never_a_regression() -> None:
    base = {"summary": {}, "by_style": {"long": {"latency_p95_ms": 10.0, "pass_rate": 0.5}}}
    cur = {"summary": {}, "by_style": {"long": {"latency_p95_ms": 100.0, "pass_rate": 0.5}}}
    c = metrics.compare(cur, base)
    assert c["by_style"]["long"]["latency_p95_ms"]["delta"] == 90.0
    assert c["regressions"] == []
