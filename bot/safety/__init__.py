"""Safety: the one place that decides whether a message is an emergency or crisis, and which kind.

:class:`Triage` runs before anything else (curated answers, retrieval, the optional LLM) and combines two layers:

- **rules** (:mod:`bot.safety.rules`): set phrasings, near-perfect precision, the backstop when the model is absent;
- **a semantic model** (:mod:`bot.safety.model`): a classifier over the message's sentence embedding and character
  n-grams, trained on a labelled corpus written by people who never saw the rules, so it catches descriptions of
  the same situations in other words, kana, dialect, typos and other languages.

A message is an emergency when the model's probability of an emergency reaches its threshold, or a rule matches
and the model is not all but certain that it is not one (the veto, chosen out of fold: rules match words, and
near-misses such as 誤飲防止 or 死ぬほど笑った have the words without the situation). A message of several sentences that
is no emergency as a whole is read sentence by sentence too (``segments``), with its own threshold: an emergency told
after an ordinary question is otherwise diluted by it. The level (:class:`EmergencyLevel`) decides which numbers the
reply shows first; the answer path and the web layer only render the decision. A model that fails to load degrades
to rules only and says so in the log: a broken artifact must never stop an answer.

Out-of-scope rules (:mod:`bot.safety.scope`) and PII masking (:mod:`bot.safety.pii`) live beside it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from bot.retrieval.embeddings import EmbeddingModel, get_embedder
from bot.safety.features import embedding_text
from bot.safety.model import ARTIFACT, Prediction, TriageModel, TriageModelError
from bot.safety.pii import mask_pii
from bot.safety.rules import EmergencyLevel, EmergencyMatch, detect_emergency
from bot.safety.scope import OutOfScope, detect_out_of_scope, mentions_childcare

__all__ = [
    "EmergencyLevel",
    "EmergencyMatch",
    "OutOfScope",
    "SafetyDecision",
    "Triage",
    "detect_emergency",
    "detect_out_of_scope",
    "mask_pii",
    "mentions_childcare",
]

log = logging.getLogger("bot.safety")

# A second situation whose probability is at least this share of the most likely one's also gets its first number
# (a drunk partner hitting mother and child is DV and abuse: 110 and 189). Not tuned on any split.
ALSO_SHARE = 0.5

# The embedder the shipped model was trained with; a ward that configures another embedder for retrieval still gets
# this one for triage (loaded once, ~3 ms a message).
TRIAGE_EMBEDDER = "use-multilingual"


# Where a message is cut into its sentences for the second look (sentence ends in the supported scripts, line breaks).
_SEGMENT_END = re.compile(r"(?<=[。!?!?।])|(?<=[.;] )|\n+")
MIN_SEGMENT_CHARS = 12
MAX_SEGMENTS = 6


def segments(text: str) -> list[str]:
    """The sentences of a message (at most ``MAX_SEGMENTS``, the last ones when there are more: an emergency told
    after an ordinary question comes at the end). One sentence → an empty list: the whole message is that sentence."""
    parts = [s.strip() for s in _SEGMENT_END.split(text.strip())]
    parts = [s for s in parts if len(s) >= MIN_SEGMENT_CHARS]
    return parts[-MAX_SEGMENTS:] if len(parts) >= 2 else []


@dataclass(frozen=True)
class SafetyDecision:
    level: EmergencyLevel
    lang: str  # the language to answer in ("ja", "en", "zh-Hans", ...)
    source: str  # "rule", "model" or "rule+model"
    score: float  # the model's probability that this is an emergency (0 when the model is off)
    pattern: str = ""  # the rule that matched, if any
    also: tuple[EmergencyLevel, ...] = ()  # other situations the model finds nearly as likely (their first number too)
    sentence: str = ""  # when one sentence of the message decided it (the rest may hold an ordinary question)


class Triage:
    def __init__(self, embedder: EmbeddingModel | None = None, model: TriageModel | None = None,
                 artifact: Path | None = ARTIFACT) -> None:  # fmt: skip
        """``artifact=None`` runs the rules alone (the fallback, and the baseline the evals compare against)."""
        self.model = model
        if self.model is None and artifact is not None:
            try:
                self.model = TriageModel.load(artifact)
            except TriageModelError as e:
                log.error("safety triage runs on rules only: %s", e)
        self.embedder: EmbeddingModel | None = None
        if self.model is not None:
            if embedder is not None and embedder.identity == self.model.embedder_identity:
                self.embedder = embedder  # share the retriever's model (and its query-vector cache)
            else:
                from bot.config import Settings

                self.embedder = get_embedder(TRIAGE_EMBEDDER, Settings())
                if self.embedder.identity != self.model.embedder_identity:
                    log.error("safety triage runs on rules only: model trained with %s, embedder is %s",
                              self.model.embedder_identity, self.embedder.identity)  # fmt: skip
                    self.model = None

    def predict(self, text: str) -> Prediction | None:
        if self.model is None or self.embedder is None or not text.strip():
            return None
        try:
            return self.model.predict(text, self.embedder.embed_query(embedding_text(text)))
        except Exception:  # noqa: BLE001 - the safety path: a failing model must leave the rules, never a 500
            log.exception("safety triage model failed on one message; the rules decide it")
            return None

    def predict_segments(self, text: str) -> list[tuple[str, Prediction]]:
        """Each sentence of a message on its own: an emergency told in one sentence of a long message (「…予約はいつから?
        あと今、1歳の子が洗剤のパックを噛んで泡を吹いています」) is diluted in the whole message's vector."""
        parts = segments(text)
        if self.model is None or self.embedder is None or not parts:
            return []
        try:
            vectors = self.embedder.embed_queries([embedding_text(s) for s in parts])
            return [(s, self.model.predict(s, v)) for s, v in zip(parts, vectors, strict=True)]
        except Exception:  # noqa: BLE001 - the safety path: a failing model must leave the rules, never a 500
            log.exception("safety triage model failed on the sentences of one message; the whole message decides")
            return []

    def assess(self, text: str) -> SafetyDecision | None:
        """The decision for one message: None when it is not an emergency or crisis."""
        return self.examine(text)[0]

    def examine(self, text: str) -> tuple[SafetyDecision | None, str]:
        """(the decision, the message's language) from one prediction: the answer path needs both."""
        rule = detect_emergency(text)
        pred = self.predict(text)
        model_says = pred is not None and pred.p_emergency >= self.model.threshold  # type: ignore[union-attr]
        lang = pred.lang if pred is not None else "ja"
        score = pred.p_emergency if pred is not None else 0.0
        if rule is not None and (pred is None or score >= self.model.rule_veto):  # type: ignore[union-attr]
            source = "rule+model" if model_says else "rule"
            return SafetyDecision(rule.level, lang, source, score, rule.pattern, _also(pred, rule.level)), lang
        if model_says:
            assert pred is not None
            level = EmergencyLevel(pred.level)
            return SafetyDecision(level, lang, "model", score, also=_also(pred, level)), lang
        seg_threshold = float(self.model.meta.get("segment_threshold", 0.0)) if self.model is not None else 0.0
        if pred is not None and seg_threshold > 0:
            found = [(s, p) for s, p in self.predict_segments(text) if p.p_emergency >= seg_threshold]
            if found:
                sentence, best = max(found, key=lambda sp: sp[1].p_emergency)
                level = EmergencyLevel(best.level)
                return SafetyDecision(level, lang, "model:sentence", best.p_emergency, also=_also(best, level),
                                      sentence=sentence), lang  # fmt: skip
        return None, lang

    def language(self, text: str) -> str:
        pred = self.predict(text)
        return pred.lang if pred is not None else "ja"


def _also(pred: Prediction | None, level: EmergencyLevel) -> tuple[EmergencyLevel, ...]:
    if pred is None:
        return ()
    positive = {k: v for k, v in pred.probs.items() if k != "none"}
    top = max(positive.values())
    return tuple(EmergencyLevel(k) for k, v in sorted(positive.items(), key=lambda kv: -kv[1])
                 if k != level.value and v >= ALSO_SHARE * top)  # fmt: skip
