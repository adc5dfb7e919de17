"""Japanese for staff: the validator's problems, answer kinds, re-index stages, in one place.

The validator (this package) reports in precise English, which logs and ``ingest.py`` keep. The admin shows staff the
Japanese from here. Each English message pattern of ``bot/knowledge`` has one entry in :data:`PATTERNS`;
``tests/bot/test_ja.py`` reads the validator's source and fails when a message has no entry, so a new check cannot
reach staff in English. A message no pattern matches (for example PyYAML's own wording) is shown as it is, after the
Japanese lead 「」.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.knowledge import Problem

# (English pattern, Japanese). Groups are filled into the Japanese as {0}, {1}...; a group named ``inner`` is itself
# translated (messages that wrap another message, such as "form 'x': must be a list of strings").
_RAW: list[tuple[str, str]] = [
    # parsing one document
    (r"missing front matter: the file must start with a '---' line",
     "フロントマターがありません。ファイルの1行目は「---」にしてください。"),
    (r"front matter is not closed by a '---' line", "フロントマターが「---」の行で閉じられていません。"),
    (r"front matter must be a YAML mapping", "フロントマターは「項目名: 値」の形で書いてください。"),
    (r"is a symbolic link: put the document itself in procedures/",
     "シンボリックリンクです。文書そのものを procedures/ に置いてください。"),
    (r"is (.+) bytes, over the (.+)-byte limit: split it", "{0}バイトあり、上限の{1}バイトを超えています。文書を分けてください。"),
    (r"not valid UTF-8 \((.+) at byte (.+)\)", "文字コードが UTF-8 ではありません({1}バイト目)。UTF-8 で保存し直してください。"),
    (r"not valid UTF-8 \((.+)\)", "文字コードが UTF-8 ではありません。UTF-8 で保存し直してください。"),
    (r"invalid YAML: (?P<inner>.+)", "YAML の書き方に誤りがあります: {0}"),
    (r"missing required field '(.+)'", "必須の項目「{0}」がありません。"),
    (r"unknown field '(.+)' \(known: (.+)\)", "「{0}」は知らない項目です(使える項目: {1})。"),
    (r"id '(.+)' must be lowercase ascii letters, digits and hyphens",
     "id「{0}」には半角の小文字英字・数字・ハイフンだけを使ってください。"),
    (r"id '(.+)' does not match the file name '(.+)'", "id「{0}」がファイル名「{1}」と一致しません。"),
    (r"unknown category '(.+)' \(use one of: (.+)\)", "分類「{0}」はありません(次のどれか: {1})。"),
    (r"'(.+)' is not a valid date \(use YYYY-MM-DD\): (.+)", "「{0}」の日付 {1} が正しくありません(YYYY-MM-DD の形で)。"),
    (r"not an ISO date: (.+)", "日付 {0} が正しくありません(YYYY-MM-DD の形で)。"),
    (r"must be a list of strings", "文字列のリストにしてください。"),
    (r"valid_until is before valid_from", "valid_until(掲載終了日)が valid_from(開始日)より前です。"),
    (r"checked_against must be one of (.+): (.+)", "checked_against は {0} のどれかにしてください(今は {1})。"),
    (r"'source_urls' must be a list of URLs or of \{url, publisher, title, as_of\} mappings",
     "source_urls は URL のリスト、または {{url, publisher, title, as_of}} のリストにしてください。"),
    (r"a source must be a URL or a mapping with 'url': (.+)", "出典は URL か、url を含む項目にしてください: {0}"),
    (r"source URL is not an http\(s\) URL: (.+)", "出典の URL {0} が http(s) の URL ではありません。"),
    (r"unknown key\(s\) (.+) in source (.+) \(known: (.+)\)", "出典 {1} の {0} は知らない項目です(使える項目: {2})。"),
    (r"unknown publisher (.+) for (.+) \(use one of: (.+)\)", "出典 {1} の発行元 {0} はありません(次のどれか: {2})。"),
    (r"'as_of' of source (.+) is not a valid date \(use YYYY-MM-DD\): (.+)",
     "出典 {0} の as_of(更新日){1} が正しくありません(YYYY-MM-DD の形で)。"),
    (r"source (.+) is declared '(.+)' but its host is '(.+)'",
     "出典 {0} は発行元が「{1}」となっていますが、アドレスからは「{2}」です。"),
    (r"'i18n' must be a mapping of language codes \(en, zh-Hans, \.\.\.\) to \{title, aliases, summary\}",
     "i18n は言語コード(en, zh-Hans など)ごとに title・aliases・summary を書いてください。"),
    (r"i18n: unknown language '(.+)' \(use one of: (.+)\)", "i18n の言語「{0}」はありません(次のどれか: {1})。"),
    (r"i18n\.(.+): needs 'title' and 'summary'", "i18n.{0} には title と summary が必要です。"),
    (r"i18n\.(.+): summary is (.+) characters, over (.+)", "i18n.{0} の要約が{1}文字あり、上限の{2}文字を超えています。"),
    (r"i18n\.(.+): the summary states (.+), which the Japanese text does not contain",
     "i18n.{0} の要約にある {1} が日本語の本文にありません。"),
    (r"i18n\.(.+)\.aliases (?P<inner>.+)", "i18n.{0} の aliases は{1}"),
    (r"i18n\.(.+)\.questions: at most (.+), each at most (.+) characters",
     "i18n.{0} の questions は{1}個まで、1つ{2}文字までです。"),
    (r"i18n\.(.+)\.questions (?P<inner>.+)", "i18n.{0} の questions は{1}"),
    (r"duplicate section '## (.+)'", "節「## {0}」が2回あります。"),
    (r"text before the first '## ' heading is ignored", "最初の「## 」見出しより前の文章は使われません。"),
    (r"the body has no '## ' sections", "本文に「## 」で始まる節がありません。"),
    # forms.yaml / offices.yaml
    (r"missing file \(expected a '(.+):' list\)", "ファイルがありません(「{0}:」のリストが必要です)。"),
    (r"top level must be a mapping with a '(.+):' list", "ファイルの最初は「{0}:」のリストにしてください。"),
    (r"entry (.+) must be a mapping", "{0}件目は「項目名: 値」の形で書いてください。"),
    (r"office is missing required field\(s\): (.+)", "窓口に必須の項目 {0} がありません。"),
    (r"duplicate office id '(.+)'", "窓口の id「{0}」が2回あります。"),
    (r"form is missing required field\(s\): (.+)", "フォームに必須の項目 {0} がありません。"),
    (r"duplicate form id '(.+)'", "フォームの id「{0}」が2回あります。"),
    (r"form '(.+)': unknown channel '(.+)'", "フォーム「{0}」: 申請の経路「{1}」は登録されていません。"),
    (r"form '(.+)': url is not an http\(s\) URL", "フォーム「{0}」: url が http(s) の URL ではありません。"),
    (r"form '(.+)': kind must be one of (.+)", "フォーム「{0}」: kind は {1} のどれかにしてください。"),
    (r"form '(.+)' names unknown procedure '(.+)'", "フォーム「{0}」が、ない文書「{1}」を挙げています。"),
    (r"form '(.+?)': (?P<inner>.+)", "フォーム「{0}」: {1}"),
    # the folder as a whole
    (r"no procedure documents \(\*\.md\) found", "文書(*.md)が1つもありません。"),
    (r"duplicate id '(.+)' \(also in (.+)\)", "id「{0}」が重複しています({1} にもあります)。"),
    (r"unknown office id '(.+)'", "窓口の id「{0}」は offices.yaml にありません。"),
    (r"unknown form id '(.+)'", "フォームの id「{0}」は forms.yaml にありません。"),
    (r"alias or title '(.+)' collides with document '(.+)'", "別名または題名「{0}」が文書「{1}」と重なっています。"),
    (r"valid_until (.+) is in the past: the document is excluded from the index",
     "掲載終了日 {0} を過ぎているため、この文書は回答に使われません。"),
    (r"stale: facts were checked (.+) days ago \((.+)\); re-check them \(limit (.+) days\)",
     "内容の確認から{0}日たっています(確認日 {1}、目安 {2}日)。出典を見て確認し直してください。"),
    (r"checked date (.+) is in the future", "確認日 {0} が未来の日付です。"),
    # ward.yaml
    (r"(.+) is missing \(the ward's name and emergency numbers\)", "{0} がありません(区の名前と緊急の電話番号を書くファイル)。"),
    (r"ward\.yaml needs 'name' \(the ward's name\) and 'emergency'", "ward.yaml には name(区の名前)と emergency が必要です。"),
    (r"ward\.yaml: 'emergency' must map each level to its numbers", "ward.yaml: emergency には段階ごとの電話番号を書いてください。"),
    (r"ward\.yaml: emergency level '(.+)' is missing", "ward.yaml: 緊急の段階「{0}」がありません。"),
    (r"ward\.yaml: default_office '(.+)' is not an office id", "ward.yaml: default_office「{0}」は窓口の id ではありません。"),
    (r"ward\.yaml: 'names' must map a language code to the ward's name",
     "ward.yaml: names は「言語コード: 区の名前」の形で書いてください。"),
    (r"office '(.+)': phone_source must be the http\(s\) URL of the page showing the phone",
     "窓口「{0}」: phone_source には、その電話番号がのっているページの URL(http:// か https://)を書いてください。"),
    (r"office '(.+)': phone_confirmed must be true or false, not (.+)",
     "窓口「{0}」: phone_confirmed は true か false にしてください({1} になっています)。"),
    (r"office '(.+)': phone_source names a page but phone_confirmed is false; keep one",
     "窓口「{0}」: phone_source にページがあるのに phone_confirmed が false です。どちらか一方にしてください。"),
    (r"office '(.+)': phone_source/phone_confirmed given but no phone",
     "窓口「{0}」: 電話番号がないのに phone_source か phone_confirmed が書かれています。"),
    (r"ward\.yaml: diagnosis_doc '(.+)' is not a document id", "ward.yaml: diagnosis_doc「{0}」は文書の id ではありません。"),
    (r"ward\.yaml: clarify_fallbacks: unknown document id '(.+)'", "ward.yaml: clarify_fallbacks の文書「{0}」がありません。"),
    (r"ward\.yaml: other_municipalities must not list the ward itself",
     "ward.yaml: other_municipalities に区自身を入れないでください。"),
    (r"ward\.yaml: (.+): unknown document id '(.+)'", "ward.yaml: {0}: 文書「{1}」がありません。"),
    (r"ward\.yaml: (.+): 'docs' must name the source documents", "ward.yaml: {0}: docs に出典の文書を書いてください。"),
    (r"ward\.yaml: (.+): unknown office id '(.+)'", "ward.yaml: {0}: 窓口「{1}」がありません。"),
    (r"ward\.yaml: (.+): each number needs number, label, kind",
     "ward.yaml: {0}: 電話番号ごとに number・label・kind が必要です。"),
    (r"ward\.yaml: (.+): number (.+) occurs in none of (.+)", "ward.yaml: {0}: 番号 {1} が文書 {2} のどれにも書かれていません。"),
    (r"ward\.yaml: (.+): no numbers", "ward.yaml: {0}: 電話番号がありません。"),
    # a field name before another message ("'forms' must be a list of strings"): last, as it is the most general
    (r"'([\w.-]+)' (?P<inner>.+)", "「{0}」は{1}"),
]  # fmt: skip
PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(rf"^{en}$", re.S), ja) for en, ja in _RAW]

# PyYAML's own wording (``invalid YAML: <problem>``), the few a hand edit produces.
_YAML: list[tuple[str, str]] = [
    (r"expected ',' or '\]', but got .+", "「[ ]」のリストの中で「,」か「]」が足りません"),
    (r"expected ',' or '\}', but got .+", "「{ }」の中で「,」か「}」が足りません"),
    (r"mapping values are not allowed here", "この位置に「:」は使えません(値に「:」を含めるときは \" \" で囲みます)"),
    (r"could not find expected ':'", "「項目名: 値」の「:」が見つかりません"),
    (r"found character '\\t' that cannot start any token", "タブ文字は使えません。空白にしてください"),
    (r"found undefined alias .*", "「*」で始まる値は \" \" で囲んでください"),
    (r"expected <block end>, but found .+", "字下げ(行頭の空白)がそろっていません"),
    (r"did not find expected key", "字下げ(行頭の空白)がそろっていないか、項目名がありません"),
    (r"did not find expected '-' indicator", "リストの「- 」がそろっていません"),
    (r"found unexpected end of stream", "「\"」や「'」が閉じられていません"),
    (r"found unexpected ':'", "この位置に「:」は使えません"),
    (r"while scanning a quoted scalar.*|found unknown escape character.*", "「\"」で囲んだ値の書き方に誤りがあります"),
]  # fmt: skip
YAML_PATTERNS = [(re.compile(rf"^{en}$", re.S), ja) for en, ja in _YAML]


def _yaml(problem: str) -> str:
    for rx, ja in YAML_PATTERNS:
        if rx.match(problem):
            return ja
    return problem


def translate_message(message: str) -> str:
    """The Japanese for one validator message (the English itself when no pattern matches)."""
    for rx, ja in PATTERNS:
        m = rx.match(message)
        if m is None:
            continue
        values = list(m.groups())
        if "inner" in rx.groupindex:
            i = rx.groupindex["inner"] - 1
            values[i] = _yaml(values[i]) if message.startswith("invalid YAML") else translate_message(values[i])
        return ja.format(*values)
    return message


def matches(message: str) -> bool:
    return any(rx.match(message) for rx, _ in PATTERNS)


LEVELS = {"error": "エラー", "warning": "警告"}


def translate_problem(p: Problem) -> str:
    return translate_message(p.message)


# --- answers, statuses, the re-index ---------------------------------------------------------------------------------

KIND_LABELS = {
    "answer": "回答",
    "no_answer": "回答なし",
    "clarify": "聞き返し",
    "emergency": "緊急の案内",
    "out_of_scope": "対象外",
    "not_helpful": "役に立たなかった",
    "curated": "定型回答",
}
STATUS_LABELS = {"ok": "正常", "stale": "要確認(古い)", "expired": "掲載終了", "invalid": "エラーあり"}
STAGE_LABELS = {
    "": "待機中",
    "validate": "検証中",
    "embed": "文章のベクトル化",
    "keyword": "キーワード索引の作成",
    "classifier": "外国語の質問の振り分けの学習",
    "store": "検索用データの保存",
    "done": "完了",
    "failed": "失敗",
}


def ingest_summary(added: int, changed: int, removed: int, unchanged: int, excluded: int, chunks: int,
                   seconds: float) -> str:  # fmt: skip
    """IngestReport.summary() for staff."""
    return (
        f"追加 {added}件・変更 {changed}件・削除 {removed}件・変更なし {unchanged}件・掲載終了 {excluded}件"
        f"(検索単位 {chunks}、{seconds:.1f}秒)"
    )


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def translate_reindex_error(error: str, translate: Callable[[str], str] = translate_message) -> str:
    """The re-index error as staff read it: "knowledge has errors:" lines become Japanese ``file:line: message``."""
    if not error:
        return ""
    lines = error.splitlines()
    if lines[0] == "knowledge has errors:":
        out = ["知識フォルダにエラーがあるため、再インデックスできませんでした:"]
        for ln in lines[1:]:
            m = re.match(r"^(.+?):(\d+): (error|warning): (.*)$", ln)
            out.append(f"{m[1]} {m[2]}行目 {LEVELS[m[3]]}: {translate(m[4])}" if m else ln)
        return "\n".join(out)
    return f"再インデックスに失敗しました(詳しくはログを見てください): {error}"


# --- why the bot decided what it did (AnswerResult.reason), for the retrieval-testing box -----------------------------

_LEVELS = {"life": "命に関わる", "poison": "誤飲・中毒", "advice": "急な病気の相談", "abuse": "虐待", "crisis": "心の危機",
           "dv": "DV", "lost": "迷子"}  # fmt: skip
_SOURCES = {"rule": "規則", "model": "判定モデル", "rule+model": "規則と判定モデル"}
_REASONS: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (r"answered", lambda m: "文書の節から答えました"),
    (r"the document says this is not known", lambda m: "文書に「確認できていません」と書かれている事項です"),
    (r"follow-up on the previous topic", lambda m: "前の質問の話題の続きとして答えました"),
    (r"follow-up: the question keeps the topic", lambda m: "前の質問と同じ話題のままです"),
    (r"follow-up: no other document answers", lambda m: "ほかに答える文書がないため、前の質問の話題の続きとして答えました"),
    (r"the question names no topic", lambda m: "質問にどの制度のことかが書かれていないため聞き返しました"),
    (r"no document covers the question", lambda m: "この質問に当たる文書がありません"),
    (r"two documents match about equally", lambda m: "二つの文書が同じくらい当てはまるため聞き返しました"),
    (r"(\d+) questions in one message", lambda m: f"1つのメッセージに{m[1]}つの質問がありました"),
    (r"injection", lambda m: "ボットへの指示を変えようとする文です"),
    (r"diagnosis", lambda m: "病気の診断の相談です(医療機関への案内)"),
    (r"other_ward", lambda m: "ほかの自治体についての質問です"),
    (r"other_topic", lambda m: "子育て以外の話題です"),
    (r"curated answer #(\d+) \(similarity ([\d.]+)\)", lambda m: f"定型回答 #{m[1]}(類似度 {m[2]})"),
    (r"(\w+) \(([\w+]+), p=([\d.]+)\)",
     lambda m: f"緊急: {_LEVELS.get(m[1], m[1])}({_SOURCES.get(m[2], m[2])}、確からしさ {m[3]})"),
]  # fmt: skip
REASONS = [(re.compile(rf"^{en}$"), ja) for en, ja in _REASONS]


def reason_label(reason: str) -> str:
    """AnswerResult.reason for staff (the English one is what logs and ``--json`` keep)."""
    for rx, ja in REASONS:
        m = rx.match(reason)
        if m:
            return ja(m)
    return reason


# --- the audit log's actions ------------------------------------------------------------------------------------------

ACTION_LABELS = {
    "auth.sign_in": "サインイン",
    "auth.sign_out": "サインアウト",
    "auth.failed": "サインイン失敗",
    "knowledge.publish": "公開",
    "knowledge.reindex": "再インデックス",
    "draft.upload": "下書きのアップロード",
    "draft.create": "下書きの作成",
    "draft.delete": "下書きの削除",
    "curated.create": "定型回答の作成",
    "curated.update": "定型回答の変更",
    "curated.delete": "定型回答の削除",
    "user.add": "ユーザーの追加",
    "user.delete": "ユーザーの削除",
    "user.set_password": "パスワードの変更",
    "user.set_role": "権限の変更",
    "user.unlock": "ロックの解除",
}
SOURCE_KINDS = {"pdf": "PDF", "html": "HTML", "docx": "Word", "blank": "新規"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
