"""Connection-level protection for ``python -m web``: a deadline for a request's headers and one for its body.

uvicorn has neither (a fault run held 3,000 connections open by sending a header byte at a time). The header
deadline lives in the HTTP protocol (:class:`GuardedH11Protocol`, passed to uvicorn as ``http=``): a connection
that has not sent complete request headers within ``BOT_HEADER_TIMEOUT`` seconds of opening, or of its previous
response, is closed. The body deadline is an ASGI middleware (:class:`BodyTimeout`): a body that stalls for
``BOT_BODY_TIMEOUT`` seconds gets a 408 with a polite Japanese message.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

PROTOCOL = "web.server:GuardedH11Protocol"


class GuardedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # read here, not from Settings: uvicorn builds protocols itself, in every worker process
        self.header_timeout = float(os.environ.get("BOT_HEADER_TIMEOUT", "10"))
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is None or self.cycle.response_complete:  # no request in progress: headers never completed
            self.transport.close()

    def handle_events(self) -> None:
        had_cycle = self.cycle
        super().handle_events()
        if self.cycle is not None and self.cycle is not had_cycle:
            self._disarm()  # a request's headers arrived

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection must also arrive in time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class BodyTimeout:
    """ASGI middleware: each chunk of a request body must arrive within ``seconds``."""

    BODY = json.dumps(
        {"detail": "request body timeout", "message": "通信が途中で止まりました。もう一度お試しください。",
         "code": "body_timeout"}, ensure_ascii=False,
    ).encode()  # fmt: skip

    def __init__(self, app: Any, seconds: float):
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"started": False, "body_done": False, "timed_out": False}

        async def guarded_receive() -> Any:
            # Only while the body is still arriving: afterwards the app waits on receive() for a disconnect (a
            # streamed answer does, for as long as it streams), which must not time out.
            if state["body_done"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                if not state["started"]:
                    state["timed_out"] = True  # answer 408 now; whatever the app sends after is dropped
                    await send({"type": "http.response.start", "status": 408, "headers": [
                        (b"content-type", b"application/json; charset=utf-8"), (b"connection", b"close"),
                        (b"content-length", str(len(self.BODY)).encode())]})  # fmt: skip
                    await send({"type": "http.response.body", "body": self.BODY})
                return {"type": "http.disconnect"}
            if message.get("type") != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if state["timed_out"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)
