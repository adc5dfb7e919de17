"""From a question to a reply: analysis, decision, composition, verdicts, curated and LLM answers, the result types."""
