"""report.html: one self-contained page (inline CSS and SVG, no script, no CDN) that staff can open from disk or CI.

Everything that comes from the dataset or the bot goes through ``esc``: questions and answers are untrusted text.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from evals import metrics

SUMMARY_ROWS = (
    ("pass_rate", "pass rate (kind ∧ doc ∧ facts ∧ form ∧ language ∧ verdict)"),
    ("kind_accuracy", "kind accuracy"),
    ("doc_accuracy", "expected document shown"),
    ("hit@1", "retrieval hit@1"),
    ("hit@3", "retrieval hit@3"),
    ("mrr", "retrieval MRR"),
    ("fact_recall", "fact recall (groups)"),
    ("facts_all_rate", "all facts found (items)"),
    ("handoff_accuracy", "hand-off accuracy"),
    ("emergency_recall", "emergency recall"),
    ("groundedness_rate", "grounded answers"),
    ("answer_first_rate", "asked detail in the first sentence"),
    ("language_rate", "reply in the parent's language"),
    ("verdict_accuracy", "eligibility verdict right"),
    ("chars_per_sentence", "characters per sentence"),
    ("jreadability", "jReadability (higher = easier)"),
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
    ("llm_used_rate", "LLM text used (LLM mode only)"),
    ("judge_faithfulness", "LLM judge: faithfulness (--judge)"),
    ("judge_relevancy", "LLM judge: answer relevancy (--judge)"),
)
GROUP_COLS = ("n", "pass_rate", "kind_accuracy", "hit@1", "hit@3", "mrr", "fact_recall", "handoff_accuracy",
              "groundedness_rate", "answer_first_rate", "language_rate")  # fmt: skip

CSS = """
body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:2rem auto;max-width:1200px;color:#222;
padding:0 1rem;line-height:1.5}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b00020;font-weight:600}.good{color:#1b7f3b}.muted{color:#777}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
details{margin:.3rem 0;border:1px solid #eee;padding:.3rem .6rem}
summary{cursor:pointer}
pre{white-space:pre-wrap;background:#f7f7f7;padding:.5rem;font-size:.85rem}
code{background:#f2f2f2;padding:0 .2rem}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: Any, name: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if name.endswith("_ms") or name in ("chars_per_sentence", "jreadability"):
            return f"{value:.1f}" if name.endswith("_ms") or name == "chars_per_sentence" else f"{value:.2f}"
        return f"{value:.3f}"
    return str(value)


# --- SVG charts -----------------------------------------------------------------------------------------------------


def svg_confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """Heat-map, rows = expected kind, columns = actual kind; colour is the share of the row."""
    cell, left, top = 64, 110, 100
    n = len(labels)
    w, h = left + cell * n + 50, top + cell * n + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="confusion matrix" font-size="12">']  # fmt: skip
    parts.append(f'<text x="{left + cell * n / 2}" y="14" text-anchor="middle" font-weight="bold">actual kind</text>')
    parts.append(f'<text x="12" y="{top + cell * n / 2}" text-anchor="middle" font-weight="bold" '
                 f'transform="rotate(-90 12 {top + cell * n / 2})">expected kind</text>')  # fmt: skip
    for j, lab in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(f'<text x="{x}" y="{top - 8}" text-anchor="start" transform="rotate(-40 {x} {top - 8})">'
                     f"{esc(lab)}</text>")  # fmt: skip
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        y = top + i * cell
        parts.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">{esc(labels[i])}</text>')
        for j, v in enumerate(row):
            share = v / total
            if i == j:
                fill = f"rgba(27,127,59,{0.12 + 0.88 * share:.3f})"
            else:
                fill = f"rgba(176,0,32,{0.05 + 0.95 * share:.3f})" if v else "#fafafa"
            x = left + j * cell
            color = "#fff" if share > 0.55 else "#222"
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                         f"<title>{esc(labels[i])} → {esc(labels[j])}: {v}</title></rect>")  # fmt: skip
            parts.append(f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                         f'fill="{color}">{v}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def svg_hit_bars(groups: Mapping[str, Mapping[str, Any]], keys: Sequence[str] = ("hit@1", "hit@3")) -> str:
    """Horizontal grouped bars per category (labels are Japanese, so they go on the left)."""
    rows = [(g, m) for g, m in groups.items() if m.get("n_retrieval")]
    colors = ("#3b6fb6", "#9cc3e6", "#c9def2")
    bar, gap, left, width = 12, 10, 150, 360
    h = 30 + len(rows) * (bar * len(keys) + gap) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{h}" role="img" '
             f'aria-label="retrieval hit@k per category" font-size="12">']  # fmt: skip
    for k, key in enumerate(keys):
        parts.append(f'<rect x="{left + k * 90}" y="4" width="12" height="12" fill="{colors[k]}"/>'
                     f'<text x="{left + k * 90 + 16}" y="14">{esc(key)}</text>')  # fmt: skip
    y = 30
    for g, m in rows:
        parts.append(f'<text x="{left - 6}" y="{y + bar * len(keys) / 2 + 4}" text-anchor="end">{esc(g)} '
                     f"(n={m['n_retrieval']})</text>")  # fmt: skip
        for k, key in enumerate(keys):
            v = m.get(key) or 0.0
            parts.append(f'<rect x="{left}" y="{y}" width="{width * v:.1f}" height="{bar - 1}" fill="{colors[k]}">'
                         f"<title>{esc(g)} {esc(key)} = {v:.3f}</title></rect>")  # fmt: skip
            parts.append(f'<text x="{left + width * v + 4:.1f}" y="{y + bar - 2}" font-size="10">{v:.2f}</text>')
            y += bar
        y += gap
    parts.append(f'<line x1="{left}" y1="26" x2="{left}" y2="{y}" stroke="#999"/>')
    parts.append(
        f'<line x1="{left + width}" y1="26" x2="{left + width}" y2="{y}" stroke="#ddd" '
        f'stroke-dasharray="3 3"/><text x="{left + width}" y="{y + 12}" text-anchor="middle">1.0</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def svg_latency(latencies: Sequence[float], bins: int = 20) -> str:
    if not latencies:
        return '<p class="muted">no latencies</p>'
    width, height, left, bottom = 460, 180, 40, 30
    hi = max(latencies) or 1.0
    step = hi / bins
    counts = [0] * bins
    for v in latencies:
        counts[min(int(v / step), bins - 1) if step else 0] += 1
    top = max(counts) or 1
    bw = width / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" height="{height + bottom + 20}" '
             f'role="img" aria-label="latency histogram" font-size="11">']  # fmt: skip
    for i, c in enumerate(counts):
        bh = height * c / top
        x = left + i * bw
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bh + 10:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" '
            f'fill="#6a8caf"><title>{i * step:.0f}–{(i + 1) * step:.0f} ms: {c}</title></rect>'
        )
    for q, color, ty in ((50, "#1b7f3b", 22), (95, "#b00020", 38)):
        v = metrics.percentile(latencies, q) or 0.0
        x = left + width * v / hi
        parts.append(
            f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height + 10}" stroke="{color}" '
            f'stroke-dasharray="4 2"/><text x="{x + 3:.1f}" y="{ty}" fill="{color}">p{q} {v:.0f} ms</text>'
        )
    parts.append(f'<line x1="{left}" y1="{height + 10}" x2="{left + width}" y2="{height + 10}" stroke="#999"/>')
    for frac in (0, 0.5, 1):
        parts.append(f'<text x="{left + width * frac:.1f}" y="{height + 26}" text-anchor="middle">'
                     f"{hi * frac:.0f} ms</text>")  # fmt: skip
    parts.append(f'<text x="{left - 4}" y="18" text-anchor="end">{top}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- tables ---------------------------------------------------------------------------------------------------------


def _summary_table(summary: Mapping[str, Any], cmp: Mapping[str, Any] | None) -> str:
    head = "<tr><th>metric</th><th>value</th>" + ("<th>baseline</th><th>Δ</th>" if cmp else "") + "</tr>"
    rows = [head]
    for key, label in SUMMARY_ROWS:
        cells = f"<td>{esc(label)}</td><td class=num>{fmt(summary.get(key), key)}</td>"
        if cmp:
            d = cmp.get(key)
            if d:
                cls = "bad" if d["regression"] else ("good" if d["delta"] * metrics.DIRECTION[key] > 1e-9 else "")
                mark = " ▼ regression" if d["regression"] else ""
                cells += (f"<td class=num>{fmt(d['baseline'], key)}</td>"
                          f"<td class='num {cls}'>{d['delta']:+.4f}{mark}</td>")  # fmt: skip
            else:
                cells += "<td>–</td><td>–</td>"
        rows.append(f"<tr>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _group_table(groups: Mapping[str, Mapping[str, Any]], title: str, cmp: Mapping[str, Any] | None) -> str:
    head = f"<tr><th>{esc(title)}</th>" + "".join(f"<th>{esc(c)}</th>" for c in GROUP_COLS) + "</tr>"
    rows = [head]
    for g, m in groups.items():
        cells = [f"<td>{esc(g)}</td>"]
        for c in GROUP_COLS:
            text = fmt(m.get(c), c)
            d = (cmp or {}).get(g, {}).get(c)
            cls = "num"
            if d and abs(d["delta"]) > 1e-9:
                text += f" ({d['delta']:+.2f})"
                cls += " bad" if d["regression"] else " good"
            cells.append(f"<td class='{cls}'>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _failing_items(items: Sequence[Mapping[str, Any]]) -> str:
    failing = [r for r in items if not r["pass"]]
    if not failing:
        return "<p class=good>Every item passed.</p>"
    reasons: dict[str, int] = {}
    for r in failing:
        for why in r["fail_reasons"]:
            reasons[why] = reasons.get(why, 0) + 1
    by_reason = ", ".join(f"{esc(k)} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
    out = [f"<p>{len(failing)} of {len(items)} items fail (by reason: {by_reason}). Open one to see why.</p>"]
    for r in failing:
        facts = "".join(
            f"<li class='{'good' if ok else 'bad'}'>{'✓' if ok else '✗'} {esc(' / '.join(g))}</li>"
            for g, ok in zip(r["expect_facts"], r["facts"], strict=True)
        )
        cites = "".join(f"<li><code>{esc(c['doc_id'])}</code> {esc(c['title'])}</li>" for c in r["top_citations"])
        out.append(
            f"<details id='item-{esc(r['id'])}'><summary><b>{esc(r['id'])}</b> "
            f"<span class=bad>[{esc(', '.join(r['fail_reasons']))}]</span> {esc(r['question'])} "
            f"<span class=muted>({esc(r['style'])})</span></summary>"
            "<table>"
            f"<tr><th>kind</th><td>expected <b>{esc(r['expect_kind'])}</b>, got "
            f"<b class='{'good' if r['kind_ok'] else 'bad'}'>{esc(r['kind'])}</b> "
            f"<span class=muted>{esc(r.get('reason'))}</span></td></tr>"
            f"<tr><th>documents</th><td>expected {esc(', '.join(r['expect_docs']) or '(none)')}; shown "
            f"<span class='{'good' if r['doc_ok'] else 'bad'}'>{esc(', '.join(r['shown_docs']) or '(none)')}</span>"
            f"; retrieval rank {esc(r['rank'] if r['rank_applicable'] else 'n/a')} "
            f"<span class=muted>(top: {esc(', '.join(r['ranked']))})</span></td></tr>"
            f"<tr><th>facts</th><td><ul>{facts or '<li class=muted>none expected</li>'}</ul></td></tr>"
            f"<tr><th>form</th><td>expected {esc(r['expect_form'] or '–')}, got {esc(r['form'] or '–')}</td></tr>"
            f"<tr><th>top citations</th><td><ul>{cites or '<li class=muted>none</li>'}</ul></td></tr>"
            + (f"<tr><th>ungrounded</th><td class=bad>{esc('; '.join(r['violations']))}</td></tr>"
               if r["violations"] else "")
            + f"<tr><th>note</th><td>{esc(r.get('note'))}</td></tr>"
            "</table>"
            f"<pre>{esc(r['text'])}</pre></details>"
        )  # fmt: skip
    return "".join(out)


def _violations(report: Mapping[str, Any]) -> str:
    rows = report.get("violations") or []
    if not rows:
        return "<p class=good>No ungrounded numbers.</p>"
    body = "".join(
        f"<tr><td><a href='#item-{esc(v['id'])}'>{esc(v['id'])}</a></td><td>{esc(v['kind'])}</td>"
        f"<td>{esc(v['question'])}</td><td class=bad>{esc('; '.join(v['violations']))}</td></tr>"
        for v in rows
    )
    return ("<p>Numbers, amounts, dates and phone numbers in the answer that none of the cited documents contains "
            "(bot.answering.grounding.check_grounded).</p><table><tr><th>id</th><th>kind</th><th>question</th>"
            f"<th>violations</th></tr>{body}</table>")  # fmt: skip


def _compare_block(cmp: Mapping[str, Any] | None) -> str:
    if not cmp:
        return ""
    regs = cmp.get("regressions") or []
    parts = ["<h2>Against the baseline</h2>"]
    if regs:
        parts.append(f"<p class=bad>{len(regs)} regression(s): " + esc(", ".join(regs)) + "</p>")
    else:
        parts.append("<p class=good>No regression against the baseline.</p>")
    for key, label, cls in (("newly_failing", "Newly failing", "bad"), ("newly_passing", "Newly passing", "good")):
        ids = cmp.get(key)
        if ids:
            links = ", ".join(f"<a href='#item-{esc(i)}'>{esc(i)}</a>" for i in ids)
            parts.append(f"<p class={cls}>{label} ({len(ids)}): {links}</p>")
    return "".join(parts)


def render_html(report: Mapping[str, Any]) -> str:
    meta = report.get("meta", {})
    cmp = report.get("compare")
    items = report.get("items", [])
    latencies = [r["latency_ms"] for r in items if r.get("latency_ms") is not None]
    conf = report["confusion"]
    meta_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta.items())
    sections = [
        "<!doctype html><html lang=ja><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>kosodate-bot evals {esc(meta.get('created', ''))}</title><style>{CSS}</style></head><body>",
        f"<h1>kosodate-bot evaluation: {esc(meta.get('dataset', ''))}</h1>",
        f"<table>{meta_rows}</table>",
        _compare_block(cmp),
        "<h2>Summary</h2>",
        _summary_table(report["summary"], (cmp or {}).get("summary")),
        "<h2>Charts</h2><div class=charts>",
        f"<figure>{svg_confusion(conf['labels'], conf['matrix'])}<figcaption>Kind confusion matrix "
        "(rows expected, columns actual)</figcaption></figure>",
        f"<figure>{svg_hit_bars(report.get('by_category', {}))}<figcaption>Retrieval hit@k per category"
        "</figcaption></figure>",
        f"<figure>{svg_latency(latencies)}<figcaption>Latency per question</figcaption></figure></div>",
        "<h2>By kind</h2>",
        _group_table(report.get("by_kind", {}), "expected kind", (cmp or {}).get("by_kind")),
        "<h2>By category</h2>",
        _group_table(report.get("by_category", {}), "category", (cmp or {}).get("by_category")),
        "<h2>By style</h2>",
        _group_table(report.get("by_style", {}), "style", (cmp or {}).get("by_style")),
        "<h2>By language</h2>",
        _group_table(report.get("by_lang", {}), "language", (cmp or {}).get("by_lang")),
        "<h2>By document</h2>",
        _group_table(report.get("by_doc", {}), "document", None),
        "<h2>Groundedness violations</h2>",
        _violations(report),
        "<h2>Failing items</h2>",
        _failing_items(items),
        "</body></html>",
    ]
    return "\n".join(sections)


def format_compare(cmp: Mapping[str, Any]) -> str:
    """Plain-text deltas for the terminal."""
    lines = ["metric                  baseline   current     delta"]
    for name, d in cmp["summary"].items():
        mark = "  REGRESSION" if d["regression"] else ""
        lines.append(f"{name:<22} {d['baseline']:>9.3f} {d['current']:>9.3f} {d['delta']:>+9.4f}{mark}")
    others = [r for r in cmp.get("regressions", []) if ":" in r]
    if others:
        lines.append("group regressions: " + ", ".join(others))
    if cmp.get("newly_failing"):
        lines.append("newly failing: " + ", ".join(cmp["newly_failing"]))
    if cmp.get("newly_passing"):
        lines.append("newly passing: " + ", ".join(cmp["newly_passing"]))
    n = len(cmp.get("regressions", []))
    lines.append(f"{n} regression(s) against the baseline" if n else "no regression against the baseline")
    return "\n".join(lines)


def format_summary(report: Mapping[str, Any]) -> str:
    s = report["summary"]
    lines = [f"{label:<40} {fmt(s.get(key), key)}" for key, label in SUMMARY_ROWS]
    lines.append("")
    lines.append(f"{'kind':<14}{'n':>5}{'pass':>8}{'kind ok':>9}{'hit@1':>8}{'facts':>8}")
    for kind, m in report.get("by_kind", {}).items():
        lines.append(f"{kind:<14}{m['n']:>5}{fmt(m['pass_rate']):>8}{fmt(m['kind_accuracy']):>9}"
                     f"{fmt(m['hit@1']):>8}{fmt(m['fact_recall']):>8}")  # fmt: skip
    for title, key in (("style", "by_style"), ("language", "by_lang")):
        groups = report.get(key, {})
        if len(groups) > 1:
            lines.append("")
            lines.append(f"{title:<20}{'n':>5}{'pass':>8}{'first':>8}{'lang':>8}")
            for name, m in groups.items():
                lines.append(f"{name:<20}{m['n']:>5}{fmt(m['pass_rate']):>8}{fmt(m.get('answer_first_rate')):>8}"
                             f"{fmt(m.get('language_rate')):>8}")  # fmt: skip
    return "\n".join(lines)


def dump_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1)
