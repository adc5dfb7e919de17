"""``POST /line/webhook``: the bot on the ward's LINE official account (mounted only when LINE is configured).

The request is checked and answered at once; the events are handled after the response (LINE asks bots to process
webhooks asynchronously, and a slow answer must not make LINE redeliver):

1. ``X-Line-Signature`` (HMAC-SHA256 of the raw body with the channel secret) is checked by line-bot-sdk's
   ``WebhookParser``; a missing or wrong signature, or a body that is not a webhook, gets 400 and nothing is processed.
2. Each event's ``webhookEventId`` is claimed in the log store, so a redelivered event is answered once even when
   another worker took the first delivery. When the log store is down the event is answered anyway (an answer twice
   beats none, and the emergency numbers above all must go out).
3. A text message goes through :func:`web.routes.chat.ask_and_record`, the same path as the web chat (the same decision,
   the same masking), in a conversation keyed by a hash of the LINE user id; the reply is rendered by
   :mod:`web.line_render`. Follow events, stickers, images, location and other messages get a short polite reply.
4. The reply token is used once. When LINE refuses it as expired ("Invalid reply token") the same messages are pushed
   to the user instead, with a retry key derived from the event id so that LINE drops a second push of the same event.
   Any other failure of LINE's API is logged, not retried.
5. Each LINE user has the web chat's rate limit (``BOT_RATE_LIMIT_PER_MINUTE``); past it they get a polite reply.

The LINE user id is stored only as ``line-`` + HMAC-SHA256(key, user id), with the key derived from the channel secret
(no extra secret to manage, and the secret is required anyway). Without the secret the stored ids cannot be linked back
to LINE accounts; rotating the secret starts new conversations, which only loses the last few turns of context.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.webhooks import (
    Event,
    EventMode,
    FollowEvent,
    MessageEvent,
    TextMessageContent,
    UnfollowEvent,
)
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from urllib3.exceptions import HTTPError

from bot.config import Settings
from bot.storage.logstore import LogStore
from web import line_render
from web.deps import ready_bot
from web.errors import ApiError
from web.routes.chat import ask_and_record
from web.schemas import MESSAGE_MAX, ChatRequest

router = APIRouter(prefix="/line", tags=["line"], include_in_schema=False)
log = logging.getLogger("web.line")

API_TIMEOUT = 10.0  # seconds for one call to LINE's API (urllib3 has no timeout by default)
_USER_KEY_LABEL = b"kosodate-bot/line-user-id/v1"


class LineChannel:
    """What the webhook needs, built once per app: the signature parser, the API client and the user-id key."""

    def __init__(self, settings: Settings):
        assert settings.line_channel_secret and settings.line_channel_access_token
        secret = settings.line_channel_secret
        self.parser = WebhookParser(secret)
        config = Configuration(host=settings.line_api_base.rstrip("/"), access_token=settings.line_channel_access_token)
        self.api_client = ApiClient(config)
        self.api = MessagingApi(self.api_client)
        self._user_key = hmac.new(secret.encode(), _USER_KEY_LABEL, hashlib.sha256).digest()

    def conversation_id(self, user_id: str) -> str:
        """The stored conversation id for a LINE user: a keyed hash, 48 characters (conversations.id holds 64)."""
        digest = hmac.new(self._user_key, user_id.encode(), hashlib.sha256).digest()
        return "line-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def close(self) -> None:
        self.api_client.close()

    def send(self, event_id: str, reply_token: str | None, to: str | None, messages: list[dict[str, Any]]) -> str:
        """Reply with the token; push instead only when LINE says the token has expired. Returns what happened."""
        messages = messages[: line_render.MESSAGES_PER_REQUEST_MAX]
        if not reply_token:
            log.error("LINE event %s has no reply token; nothing sent", event_id)
            return "failed"
        try:
            self.api.reply_message(
                ReplyMessageRequest.from_dict({"replyToken": reply_token, "messages": messages}),
                _request_timeout=API_TIMEOUT,
            )
            return "replied"
        except ApiException as e:
            body = _body(e)
            if not (e.status == 400 and "invalid reply token" in body.lower()):
                log.error("LINE reply failed for event %s: HTTP %s %s", event_id, e.status, body[:300])
                return "failed"
            log.warning("LINE reply token expired for event %s; pushing the reply instead", event_id)
        except HTTPError as e:
            log.error("LINE API unreachable for the reply to event %s: %s", event_id, e)
            return "failed"
        if not to:
            log.error("LINE event %s: the reply token expired and there is no one to push to", event_id)
            return "failed"
        try:
            self.api.push_message(
                PushMessageRequest.from_dict({"to": to, "messages": messages}),
                # The same key for the same event: LINE accepts a push once per key, so a redelivery cannot double it.
                x_line_retry_key=str(uuid.uuid5(uuid.NAMESPACE_URL, f"line-event:{event_id}")),
                _request_timeout=API_TIMEOUT,
            )
            return "pushed"
        except ApiException as e:
            body = _body(e)
            log.error("LINE push failed for event %s: HTTP %s %s", event_id, e.status, body[:300])
        except HTTPError as e:
            log.error("LINE API unreachable for the push of event %s: %s", event_id, e)
        return "failed"


def _body(e: ApiException) -> str:
    return e.body.decode("utf-8", "replace") if isinstance(e.body, bytes) else str(e.body or "")


def setup(app: FastAPI, settings: Settings) -> None:
    """Mount the webhook when both LINE settings are set; without them the route does not exist (404)."""
    if not settings.line_enabled:
        return
    app.state.line = LineChannel(settings)
    app.include_router(router)


@router.post("/webhook")
async def webhook(request: Request, background: BackgroundTasks) -> dict[str, str]:
    channel: LineChannel = request.app.state.line
    signature = request.headers.get("x-line-signature", "")
    raw = await request.body()
    if not signature:
        log.warning("LINE webhook without X-Line-Signature refused")
        raise ApiError(400, "line_signature", "署名がありません。")
    try:
        events = channel.parser.parse(raw.decode("utf-8"), signature)
    except InvalidSignatureError:
        log.warning("LINE webhook with a wrong X-Line-Signature refused (%d bytes)", len(raw))
        raise ApiError(400, "line_signature", "署名が正しくありません。") from None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        log.warning("LINE webhook body is not a webhook payload: %s", type(e).__name__)
        raise ApiError(400, "line_payload", "LINE の Webhook の形式ではありません。") from None
    if events:
        background.add_task(handle_events, request.app, events)
    return {"status": "ok"}


def handle_events(app: FastAPI, events: list[Event]) -> None:
    for event in events:
        try:
            handle_event(app, event)
        except Exception:  # noqa: BLE001 - after the response: one failing event must not drop the ones after it
            log.exception("LINE event %s could not be handled", getattr(event, "webhook_event_id", "?"))


def _chat_id(event: Event) -> str | None:
    """Whose conversation it is and who a push goes to: the user in a one-to-one chat, else the group or room."""
    src = getattr(event, "source", None)
    return getattr(src, "group_id", None) or getattr(src, "room_id", None) or getattr(src, "user_id", None)


def handle_event(app: FastAPI, event: Event) -> str:
    channel: LineChannel = app.state.line
    store: LogStore = app.state.logstore
    event_id: str = getattr(event, "webhook_event_id", None) or ""
    try:
        if event_id and not store.claim_line_event(event_id):
            log.info("LINE event %s already handled (redelivery); skipped", event_id)
            return "duplicate"
    except SQLAlchemyError as e:
        log.error("log store unavailable, cannot tell if LINE event %s is a redelivery; answering: %s", event_id, e)
    to = _chat_id(event)
    token = getattr(event, "reply_token", None)
    if getattr(event, "mode", None) == EventMode.STANDBY:
        # Another channel (e.g. staff answering in LINE's chat) has the conversation; a standby bot must not reply.
        log.info("LINE event %s in standby mode ignored", event_id)
        return "standby"
    if isinstance(event, UnfollowEvent):
        # Blocked: LINE gives no reply token and delivers nothing to a user who blocked the account.
        log.info("LINE unfollow (event %s)", event_id)
        return "unfollow"
    if isinstance(event, FollowEvent):
        bot = getattr(app.state, "bot", None)
        ward = bot.generation.kb.ward if bot is not None else None
        return channel.send(event_id, token, to, [line_render.polite("follow", ward=ward.name if ward else "区")])
    if not isinstance(event, MessageEvent):
        log.info("LINE event %s of type %s ignored", event_id, getattr(event, "type", "?"))
        return "ignored"
    if not isinstance(event.message, TextMessageContent):
        return channel.send(event_id, token, to, [line_render.polite("not_text")])
    if len(event.message.text) > MESSAGE_MAX:
        return channel.send(event_id, token, to, [line_render.polite("too_long", max=MESSAGE_MAX)])
    try:
        question = ChatRequest(message=event.message.text).message  # the web chat's cleaning (control characters)
    except ValidationError:
        return channel.send(event_id, token, to, [line_render.polite("empty")])
    bot = ready_bot(app.state)
    if bot is None:
        return channel.send(event_id, token, to, [line_render.polite("not_ready")])
    session_id = channel.conversation_id(to or event_id)
    if app.state.chat_limiter.hit(session_id) is not None:  # the web chat's per-client limit, per LINE user
        return channel.send(event_id, token, to, [line_render.polite("slow_down")])
    try:
        result, _ = ask_and_record(bot, store, session_id, question, None, "line")
    except Exception:  # noqa: BLE001 - the web chat would answer 500; on LINE the parent would otherwise hear nothing
        log.exception("LINE event %s: the bot could not answer", event_id)
        return channel.send(event_id, token, to, [line_render.polite("error")])
    return channel.send(event_id, token, to, line_render.render_answer(result))
