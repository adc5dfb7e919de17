"""Text normalisation shared by retrieval, validation and the groundedness check.

NFKC folds full-width and half-width forms; katakana is folded to hiragana so that ホイクエン, ほいくえん and the reading
of 保育園 meet; common typos and variant spellings parents type are mapped once here.
"""

from __future__ import annotations

import re
import unicodedata

_KATA_TO_HIRA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}
# Variant spellings and frequent slips seen in parents' messages (cheap, exact substitutions).
_VARIANTS = (
    ("子供", "子ども"),
    ("母子手帖", "母子手帳"),
    ("予防注射", "予防接種"),
    ("乳児検診", "乳児健診"),
    ("検診", "健診"),
    ("手続", "手続き"),
    ("手続きき", "手続き"),
    ("申し込", "申込"),
    ("申込み", "申込"),
)
_SPACE = re.compile(r"\s+")


def to_hiragana(text: str) -> str:
    return text.translate(_KATA_TO_HIRA)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """Canonical form for matching: NFKC, lowercase, katakana→hiragana (except the long-vowel mark), no spaces."""
    t = nfkc(text).lower()
    t = _SPACE.sub("", t)
    return to_hiragana(t)


def normalize_query(text: str) -> str:
    """NFKC and variant spelling fixes, keeping kanji/kana as typed (Sudachi needs the script)."""
    t = nfkc(text).strip()
    t = t.replace("〜", "~")
    for src, dst in _VARIANTS:
        t = t.replace(src, dst)
    return t


_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf々]")


def has_kanji(text: str) -> bool:
    return bool(_KANJI.search(text))


# Characters that may be a digit of another script: everything but ASCII and the CJK and kana blocks, which hold no
# digits (a test checks it over all of Unicode). Japanese text is then scanned by the regex engine, not a Python loop
# over every character (that loop was a third of the knowledge load at 50,000 chunks, issue 15).
_MAYBE_DIGIT = re.compile(r"[^\x00-\x7f\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def _digit(m: re.Match[str]) -> str:
    ch = m.group(0)
    d = unicodedata.digit(ch, None) if ch.isdigit() else None
    return ch if d is None else str(d)


def ascii_digits(text: str) -> str:
    """Digits of any script as ASCII (Devanagari २४ is 24): NFKC leaves them alone."""
    if text.isascii():
        return text
    return _MAYBE_DIGIT.sub(_digit, text)
