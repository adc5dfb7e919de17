"""The ward profile (``knowledge/ward.yaml``): what differs from one ward to the next and is not a procedure.

It holds the ward's name, the office to fall back on, the document diagnosis refusals cite, the clarify fallbacks,
the other municipalities whose questions are referred there, and, per emergency level, the numbers a reply shows
first, each one backed by a knowledge document whose text contains it (so every number a parent is told to call
has a cited source). Another ward adopts the bot by replacing ``knowledge/``, this file included; no code names
Taito's documents or offices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import Office, Problem, Procedure
from bot.safety.rules import EmergencyLevel
from bot.text.textnorm import nfkc

WARD_FILE = "ward.yaml"


@dataclass(frozen=True)
class EmergencyLine:
    number: str
    label: str
    kind: str  # key of the translated label (bot/answering/prompts/emergency_i18n.yaml)


@dataclass(frozen=True)
class EmergencyPlan:
    level: EmergencyLevel
    numbers: tuple[EmergencyLine, ...]
    docs: tuple[str, ...]
    office: str | None = None


@dataclass(frozen=True)
class WardProfile:
    name: str
    emergency: dict[EmergencyLevel, EmergencyPlan] = field(default_factory=dict)
    default_office: str | None = None
    diagnosis_doc: str | None = None
    clarify_fallbacks: tuple[str, ...] = ()
    other_municipalities: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()  # the ward's own web hosts: only their pages are 「区の公式ページ」
    councillor_hosts: tuple[str, ...] = ()  # ward councillors' blogs: 「区議会議員のブログ(非公式)」
    names: dict[str, str] = field(default_factory=dict)  # the ward's name in other languages (``names:``)

    def name_in(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get(lang.split("-")[0]) or self.name


_DIGITS = re.compile(r"[\s\-‐−ー()()]")


def _squash(text: str) -> str:
    return _DIGITS.sub("", nfkc(text))


def load_ward(directory: Path, rel: str, procedures: dict[str, Procedure], offices: dict[str, Office],
              problems: list[Problem]) -> WardProfile | None:  # fmt: skip
    path = directory / WARD_FILE
    if not path.is_file():
        problems.append(Problem(rel, 1, f"{WARD_FILE} is missing (the ward's name and emergency numbers)"))
        return None
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problems.append(Problem(rel, (mark.line + 1) if mark else 1, f"invalid YAML: {e}"))
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"].strip():
        problems.append(Problem(rel, 1, "ward.yaml needs 'name' (the ward's name) and 'emergency'"))
        return None
    raw = data.get("emergency")
    if not isinstance(raw, dict):
        problems.append(Problem(rel, 1, "ward.yaml: 'emergency' must map each level to its numbers"))
        return None
    plans: dict[EmergencyLevel, EmergencyPlan] = {}
    for level in EmergencyLevel:
        item = raw.get(level.value)
        if not isinstance(item, dict):
            problems.append(Problem(rel, 1, f"ward.yaml: emergency level '{level.value}' is missing"))
            continue
        docs = tuple(str(d) for d in item.get("docs") or ())
        texts = []
        for d in docs:
            if d not in procedures:
                problems.append(Problem(rel, 1, f"ward.yaml: {level.value}: unknown document id '{d}'"))
            else:
                p = procedures[d]
                texts.append(_squash("\n".join([p.title, *(s.text for s in p.sections)])))
        if not docs:
            problems.append(Problem(rel, 1, f"ward.yaml: {level.value}: 'docs' must name the source documents"))
        office = item.get("office")
        if office is not None and office not in offices:
            problems.append(Problem(rel, 1, f"ward.yaml: {level.value}: unknown office id '{office}'"))
            office = None
        lines = []
        for n in item.get("numbers") or ():
            if not isinstance(n, dict) or not n.get("number") or not n.get("label") or not n.get("kind"):
                problems.append(Problem(rel, 1, f"ward.yaml: {level.value}: each number needs number, label, kind"))
                continue
            number = str(n["number"])
            if texts and not any(_squash(number) in t for t in texts):
                problems.append(
                    Problem(rel, 1, f"ward.yaml: {level.value}: number {number} occurs in none of {', '.join(docs)}")
                )
            lines.append(EmergencyLine(number, str(n["label"]), str(n["kind"])))
        if not lines:
            problems.append(Problem(rel, 1, f"ward.yaml: {level.value}: no numbers"))
        plans[level] = EmergencyPlan(level, tuple(lines), docs, office)
    default_office = data.get("default_office")
    if default_office not in offices:
        problems.append(Problem(rel, 1, f"ward.yaml: default_office '{default_office}' is not an office id"))
        default_office = None
    diagnosis_doc = data.get("diagnosis_doc")
    if diagnosis_doc is not None and diagnosis_doc not in procedures:
        problems.append(Problem(rel, 1, f"ward.yaml: diagnosis_doc '{diagnosis_doc}' is not a document id"))
        diagnosis_doc = None
    fallbacks = tuple(str(d) for d in data.get("clarify_fallbacks") or ())
    for d in fallbacks:
        if d not in procedures:
            problems.append(Problem(rel, 1, f"ward.yaml: clarify_fallbacks: unknown document id '{d}'"))
    others = tuple(str(m) for m in data.get("other_municipalities") or ())
    if data["name"].strip() in others:
        problems.append(Problem(rel, 1, "ward.yaml: other_municipalities must not list the ward itself"))
    hosts = tuple(str(h).lower() for h in data.get("hosts") or ())
    councillors = tuple(str(h).lower() for h in data.get("councillor_hosts") or ())
    names = data.get("names") or {}
    if not isinstance(names, dict) or not all(isinstance(v, str) and v.strip() for v in names.values()):
        problems.append(Problem(rel, 1, "ward.yaml: 'names' must map a language code to the ward's name"))
        names = {}
    return WardProfile(data["name"].strip(), plans, default_office, diagnosis_doc,
                       tuple(d for d in fallbacks if d in procedures), others, hosts, councillors,
                       {str(k): v.strip() for k, v in names.items()})  # fmt: skip
