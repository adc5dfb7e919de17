"""One ``render()`` helper builds the context every page shares (datasette's habit)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from bot.knowledge import ja

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def static_version() -> str:
    """Changes whenever a static file changes, so browsers never mix an old chat.js with a new page."""
    return format(max(int(p.stat().st_mtime) for p in STATIC_DIR.iterdir()), "x")


def make_templates(tz: tzinfo) -> Jinja2Templates:
    """``tz`` is the ward's time zone: the ``local`` filter shows every stored (UTC) time as staff read a clock."""
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    templates.env.globals["static_version"] = static_version()

    def local(d: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(tz).strftime(fmt)

    templates.env.filters["local"] = local
    # staff read Japanese: answer kinds, document statuses and validator messages (bot.knowledge.ja)
    templates.env.filters["kind_ja"] = ja.kind_label
    templates.env.filters["status_ja"] = ja.status_label
    templates.env.filters["problem_ja"] = ja.translate_message
    templates.env.filters["action_ja"] = ja.action_label
    templates.env.filters["source_kind_ja"] = lambda k: ja.SOURCE_KINDS.get(k, k)
    templates.env.filters["reason_ja"] = ja.reason_label
    templates.env.filters["level_ja"] = lambda level: ja.LEVELS.get(level, level)
    return templates


def _ward_of(request: Request) -> tuple[str, Any]:
    """The ward's name and default office (knowledge/ward.yaml) from the serving index; blank before it is ready."""
    bot = getattr(request.app.state, "bot", None)
    kb = bot.generation.kb if bot is not None else None
    ward = kb.ward if kb is not None else None
    if ward is None:
        return "", None
    return ward.name, kb.offices.get(ward.default_office or "") if kb is not None else None


def render(request: Request, template: str, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    ward, office = _ward_of(request)
    shared = {
        "title": f"{ward} 子育てチャット".strip(),
        "ward_name": ward,
        "ward_office": office,
        "embed": False,
        "examples": ["児童手当について教えて", "保育園に入るには?", "夜中に子どもが熱を出した"],
    }
    shared.update(context)
    return templates.TemplateResponse(request, template, shared)
