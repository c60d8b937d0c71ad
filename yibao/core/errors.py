"""One error type for everything a user can get wrong, rendered the same way everywhere.

An ``AppError`` has a stable machine code, an HTTP status and a message in Chinese and English.
Every interface renders an error from its :class:`ErrorInfo` (status, code, messages, the field it
names): the REST API as JSON (:mod:`yibao.api.errors`), the CLI as text and the error's ``exit_code``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What every interface says about an error: status, stable code, messages and the field at fault.

    ``field`` names the input at fault (as the validation errors name fields: ``person.birth_date``,
    ``documents[1]``), so that a form can show the message next to it; ``details`` carries the rest
    (a remedy, the errors of each field, the defects of a policy pack).
    """

    status: int
    code: str
    message_zh: str
    message_en: str
    field: str | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The one JSON shape of an error: ``{code, message, message_zh, message_en[, details]}``."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message_zh,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }
        details = dict(self.details)
        if self.field is not None:
            details = {"field": self.field, **details}
        if details:
            body["details"] = details
        return body


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

    def info(self) -> ErrorInfo:
        """This error as every interface renders it (``Retry-After`` for a refusal to try again yet)."""
        details = {k: v for k, v in self.details.items() if k != "field"}
        found = self.details.get("field")
        return ErrorInfo(
            status=self.http_status,
            code=self.code,
            message_zh=self.message_zh,
            message_en=self.message_en,
            field=str(found) if found is not None else None,
            details=details,
            headers={"Retry-After": str(self.retry_after)} if self.retry_after else {},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON body of this error (as the API sends it; ``yibao calc`` prints it too)."""
        return self.info().to_json()


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
