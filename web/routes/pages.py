"""The chat page (``/``), the page for the widget's iframe (``/embed``) and ``/widget.js``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from web.templating import STATIC_DIR, render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/")
def chat_page(request: Request) -> Response:
    return render(request, "chat.html")


@router.get("/embed")
def embed_page(request: Request) -> Response:
    return render(request, "embed.html", embed=True)


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
