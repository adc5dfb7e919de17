"""Rules that run before retrieval: emergencies, out-of-scope requests, and PII masking for anything stored or sent.

Rules are data (regular expressions over text normalised to hiragana), so adding a phrase is a one-line change and
the tests enumerate them. Emergency rules err on the side of recall: a false alarm costs a parent one extra line,
a miss can cost far more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.textnorm import nfkc, to_hiragana


class EmergencyLevel(StrEnum):
    LIFE = "life"  # call 119 now
    ADVICE = "advice"  # urgent medical advice: #8000 / #7119
    ABUSE = "abuse"  # 189 and the child and family support centre


def _fold(text: str) -> str:
    return to_hiragana(nfkc(text).lower()).replace(" ", "").replace("\u3000", "")


# Patterns are matched against hiragana-folded text, so each kanji pattern has a kana twin where parents type kana.
_LIFE = [
    r"息(を)?(して|し)(い)?ない", r"いき(を)?(して|し)(い)?ない", r"呼吸(が|を)?(ない|止|して(い)?ない|おかしい|苦し)",
    r"こきゅう", r"けいれん", r"痙攣", r"ひきつけ", r"引きつけ", r"引き付け",
    r"(喉|のど)(に|で)?.{0,6}(詰ま|つま)", r"窒息", r"ちっそく",
    r"(飲み|のみ)(込|こ)ん", r"誤飲", r"ごいん", r"(電池|でんち|たばこ|タバコ|煙草|洗剤|せんざい|磁石|じしゃく|漂白剤).{0,8}(食べ|たべ|飲ん|のん|口に|なめ)",
    r"(薬|くすり).{0,6}(大量|たくさん|全部|ぜんぶ|間違|まちが|誤って|あやまって).{0,6}(食べ|たべ|飲|の)",
    r"(大量|たくさん|間違|まちが|誤って|あやまって).{0,6}(薬|くすり).{0,6}(食べ|たべ|飲|の)",
    r"意識が?(ない|なく|もうろう)", r"いしきが?(ない|なく)", r"反応(が)?(ない|しない)", r"はんのう(が)?(ない|しない)",
    r"ぐったり", r"(目|め)を(開|あ)けない", r"唇が(紫|青)", r"顔色が(紫|青|真っ青)",
    r"(頭|あたま)を?(強く|つよく)?(打|う)(った|って|ち)", r"(高い所|ベランダ|階段|かいだん|窓から|まどから|ベッドから).{0,8}(落ち|おち|転落)",
    r"(溺|おぼ)れ", r"(やけど|火傷)", r"(大量|たくさん).{0,4}(出血|血が)", r"血が(止|と)まらない",
    r"救急車(を)?(呼|よ)", r"きゅうきゅうしゃ(を)?よ",
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
    r"虐待", r"ぎゃくたい", r"(叩|たた|殴|なぐ|蹴|け)(い|っ)て(しま|しま)", r"(手|て)を(上|あ)げ(てしま|ちゃ|そう)",
    r"(子ども|こども|子供|息子|娘|赤ちゃん|あかちゃん).{0,10}(殺|ころし|ころす|ころそう)", r"(殺|ころ)して(しまい|しまう)",
    r"(傷つけ|きずつけ)(て|そう)", r"(育児|いくじ|子育て|こそだて).{0,8}(限界|げんかい|つらすぎ|無理|むり)",
    r"(怒鳴|どな)(って|り)(しま|ちゃう|続け)", r"悲鳴", r"ひめい", r"(怒鳴り声|どなりごえ)",
    r"(子ども|子供|こども|息子|娘|赤ちゃん).{0,6}(殴|なぐ|叩|たた|蹴)(る|り|ります|って|られ)", r"(泣き声|なきごえ).{0,10}(通報|隣|となり)",
]  # fmt: skip


@dataclass(frozen=True)
class EmergencyMatch:
    level: EmergencyLevel
    pattern: str


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(_fold(p)) for p in patterns]


_RULES = [
    (EmergencyLevel.LIFE, _compile(_LIFE)),
    (EmergencyLevel.ABUSE, _compile(_ABUSE)),
    (EmergencyLevel.ADVICE, _compile(_ADVICE)),
]


def detect_emergency(text: str) -> EmergencyMatch | None:
    folded = _fold(text)
    for level, patterns in _RULES:
        for p in patterns:
            if p.search(folded):
                return EmergencyMatch(level, p.pattern)
    return None


class OutOfScope(StrEnum):
    INJECTION = "injection"
    DIAGNOSIS = "diagnosis"
    OTHER_WARD = "other_ward"
    OTHER_TOPIC = "other_topic"


_INJECTION = _compile([
    r"(指示|命令|ルール|設定|プロンプト|しじ).{0,10}(無視|むし|忘れ|わすれ|教え|おしえ|表示|ひょうじ|見せ|みせ|出力)",
    r"システムプロンプト", r"system ?prompt", r"ignore (all |the )?(previous|above|prior)", r"jailbreak",
    r"(あなた|きみ|君|お前|おまえ)は(今から|いまから|これから).{0,20}(です|だ|になって|として|なりきって)",
    r"(役割|やくわり|キャラ|人格).{0,6}(変え|かえ|変更|へんこう)", r"開発者モード", r"developer mode",
    r"ロールプレイ", r"role ?play", r"(初期|内部|隠し)(設定|指示|命令)",
])  # fmt: skip
_DIAGNOSIS = _compile([
    r"(何|なん)の(病気|びょうき)", r"(病名|びょうめい)", r"診断して", r"しんだんして",
    r"(薬|くすり).{0,10}(量|りょう|何錠|なんじょう|何ml|飲ませて(いい|大丈夫|だいじょうぶ)|のませて(いい|大丈夫))",
    r"(発疹|ほっしん|湿疹|しっしん|ぶつぶつ).{0,12}(何|なに|なん|病気|大丈夫|だいじょうぶ)",
    r"(解熱剤|げねつざい|座薬|ざやく|薬|くすり).{0,12}(何時間|なんじかん|あけ|間隔|かんかく)",
    r"(この|その)(症状|しょうじょう).{0,10}(何|なに|なん|病気|大丈夫)", r"(障害|しょうがい|発達障害|自閉).{0,10}(ですか|でしょうか|かな|か\?)",
])  # fmt: skip
_WARDS = [
    "千代田区", "中央区", "港区", "新宿区", "文京区", "墨田区", "江東区", "品川区", "目黒区", "大田区", "世田谷区",
    "渋谷区", "中野区", "杉並区", "豊島区", "北区", "荒川区", "板橋区", "練馬区", "足立区", "葛飾区", "江戸川区",
    "横浜市", "川崎市", "さいたま市", "千葉市", "大阪市", "名古屋市", "八王子市", "町田市", "武蔵野市", "三鷹市",
]  # fmt: skip
_OTHER_WARD = re.compile("|".join(re.escape(w) for w in _WARDS))
_OTHER_TOPIC = _compile([
    r"(ゴミ|ごみ|粗大)", r"住民税", r"じゅうみんぜい", r"固定資産税", r"パスポート", r"ぱすぽーと", r"(印鑑|いんかん)登録",
    r"選挙", r"せんきょ", r"(駐輪|ちゅうりん)", r"(婚姻届|こんいんとどけ|離婚届)", r"(年金|ねんきん)",
    r"(天気|てんき)", r"(株|かぶ)(価|の)", r"(競馬|パチンコ)", r"(レシピ|献立).{0,6}(教え|おしえ)", r"(ラーメン|居酒屋|ランチ)",
    r"(転出届|転居届)", r"(犬|いぬ)の登録", r"(確定申告|かくていしんこく)", r"(運転免許|うんてんめんきょ)",
])  # fmt: skip
_CHILD_WORDS = re.compile(
    _fold(
        r"子|こども|赤ちゃん|あかちゃん|乳児|幼児|妊娠|にんしん|妊婦|出産|しゅっさん|出生|保育|ほいく|育児|いくじ|"
        r"手当|てあて|園|学童|がくどう|母子|ぼし|健診|けんしん|予防接種|よぼう|ベビー|べびー|シッター|しったー|"
        r"産後|さんご|授乳|じゅにゅう|児童|じどう|ママ|まま|パパ|ぱぱ|家庭|かてい|学校|がっこう|ひとり親|おむつ"
    )
)


# Topics that stay out of scope even when a child is mentioned (shopping advice, private lessons, games).
_ALWAYS_OTHER = _compile([
    r"おすすめ", r"オススメ", r"(塾|じゅく)", r"習い事", r"ならいごと", r"英語教室", r"しりとり", r"動物園", r"遊園地",
    r"住民票", r"じゅうみんひょう", r"(マイナンバーカード|まいなんばーかーど)の(更新|再発行)",
])  # fmt: skip


def detect_out_of_scope(text: str) -> OutOfScope | None:
    folded = _fold(text)
    if any(p.search(folded) for p in _INJECTION):
        return OutOfScope.INJECTION
    if any(p.search(folded) for p in _DIAGNOSIS):
        return OutOfScope.DIAGNOSIS
    if _OTHER_WARD.search(nfkc(text)) and "台東区" not in nfkc(text):
        return OutOfScope.OTHER_WARD
    if any(p.search(folded) for p in _OTHER_TOPIC) and not _CHILD_WORDS.search(folded):
        return OutOfScope.OTHER_TOPIC
    if any(p.search(folded) for p in _ALWAYS_OTHER):
        return OutOfScope.OTHER_TOPIC
    return None


def mentions_childcare(text: str) -> bool:
    return bool(_CHILD_WORDS.search(_fold(text)))


# --- PII masking ----------------------------------------------------------------------------------------------------

_PII = [
    ("[メール]", re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")),
    ("[マイナンバー]", re.compile(r"(?<!\d)\d{4}[- ]?\d{4}[- ]?\d{4}(?!\d)")),
    (
        "[電話番号]",
        re.compile(r"(?<![\d#])(0\d{1,4}[-(]?\d{1,4}[-)]?\d{3,4}|\+81[- ]?\d{1,4}[- ]?\d{1,4}[- ]?\d{3,4})(?!\d)"),
    ),
    ("[郵便番号]", re.compile(r"〒?\s?\d{3}-\d{4}")),
    (
        "[住所]",
        re.compile(
            r"(東京都)?[^\s、。,はがをにでの]{0,4}(区|市|町)[^\s、。,0-9]{1,6}?\d+(丁目)?(-|番地?)\d+(-\d+|号)?(号室)?"
        ),
    ),
    ("[住所]", re.compile(r"[\u4e00-\u9fff]{1,5}\d{1,4}-\d{1,4}(-\d{1,4})?(?![\d-])")),
    ("[住所]", re.compile(r"[^\s、。,はがをにで]{1,6}\d+丁目(\d+(-|番地?)\d+(号)?)?")),
]


def mask_pii(text: str) -> str:
    """Mask phone numbers, e-mail addresses, マイナンバー-like numbers, postcodes and street addresses."""
    t = nfkc(text)
    for label, rx in _PII:
        t = rx.sub(label, t)
    return t
