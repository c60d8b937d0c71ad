"""One error type for everything a user can get wrong, rendered the same way everywhere.

An ``AppError`` has a stable machine code, an HTTP status and a message in Chinese and English.
The API renders it as JSON through one handler; the CLI prints it and exits with ``exit_code``.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every expected, user-facing error."""

    code: str = "error"
    http_status: int = 400
    exit_code: int = 1
    retry_after: int | None = None  # seconds, sent as ``Retry-After`` with a 409 or 503

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        if code is not None:
            self.code = code
        self.details = details or {}

    def headers(self) -> dict[str, str]:
        """HTTP headers that go with this error (``Retry-After`` for a refusal to try again yet)."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}

    def to_dict(self) -> dict[str, Any]:
        """JSON body of this error."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message_zh,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(AppError):
    """Bad input: names the offending field."""

    code = "validation_failed"
    http_status = 422
    exit_code = 2

    def __init__(self, field: str, message_zh: str, message_en: str, *, code: str | None = None) -> None:
        super().__init__(
            f"{field}：{message_zh}",
            f"{field}: {message_en}",
            code=code,
            details={"field": field},
        )
        self.field = field


class NotFound(AppError):
    """The thing asked for does not exist."""

    code = "not_found"
    http_status = 404
    exit_code = 3


class Conflict(AppError):
    """The request contradicts the current state (already paid, duplicate key with another body, ...)."""

    code = "conflict"
    http_status = 409
    exit_code = 4


class Unauthenticated(AppError):
    """No valid credentials were presented (or they expired)."""

    code = "auth.unauthenticated"
    http_status = 401
    exit_code = 6


class Forbidden(AppError):
    """The caller is known but may not do this (to this person, in this region)."""

    code = "auth.forbidden"
    http_status = 403
    exit_code = 6


class Unavailable(AppError):
    """The service cannot take the request now (busy, or the database does not answer); nothing was done."""

    code = "unavailable"
    http_status = 503
    exit_code = 7
    retry_after = 1
