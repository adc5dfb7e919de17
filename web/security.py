"""Response headers: a strict Content-Security-Policy everywhere, and framing allowed only for ``/embed``.

No page uses inline script or style, so ``'unsafe-inline'`` is never needed. ``/embed`` is the one page a host site may
put in an iframe (``settings.frame_ancestors``); every other page refuses to be framed.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import GENERIC, error_response

BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
EMBED_PATHS = ("/embed",)


def frame_ancestors(origins: list[str]) -> str:
    cleaned = [o.strip() for o in origins if o.strip() and not any(c in o for c in ";,\r\n")]
    return " ".join(cleaned) if cleaned else "'none'"


class BodySizeLimitMiddleware:
    """Refuse an oversized request body with the same JSON error as every other 4xx.

    A declared ``Content-Length`` is refused before anything is read; a chunked body is counted as it arrives and
    the read fails with an ``HTTPException`` that the app's handlers turn into the Japanese 413.
    (FastAPI's own ``max_body_size`` runs outside the app's exception handlers and answers in English text.)
    """

    def __init__(self, app: ASGIApp, max_bytes: int, prefix_limits: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.prefix_limits = prefix_limits or {}  # larger limits for some paths (admin uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = next((n for p, n in self.prefix_limits.items() if scope["path"].startswith(p)), self.max_bytes)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            code, message = GENERIC[413]
            await error_response(413, code, message)(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, counting_receive, send)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, frame_origins: list[str]):
        self.app = app
        self.page_csp = f"{BASE_CSP}; frame-ancestors 'none'"
        self.embed_csp = f"{BASE_CSP}; frame-ancestors {frame_ancestors(frame_origins)}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embeddable = scope["path"] in EMBED_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("Content-Security-Policy", self.embed_csp if embeddable else self.page_csp)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
                if not embeddable:
                    h.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
