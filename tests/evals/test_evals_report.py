"""report.html renders, is self-contained, lists failing items and escapes everything that came from outside."""

from __future__ import annotations

import re

from evals import metrics, report, runner


def _report(make_record):  # type: ignore[no-untyped-def]
    records = [
        make_record(id="q1"),
        make_record(id="q2", question="<script>alert('x')</script> 保育園 & 手当", kind="clarify", kind_ok=False,
                    doc_ok=False, shown_docs=["hoikuen-nyuen"], facts=[False], expect_facts=[["<b>15,000円</b>"]],
                    text="答え <img src=x onerror=alert(1)>", pass_=False, fail_reasons=["kind", "document", "facts"],
                    violations=["number: 99円"], latency_ms=250.0),
    ]  # fmt: skip
    for r in records:
        r["pass"] = r.pop("pass_", True)
    return runner.build_report(records, {"dataset": "tiny.jsonl", "created": "2026-11-27T00:00:00+00:00"})


def test_report_renders_failing_item_escaped(make_record) -> None:  # type: ignore[no-untyped-def]
    rep = _report(make_record)
    page = report.render_html(rep)
    assert page.startswith("<!doctype html>")
    # the failing item, with expected and actual values, is listed
    assert "id='item-q2'" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; 保育園 &amp; 手当" in page
    assert "&lt;b&gt;15,000円&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "expected <b>answer</b>, got" in page and ">clarify</b>" in page
    assert "number: 99円" in page
    # nothing from the data survives unescaped, and the page loads nothing from elsewhere
    assert "<script" not in page and "<img" not in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    # the passing item is not in the failing list
    assert "id='item-q1'" not in page
    # the three charts are inline SVG
    assert page.count("<svg") == 3
    assert 'aria-label="confusion matrix"' in page and 'aria-label="latency histogram"' in page


def test_report_with_compare_marks_regressions(make_record) -> None:  # type: ignore[no-untyped-def]
    rep = _report(make_record)
    base = runner.baseline_of(rep)
    base["summary"] = dict(base["summary"], pass_rate=1.0)
    base["passed_ids"] = ["q1", "q2"]
    rep["compare"] = metrics.compare(rep, base)
    page = report.render_html(rep)
    assert "regression" in page and "Newly failing (1)" in page and "href='#item-q2'" in page
    text = report.format_compare(rep["compare"])
    assert "pass_rate" in text and "REGRESSION" in text and "newly failing: q2" in text


def test_baseline_is_small_and_has_no_texts(make_record) -> None:  # type: ignore[no-untyped-def]
    base = runner.baseline_of(_report(make_record))
    assert set(base) >= {"summary", "by_kind", "confusion", "passed_ids"}
    assert "items" not in base and "by_doc" not in base
    assert "<script>" not in report.dump_json(base)


def test_empty_report_renders(make_record) -> None:  # type: ignore[no-untyped-def]
    page = report.render_html(runner.build_report([], {"dataset": "empty"}))
    assert "Every item passed." in page and "no latencies" in page
