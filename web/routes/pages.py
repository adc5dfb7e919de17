"""The chat page (``/``), the page for the widget's iframe (``/embed``) and ``/widget.js``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from web.templating import STATIC_DIR, render

router = APIRouter(tags=["pages"], include_in_schema=False)


# The reply languages the page offers (the bot detects the message's language when the parent keeps 「自動」).
LANGUAGES = (("", "自動(入力した言語)"), ("ja", "日本語"), ("en", "English"), ("zh-Hans", "简体中文"),
             ("zh-Hant", "繁體中文"), ("ko", "한국어"), ("vi", "Tiếng Việt"), ("ne", "नेपाली"), ("tl", "Tagalog"),
             ("pt", "Português"))  # fmt: skip


def preferred_language(accept_language: str) -> str:
    """The first supported language of an ``Accept-Language`` header ("" = detect from the message)."""
    ranked = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("ja"):
            return ""  # Japanese: keep detecting (a Japanese browser may still type English)
        if tag.startswith("zh"):
            return "zh-Hant" if any(x in tag for x in ("hant", "-tw", "-hk", "-mo")) else "zh-Hans"
        if tag.startswith("fil"):
            return "tl"
        base = tag.split("-")[0]
        if base in ("en", "ko", "vi", "ne", "tl", "pt"):
            return base
    return ""


def _page(request: Request, template: str, **extra: object) -> Response:
    default = preferred_language(request.headers.get("accept-language", ""))
    return render(request, template, languages=LANGUAGES, default_lang=default, **extra)


@router.get("/")
def chat_page(request: Request) -> Response:
    return _page(request, "chat.html")


@router.get("/embed")
def embed_page(request: Request) -> Response:
    return _page(request, "embed.html", embed=True)


@router.get("/widget.js")
def widget_js() -> FileResponse:
    # Host pages load this from another origin; it holds no secrets (only this server's address, taken at run time).
    return FileResponse(
        STATIC_DIR / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"},
    )


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")
