"""Japanese text analysis with SudachiPy: keyword terms for the lexical leg, readings for kana-only queries, furigana.

Why three kinds of terms (measured in ../shared/notes/offline-models.md): Sudachi normalised words give precision on
long questions (JSQuAD), character bigrams of the hiragana reading match parents who type ほいくえん or じどうてあて,
and surface bigrams keep homophones apart. ``normalized_form`` alone merges いっとき into 一時, so it is never used alone.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from bot.text.textnorm import has_kanji, normalize, normalize_query, to_hiragana

_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞", "接尾辞", "代名詞"}
_SKIP_POS = {"補助記号", "空白", "助詞", "助動詞"}
_STOP_WORDS = {
    "する", "ある", "いる", "なる", "できる", "いう", "ない", "れる", "られる", "こと", "もの", "よう", "ため",
    "とき", "ところ", "の", "ん", "です", "ます", "いい", "良い", "教える", "知る", "分かる", "思う", "方",
}  # fmt: skip

_local = threading.local()


@lru_cache(maxsize=1)
def _dictionary():  # type: ignore[no-untyped-def]
    from sudachipy import Dictionary

    return Dictionary(dict="small")


def _tokenizer():  # type: ignore[no-untyped-def]
    # Sudachi tokenizers are not thread-safe: one per thread (uvicorn runs sync handlers in a pool).
    tok = getattr(_local, "tok", None)
    if tok is None:
        from sudachipy import SplitMode

        tok = _dictionary().create(SplitMode.A)
        _local.tok = tok
    return tok


@dataclass(frozen=True)
class Morpheme:
    surface: str
    normalized: str
    reading: str  # hiragana
    pos: str


def analyze(text: str) -> list[Morpheme]:
    out = []
    for m in _tokenizer().tokenize(text):
        reading = m.reading_form()
        out.append(Morpheme(m.surface(), m.normalized_form(), to_hiragana(reading), m.part_of_speech()[0]))
    return out


def _bigrams(s: str) -> list[str]:
    if len(s) < 2:
        return [s] if s else []
    return [s[i : i + 2] for i in range(len(s) - 1)]


def content_words(text: str) -> list[str]:
    """Normalised content words (no particles, auxiliaries, symbols or stop words)."""
    return list(_content_words(text))


@lru_cache(maxsize=8192)
def _content_words(text: str) -> tuple[str, ...]:
    # one request asks for the question's words in several places, and documents' sentences recur: Sudachi once
    words = []
    for m in analyze(normalize_query(text)):
        if m.pos in _SKIP_POS or m.pos not in _CONTENT_POS:
            continue
        w = normalize(m.normalized)
        if w and w not in _STOP_WORDS and not (len(w) == 1 and not has_kanji(w)):
            words.append(w)
    return tuple(words)


def keyword_terms(text: str) -> list[str]:
    """Terms for BM25: ``w:`` content words, plus bigrams of the hiragana reading and of the surface."""
    morphs = analyze(normalize_query(text))
    terms: list[str] = []
    read_runs: list[str] = []
    surf_runs: list[str] = []
    run_r: list[str] = []
    run_s: list[str] = []
    for m in morphs:
        if m.pos in ("補助記号", "空白"):
            if run_r:
                read_runs.append("".join(run_r))
                surf_runs.append("".join(run_s))
            run_r, run_s = [], []
            continue
        run_r.append(m.reading if m.reading else normalize(m.surface))
        run_s.append(normalize(m.surface))
        if m.pos in _CONTENT_POS and m.pos not in _SKIP_POS:
            w = normalize(m.normalized)
            if w and w not in _STOP_WORDS:
                terms.append("w:" + w)
    if run_r:
        read_runs.append("".join(run_r))
        surf_runs.append("".join(run_s))
    for r in read_runs:
        terms.extend(_bigrams(r))
    for s in surf_runs:
        if has_kanji(s):
            terms.extend("s:" + b for b in _bigrams(s) if has_kanji(b))
    return terms


def furigana(text: str) -> list[tuple[str, str | None]]:
    """Split text into (surface, reading) pairs; reading is None where no ruby is needed (no kanji)."""
    out: list[tuple[str, str | None]] = []
    for m in analyze(text):
        if has_kanji(m.surface) and m.reading and m.reading != m.surface:
            out.append((m.surface, m.reading))
        elif out and out[-1][1] is None:
            out[-1] = (out[-1][0] + m.surface, None)
        else:
            out.append((m.surface, None))
    return out


_CHILD_SUFFIX = ("ちゃん", "くん", "君")
_FAMILY = {
    "息子",
    "娘",
    "長男",
    "長女",
    "次男",
    "次女",
    "三男",
    "三女",
    "孫",
    "子",
    "子ども",
    "子供",
    "こども",
    "むすこ",
    "むすめ",
}
_KANA_WORD = re.compile(r"[ぁ-んァ-ヶー]{2,8}")


def person_names(text: str) -> list[tuple[int, int, bool]]:
    """Runs of tokens Sudachi tags 人名, as (start, end, full): ``full`` when a surname is followed by a given name,
    or when a noun is followed by ちゃん/くん as its own token (さくらちゃん, 太郎くん; 赤ちゃん is one token)."""
    out: list[tuple[int, int, bool]] = []
    run: list[tuple[int, int, str]] = []
    tokens = list(_tokenizer().tokenize(text))
    for i in range(1, len(tokens) - 1):
        prev, name, suffix = tokens[i - 1], tokens[i], tokens[i + 1]
        if suffix.surface() not in _CHILD_SUFFIX or name.part_of_speech()[0] != "名詞":
            continue
        # さくらちゃん (a kana word), or 息子の太郎くん (a noun after "my son's"); not お兄ちゃん, not 弟くん
        family = prev.surface() == "の" and i >= 2 and tokens[i - 2].surface() in _FAMILY
        if prev.part_of_speech()[0] != "接頭辞" and (_KANA_WORD.fullmatch(name.surface()) or family):
            out.append((name.begin(), name.end(), True))

    def flush() -> None:
        if run:
            kinds = [k for _, _, k in run]
            # a given name (名) is a person; a lone surname (姓) is too often a place here (竜泉, 入谷, 根岸)
            full = "名" in kinds or any(a == "姓" and b == "名" for a, b in zip(kinds, kinds[1:], strict=False))
            out.append((run[0][0], run[-1][1], full))
            run.clear()

    for m in tokens:
        pos = m.part_of_speech()
        if pos[1] == "固有名詞" and pos[2] == "人名":
            run.append((m.begin(), m.end(), pos[3]))
        else:
            flush()
    flush()
    return out
