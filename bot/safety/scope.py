"""Out-of-scope rules: prompt injection, requests for a diagnosis, other municipalities, topics outside childcare.

Rules are regular expressions over text folded to hiragana (``fold``), so a kanji pattern needs a kana twin only where
parents type kana.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from bot.safety.rules import compile_patterns, fold
from bot.text.textnorm import nfkc


class OutOfScope(StrEnum):
    INJECTION = "injection"
    DIAGNOSIS = "diagnosis"
    OTHER_WARD = "other_ward"
    OTHER_TOPIC = "other_topic"


_INJECTION = compile_patterns([
    r"(指示|命令|ルール|設定|プロンプト|しじ).{0,10}(無視|むし|忘れ|わすれ|教え|おしえ|表示|ひょうじ|見せ|みせ|出力)",
    r"システムプロンプト", r"system ?prompt", r"ignore (all |the )?(previous|above|prior)", r"jailbreak",
    r"(あなた|きみ|君|お前|おまえ)は(今から|いまから|これから).{0,20}(です|だ|になって|として|なりきって)",
    r"(役割|やくわり|キャラ|人格).{0,6}(変え|かえ|変更|へんこう)", r"開発者モード", r"developer mode",
    r"ロールプレイ", r"role ?play", r"(初期|内部|隠し)(設定|指示|命令)",
])  # fmt: skip
_DIAGNOSIS = compile_patterns([
    r"(何|なん)の(病気|びょうき)", r"(病名|びょうめい)", r"診断して", r"しんだんして",
    r"(薬|くすり).{0,10}(量|りょう|何錠|なんじょう|何ml|飲ませて(いい|大丈夫|だいじょうぶ)|のませて(いい|大丈夫))",
    r"(発疹|ほっしん|湿疹|しっしん|ぶつぶつ).{0,12}(何|なに|なん|病気|大丈夫|だいじょうぶ)",
    r"(解熱剤|げねつざい|座薬|ざやく|薬|くすり).{0,12}(何時間|なんじかん|あけ|間隔|かんかく)",
    r"(この|その)(症状|しょうじょう).{0,10}(何|なに|なん|病気|大丈夫)", r"(障害|しょうがい|発達障害|自閉).{0,10}(ですか|でしょうか|かな|か\?)",
])  # fmt: skip
_OTHER_TOPIC = compile_patterns([
    r"(ゴミ|ごみ|粗大)", r"住民税", r"じゅうみんぜい", r"固定資産税", r"パスポート", r"ぱすぽーと", r"(印鑑|いんかん)登録",
    r"選挙", r"せんきょ", r"(駐輪|ちゅうりん)", r"(婚姻届|こんいんとどけ|離婚届)", r"(年金|ねんきん)",
    r"(天気|てんき)", r"(株|かぶ)(価|の)", r"(競馬|パチンコ)", r"(レシピ|献立).{0,6}(教え|おしえ)", r"(ラーメン|居酒屋|ランチ)",
    r"(転出届|転居届)", r"(犬|いぬ)の登録", r"(確定申告|かくていしんこく)", r"(運転免許|うんてんめんきょ)",
])  # fmt: skip
_CHILD_WORDS = re.compile(
    fold(
        r"子|こども|赤ちゃん|あかちゃん|乳児|幼児|妊娠|にんしん|妊婦|出産|しゅっさん|出生|保育|ほいく|育児|いくじ|"
        r"手当|てあて|園|学童|がくどう|母子|ぼし|健診|けんしん|予防接種|よぼう|ベビー|べびー|シッター|しったー|"
        r"産後|さんご|授乳|じゅにゅう|児童|じどう|ママ|まま|パパ|ぱぱ|家庭|かてい|学校|がっこう|ひとり親|おむつ"
    )
)


# Topics that stay out of scope even when a child is mentioned (shopping advice, private lessons, games).
_ALWAYS_OTHER = compile_patterns([
    r"おすすめ", r"オススメ", r"(塾|じゅく)", r"習い事", r"ならいごと", r"英語教室", r"しりとり", r"動物園", r"遊園地",
    r"住民票", r"じゅうみんひょう", r"(マイナンバーカード|まいなんばーかーど)の(更新|再発行)",
])  # fmt: skip


def detect_out_of_scope(text: str, ward_name: str = "", other_municipalities: Sequence[str] = (),
                        service_names: re.Pattern[str] | None = None) -> OutOfScope | None:  # fmt: skip
    """``other_municipalities`` (from knowledge/ward.yaml): a question naming one of them, and not the ward itself, is
    referred there. ``service_names`` (the knowledge's titles and aliases): a diagnosis cue inside a service's name
    (「障害手当はいくらですか」) is not a request for a diagnosis, so the names are taken out before those cues are read."""
    folded = fold(text)
    if any(p.search(folded) for p in _INJECTION):
        return OutOfScope.INJECTION
    about_child = fold(service_names.sub("・", nfkc(text))) if service_names else folded
    if any(p.search(about_child) for p in _DIAGNOSIS):
        return OutOfScope.DIAGNOSIS
    plain = nfkc(text)
    if any(m in plain for m in other_municipalities) and not (ward_name and ward_name in plain):
        return OutOfScope.OTHER_WARD
    # A word of another topic is a hint, not a verdict: the answer path keeps the question when a document means
    # nearly the same (「住民税非課税なんですが保育料は…」), so a child word does not excuse it here.
    if any(p.search(folded) for p in (*_OTHER_TOPIC, *_ALWAYS_OTHER)):
        return OutOfScope.OTHER_TOPIC
    return None


def mentions_childcare(text: str) -> bool:
    return bool(_CHILD_WORDS.search(fold(text)))
