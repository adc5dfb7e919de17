"""PII masking for anything stored or sent to an LLM: phone numbers, e-mail, マイナンバー, postcodes, addresses and
people's names, in the forms parents type them.

Parents type through an IME, so the same number arrives as 090-1234-5678, ０９０ー１２３４ー５６７８ (長音符 instead
of a hyphen), 090‐1234‐5678 (U+2010), 〇九〇… (kanji numerals) or (03)1234-5678. Detection runs on a copy of the
text in which every kanji numeral is a digit and every dash-like character between digits is "-", character for
character, so a match's span is also its span in the text, which is what gets replaced.

Names: SudachiPy tags 人名 (surnames 姓 and given names 名). A given name is masked (健太が熱を); a surname only when it
is clearly a person's — followed by a given name, an honorific (さん, くん, 様, 先生) or introduced as a name
(名前は…, …と申します) — because here many surnames are also neighbourhoods (竜泉, 入谷, 根岸). A kana word before
ちゃん/くん (さくらちゃん) and a noun after 息子の/娘の… (息子の太郎くん) are names too; お兄ちゃん and 弟くん are not.
"""

from __future__ import annotations

import re

from bot.text.textnorm import nfkc

_DASHES = "ー-‐‑‒–—―−ｰ－"
_KANJI_DIGITS = "〇一二三四五六七八九"
_DIGITS = str.maketrans({**{k: str(i) for i, k in enumerate(_KANJI_DIGITS)}, "零": "0", "十": "1"})  # 十: same width
_DIGIT_DASH = re.compile(rf"(?<=\d)[{re.escape(_DASHES)}](?=\d)")  # only between digits: マイナンバー keeps its ー

_PII = [
    ("[メール]", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")),
    ("[マイナンバー]", re.compile(r"(?<![\d-])\d{4}[- ]?\d{4}[- ]?\d{4}(?![\d-])")),
    (
        "[電話番号]",
        re.compile(
            r"(?<![\d#])(\+81[- ]?\(?\d{1,4}\)?[- ]?\d{1,4}[- ]?\d{3,4}"
            r"|\(0\d{1,4}\)[- ]?\d{1,4}[- ]?\d{3,4}"
            r"|0\d{1,4}[- ]?\(\d{1,4}\)[- ]?\d{3,4}"
            r"|0\d{1,4}[- ]\d{1,4}[- ]\d{3,4}"
            r"|0\d{9,10})(?![\d])"
        ),
    ),
    (
        "[郵便番号]",
        re.compile(r"(〒|郵便番号|ゆうびんばんごう)\s?:?\s?\d{3}-?\d{4}(?!\d)|(?<![\d-])\d{3}-\d{4}(?![\d-])"),
    ),
    (
        "[住所]",
        re.compile(
            r"(東京都)?[^\s、。,はがをにでの]{0,4}(区|市|町)[^\s、。,0-9]{1,6}?\d+(丁目)?(-|番地?)\d+(-\d+|号)?(号室)?"
        ),
    ),
    ("[住所]", re.compile(r"[\u4e00-\u9fff]{1,5}\d{1,4}-\d{1,4}(-\d{1,4}){0,2}(?![\d-])")),
    ("[住所]", re.compile(r"[^\s、。,はがをにで]{1,6}\d+丁目(\d+(-|番地?)\d+(号)?)?")),
]
_HONORIFIC = ("さん", "ちゃん", "くん", "君", "様", "さま", "先生")
_INTRODUCED = re.compile(r"(名前|なまえ|氏名|しめい)(は|:|:)\s*$|(私|わたし|わたくし)は\s*$")
_INTRODUCING = re.compile(r"^\s*(と申します|ともうします|といいます|と言います)")
_NAMED = re.compile(r"(名前|なまえ|氏名)(は|:|:)\s*([^\s、。,!?!?]{1,12}?)(です|と申します|といいます|。|、|$)")


def _spans(detect: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for label, rx in _PII:
        for m in rx.finditer(detect):
            if not any(a < m.end() and m.start() < b for a, b, _ in found):
                found.append((m.start(), m.end(), label))
    return found


def _name_spans(text: str) -> list[tuple[int, int, str]]:
    from bot.text.jatext import person_names

    found = [(m.start(3), m.end(3), "[名前]") for m in _NAMED.finditer(text)]  # 名前はマリアです: names Sudachi lacks
    for start, end, full in person_names(text):
        before, after = text[:start], text[end:]
        named = full or after.startswith(_HONORIFIC) or _INTRODUCED.search(before) or _INTRODUCING.match(after)
        if named and not any(a < end and start < b for a, b, _ in found):
            found.append((start, end, "[名前]"))
    return found


def mask_pii(text: str) -> str:
    """Mask phone numbers, e-mail addresses, マイナンバー-like numbers, postcodes, street addresses and names."""
    t = nfkc(text)
    spans = _spans(_DIGIT_DASH.sub("-", t.translate(_DIGITS)))
    for s in _name_spans(t):
        if not any(a < s[1] and s[0] < b for a, b, _ in spans):
            spans.append(s)
    for start, end, label in sorted(spans, reverse=True):
        t = t[:start] + label + t[end:]
    return t
