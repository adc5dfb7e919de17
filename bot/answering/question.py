"""Understanding a parent's message once per request: what it asks, about whom, and in how many parts.

:func:`analyse` returns a :class:`Question` that the decision and the composer read, so the text is normalised and
tokenised once. The asked *aspects* (amount, payment date, deadline, ...) come from a classifier over the sentence
embedding and character n-grams, trained on examples written by people who never saw this code
(:mod:`bot.answering.aspect_model`), with cue words as the backstop when the model is absent or unsure. The *family facts* a
message states (the child's age or school year, twins, living in the ward, moved in after the birth, single parent,
pregnant) feed the eligibility verdicts. A message with two or three questions is split into its parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from bot.text.jatext import analyze, content_words
from bot.text.textnorm import ascii_digits, nfkc, normalize, to_hiragana

# What a parent can ask about a service, with the section heading (or heading words) that usually answers it.
ASPECT_LABELS: dict[str, str] = {
    "amount": "金額・料金",
    "payment_date": "支給月",
    "deadline": "期限・受付期間",
    "eligibility": "対象",
    "apply": "申請方法",
    "where": "場所",
    "hours": "利用時間",
    "documents": "必要なもの",
    "contact": "問い合わせ",
    "what": "概要",
    "limits": "利用の上限",
}

# Cue words: the backstop for the classifier (and what it falls back to when its artifact is missing). Patterns are
# matched on text folded to hiragana, so a kanji pattern also needs its kana form only where parents type kana.
CUES: dict[str, list[str]] = {
    "amount": [r"いくら", r"幾ら", r"金額", r"料金", r"費用", r"値段", r"何円", r"なんえん", r"お金", r"おかね", r"無料",
               r"むりょう", r"ただ(に|で)", r"負担", r"補助(額|は)", r"上限額", r"月額", r"助成額", r"円", r"減免",
               r"安く", r"やすく", r"割引", r"(一|1)人(につき|あたり|ずつ)", r"人分", r"二人分", r"タダ", r"かかる"],
    "payment_date": [r"振り?込", r"ふりこ", r"支給(日|月|され)", r"支払(われ|日|月)", r"入金", r"にゅうきん",
                     r"いつ(もら|貰|入|はい|出|で)", r"何月に", r"なんがつ"],
    "deadline": [r"いつまで", r"期限", r"きげん", r"締め?切", r"しめきり", r"何日以内", r"なんにち以内", r"受付期間",
                 r"いつから", r"いつ(申|もう)", r"募集", r"間に合", r"まにあ", r"遅れ", r"おくれ"],
    "apply": [r"申請", r"しんせい", r"申し?込", r"もうしこ", r"手続", r"てつづき", r"どうやって", r"やり方", r"方法",
              r"予約", r"よやく", r"登録", r"とうろく", r"届け?出", r"出し方", r"オンライン", r"ネット", r"スマホ",
              r"電子申請", r"郵送"],
    "eligibility": [r"対象", r"たいしょう", r"使える", r"つかえる", r"利用でき", r"誰が", r"だれが", r"何歳", r"なんさい",
                    r"条件", r"受けられ", r"うけられ", r"入れる", r"もらえ(る|ます)(\?|か)", r"該当", r"資格",
                    r"でも(いい|大丈夫|使|もら|申)", r"対象外"],
    "where": [r"どこ(で|に|へ)", r"場所", r"ばしょ", r"会場", r"住所", r"何階", r"なんかい", r"行き方", r"最寄"],
    "hours": [r"何時", r"なんじ", r"時間", r"じかん", r"曜日", r"土曜", r"日曜", r"祝日", r"休日", r"夜間", r"開いて",
              r"あいて(る|ます)", r"営業", r"開庁"],
    "documents": [r"必要な(もの|物|書類)", r"ひつようなもの", r"持ち物", r"もちもの", r"持って(いく|行く|く)",
                  r"もって(いく|く|け|こ)", r"持って(け|こ)", r"準備", r"じゅんび", r"書類", r"しょるい",
                  r"何(が|を)(いる|要る|必要)", r"用意", r"なくし", r"無くし", r"紛失", r"再発行"],
    "contact": [r"電話", r"でんわ", r"問い?合わせ", r"といあわせ", r"連絡先", r"窓口", r"まどぐち", r"どこに(聞|き)",
                r"相談先", r"担当"],
    "what": [r"(とは|って)(何|なに|なん)", r"どんな", r"何(が|を)(して|でき)", r"について(教|おし)", r"違い", r"ちがい"],
    "limits": [r"何回", r"なんかい", r"何日", r"なんにち", r"何時間", r"なんじかん", r"回数", r"日数", r"上限",
               r"何泊", r"定員", r"点数", r"指数", r"ポイント"],
}  # fmt: skip
_KANJI = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _cue_rx() -> dict[str, re.Pattern[str]]:
    """The cue patterns, each plain kanji word with its hiragana reading too (parents type 「どようび」「りょうきん」);
    built on first use, when Sudachi is loaded anyway."""
    out = {}
    for key, patterns in CUES.items():
        alts = [to_hiragana(x) for x in patterns]
        for x in patterns:
            if len(x) >= 2 and _KANJI.search(x) and re.fullmatch(r"[\w\u3040-\u30ff\u4e00-\u9fff]+", x):
                reading = "".join(m.reading for m in analyze(x))
                if len(reading) >= 3 and reading not in alts:  # 「円」→えん would match ほいくえん
                    alts.append(reading)
        out[key] = re.compile("|".join(alts))
    return out


# Words that carry the aspect or the grammar of a question, not its topic (「いくら」「どこ」「申請」「それ」).
ASPECT_WORDS = frozenset({
    "幾ら", "金額", "料金", "費用", "値段", "円", "お金", "金", "無料", "負担", "上限", "持つ", "持ち物", "必要", "書類",
    "期限", "締め切り", "いつ", "期間", "申請", "申し込み", "申し込む", "手続き", "方法", "やり方", "予約", "登録",
    "届け出", "電話", "問い合わせ", "窓口", "対象", "使う", "利用", "貰う", "何", "どう", "どこ", "行く", "要る",
    "いる", "聞く", "知る", "ある", "為る", "出す", "それ", "其れ", "これ", "此れ", "あれ", "其の", "何歳", "条件",
    "場所", "連絡", "先", "いくら", "時", "よい", "良い", "欲しい", "下さる", "くれる", "もらう", "教える", "分かる",
    "出来る", "できる", "なる", "成る", "思う", "今", "振り込む", "振込", "時間", "何時", "日", "何日", "回", "何回",
    "つく", "付く", "就く", "関する", "詳しい", "くわしい", "お願い", "願う", "駄目", "だめ", "大丈夫", "可能", "平気",
    "場合", "如何",
})  # fmt: skip
_ANAPHORA = re.compile(r"(それ|その|そっち|そこ|これ|この制度|あれ|さっきの|上の|同じ)")
# A message that continues the conversation: 「じゃあ日曜日は?」「で、いくら?」「あと、オンラインでも?」
# (「あと」「それと」「ちなみに」 add a question, often about something else: they are part joiners, not follow-ups)
_CONTINUES = re.compile(r"^\s*(じゃあ|じゃ|では|なら|それなら|それで|で、|ということは|だったら|"
                        r"その場合|そしたら|then|and |so |what about|how about)|"
                        r"(だと|なら|の場合|だったら|したら|なったら|でも|は)\s*[??]?\s*$", re.IGNORECASE)  # fmt: skip
_QUESTION_END = re.compile(r"(\?|か[。]?$|の[。]?$|かな|ですか|ますか|でしょうか|教えて|おしえて|知りたい|ください|"
                           r"いい[。]?$|ある[。]?$|できる[。]?$|何[。]?$|どうすれば|どうしたら|どこ[。]?$|いつ[。]?$|"
                           r"いくら[。]?$|何が?[。]?$|は[。]?$)")  # fmt: skip
_JOINER_START = re.compile(r"^(あと|それと|それから|ついでに|また|もう一つ|もうひとつ)[、,]?")
_SPLIT = re.compile(r"(?<=[。?!?!])|\n+")
_JOINERS = re.compile(r"(?:[、,]\s*|\s+)(?=(?:あと|それと|それから|ついでに|また|もう一つ|もうひとつ)[、,]?)")

_KANJI_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_NUM = r"(\d{1,2}|[一二三四五六七八九十]{1,2})"


def _num(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _KANJI_NUM[s[1]]
    if len(s) == 2 and s[1] == "十":
        return _KANJI_NUM[s[0]] * 10
    return _KANJI_NUM.get(s[0], 0)


@dataclass(frozen=True)
class Family:
    """Facts about the family that the message states (None / empty = not said)."""

    child_age_months: int | None = None  # the youngest child the message talks about
    school: str | None = None  # "preschool", "elementary", "junior_high", "high"
    school_year: int | None = None  # 1..6 for elementary, 1..3 for junior and high school
    children: int | None = None  # how many children the question is about (twins → 2)
    pregnant: bool = False
    lives_in_ward: bool | None = None
    moved_in_after_birth: bool = False
    single_parent: bool = False
    # "non_taxable" (住民税非課税, 生活保護), "taxable" (課税, a salary), "stated" (said, unclear)
    income: str | None = None

    @property
    def stated(self) -> bool:
        return self != Family()


_AGE_MONTHS = re.compile(r"(?:生後|せいご)?\s*" + _NUM + r"\s*(?:か|ヶ|ケ|カ|ヵ|ケ)?月")
_CHILD_AFTER = re.compile(
    r"(の(子|娘|息子|赤|あか|こ|双子|男|女|長|次)|です|になり|になる|になった|児|で[、,]|くらい|ぐらい|、|,|\s)"
)
_AGE_YEARS = re.compile(_NUM + r"\s*(?:歳|才|さい)(?:\s*" + _NUM + r"\s*(?:か|ヶ|ケ|カ|ヵ)月)?")
# 「小学4年生」「中2」「高校1年」, and the Chinese 「小学2年级」「初二」「高中一年级」 (中 inside 高中 is not junior high)
_SCHOOL = re.compile(r"(小|初中|初|(?<!高)中|高中|高)(?:学|校)?\s*" + _NUM + r"(?:年|ねん)?(?:生)?")
_SCHOOL_STAGE = {"小": "elementary", "初中": "junior_high", "初": "junior_high", "中": "junior_high", "高中": "high",
                 "高": "high"}  # fmt: skip
_SCHOOL_WORD = {"小学生": "elementary", "中学生": "junior_high", "高校生": "high", "未就学": "preschool",
                "幼稚園児": "preschool", "年少": "preschool", "年中": "preschool", "年長": "preschool"}  # fmt: skip
_TWINS = re.compile(r"(双子|ふたご|双生児|三つ子|みつご|多胎)")
_PREGNANT = re.compile(r"(妊娠|にんしん|妊婦|にんぷ|お腹に|おなかに|出産予定|予定日)")
_PREGNANCY = re.compile(r"(妊娠|にんしん|妊婦|にんぷ|お腹|おなか|出産予定|予定日)")  # the message speaks of a pregnancy
_CHILD_NOUN = re.compile(r"の(子|娘|息子|赤|あか|こ|双子|男|女|長|次)")


@cache
def _residence(ward: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(lives in the ward, lives outside it): 「区内に住んでいます」 works for any ward, 「台東区に住んでいます」 for its own."""
    name = re.escape(ward) if ward else "(?!)"
    inside = re.compile(rf"({name}(に|在住|民|で暮ら|に住)|(区|市|町)内に住|(区|市|町)民です)")
    outside = re.compile(rf"((区|市|町)外|{name}(外|以外)|(他|ほか|別|隣)の(区|市)に住|(都外|県)に住|住民票.{{0,6}}(前の|別の|ほかの|他の)|"
                         r"(前の|別の|他の)(区|市|町).{0,8}住民票)")  # fmt: skip
    return inside, outside


