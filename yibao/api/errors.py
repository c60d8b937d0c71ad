"""Every error the REST API answers, in one JSON shape, from one place.

:func:`error_info` turns whatever went wrong (an :class:`~yibao.core.errors.AppError`, the framework's
validation and HTTP errors, a database that does not answer or refuses a value, anything unexpected)
into an :class:`~yibao.core.errors.ErrorInfo`: status, stable code, Chinese and English messages and
the field at fault. :func:`json_response` renders it for REST clients; the exception handlers and the
input guard both answer through it. Other interface styles (an HTML page, a national-interface
envelope) render the same :class:`ErrorInfo` their own way.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from yibao.core.errors import AppError, ErrorInfo, Unavailable

log = logging.getLogger("yibao.api")


class DatabaseUnavailable(Unavailable):
    """The database does not answer (or lost the connection): nothing was acknowledged; retry."""

    code = "database_unavailable"


class RequestTooLarge(AppError):
    """A request body above the size limit."""

    code = "request_too_large"
    http_status = 413


_HTTP_ZH = {
    400: "请求内容无法解析",
    404: "请求的地址不存在",
    405: "不支持该请求方法",
    413: "请求内容过大",
}


def field_of(loc: tuple[Any, ...]) -> str:
    """A validation error's location as a field name (``person.birth_date``), or ``body`` for the whole."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def error_info(exc: BaseException) -> ErrorInfo:
    """What to answer for ``exc``: the one mapping from errors to status, code, messages and field."""
    if isinstance(exc, AppError):
        return exc.info()
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        field = field_of(tuple(errors[0]["loc"])) if errors else "body"
        why = str(errors[0]["msg"]) if errors else "malformed request"
        return ErrorInfo(
            422,
            "validation_failed",
            f"{field}：输入无效",
            f"{field}: invalid input ({why})",
            field=field,
            details={"errors": [{"field": field_of(tuple(e["loc"])), "message": str(e["msg"])} for e in errors]},
        )
    if isinstance(exc, StarletteHTTPException):
        # Errors raised by the framework itself (unknown path, wrong method, unreadable body).
        return ErrorInfo(
            exc.status_code,
            f"http_{exc.status_code}",
            _HTTP_ZH.get(exc.status_code, "请求无效"),
            str(exc.detail) if exc.detail else "bad request",
            headers=dict(exc.headers or {}),
        )
    if isinstance(exc, OperationalError | PoolTimeout):
        # The database could not be reached or lost the connection (possibly during COMMIT): the work was
        # not acknowledged and, unless the commit had already landed, not done. A retry with the same
        # idempotency key returns the first answer if it had.
        log.warning("database unavailable: %s", type(exc).__name__)
        return DatabaseUnavailable("数据库暂时不可用，请稍后重试", "the database is unavailable, please retry").info()
    if isinstance(exc, DataError):
        # The database refused a value as invalid for its column (out of range, malformed): bad input, and
        # the transaction was rolled back, so nothing was written.
        log.info("database refused a value: %s", type(exc.orig).__name__)
        return ErrorInfo(
            422, "validation_failed", "输入的数据超出允许范围或格式无效", "a value is out of range or malformed"
        )
    log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
    return ErrorInfo(500, "internal_error", "系统内部错误，请稍后再试", "internal error, please try again later")


def json_response(info: ErrorInfo) -> JSONResponse:
    """The REST answer for an error: its JSON shape, status and headers (``Retry-After``, ``Allow``)."""
    return JSONResponse(status_code=info.status, content=info.to_json(), headers=dict(info.headers) or None)


async def _answer(_request: Request, exc: Exception) -> JSONResponse:
    return json_response(error_info(exc))


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the one JSON shape, whatever raised it."""
    for kind in (
        AppError,
        RequestValidationError,
        StarletteHTTPException,
        OperationalError,
        PoolTimeout,
        DataError,
        Exception,
    ):
        app.add_exception_handler(kind, _answer)


# Every error, whatever the status, has this shape (see ErrorInfo.to_json).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["code", "message", "message_en"],
    "properties": {
        "code": {"type": "string", "description": "稳定的错误代码 / stable error code"},
        "message": {"type": "string", "description": "中文说明 / message in Chinese"},
        "message_zh": {"type": "string"},
        "message_en": {"type": "string", "description": "English message"},
        "details": {
            "type": "object",
            "description": "出错字段 field（表单可在该字段旁显示说明）、补救办法 remedy 等 / "
            "the field at fault (for a form to show the message next to it), a remedy, ...",
        },
    },
}
