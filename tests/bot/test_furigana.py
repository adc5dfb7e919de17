"""ふりがな: the ward's place names, numbers with 日 and 人, and no ruby over kana (real Sudachi, the real dictionary)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.text.furigana import PlaceReadingsError, furigana, load_place_readings, split_okurigana
from bot.text.textnorm import to_hiragana

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
# Taito's 34 current town names (現行町名); knowledge/place_readings.yaml cites where the readings come from.
TOWNS = {
    "上野": "うえの", "上野公園": "うえのこうえん", "上野桜木": "うえのさくらぎ", "池之端": "いけのはた", "谷中": "やなか",
    "根岸": "ねぎし", "下谷": "したや", "入谷": "いりや", "竜泉": "りゅうせん", "三ノ輪": "みのわ", "北上野": "きたうえの",
    "東上野": "ひがしうえの", "台東": "たいとう", "秋葉原": "あきはばら", "浅草": "あさくさ", "西浅草": "にしあさくさ",
    "東浅草": "ひがしあさくさ", "元浅草": "もとあさくさ", "浅草橋": "あさくさばし", "千束": "せんぞく",
    "日本堤": "にほんづつみ", "清川": "きよかわ", "橋場": "はしば", "今戸": "いまど", "花川戸": "はなかわど",
    "雷門": "かみなりもん", "松が谷": "まつがや", "寿": "ことぶき", "駒形": "こまがた", "蔵前": "くらまえ",
    "三筋": "みすじ", "小島": "こじま", "鳥越": "とりごえ", "柳橋": "やなぎばし",
}  # fmt: skip


@pytest.fixture(scope="module")
def places() -> dict[str, str]:
    return load_place_readings(KNOWLEDGE / "place_readings.yaml")


def reading_of(segments: list[tuple[str, str | None]]) -> str:
    return to_hiragana("".join(r if r is not None else s for s, r in segments))


@pytest.mark.content  # Taito's place names (see tests/conftest.py)
def test_the_dictionary_has_every_town_of_the_ward(places: dict[str, str]) -> None:
    assert {k: places.get(k) for k in TOWNS} == TOWNS


@pytest.mark.content  # Taito's place names (see tests/conftest.py)
@pytest.mark.parametrize("town", sorted(TOWNS))
def test_each_town_is_read_as_the_ward_reads_it_in_a_sentence(places: dict[str, str], town: str) -> None:
    segments = furigana(f"{town}にある施設です。", places)
    assert "".join(s for s, _ in segments) == f"{town}にある施設です。"
    assert reading_of(segments).startswith(TOWNS[town] + "にある")
    assert all(r is None for s, r in segments if not any("\u4e00" <= c <= "\u9fff" for c in s))  # kana stay bare


def test_sudachi_alone_gets_some_of_them_wrong() -> None:
    # the reason for the dictionary; if Sudachi learns them, the dictionary is still right
    assert reading_of(furigana("日本堤")) != "にほんづつみ"
    assert reading_of(furigana("柳橋")) != "やなぎばし"


@pytest.mark.content  # Taito's place names (see tests/conftest.py)
def test_a_place_name_matches_only_whole_words(places: dict[str, str]) -> None:
    assert furigana("寿司", places) == [("寿司", "すし")]  # 寿 (ことぶき) is not inside 寿司
    assert ("日本堤", "にほんづつみ") in furigana("日本堤子ども家庭支援センター", places)
    assert "づつみ" not in reading_of(furigana("日本の制度", places))  # 日本 alone is not 日本堤


@pytest.mark.content  # Taito's place names (see tests/conftest.py)
def test_kana_inside_a_place_name_take_no_ruby(places: dict[str, str]) -> None:
    assert furigana("松が谷", places) == [("松", "まつ"), ("が", None), ("谷", "や")]
    assert furigana("三ノ輪", places) == [("三", "み"), ("ノ", None), ("輪", "わ")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4月1日から", [("4", None), ("月", "がつ"), ("1日", "ついたち"), ("から", None)]),
        ("毎月1日", [("毎月", "まいつき"), ("1日", "ついたち")]),
        ("1日3回", [("1日", "いちにち"), ("3", None), ("回", "かい")]),
        ("3日間", [("3日間", "みっかかん")]),
        ("２０日まで", [("２０日", "はつか"), ("まで", None)]),
        ("14日以内", [("14日", "じゅうよっか"), ("以内", "いない")]),
        ("子1人につき", [("子", "こ"), ("1人", "ひとり"), ("につき", None)]),
        ("2人目", [("2人", "ふたり"), ("目", "め")]),
    ],
)
def test_numbers_with_days_and_people(text: str, expected: list[tuple[str, str | None]]) -> None:
    segments = furigana(text)
    assert segments == expected
    assert ("日", "にち") not in segments


def test_kana_are_never_under_ruby() -> None:
    assert furigana("ひらがなとカタカナ") == [("ひらがなとカタカナ", None)]
    assert furigana("申し込み") == [("申", "もう"), ("し", None), ("込", "こ"), ("み", None)]
    assert furigana("お問い合わせ") == [("お", None), ("問", "と"), ("い", None), ("合", "あ"), ("わせ", None)]
    assert split_okurigana("受付", "うけつけ") == [("受付", "うけつけ")]
    assert split_okurigana("見る", "ちがう") == [("見る", "ちがう")]  # kana that do not line up: the whole word


def test_a_bad_dictionary_is_refused_with_where_and_why(tmp_path: Path) -> None:
    assert load_place_readings(tmp_path / "missing.yaml") == {}
    bad = tmp_path / "place_readings.yaml"
    bad.write_text("places:\n  日本堤: ニホンヅツミ\n", encoding="utf-8")
    with pytest.raises(PlaceReadingsError, match="日本堤.*hiragana"):
        load_place_readings(bad)
    bad.write_text("places:\n  にほん: にほん\n", encoding="utf-8")
    with pytest.raises(PlaceReadingsError, match="kanji"):
        load_place_readings(bad)
    bad.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(PlaceReadingsError, match="places"):
        load_place_readings(bad)
