"""Optional LLM judge (RAGAS-style faithfulness and answer relevancy), off by default and never needed for CI.

It uses the same configured endpoint as the LLM writer (``BOT_LLM_*``). A judge reply that is not the requested JSON
counts as "no score" for that item rather than a zero, so a flaky judge never drags the numbers down silently: the
report shows how many items were scored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.answering.llm import build_chat_model
from bot.answering.results import AnswerResult
from bot.config import Settings
from bot.safety import mask_pii

PROMPT = (Path(__file__).parent / "prompts" / "judge.txt").read_text(encoding="utf-8")
_JSON = re.compile(r"\{[^{}]*\}")


def parse_scores(text: str) -> dict[str, float] | None:
    m = _JSON.search(text or "")
    if not m:
        return None
    try:
        data = json.loads(m.group(0))
        scores = {k: float(data[k]) for k in ("faithfulness", "relevancy")}
    except (ValueError, KeyError, TypeError):
        return None
    return scores if all(0.0 <= v <= 1.0 for v in scores.values()) else None


class Judge:
    def __init__(self, settings: Settings):
        self.model = build_chat_model(settings)

    def score(self, result: AnswerResult) -> dict[str, float] | None:
        # str.replace, not str.format: the prompt shows a JSON example with literal braces
        prompt = (
            PROMPT.replace("{sources}", "\n\n".join(result.source_texts)[:6000])
            .replace("{question}", mask_pii(result.question))
            .replace("{answer}", result.text)
        )
        try:
            reply: Any = self.model.invoke([{"role": "user", "content": prompt}])
        except Exception:  # any endpoint failure: the item is simply not scored
            return None
        return parse_scores(reply.content if isinstance(reply.content, str) else "")
