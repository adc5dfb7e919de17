"""The groundedness check, shared by the evals harness and the LLM answer validator.

Every number that carries meaning (amounts, ages, dates, times, counts, phone numbers) in an answer must occur in the
documents it cites. Numbers are compared after the same normalisation on both sides: NFKC, thousands separators
removed, 万/千 expanded (5万円 = 50,000円), and a unit kept with its number so that 3歳 does not match 3回.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text.textnorm import ascii_digits, nfkc

_PHONE = re.compile(r"(?<![\d#])(0\d{1,4}-\d{1,4}-\d{3,4})(?!\d)|(#\d{4})(?!\d)|(?<![\d,.#-])(110|119|189)(?![\d,円])")
_CITATION = re.compile(r"\[\d+(?:\s*[,、]\s*\d+)*\]")
_MAN = re.compile(r"(\d+(?:\.\d+)?)万(\d+)?千?")
_NUM = re.compile(
    r"(\d+(?:\.\d+)?)\s*(円|歳|か月|ヶ月|ケ月|カ月|箇月|年度|年|月|日|時間|時|分|週|回|人|枚|園|か所|%|割)?"
)
_ERA = re.compile(r"(令和|平成|R|H)(\d+|元)")


@dataclass(frozen=True)
class Violation:
    fact: str
    kind: str  # "number" | "phone" | "citation"

    def __str__(self) -> str:
        return f"{self.kind}: {self.fact}"


def normalize_numbers(text: str) -> str:
    """NFKC, no thousands separators, 万/千 expanded, eras as R/H: the form both sides are compared in."""
    t = ascii_digits(nfkc(text))
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)
    t = t.replace("ヵ月", "か月").replace("ヶ月", "か月").replace("ケ月", "か月").replace("カ月", "か月")

    def man(m: re.Match[str]) -> str:
        base = float(m.group(1)) * 10000
        if m.group(2):
            base += int(m.group(2)) * (1000 if m.group(0).endswith("千") else 1)
        return str(int(base))

    t = re.sub(r"(\d+(?:\.\d+)?)万(\d+)千", lambda m: str(int(float(m.group(1)) * 10000 + int(m.group(2)) * 1000)), t)
    t = _MAN.sub(man, t)
    t = re.sub(r"(\d+)千(?=円)", lambda m: str(int(m.group(1)) * 1000), t)
    t = _ERA.sub(lambda m: m.group(1)[0].upper() + ("1" if m.group(2) == "元" else m.group(2)) + "年", t)
    return t


def extract_facts(text: str) -> tuple[set[str], set[str]]:
    """Return (phone-like numbers, number+unit tokens) found in text."""
    t = normalize_numbers(_CITATION.sub(" ", text))
    phones = {next(g for g in m.groups() if g) for m in _PHONE.finditer(t)}
    rest = _PHONE.sub(" ", t)
    rest = re.sub(r"\d{1,2}:\d{2}", lambda m: " " + m.group(0).replace(":", "時") + "分 ", rest)
    nums = set()
    for m in _NUM.finditer(rest):
        num = m.group(1)
        if num.endswith(".0"):
            num = num[:-2]
        nums.add(num + (m.group(2) or ""))
    return phones, nums


def source_facts(texts: list[str]) -> tuple[set[str], set[str], set[str]]:
    phones: set[str] = set()
    nums: set[str] = set()
    for t in texts:
        p, n = extract_facts(t)
        phones |= p
        nums |= n
    bare = {re.match(r"[\d.]+", n).group(0) for n in nums if re.match(r"[\d.]+", n)}  # type: ignore[union-attr]
    return phones, nums, bare


def check_grounded(answer: str, sources: list[str]) -> list[Violation]:
    """Facts in ``answer`` that none of ``sources`` contains. An empty list means grounded."""
    phones, nums = extract_facts(answer)
    s_phones, s_nums, s_bare = source_facts(sources)
    out = [Violation(p, "phone") for p in sorted(phones) if p not in s_phones]
    for n in sorted(nums):
        if n in s_nums:
            continue
        m = re.match(r"[\d.]+", n)
        unitless = m is not None and m.group(0) == n
        if unitless and n in s_bare:
            continue
        out.append(Violation(n, "number"))
    return out


def check_citations(answer: str, n_sources: int) -> list[Violation]:
    """Every [n] marker must name a provided source (1..n_sources)."""
    out = []
    for m in _CITATION.finditer(answer):
        for num in re.findall(r"\d+", m.group(0)):
            if not 1 <= int(num) <= n_sources:
                out.append(Violation(f"[{num}]", "citation"))
    return out