_MOVED_AFTER = re.compile(r"((生まれ|うまれ|出産し|産ん|うん)(て|た|で)(から|あと|後).{0,12}(引っ越|ひっこ|転入|越して)|"
                          r"(引っ越|ひっこ|転入).{0,12}(前に|まえに).{0,6}(生まれ|うまれ|出産|産ん))")  # fmt: skip
_SINGLE = re.compile(r"(ひとり親|一人親|シングル|母子家庭|父子家庭|離婚)")
# The household's income as the message states it, in the supported languages (a backstop list of the words for tax
# exemption, being taxed and earning; the rule it is compared with is the document's own, bot.answering.eligibility).
_NON_TAXABLE = re.compile(r"(非[課课][税稅]|生活保護|生活保护|低保|비과세|기초생활|tax[- ]?exempt|not taxed|no (resident|local) tax|"
                          r"on welfare|miễn thuế|không (phải )?(đóng|chịu) thuế|isent[oa]|seikatsu hogo|hikazei)",
                          re.IGNORECASE)  # fmt: skip
_TAXABLE = re.compile(r"((?<!非)[課课][税稅](され|世帯|対象|です)|住民[税稅]を?(払|納め)|年収|所得が(多|高|ある)|高所得|"
                      r"年收入|收入(很|比较|比較)?高|연봉|소득이 (높|많)|(earns?|earning|make|makes|salary|income)\b.{0,30}"
                      r"(\d|million|high|over)|high income|lương|thu nhập cao|salário|renda alta|ganha|sahod|kumikita|"
                      r"आम्दानी|kamai|talab)", re.IGNORECASE)  # fmt: skip
