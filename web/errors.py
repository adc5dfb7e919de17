"""Every error the API returns is JSON (``ErrorResponse``) with a polite Japanese message the page shows as is.

FastAPI's own errors (invalid JSON, a body that is not UTF-8, validation, 404/405) are translated here, so no English
or stack trace reaches a parent. Unexpected exceptions are not caught: they stay 500s for the logs and monitoring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from web.schemas import MESSAGE_MAX

GENERIC = {
    400: (
        "bad_request",
        "送信された内容を読み取れませんでした。文字コード(UTF-8)と形式をご確認のうえ、もう一度お試しください。",
    ),
    404: ("not_found", "お探しのページや情報が見つかりませんでした。"),
    405: ("method_not_allowed", "この操作はご利用いただけません。"),
    413: ("too_large", "送信された内容が大きすぎます。短くしてもう一度お試しください。"),
    415: ("unsupported_media_type", "送信の形式が正しくありません(JSONで送ってください)。"),
    422: ("invalid_input", "入力内容に誤りがあります。ご確認のうえ、もう一度お試しください。"),
    429: ("rate_limited", "短い時間に多くの質問が送られました。少し時間をおいてから、もう一度お試しください。"),
    503: ("not_ready", "ただいま準備中です。しばらくしてから、もう一度お試しください。"),
}


class ApiError(Exception):
    """A typed API error raised by routers and dependencies."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 headers: Mapping[str, str] | None = None):  # fmt: skip
        default_code, default_message = GENERIC.get(status, ("error", "エラーが発生しました。"))
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.headers = dict(headers or {})


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message, "message": message, "code": code}, status_code=status,
                        headers=dict(headers or {}))  # fmt: skip


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query")]
    return parts[0] if parts else ""


def describe_validation(errors: Sequence[Mapping[str, Any]]) -> tuple[int, str, str]:
    """Map the first validation error to (status, code, Japanese message)."""
    for e in errors:
        kind = e.get("type", "")
        field = _field(e.get("loc", ()))
        if kind == "json_invalid":
            return 400, "invalid_json", "送信された内容を読み取れませんでした(JSONの形式が正しくありません)。"
        if kind == "missing" and field in ("", "body"):
            return 422, "message_empty", "質問を入力してください。"
        if field == "message":
            if kind in ("message_empty", "missing"):
                return 422, "message_empty", "質問を入力してください。"
            if kind == "string_too_long":
                return 422, "message_too_long", f"質問は{MESSAGE_MAX}文字以内で入力してください。"
            return 422, "message_invalid", "質問は文字で入力してください。"
        if field == "session_id":
            return (
                422,
                "session_invalid",
                "会話の識別子が正しくありません。ページを読み込み直してから、もう一度お試しください。",
            )
        if field == "comment":
            return 422, "comment_invalid", "ご意見は1000文字以内で入力してください。"
        if field in ("message_id", "helpful"):
            return (
                422,
                "feedback_invalid",
                "評価の内容が正しくありません。ページを読み込み直してから、もう一度お試しください。",
            )
    status, (code, message) = 422, GENERIC[422]
    return status, code, message


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = describe_validation(exc.errors())
        return error_response(status, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI raises 400 "There was an error parsing the body" for a body that is not UTF-8, among others.
        code, message = GENERIC.get(exc.status_code, ("error", "エラーが発生しました。もう一度お試しください。"))
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))
