"""Eligibility verdicts: 「対象です」「対象ではありません」「条件によります」, always with the sentence that decides it.

A verdict is given only when the question asks whether the family can use a service and one of these settles it:

- **the child's age or school year** that the message states, against an age range the document's rule states
  (「生後6か月から3歳未満」「1歳から小学校に入る前まで」「小学3年生の年代まで」「18歳になったあとの最初の3月31日まで」);
- **a sentence about the family's very situation** (most of the message's own words) that says plainly that it can or
  cannot (「出産したあとに台東区に引っ越してきた場合も、対象になりません」);
- **the household's income** the message states (住民税非課税, taxed, a salary) against the document's income rule:
  「所得制限なし」 → 対象です; 「住民税非課税世帯…が対象」 → 対象です / 対象ではありません; 「所得制限あり」 → 条件によります;
- **an income rule** the message does not settle (「所得制限があります」): 条件によります.

Anything else gets no verdict: the rule is shown and the parent decides, the bot never guesses beyond it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answering.question import Family, Question
from bot.text.textnorm import nfkc

VERDICT_TEXT = {
    "eligible": "対象です。",
    "not_eligible": "対象ではありません。",
    "depends": "条件によります。次の条件を確かめてください。",
}
ASKS = re.compile(r"(もらえ|貰え|使え|つかえ|受けられ|うけられ|対象|入れ|はいれ|預け|あずけ|申し?込め|登録でき|利用でき|"
                  r"通え|かよえ|該当|できます|できる|大丈夫|いけます)[^。]{0,12}([??]|か[。]?$|の[。]?$|かな|$)")  # fmt: skip
NEGATIVE = re.compile(r"(対象になりません|対象ではありません|対象外|使えません|利用できません|受けられません|もらえません|"
                      r"登録できません|申し込めません|入れません|預けられません)")  # fmt: skip
POSITIVE = re.compile(
    r"(対象です|対象になります|使えます|利用できます|受けられます|もらえます|申し込めます|登録できます|預けられます)"
)
INCOME_RULE = re.compile(r"所得(の)?(制限|基準)(が)?(あり|ある)|所得によって|所得が.{0,10}(以下|未満)")
INCOME_STATED = re.compile(r"(年収|所得|収入|非課税|課税|生活保護)")
NO_INCOME_LIMIT = re.compile(r"所得制限(は)?(なし|ありません|がありません|はない)|所得に(は)?関係なく|所得がいくらでも")
LOW_INCOME_ONLY = re.compile(r"(住民税非課税|生活保護)[^。]{0,24}が対象")
NEGATED = re.compile(r"(てない|ていない|でない|ません|ず[、。]|なくて|じゃない)")
CONDITIONAL = re.compile(r"(場合(は|も|でも)|ても|でも使|でも対象)")
EXCEPTION = re.compile(r"(特例|例外|によっては)")
OTHER_CONDITIONS = re.compile(r"(住む|住み|住んで|住民票|通って|通う|所得|働|ひとり親|世帯|保護者が)")

_N = r"(\d{1,2})"
# The end of the school (fiscal) year of an age, as rules write it: 「18歳年度末」「18歳になったあとの最初の3月31日」
# 「18歳になって最初の3月31日」「満9歳になる年度末」「9歳になる年度の3月31日」
_FISCAL_YEAR_END = re.compile(
    r"(?:満)?(\d{1,2})歳(?:年度末|になっ(?:たあと|て)の?最初の3月31日|になる年度(?:末|の3月31日))"
)


@dataclass(frozen=True)
class AgeRule:
    """An age range in months, and/or a highest school stage ("preschool", "elementary", "high") and year."""

    min_months: int | None = None
    max_months: int | None = None  # exclusive
    max_stage: str | None = None
    max_year: int | None = None


_STAGES = ("preschool", "elementary", "junior_high", "high")


def age_rule(sentence: str) -> AgeRule | None:
    t = nfkc(sentence)
    lo: int | None = None
    if m := re.search(r"生後" + _N + r"か月", t):
        lo = int(m.group(1))
    elif m := re.search(r"生後" + r"(\d{1,3})日", t):
        lo = int(m.group(1)) // 30
    elif m := re.search(_N + r"歳(から|以上|〜|~)", t):
        lo = int(m.group(1)) * 12
    hi: int | None = None
    stage: str | None = None
    year: int | None = None
    if m := re.search(_N + r"歳未満", t):
        hi = int(m.group(1)) * 12
    elif m := re.search(r"(から|〜|~)" + r"(?:満)?" + _N + r"歳(まで|の)", t):
        hi = (int(m.group(2)) + 1) * 12
    elif m := re.search(r"(生まれてから" + _N + r"年になる日の前の日|生後" + _N + r"年の前日)まで", t):
        hi = int(m.group(2) or m.group(3)) * 12
    elif (m := _FISCAL_YEAR_END.search(t)) and m.group(1) != "18":
        hi = (int(m.group(1)) + 1) * 12  # the year a child turns N, to its 31 March: N + 1 is surely past it
    if "小学校に入る前" in t or "就学前" in t:
        stage = "preschool"
    elif m := re.search(r"小学" + _N + r"年生", t):  # 「小学3年生まで」「小学3年生相当」
        stage, year = "elementary", int(m.group(1))
    elif re.search(r"高校生(の)?(年代|相当)", t) or ((m := _FISCAL_YEAR_END.search(t)) and m.group(1) == "18"):
        stage = "high"
    if lo is None and hi is None and stage is None:
        return None
    return AgeRule(lo, hi, stage, year)


def _months_of(f: Family) -> int | None:
    if f.child_age_months is not None:
        return f.child_age_months
    if f.school == "elementary" and f.school_year:
        return (6 + f.school_year) * 12
    if f.school == "junior_high" and f.school_year:
        return (12 + f.school_year) * 12
    if f.school == "high" and f.school_year:
        return (15 + f.school_year) * 12
    return None


def age_verdict(rule: AgeRule, f: Family) -> str | None:
    """ "eligible", "not_eligible" or None (the stated facts do not settle the age rule)."""
    months = _months_of(f)
    stage = f.school
    if months is None and stage is None:
        return None
    if months is not None and rule.min_months is not None and months < rule.min_months:
        return "not_eligible"
    if months is not None and rule.max_months is not None and months >= rule.max_months:
        return "not_eligible"
    if rule.max_stage is not None:
        if stage is None and months is not None:
            stage = "preschool" if months < 72 else None  # 6 and over: the school year decides, not stated
        if stage is None:
            return None
        if _STAGES.index(stage) > _STAGES.index(rule.max_stage):
            return "not_eligible"
        if stage == rule.max_stage and rule.max_year is not None and f.school_year is not None:
            return "not_eligible" if f.school_year > rule.max_year else "eligible"
    if months is None and rule.min_months is not None and stage == "preschool":
        return None  # 「保育園児」: old enough for a lower age limit is not stated
    return "eligible"


def income_verdict(texts: list[str], income: str | None) -> tuple[str, int] | None:
    """(verdict, index of the deciding text) for the household's stated income against the first income rule among
    ``texts`` (the document's rule sentences); None when the income is not stated or no rule is found."""
    if income is None:
        return None
    for i, t in enumerate(texts):
        if NO_INCOME_LIMIT.search(t):
            return "eligible", i
        if LOW_INCOME_ONLY.search(t):
            return {"non_taxable": "eligible", "taxable": "not_eligible"}.get(income, "depends"), i
        if INCOME_RULE.search(t):
            return "depends", i
    return None


# What a question asks when it is about a detail, not about whether the family can use the service: 「何時から預けられる?」
_DETAIL_ASPECTS = ("amount", "payment_date", "deadline", "hours", "documents", "limits", "where", "contact")


def asks_eligibility(q: Question) -> bool:
    """Eligibility was asked, or the question asks whether the family can (「使えますか」) and no detail comes first."""
    if "eligibility" in q.aspects:
        return True
    return bool(ASKS.search(nfkc(q.text))) and not (q.aspects and q.aspects[0] in _DETAIL_ASPECTS)
