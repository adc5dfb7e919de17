"""Every validator message staff can meet has a Japanese translation (bot.knowledge.ja).

The messages are read from the validator's source (every ``Problem(..., message)``, ``err(..., message)``, the
``ValueError`` texts that become messages, and ``msg = ...``), with each ``{placeholder}`` filled by a sample value:
a new check added in English without a translation fails here."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from bot.answering.results import AnswerKind
from bot.knowledge import load_knowledge
from bot.knowledge.ja import PATTERNS, kind_label, matches, translate_message, translate_reindex_error

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = sorted((ROOT / "bot" / "knowledge").glob("*.py"))
SAMPLE = "sample-1"


def _sample(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else SAMPLE for v in node.values)  # type: ignore[misc]
    if isinstance(node, ast.IfExp):  # msg = a if ... else b: both
        return None
    return None


def validator_messages() -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for path in VALIDATOR:
        if path.name == "ja.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            args: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "Problem" and len(node.args) >= 3:
                    args = [node.args[2]]
                elif name == "err" and node.args:
                    # err(msg) / err(key, msg) / err(key, msg, level)
                    args = [node.args[0] if len(node.args) == 1 else node.args[1]]
                elif name == "ValueError" and node.args:
                    args = [node.args[0]]
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "msg" for t in node.targets):
                v = node.value
                args = [v.body, v.orelse] if isinstance(v, ast.IfExp) else [v]
            for a in args:
                text = _sample(a)
                if text is not None and text != SAMPLE:
                    found.append((path.name, node.lineno, text))
    return found


MESSAGES = validator_messages()


def test_the_source_scan_finds_the_validator_messages() -> None:
    texts = [m for _, _, m in MESSAGES]
    assert len(texts) > 60
    assert f"missing required field '{SAMPLE}'" in texts and f"invalid YAML: {SAMPLE}" in texts


@pytest.mark.parametrize(("file", "line", "message"), MESSAGES, ids=[f"{f}:{n}" for f, n, _ in MESSAGES])
def test_every_validator_message_has_a_translation(file: str, line: int, message: str) -> None:
    assert matches(message), f"{file}:{line}: no Japanese for {message!r}: add it to bot/knowledge/ja.py"
    ja = translate_message(message)
    assert ja != message and re.search(r"[ぁ-んァ-ン一-龥]", ja), ja


def test_translations_fill_in_the_values() -> None:
    assert translate_message("missing required field 'title'") == "必須の項目「title」がありません。"
    assert translate_message("'forms' must be a list of strings") == "「forms」は文字列のリストにしてください。"
    got = translate_message("invalid YAML: expected ',' or ']', but got '<scalar>'")
    assert got == "YAML の書き方に誤りがあります: 「[ ]」のリストの中で「,」か「]」が足りません"
    assert "unknown" not in translate_message("form 'x': unknown channel 'FAX'")


def test_every_pattern_is_reachable() -> None:
    """No entry hides behind an earlier, more general one (each has a message of its own that reaches it)."""
    first = {}
    for _, _, message in MESSAGES:
        for rx, _ja in PATTERNS:
            if rx.match(message):
                first.setdefault(rx.pattern, message)
                break
    unused = [rx.pattern for rx, _ in PATTERNS if rx.pattern not in first]
    # the wrappers of other messages ("'key' <message>", "form 'x': <message>") are reached by composed messages
    assert all("inner" in p or p.startswith("^must be") or "not an ISO date" in p for p in unused), unused


def test_real_problems_of_a_broken_folder_read_in_japanese(tmp_path: Path) -> None:
    import shutil

    kdir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kdir)
    doc = kdir / "procedures" / "jidou-teate.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("title:", "x_title:", 1), encoding="utf-8")
    (kdir / "forms.yaml").write_text("forms: [a, b\n", encoding="utf-8")
    kb = load_knowledge(kdir, date(2026, 12, 1))
    assert kb.problems
    for p in kb.problems:
        assert matches(p.message) or p.message.startswith("invalid YAML"), p


def test_kinds_and_reindex_errors() -> None:
    assert {k.value for k in AnswerKind} <= {"answer", "no_answer", "clarify", "emergency", "out_of_scope"}
    assert all(kind_label(k.value) != k.value for k in AnswerKind)
    assert kind_label("answer") == "回答" and kind_label("no_answer") == "回答なし"
    err = "knowledge has errors:\nknowledge/procedures/a.md:3: error: missing required field 'title'"
    assert (
        translate_reindex_error(err).splitlines()[1]
        == "knowledge/procedures/a.md 3行目 エラー: 必須の項目「title」がありません。"
    )


def test_the_bots_reasons_read_in_japanese() -> None:
    """Every literal reason the answer path gives (read from its source) has a Japanese label."""
    from bot.knowledge.ja import reason_label
    from bot.safety.scope import OutOfScope

    source = (ROOT / "bot" / "answering" / "answer.py").read_text(encoding="utf-8")
    literal = re.findall(r'(?:_compose|_clarify|_no_answer)\(q, [^"\n]*"([^"]+)"', source)
    literal += re.findall(r'reason=reason or \("([^"]+)" if unknown else "([^"]+)"\)', source)[0]
    assert len(literal) >= 6
    for reason in [*literal, *(o.value for o in OutOfScope), "2 questions in one message", "life (rule+model, p=0.97)",
                   "curated answer #3 (similarity 0.71)"]:  # fmt: skip
        assert reason_label(reason) != reason and re.search(r"[ぁ-んァ-ン一-龥]", reason_label(reason)), reason
    assert reason_label("life (rule+model, p=0.97)") == "緊急: 命に関わる(規則と判定モデル、確からしさ 0.97)"


def test_every_audited_action_has_a_label() -> None:
    from bot.knowledge.ja import ACTION_LABELS

    source = "".join(p.read_text(encoding="utf-8") for d in ("bot", "web") for p in (ROOT / d).rglob("*.py"))
    actions = set(re.findall(r'audit\(\s*[^,]+,\s*"([a-z_]+\.[a-z_]+)"', source))
    actions |= set(re.findall(r'"(auth\.[a-z_]+)"', source))
    assert {"knowledge.publish", "auth.sign_in", "user.add"} <= actions
    assert actions <= set(ACTION_LABELS), actions - set(ACTION_LABELS)
