"""The high-precision backstop of the emergency triage: regular expressions over text folded to hiragana.

They catch the set phrasings (息をしていない, 誤飲, 虐待, 死にたい...) with near-perfect precision but cannot reach the
recall needed for descriptions in other words, dialect or other languages; that is the semantic model's job
(:mod:`bot.safety.model`). :class:`bot.safety.Triage` combines both. Add a pattern only for a phrasing that is
unambiguous wherever it appears, never to fix one evaluation question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.text.textnorm import nfkc, to_hiragana


class EmergencyLevel(StrEnum):
    """What the situation is; ``knowledge/ward.yaml`` says which numbers each level shows first."""

    LIFE = "life"  # life-threatening now: 119
    POISON = "poison"  # swallowed something: 119 with symptoms / battery / magnet, and the poison-information line
    ADVICE = "advice"  # urgent medical question out of hours: #8000 / #7119
    ABUSE = "abuse"  # suspected abuse of any child: 189, 110 when in danger now
    CRISIS = "crisis"  # the parent's own crisis: crisis and parenting lines
    DV = "dv"  # domestic violence: DV lines, 110 when in danger
    LOST = "lost"  # a lost child: 110


def fold(text: str) -> str:
    return to_hiragana(nfkc(text).lower()).replace(" ", "").replace("\u3000", "")


# Patterns are matched against hiragana-folded text, so each kanji pattern has a kana twin where parents type kana.
_LIFE = [
    r"息(を)?(して|し)(い)?ない", r"いき(を)?(して|し)(い)?ない", r"呼吸(が|を)?(ない|止|して(い)?ない|おかしい|苦し)",
    r"こきゅう", r"けいれん", r"痙攣", r"ひきつけ", r"引きつけ", r"引き付け",
    r"(喉|のど)(に|で)?.{0,6}(詰ま|つま)", r"窒息", r"ちっそく",
    r"意識が?(ない|なく|もうろう)", r"いしきが?(ない|なく)", r"反応(が)?(ない|しない)", r"はんのう(が)?(ない|しない)",
    r"ぐったり", r"(目|め)を(開|あ)けない", r"唇が(紫|青)", r"顔色が(紫|青|真っ青)",
    r"(頭|あたま)を?(強く|つよく)?(打|う)(った|って|ち)", r"(高い所|ベランダ|階段|かいだん|窓から|まどから|ベッドから).{0,8}(落ち|おち|転落)(?!防止|ぼうし|予防|対策)",
    r"(溺|おぼ)れ", r"火傷", r"やけど(を|し|して|した|が)", r"(大量|たくさん).{0,4}(出血|血が)", r"血が(止|と)まらない",
    r"救急車(を)?(呼|よ)", r"きゅうきゅうしゃ(を)?よ",
]  # fmt: skip
_POISON = [
    r"(飲み|のみ)(込|こ)ん", r"(誤飲|ごいん)(?!防止|ぼうし|予防|よぼう|対策|ちぇっかー|の(防止|予防|対策))", r"(電池|でんち|たばこ|タバコ|煙草|洗剤|せんざい|磁石|じしゃく|漂白剤).{0,8}(食べ|たべ|飲ん|のん|口に|なめ)",
    r"(薬|くすり).{0,6}(大量|たくさん|全部|ぜんぶ|間違|まちが|誤って|あやまって).{0,6}(食べ|たべ|飲|の)",
    r"(大量|たくさん|間違|まちが|誤って|あやまって).{0,6}(薬|くすり).{0,6}(食べ|たべ|飲|の)",
]  # fmt: skip
_ADVICE = [
    # "Should I go to hospital?" — not any sentence with 病院 and いく (いくら, 健診に行くとき…)
    r"(病院|びょういん|受診|じゅしん|救急|きゅうきゅう).{0,10}(行くべき|いくべき|行った(方|ほう)が|いった(方|ほう)が|"
    r"連れて(行|い)くべき|つれていくべき|した(方|ほう)がいい|すべき)",
    r"(熱|ねつ|吐|は(い|き)て|けいれん|ぐったり|怪我|けが|発疹|湿疹|ぶつけ).{0,20}(病院|びょういん|受診|じゅしん|救急|きゅうきゅう)"
    r".{0,10}(行|い|連れ|つれ|べき|迷)",
    r"(夜間|やかん|夜中|よなか|深夜|しんや|今夜|こんや|休日|きゅうじつ).{0,15}(熱|ねつ|発熱|はつねつ|吐|は(い|き)|嘔吐|下痢|げり|病院|びょういん)",
    r"(夜|よる)(に|になって|から|中).{0,15}(熱|ねつ|吐|は(い|き)|嘔吐|下痢|げり)",
    r"(病院|びょういん).{0,8}(閉ま|しま)って", r"(吐|は)(いて|き)(止|と)まらない", r"(脱水|だっすい)",
]  # fmt: skip
_ABUSE = [
    r"(虐待|ぎゃくたい)(?!防止|ぼうし|予防|よぼう|の(防止|予防)|講座|こうざ)", r"(叩|たた|殴|なぐ|蹴|け)(い|っ)て(しま|しま)", r"(手|て)を(上|あ)げ(てしま|ちゃ|そう)",
    r"(子ども|こども|子供|息子|娘|赤ちゃん|あかちゃん).{0,10}(殺|ころし|ころす|ころそう)", r"(殺|ころ)して(しまい|しまう)",
    r"(傷つけ|きずつけ)(て|そう)", r"(育児|いくじ|子育て|こそだて).{0,8}(限界|げんかい|つらすぎ|無理|むり)",
    r"(怒鳴|どな)(って|り)(しま|ちゃう|続け)", r"悲鳴", r"ひめい", r"(怒鳴り声|どなりごえ)",
    r"(子ども|子供|こども|息子|娘|赤ちゃん).{0,6}(殴|なぐ|叩|たた|蹴)(る|り|ります|って|られ)", r"(泣き声|なきごえ).{0,10}(通報|隣|となり)",
]  # fmt: skip


_CRISIS = [
    r"(死|し)にたい", r"(消|き)えたい", r"(自殺|じさつ)", r"(心中|しんじゅう)", r"(生|い)きて(い)?(たくない|るのがつらい|る意味)",
    r"(一緒|いっしょ)に(死|し)(の|ぬ|ん)", r"(飛び降り|とびおり)(たい|よう)", r"(赤ちゃん|あかちゃん|子ども|こども|子供).{0,6}(揺さぶ|ゆさぶ)(って|っちゃ)",
]  # fmt: skip
_DV = [
    r"(夫|おっと|旦那|だんな|主人|しゅじん|彼氏|かれし|パートナー|ぱーとなー|妻|つま|配偶者).{0,12}(殴|なぐ|蹴|け|叩|たた|暴力|ぼうりょく|首を(絞|し)め)(ら|っ|り|る|を)",
    r"(ドメスティック|どめすてぃっく)", r"dv(を)?(受け|うけ|されて)", r"(配偶者暴力|はいぐうしゃぼうりょく)",
]  # fmt: skip
_LOST = [
    r"(迷子|まいご)(に|で|の子|です|になった)", r"(子ども|こども|子供|息子|娘|むすこ|むすめ).{0,6}(いなくなっ|見当たらな|みあたらな|帰ってこな|かえってこな|行方不明|ゆくえふめい)",
]  # fmt: skip


@dataclass(frozen=True)
class EmergencyMatch:
    level: EmergencyLevel
    pattern: str


def compile_patterns(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(fold(p)) for p in patterns]


# Most urgent first: a message matching several levels gets the first.
_RULES = [
    (EmergencyLevel.LIFE, compile_patterns(_LIFE)),
    (EmergencyLevel.POISON, compile_patterns(_POISON)),
    (EmergencyLevel.CRISIS, compile_patterns(_CRISIS)),
    (EmergencyLevel.DV, compile_patterns(_DV)),
    (EmergencyLevel.ABUSE, compile_patterns(_ABUSE)),
    (EmergencyLevel.LOST, compile_patterns(_LOST)),
    (EmergencyLevel.ADVICE, compile_patterns(_ADVICE)),
]


def detect_emergency(text: str) -> EmergencyMatch | None:
    folded = fold(text)
    for level, patterns in _RULES:
        for p in patterns:
            if p.search(folded):
                return EmergencyMatch(level, p.pattern)
    return None