_INCOME = re.compile(r"(所得|収入|收入|소득|income|thu nhập|renda|kita|आय)", re.IGNORECASE)


# A child's age written in the other supported languages: 「5岁/5歲」, 「5살」「5세」, "5 years old", "15-month-old",
# "5 tuổi", "5 taon", "5 anos", "5 barsa/वर्ष", and months ("8 months", "8 tháng", "8 buwan", "8 meses", "8 महिना").
_AGE_YEARS_OTHER = re.compile(r"(\d{1,2})\s*(?:岁|歲|살|세|-?\s*(?:years?|yrs?)[- ]?old|tuổi|taon|anos|barsa|वर्ष)",
                              re.IGNORECASE)  # fmt: skip
_AGE_MONTHS_OTHER = re.compile(r"(\d{1,2})\s*-?\s*(?:months?(?:[- ]old)?|tháng tuổi|buwan|meses|mahina|महिना|个月|個月|개월)",
                               re.IGNORECASE)  # fmt: skip
# A school year in the other languages: "grade 3", "3rd grade", 「3年级/年級」, 「3학년」, "lớp 3", "kaksha 3", "3º ano";
# with a junior-high or high-school word before it (「중학교 2학년」, "middle school").
_SCHOOL_OTHER = re.compile(
    r"(?:(?P<jh>junior high|middle school|중학교?|trung học cơ sở)\s*|(?P<hs>high school|고등학교?|trung học phổ thông)\s*)?"
    r"(?:grade\s*(?P<a>\d{1,2})|(?P<b>\d{1,2})(?:st|nd|rd|th)\s*grade|(?P<c>\d{1,2})\s*(?:年级|年級|학년)"
    r"|lớp\s*(?P<d>\d{1,2})|kaksha\s*(?P<e>\d{1,2})|कक्षा\s*(?P<f>\d{1,2})|(?P<g>\d{1,2})\s*[ºo°]\s*ano)",
    re.IGNORECASE,
)


