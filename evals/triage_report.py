"""triage.html and the terminal summary of ``python -m evals triage``: recall, "right number shown" and false alarms
overall and by level, style and language, then every miss and every false alarm (untrusted text, escaped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evals.report import CSS, esc, fmt

SUMMARY = (
    ("recall", "emergencies recognised (any level)"),
    ("number_recall", "right number shown"),
    ("level_accuracy", "level as written"),
    ("lang_accuracy", "answered in the message's language"),
    ("false_alarm_rate", "false alarms on ordinary questions"),
    ("latency_p50_ms", "whole answer latency p50 (ms)"),
    ("latency_p95_ms", "whole answer latency p95 (ms)"),
)
COLS = ("positives", "recall", "number_recall", "level_accuracy", "lang_accuracy", "negatives", "false_alarm")


def _table(groups: Mapping[str, Mapping[str, Any]], title: str) -> str:
    rows = [f"<tr><th>{esc(title)}</th>" + "".join(f"<th>{esc(c)}</th>" for c in COLS) + "</tr>"]
    for g, m in groups.items():
        cells = [f"<td>{esc(g)}</td>"]
        for c in COLS:
            v = m.get(c)
            bad = (c == "false_alarm" and v is not None and v > 0.015) or (
                c in ("recall", "number_recall") and v is not None and v < 0.98
            )
            cells.append(f"<td class='num{' bad' if bad else ''}'>{esc(fmt(v, c))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _items(items: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    if not items:
        return "<p class=good>none</p>"
    head = "<tr>" + "".join(f"<th>{esc(k)}</th>" for k in keys) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{esc(i.get(k))}</td>" for k in keys) + "</tr>" for i in items)
    return f"<table>{head}{body}</table>"


def render_html(rep: Mapping[str, Any]) -> str:
    meta = rep.get("meta", {})
    s = rep["summary"]
    summary = "".join(
        f"<tr><td>{esc(label)}</td><td class=num>{esc(fmt(s.get(k), k))}</td></tr>" for k, label in SUMMARY
    )
    return "\n".join([
        "<!doctype html><html lang=ja><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>kosodate-bot triage {esc(meta.get('split', ''))}</title><style>{CSS}</style></head><body>",
        f"<h1>Emergency triage: {esc(meta.get('split', ''))} split</h1>",
        f"<p class=muted>{esc(meta.get('created', ''))} · model {esc(meta.get('model'))}</p>",
        f"<h2>Summary</h2><table>{summary}</table>",
        "<h2>By level</h2>", _table(rep.get("by_level", {}), "level"),
        "<h2>By style</h2>", _table(rep.get("by_style", {}), "style"),
        "<h2>By language</h2>", _table(rep.get("by_lang", {}), "language"),
        "<h2>Missed or wrong number</h2>", _items(rep.get("misses", []), ("id", "level", "got", "lang", "style", "text")),
        "<h2>False alarms</h2>", _items(rep.get("false_alarms", []), ("id", "level", "lang", "text")),
        "</body></html>",
    ])  # fmt: skip


def format_summary(rep: Mapping[str, Any]) -> str:
    s = rep["summary"]
    lines = [f"triage: {s['positives']} emergencies, {s['negatives']} ordinary questions"]
    lines += [f"{label:<40} {fmt(s.get(k), k)}" for k, label in SUMMARY]
    for name in ("by_level", "by_lang", "by_style"):
        lines.append("")
        lines.append(f"{name[3:]:<12}{'pos':>5}{'recall':>8}{'number':>8}{'neg':>6}{'false':>8}")
        for g, m in rep.get(name, {}).items():
            lines.append(f"{g:<12}{m['positives']:>5}{fmt(m.get('recall')):>8}{fmt(m.get('number_recall')):>8}"
                         f"{m['negatives']:>6}{fmt(m.get('false_alarm')):>8}")  # fmt: skip
    return "\n".join(lines)
