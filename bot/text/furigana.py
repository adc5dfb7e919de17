"""ふりがな for answers: ruby segments from Sudachi's readings, corrected where Sudachi is wrong for parents.

Three corrections over the plain readings (issue 16):

* **Place names** come from the ward's own dictionary (``knowledge/place_readings.yaml``): Sudachi reads 日本堤 as
  にっぽん+てい and 柳橋 as やぎはし; the ward's list says にほんづつみ and やなぎばし. A name is matched on Sudachi's token
  boundaries, so 寿 (ことぶき) never lands inside 寿司.
* **Numbers with 日 and 人**: "1日" is one reading (ついたち after a month, いちにち for a count), never 1 + にち.
* **Kana stay bare**: only the kanji carry ruby (申(もう)し込(こ)み, not 申し込み over もうしこみ).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

from bot.text.jatext import analyze
from bot.text.textnorm import has_kanji, to_hiragana

log = logging.getLogger("bot.furigana")

PLACE_READINGS_FILE = "place_readings.yaml"
Segment = tuple[str, str | None]

_KANA = re.compile(r"[ぁ-ゖァ-ヵー]+")  # ヶ (a counter read か/こ) is not in it: it takes ruby like a kanji
_HIRAGANA = re.compile(r"^[ぁ-ゖー]+$")
_DIGITS = re.compile(r"^[0-9０-９]+$")
# How a day of the month is read; a count of days reads the same except 1 (いちにち).
_DAYS = ("", "ついたち", "ふつか", "みっか", "よっか", "いつか", "むいか", "なのか", "ようか", "ここのか", "とおか",
         "じゅういちにち", "じゅうににち", "じゅうさんにち", "じゅうよっか", "じゅうごにち", "じゅうろくにち",
         "じゅうしちにち", "じゅうはちにち", "じゅうくにち", "はつか", "にじゅういちにち", "にじゅうににち",
         "にじゅうさんにち", "にじゅうよっか", "にじゅうごにち", "にじゅうろくにち", "にじゅうしちにち",
         "にじゅうはちにち", "にじゅうくにち", "さんじゅうにち", "さんじゅういちにち")  # fmt: skip
_PEOPLE = {1: "ひとり", 2: "ふたり"}


class PlaceReadingsError(ValueError):
    """The place-name dictionary cannot be used (the message says where and why)."""


def load_place_readings(path: Path) -> dict[str, str]:
    """``places:`` maps a name written with kanji to its reading in hiragana. No file: no corrections."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise PlaceReadingsError(f"{path}: cannot be read as YAML: {e}") from e
    places = data.get("places") if isinstance(data, dict) else None
    if not isinstance(places, dict):
        raise PlaceReadingsError(f"{path}: needs a 'places:' mapping of name → reading")
    out: dict[str, str] = {}
    for name, reading in places.items():
        if not isinstance(name, str) or not has_kanji(name):
            raise PlaceReadingsError(f"{path}: {name!r}: a place name needs at least one kanji")
        if not isinstance(reading, str) or not _HIRAGANA.match(reading):
            raise PlaceReadingsError(f"{path}: {name}: the reading {reading!r} must be hiragana only")
        out[name] = reading
    return out


@lru_cache(maxsize=4)
def place_readings_for(knowledge_dir: Path) -> dict[str, str]:
    """The ward's dictionary, read once per process. A broken file is logged and ruby falls back to Sudachi alone:
    ふりがな is a convenience and must never stop an answer."""
    try:
        return load_place_readings(knowledge_dir / PLACE_READINGS_FILE)
    except PlaceReadingsError as e:
        log.error("place readings not used: %s", e)
        return {}


def split_okurigana(surface: str, reading: str) -> list[Segment]:
    """申し込み + もうしこみ → 申(もう) し 込(こ) み. When the kana do not line up, the whole word takes the reading."""
    if not has_kanji(surface):
        return [(surface, None)]
    parts = re.split(f"({_KANA.pattern})", surface)
    parts = [p for p in parts if p]
    if len(parts) == 1:
        return [(surface, reading)]
    pattern = "".join(re.escape(to_hiragana(p)) if _KANA.fullmatch(p) else "(.+?)" for p in parts)
    m = re.fullmatch(pattern, reading)
    if not m:
        return [(surface, reading)]
    groups = iter(m.groups())
    return [(p, None) if _KANA.fullmatch(p) else (p, next(groups)) for p in parts]


def _number(surface: str) -> int | None:
    return int(unicodedata.normalize("NFKC", surface)) if _DIGITS.match(surface) else None


def furigana(text: str, places: dict[str, str] | None = None) -> list[Segment]:
    """Split ``text`` into (surface, reading) pairs; reading is None where no ruby is needed."""
    places = places or {}
    longest = max((len(p) for p in places), default=0)
    tokens = analyze(text)
    out: list[Segment] = []
    i = 0
    while i < len(tokens):
        # a place name over one or more whole tokens, longest first
        if longest:
            joined = ""
            match = None
            for j in range(i, len(tokens)):
                joined += tokens[j].surface
                if len(joined) > longest:
                    break
                if joined in places:
                    match = (j, joined)
            if match:
                out += split_okurigana(match[1], places[match[1]])
                i = match[0] + 1
                continue
        t = tokens[i]
        n = _number(t.surface)
        nxt = tokens[i + 1].surface if i + 1 < len(tokens) else ""
        if n is not None and nxt in ("日", "日間") and 1 <= n < len(_DAYS):
            after_month = i > 0 and tokens[i - 1].surface.endswith("月")
            day = "いちにち" if n == 1 and not (after_month and nxt == "日") else _DAYS[n]
            out.append((t.surface + nxt, day + ("かん" if nxt == "日間" else "")))
            i += 2
            continue
        if n is not None and nxt == "人" and n in _PEOPLE:
            out.append((t.surface + nxt, _PEOPLE[n]))
            i += 2
            continue
        if t.reading and has_kanji(t.surface):
            out += split_okurigana(t.surface, t.reading)
        else:
            out.append((t.surface, None))
        i += 1
    return _merge_plain(out)


def _merge_plain(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for s, r in segments:
        if r is None and merged and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + s, None)
        else:
            merged.append((s, r))
    return merged
