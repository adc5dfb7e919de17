"""kosodate-bot: the domain package (knowledge, index, retrieval, answers, safety). No web imports here."""

__version__ = "0.1.0"
