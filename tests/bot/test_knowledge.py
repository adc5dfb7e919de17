from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from bot.knowledge import load_knowledge

TODAY = date(2026, 12, 2)


def _messages(kb) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(p) for p in kb.problems]


def test_real_knowledge_is_valid() -> None:
    kb = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge", TODAY)
    assert kb.errors == [], _messages(kb)
    assert len(kb.procedures) >= 35
    for p in kb.procedures.values():
        assert p.source_urls and all(u.startswith("http") for u in p.source_urls)
        assert p.checked <= TODAY
        assert not any("cdnext.stream.ne.jp" in u or "cache.yimg.jp" in u for u in p.source_urls), p.id
        assert p.section("overview") is not None, f"{p.id} has no 概要"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_unknown_office_and_form_are_reported_with_file_and_line(knowledge_copy: Path) -> None:
    doc = knowledge_copy / "procedures" / "jidou-teate.md"
    _edit(doc, "office: kosodate-wakamono", "office: no-such-office")
    _edit(doc, "forms: [mynaportal-jidouteate]", "forms: [no-such-form]")
    kb = load_knowledge(knowledge_copy, TODAY)
    msgs = _messages(kb)
    assert (
        f"knowledge/procedures/jidou-teate.md:{_line_of(doc, 'office:')}: error: unknown office id 'no-such-office'"
        in msgs
    )
    assert (
        f"knowledge/procedures/jidou-teate.md:{_line_of(doc, 'forms:')}: error: unknown form id 'no-such-form'" in msgs
    )


def test_missing_field_and_bad_date(knowledge_copy: Path) -> None:
    doc = knowledge_copy / "procedures" / "jidou-teate.md"
    text = doc.read_text(encoding="utf-8")
    text = re.sub(r"^title: .*\n", "", text, count=1, flags=re.M)
    text = re.sub(r"^checked: .*$", "checked: 2026-13-45", text, count=1, flags=re.M)
    doc.write_text(text, encoding="utf-8")
    kb = load_knowledge(knowledge_copy, TODAY)
    msgs = "\n".join(_messages(kb))
    assert "jidou-teate.md:2: error: missing required field 'title'" in msgs
    assert f"jidou-teate.md:{_line_of(doc, 'checked:')}: error: 'checked' is not a valid date" in msgs


def test_colliding_alias(knowledge_copy: Path) -> None:
    other = knowledge_copy / "procedures" / "support-018.md"
    _edit(other, "aliases: [", "aliases: [じどうてあて, ")
    msgs = "\n".join(_messages(load_knowledge(knowledge_copy, TODAY)))
    assert re.search(
        r"support-018\.md:\d+: error: alias or title 'じどうてあて' collides with document 'jidou-teate'", msgs
    )


def test_expired_is_excluded_with_warning_and_stale_warns(knowledge_copy: Path) -> None:
    doc = knowledge_copy / "procedures" / "support-018.md"
    _edit(doc, "checked: 2026-11-27", "checked: 2024-01-01\nvalid_until: 2025-03-31")
    kb = load_knowledge(knowledge_copy, TODAY, stale_days=365)
    warnings = [str(w) for w in kb.warnings]
    assert any("support-018.md" in w and "valid_until 2025-03-31 is in the past" in w for w in warnings)
    assert any("support-018.md" in w and "stale" in w for w in warnings)
    assert "support-018" not in {p.id for p in kb.active(TODAY)}
    assert kb.errors == []