def family_facts(text: str, ward: str = "") -> Family:
    t = ascii_digits(nfkc(text))
    months: int | None = None
    for m in _AGE_YEARS.finditer(t):
        value = _num(m.group(1)) * 12 + (_num(m.group(2)) if m.group(2) else 0)
        months = value if months is None else min(months, value)
    for m in _AGE_YEARS_OTHER.finditer(t):
        months = int(m.group(1)) * 12 if months is None else min(months, int(m.group(1)) * 12)
    for m in _AGE_MONTHS_OTHER.finditer(t):
        if int(m.group(1)) <= 36:
            months = int(m.group(1)) if months is None else min(months, int(m.group(1)))
    for m in _AGE_MONTHS.finditer(t):
        if "歳" in t[max(0, m.start() - 3) : m.start()]:
            continue
        after = t[m.end() : m.end() + 3]
        if not ("生後" in m.group(0) or _CHILD_AFTER.match(after)):
            continue  # 「2か月分滞納」「3か月前に」 are not an age
        if "生後" not in m.group(0) and _PREGNANCY.search(t) and not _CHILD_NOUN.match(after):
            continue  # a pregnant mother's 「妊娠7か月」「いま7か月で」 is the pregnancy, not a child (「7か月の息子」 is a child)
        value = _num(m.group(1))
        if value <= 36:
            months = value if months is None else min(months, value)
    school = year = None
    if (sm := _SCHOOL.search(t)) is not None:
        school = _SCHOOL_STAGE[sm.group(1)]
        year = _num(sm.group(2))
    elif (so := _SCHOOL_OTHER.search(t)) is not None:
        year = int(next(g for g in (so.group(x) for x in "abcdefg") if g))
        school = "junior_high" if so.group("jh") else "high" if so.group("hs") else "elementary"
        if school == "elementary" and year > 6:  # "grade 8", "lớp 10": counted from the first grade
            school, year = ("junior_high", year - 6) if year <= 9 else ("high", year - 9)
    else:
        school = next((v for k, v in _SCHOOL_WORD.items() if k in t), None)
    twins = _TWINS.search(t)
    children = (3 if twins and twins.group(1) in ("三つ子", "みつご") else 2) if twins else None
    inside, outside = _residence(ward)
    return Family(
        child_age_months=months,
        school=school,
        school_year=year,
        children=children,
        pregnant=bool(_PREGNANT.search(t)),
        lives_in_ward=False if outside.search(t) else (True if inside.search(t) else None),
        moved_in_after_birth=bool(_MOVED_AFTER.search(t)),
        single_parent=bool(_SINGLE.search(t)),
        income=_income(t),
    )


