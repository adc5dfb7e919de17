"""Every request and response body of the web API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from bot.answering.results import AnswerResult
from bot.safety.pii import mask_pii
from bot.storage.logstore import COMMENT_MAX, SESSION_ID_MAX

MESSAGE_MAX = 500

SessionId = Annotated[str, StringConstraints(max_length=SESSION_ID_MAX, pattern=r"^[A-Za-z0-9_-]+$")]


_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


Lang = Literal["ja", "en", "zh-Hans", "zh-Hant", "ko", "vi", "ne", "ne-Latn", "tl", "pt"]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = Field(..., max_length=MESSAGE_MAX, description="The parent's question (1–500 characters).")
    session_id: SessionId | None = Field(None, description="Conversation id from an earlier response; omit to start.")
    furigana: bool = Field(False, description="Also return the answer as ruby segments (readings from Sudachi).")
    lang: Lang | None = Field(None, description="Reply language the parent chose; default: the message's language.")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        # Control characters (a NUL-only question was accepted) and bidi overrides (shown raw in the admin) go.
        v = _INVISIBLE.sub("", v).strip()
        if not v:
            raise PydanticCustomError("message_empty", "message is empty")
        return v


class EndConversationRequest(BaseModel):
    session_id: SessionId = Field(..., description="The conversation to close (「新しい相談」).")


class Citation(BaseModel):
    doc_id: str
    title: str
    url: str
    as_of: str = Field(description="ISO date the information is from (shown as 「情報の時点」).")
    checked: str = Field(description="ISO date staff last checked the source.")
    as_of_known: bool = Field(True, description="False when the source page has no date (then as_of = checked).")
    publisher: str = Field("private", description="official_ward, official_tokyo, official_national, "
                           "other_municipality, related_body or private (from the page's address).")  # fmt: skip
    publisher_label: str = Field("", description="The same in Japanese, as the page shows it.")


class Handoff(BaseModel):
    form_id: str
    title: str
    url: str
    channel: str
    requires: list[str]
    prepare: list[str]
    needs_my_number_card: bool
    kind: str = Field("information", description="application: an online form; information: a page about it.")
    publisher: str = Field("private", description="Publisher type of the url (official_ward, councillor, ...).")


class Office(BaseModel):
    name: str
    phone: str | None
    tel: str | None = Field(description="The phone as a tel: URL.")
    hours: str | None
    url: str | None
    address: str | None


class Choice(BaseModel):
    label: str
    query: str
    doc_id: str | None = None


class EmergencyNumber(BaseModel):
    label: str
    number: str
    tel: str


class RubySegment(BaseModel):
    text: str
    reading: str | None = None


class ChatResponse(BaseModel):
    """The CLI contract's fields (question, kind, answer, citations, handoff, latency_ms) plus what the page needs."""

    question: str
    kind: str
    answer: str
    citations: list[Citation]
    handoff: Handoff | None
    latency_ms: float
    session_id: str
    message_id: int | None = Field(description="For feedback; null when the log store could not record the turn.")
    question_masked: str = Field(
        "",
        description="The question with personal data masked, as the logs keep it; the "
        "page saves this one (not `question`) to show the conversation again after a reload.",
    )
    body: list[str] = Field(description="The answer's paragraphs, without the source/hand-off lines of `answer`.")
    details: list[str] = Field(
        default_factory=list, description="More of the cited document, shown behind 「くわしく」."
    )
    office: Office | None = None
    choices: list[Choice] = Field(default_factory=list, description="Clarifying choices (kind = clarify).")
    suggestions: list[Choice] = Field(default_factory=list, description="Likely follow-up questions.")
    emergency_numbers: list[EmergencyNumber] = Field(default_factory=list)
    emergency_title: str = Field("", description="The heading over emergency_numbers, in the reply's language.")
    lang: str = Field("ja", description="The language the reply leads in (ja, en, zh-Hans, zh-Hant, ko, vi, ...).")
    topic: str | None = None
    ruby: list[list[RubySegment]] | None = Field(None, description="`body` as ruby segments, when furigana was asked.")

    @classmethod
    def of(
        cls, r: AnswerResult, session_id: str, message_id: int | None, ruby: list[list[RubySegment]] | None = None
    ) -> ChatResponse:
        h = r.handoff
        o = r.office
        return cls(
            question=r.question,
            question_masked=mask_pii(r.question),
            kind=r.kind.value,
            answer=r.text,
            citations=[
                Citation(
                    doc_id=c.doc_id,
                    title=c.title,
                    url=c.url,
                    as_of=c.as_of,
                    checked=c.checked,
                    as_of_known=c.as_of_known,
                    publisher=c.publisher,
                    publisher_label=c.publisher_label,
                )
                for c in r.citations
            ],  # fmt: skip
            handoff=(
                Handoff(
                    form_id=h.form_id,
                    title=h.title,
                    url=h.url,
                    channel=h.channel,
                    requires=list(h.requires),
                    prepare=list(h.prepare),
                    needs_my_number_card=any("マイナンバー" in x for x in h.requires),
                    kind=h.kind,
                    publisher=h.publisher,
                )
                if h
                else None
            ),  # fmt: skip
            latency_ms=round(r.latency_ms, 2),
            session_id=session_id,
            message_id=message_id,
            body=list(r.body),
            details=list(r.details),
            office=(
                Office(name=o.name, phone=o.phone, tel=_tel(o.phone), hours=o.hours, url=o.url, address=o.address)
                if o
                else None
            ),  # fmt: skip
            choices=[Choice(label=c.label, query=c.query, doc_id=c.doc_id) for c in r.choices],
            suggestions=[Choice(label=c.label, query=c.query, doc_id=c.doc_id) for c in r.suggestions],
            emergency_numbers=[EmergencyNumber(label=e.label, number=e.number, tel=e.tel) for e in r.emergency_numbers],
            emergency_title=r.emergency_title,
            lang=r.lang,
            topic=r.topic,
            ruby=ruby,
        )


def _tel(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit() or ch in "#+")
    return "tel:" + digits.replace("#", "%23") if digits else None


class FeedbackRequest(BaseModel):
    message_id: int = Field(..., ge=1, le=2**31 - 1)
    helpful: bool
    comment: str | None = Field(None, max_length=COMMENT_MAX, description="Optional; masked before it is stored.")
    session_id: SessionId = Field(..., description="The session that got the answer (nobody else may rate it).")


class FeedbackResponse(BaseModel):
    ok: bool = True
    feedback_id: int
    message: str = "ご意見ありがとうございました。"


class FuriganaRequest(BaseModel):
    texts: list[Annotated[str, StringConstraints(max_length=4000)]] = Field(..., max_length=20)


class FuriganaResponse(BaseModel):
    ruby: list[list[RubySegment]]


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body. `message` (= `detail`) is polite Japanese meant to be shown to the parent as is."""

    detail: str
    message: str
    code: str


class Health(BaseModel):
    status: str
    detail: dict[str, Any] = Field(default_factory=dict)


class HandoffClickRequest(BaseModel):
    """What the chat page's beacon sends when a parent uses a hand-off: the form button or a tel: link."""

    kind: Literal["form", "phone"]
    target: str = Field(..., min_length=1, max_length=2000, description="The form's URL (or id), or the tel: number.")