def test_broken_front_matter_is_an_error_not_a_crash(knowledge_copy: Path) -> None:
    (knowledge_copy / "procedures" / "broken.md").write_text("---\nid: broken\ntitle: [unclosed\n---\n## 概要\nx\n")
    (knowledge_copy / "procedures" / "nofm.md").write_text("## 概要\n本文だけ\n")
    (knowledge_copy / "procedures" / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    kb = load_knowledge(knowledge_copy, TODAY)
    msgs = "\n".join(_messages(kb))
    assert "procedures/broken.md:" in msgs and "invalid YAML" in msgs
    assert "procedures/nofm.md:1: error: missing front matter" in msgs
    assert "procedures/binary.md:1: error: not valid UTF-8" in msgs


def test_forms_yaml_errors(knowledge_copy: Path) -> None:
    forms = knowledge_copy / "forms.yaml"
    text = forms.read_text(encoding="utf-8")
    forms.write_text(text + "  - id: broken-form\n    title: x\n    channel: LoGoフォーム\n", encoding="utf-8")
    kb = load_knowledge(knowledge_copy, TODAY)
    msgs = "\n".join(_messages(kb))
    assert "form is missing required field(s): url" in msgs


def test_symlinks_huge_documents_and_bad_encoding_are_refused(knowledge_copy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.md"
    secret.write_text((knowledge_copy / "procedures" / "jidou-teate.md").read_text(encoding="utf-8"), encoding="utf-8")
    (knowledge_copy / "procedures" / "link.md").symlink_to(secret)
    big = (knowledge_copy / "procedures" / "jidou-teate.md").read_text(encoding="utf-8")
    (knowledge_copy / "procedures" / "big.md").write_text(big.replace("id: jidou-teate", "id: big") + "あ" * 70_000,
                                                         encoding="utf-8")  # fmt: skip
    (knowledge_copy / "procedures" / "sjis.md").write_bytes("---\nid: sjis\n---\n児童手当".encode("shift_jis"))
    msgs = _messages(load_knowledge(knowledge_copy, TODAY))
    assert any("link.md" in m and "symbolic link" in m for m in msgs)
    assert any("big.md" in m and "over the 200,000-byte limit" in m for m in msgs)
    assert any("sjis.md" in m and "not valid UTF-8" in m for m in msgs)


def test_a_form_kind_must_be_application_or_information(knowledge_copy: Path) -> None:
    forms = knowledge_copy / "forms.yaml"
    text = forms.read_text(encoding="utf-8")
    forms.write_text(text.replace("\n    kind: application", "\n    kind: online", 1), encoding="utf-8")
    kb = load_knowledge(knowledge_copy, TODAY)
    assert any("kind must be one of application, information" in p.message for p in kb.errors)


def test_sources_carry_a_publisher_checked_against_the_host(knowledge_copy: Path) -> None:
    doc = knowledge_copy / "procedures" / "kyushokuhi.md"
    text = doc.read_text(encoding="utf-8")
    first = re.search(r"^source_urls:\n  - (\S+)\n", text, flags=re.M)
    assert first, "kyushokuhi.md lists its sources one per line"
    url = first.group(1)
    ok = f"source_urls:\n  - url: {url}\n    publisher: official_ward\n    title: 給食費\n    as_of: 2025-04-01\n"
    doc.write_text(text.replace(first.group(0), ok), encoding="utf-8")
    kb = load_knowledge(knowledge_copy, TODAY)
    assert not kb.errors, _messages(kb)
    src = kb.procedures["kyushokuhi"].sources[0]
    assert (src.url, src.publisher, src.title, src.as_of) == (url, "official_ward", "給食費", date(2025, 4, 1))

    # a ward page declared private, a blog declared official, an unknown type, a bad date: each an error on its line
    for declared, host_url, expected in [
        ("private", url, f"source {url} is declared 'private' but its host is 'official_ward'"),
        ("official_ward", "https://giin-blog.invalid/x", "is declared 'official_ward' but its host is 'councillor'"),
        ("blog", url, "unknown publisher 'blog'"),
    ]:
        bad = ok.replace(url, host_url).replace("official_ward", declared)
        doc.write_text(text.replace(first.group(0), bad), encoding="utf-8")
        msgs = "\n".join(_messages(load_knowledge(knowledge_copy, TODAY)))
        assert f"kyushokuhi.md:{_line_of(doc, 'source_urls:')}: error:" in msgs and expected in msgs, msgs
    # between the kinds a host cannot tell apart, the declaration stands
    doc.write_text(
        text.replace(
            first.group(0), ok.replace(url, "https://giin-blog.invalid/x").replace("official_ward", "private")
        ),
        encoding="utf-8",
    )
    kb = load_knowledge(knowledge_copy, TODAY)
    assert not kb.errors and kb.procedures["kyushokuhi"].sources[0].publisher == "private"


def test_checked_against_names_what_the_document_was_compared_with(knowledge_copy: Path) -> None:
    doc = knowledge_copy / "procedures" / "kyushokuhi.md"
    _edit(doc, "checked:", "checked_against: fact_sheet\nchecked:")
    kb = load_knowledge(knowledge_copy, TODAY)
    assert kb.procedures["kyushokuhi"].checked_against == "fact_sheet"
    _edit(doc, "checked_against: fact_sheet", "checked_against: a friend")
    msgs = "\n".join(_messages(load_knowledge(knowledge_copy, TODAY)))
    assert "checked_against must be one of sources, fact_sheet" in msgs
