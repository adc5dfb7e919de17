"""Japanese service names typed in Latin letters inside another language: 「Quanto é o ninpu shien kyufu?」.

Parents who write Portuguese, Vietnamese, Nepali or English often name the service the way they heard it
(azukari sukusuku, iryosho, jidou teate), usually without long vowels. Such a token becomes kana (Hepburn, with
``jaconv``), its long vowels are folded away (いりょうしょう and いりょしょ both become いりょしょ), and it is looked up in
a lexicon of the knowledge's own words and short compounds, folded the same way. Only a token that reads as
well-formed kana *and* names a word the documents use becomes a Japanese search word, so English, Portuguese or
Vietnamese words that happen to spell kana add nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import jaconv

from bot.knowledge import Procedure
from bot.text.jatext import analyze, has_kanji

_LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏ']+")
_HIRAGANA = re.compile(r"^[\u3041-\u3096ー]+$")
_I_ROW = set("きしちにひみりぎじびぴ")
_SMALL_Y = set("ゃゅょ")
_SMALL_V = set("ぁぃぅぇぉ")
_F_ROW = set("ふてでうゔ")  # ふぁ, てぃ, でぃ, うぇ, ゔぁ
_BAD_START = set("っんゃゅょぁぃぅぇぉー")
_VOWEL = {}
for _vowel, _row in {
    "a": "あかさたなはまやらわがざだばぱぁゃ",
    "i": "いきしちにひみりぎじぢびぴぃ",
    "u": "うくすつぬふむゆるぐずづぶぷぅゅゔ",
    "e": "えけせてねへめれげぜでべぺぇ",
    "o": "おこそとのほもよろをごぞどぼぽぉょ",
}.items():
    for _k in _row:
        _VOWEL[_k] = _vowel
# the vowel kana that lengthen the one before it (おう, おお, うう, ああ, いい, えい, ええ)
_LENGTHENS = {"a": "あ", "i": "い", "u": "う", "e": "いえ", "o": "うお"}
MIN_FOLDED = 3  # a single token must name at least three kana (じど alone is too short to be a name)
CONTENT_POS = ("名詞", "接頭辞", "接尾辞", "動詞")


def _plain(token: str) -> str:
    """Lower case without accents: kyūfu → kyufu."""
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", "")


def kana_of(token: str) -> str | None:
    """The hiragana a romaji token spells, or None when it is not well-formed Japanese."""
    t = _plain(token)
    if not t.isascii() or not t.isalpha():
        return None
    k = jaconv.alphabet2kana(t)
    if not _HIRAGANA.match(k) or k[0] in _BAD_START:
        return None
    for prev, ch in zip(k, k[1:], strict=False):
        if ch in _SMALL_Y and prev not in _I_ROW:
            return None
        if ch in _SMALL_V and prev not in _F_ROW:
            return None
        if prev == "っ" and (ch in _VOWEL and ch in "あいうえおん" or ch in "っんー"):
            return None
    if k[-1] == "っ":
        return None
    return k


def fold(kana: str) -> str:
    """Drop what romaji usually leaves out: long-vowel marks and a vowel that lengthens the one before it."""
    out: list[str] = []
    for ch in kana.replace("ー", ""):
        if out and ch in _LENGTHENS.get(_VOWEL.get(out[-1], ""), ""):
            continue
        out.append(ch)
    return "".join(out)


@dataclass
class RomajiLexicon:
    """Folded readings of the knowledge's words and compounds of up to three short units → the written word."""

    entries: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_knowledge(cls, procedures: Iterable[Procedure]) -> RomajiLexicon:
        return cls.build(
            x
            for p in procedures
            for x in (p.title, *p.aliases, *(s.heading for s in p.sections), *(s.text for s in p.sections))
        )

    @classmethod
    def build(cls, texts: Iterable[str]) -> RomajiLexicon:
        lex = cls()
        for text in texts:
            run: list[tuple[str, str]] = []
            for m in [*analyze(text), None]:
                if (
                    m is not None
                    and m.pos in CONTENT_POS
                    and m.reading
                    and (has_kanji(m.surface) or _katakana(m.surface))
                ):
                    run.append((m.surface, jaconv.kata2hira(m.reading)))
                    continue
                for i in range(len(run)):
                    for j in range(i + 1, min(i + 3, len(run)) + 1):
                        surface = "".join(s for s, _ in run[i:j])
                        key = fold("".join(r for _, r in run[i:j]))
                        if len(key) >= 2:
                            lex.entries.setdefault(key, surface)
                run = []
        return lex

    def expand(self, text: str) -> list[str]:
        """The Japanese words that the romaji in ``text`` names (pairs of tokens first: jidou teate → 児童手当)."""
        tokens = _LATIN_WORD.findall(text)
        kana = [kana_of(t) for t in tokens]
        found: list[str] = []
        used: set[int] = set()
        for i in range(len(tokens) - 1):
            a, b = kana[i], kana[i + 1]
            if a and b and (word := self.entries.get(fold(a + b))) is not None:
                found.append(word)
                used.update((i, i + 1))
        for i, k in enumerate(kana):
            if i in used or not k:
                continue
            key = fold(k)
            if len(key) >= MIN_FOLDED and (word := self.entries.get(key)) is not None:
                found.append(word)
        return list(dict.fromkeys(found))


def _katakana(s: str) -> bool:
    return bool(s) and all("\u30a0" <= c <= "\u30ff" for c in s)
