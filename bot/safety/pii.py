"""PII masking for anything stored or sent to an LLM: phone numbers, e-mail, マイナンバー, postcodes and addresses."""

from __future__ import annotations

import re

from bot.textnorm import nfkc

_PII = [
    ("[メール]", re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")),
    ("[マイナンバー]", re.compile(r"(?<!\d)\d{4}[- ]?\d{4}[- ]?\d{4}(?!\d)")),
    (
        "[電話番号]",
        re.compile(r"(?<![\d#])(0\d{1,4}[-(]?\d{1,4}[-)]?\d{3,4}|\+81[- ]?\d{1,4}[- ]?\d{1,4}[- ]?\d{3,4})(?!\d)"),
    ),
    ("[郵便番号]", re.compile(r"〒?\s?\d{3}-\d{4}")),
    (
        "[住所]",
        re.compile(
            r"(東京都)?[^\s、。,はがをにでの]{0,4}(区|市|町)[^\s、。,0-9]{1,6}?\d+(丁目)?(-|番地?)\d+(-\d+|号)?(号室)?"
        ),
    ),
    ("[住所]", re.compile(r"[\u4e00-\u9fff]{1,5}\d{1,4}-\d{1,4}(-\d{1,4})?(?![\d-])")),
    ("[住所]", re.compile(r"[^\s、。,はがをにで]{1,6}\d+丁目(\d+(-|番地?)\d+(号)?)?")),
]


def mask_pii(text: str) -> str:
    """Mask phone numbers, e-mail addresses, マイナンバー-like numbers, postcodes and street addresses."""
    t = nfkc(text)
    for label, rx in _PII:
        t = rx.sub(label, t)
    return t