def _income(t: str) -> str | None:
    if _NON_TAXABLE.search(t):
        return "non_taxable"
    if _TAXABLE.search(t):
        return "taxable"
    return "stated" if _INCOME.search(t) else None


def cue_aspects(text: str) -> list[str]:
    folded = to_hiragana(nfkc(text))
    return [k for k, rx in _cue_rx().items() if rx.search(folded)]


def split_parts(text: str) -> list[str]:
    """The questions of a message, each with the statements that lead up to it (at most three).

    「双子なんですが、児童手当は二人分出ますか?あと医療証をなくしたらどうすれば」 → two parts. Statements before a
    question belong to it; a message with one question is one part."""
    t = nfkc(text).strip()
    pieces: list[str] = []
    for sentence in _SPLIT.split(t):
        pieces += [p for p in _JOINERS.split(sentence) if p and p.strip()]
    parts: list[str] = []
    pending = ""
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if _JOINER_START.match(piece) and parts and not pending:
            parts.append(piece)  # 「…の?あと医療証なくしたら」: a new question even without a question mark
            continue
        if _QUESTION_END.search(re.sub(r"[。!\s]+$", "", piece)) or _QUESTION_END.search(piece):
            parts.append((pending + piece).strip())
            pending = ""
        else:
            pending += piece
    if pending:
        if parts:
            parts[-1] += pending
        else:
            parts.append(pending)
    return parts[:3] if len(parts) > 1 else [t]


@dataclass(frozen=True)
class Question:
    """One parent message, analysed once and passed down the answer path."""

    text: str
    normalized: str
    lang: str = "ja"
    words: tuple[str, ...] = ()  # Sudachi content words (dictionary forms)
    aspects: tuple[str, ...] = ()  # what it asks, most likely first
    sure: frozenset[str] = frozenset()  # the aspects the classifier is sure of (a "not known" needs one)
    family: Family = field(default_factory=Family)
    parts: tuple[str, ...] = ()
    continues: bool = False  # starts like a follow-up (「じゃあ」「あと」「それって」)

    @property
    def topic_words(self) -> list[str]:
        """Content words that are not about the aspect or the grammar of a question."""
        return [w for w in self.words if w not in ASPECT_WORDS]

    @property
    def topicless(self) -> bool:
        """Names no topic of its own (「いくら?」「何を持っていけばいい?」「それっていつまで?」)."""
        if self.lang != "ja":
            return False  # Sudachi finds no Japanese words in Hangul or Vietnamese: retrieval decides
        words = self.topic_words
        return not words or (bool(_ANAPHORA.search(self.text)) and len(words) <= 1)

    @property
    def anaphoric(self) -> bool:
        return bool(_ANAPHORA.search(self.text))


def analyse(text: str, lang: str = "ja", aspects: list[str] | None = None, sure: set[str] | None = None,
            ward: str = "") -> Question:  # fmt: skip
    """``aspects``: the classifier's labels when the caller ran it; else the cue words decide. ``ward``: the ward's
    own name (knowledge/ward.yaml), so 「<ward>に住んでいます」 counts as living in it."""
    q = text.strip()
    if aspects is None:
        aspects = cue_aspects(q)
    return Question(
        text=q,
        normalized=normalize(q),
        lang=lang,
        words=tuple(content_words(q)),
        aspects=tuple(aspects),
        sure=frozenset(aspects if sure is None else sure),
        family=family_facts(q, ward),
        parts=tuple(split_parts(q)) if lang == "ja" else (q,),  # the splitter reads Japanese sentence ends
        continues=bool(_CONTINUES.search(nfkc(q))),
    )
