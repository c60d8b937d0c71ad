"""One error renderer: every kind of error becomes one ErrorInfo, and the REST JSON comes from it alone."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

import yibao
from yibao.api.app import create_app
from yibao.api.errors import error_info, json_response
from yibao.api.guard import InputGuard
from yibao.core.errors import Conflict, ErrorInfo, Unavailable, ValidationFailed

PACKAGE = Path(yibao.__file__).parent


def test_an_app_error_names_its_field_apart_from_its_other_details() -> None:
    info = error_info(ValidationFailed("person.birth_date", "日期无效", "not a date"))
    assert (info.status, info.code, info.field) == (422, "validation_failed", "person.birth_date")
    assert info.message_zh == "person.birth_date：日期无效" and info.message_en == "person.birth_date: not a date"
    assert info.to_json() == {
        "code": "validation_failed",
        "message": "person.birth_date：日期无效",
        "message_zh": "person.birth_date：日期无效",
        "message_en": "person.birth_date: not a date",
        "details": {"field": "person.birth_date"},
    }


def test_details_stay_and_no_empty_details_are_sent() -> None:
    info = error_info(Conflict("已缴费", "already paid", code="premium.already_paid", details={"year": 2023}))
    assert info.field is None and info.to_json()["details"] == {"year": 2023}
    assert "details" not in error_info(Conflict("冲突", "conflict")).to_json()


def test_retry_after_goes_with_busy_and_database_errors() -> None:
    busy = error_info(Unavailable("系统繁忙", "busy", code="busy"))
    assert (busy.status, busy.code, dict(busy.headers)) == (503, "busy", {"Retry-After": "1"})
    down = error_info(OperationalError("SELECT 1", {}, Exception("gone")))
    assert (down.status, down.code, dict(down.headers)) == (503, "database_unavailable", {"Retry-After": "1"})
    response = json_response(down)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


def test_framework_database_and_unexpected_errors() -> None:
    invalid = error_info(RequestValidationError([{"loc": ("body", "person", "sex"), "msg": "bad", "type": "x"}]))
    assert (invalid.status, invalid.field) == (422, "person.sex")
    assert invalid.details["errors"] == [{"field": "person.sex", "message": "bad"}]
    missing = error_info(HTTPException(405, "Method Not Allowed", headers={"Allow": "GET"}))
    assert (missing.status, missing.code, missing.message_zh, dict(missing.headers)) == (
        405,
        "http_405",
        "不支持该请求方法",
        {"Allow": "GET"},
    )
    refused = error_info(DataError("INSERT", {}, Exception("out of range")))
    assert (refused.status, refused.code, refused.field) == (422, "validation_failed", None)
    crash = error_info(RuntimeError("secret internals"))
    assert (crash.status, crash.code) == (500, "internal_error") and "secret" not in str(crash.to_json())


def test_the_guard_and_the_handlers_answer_the_same_body_for_the_same_error() -> None:
    app = create_app()

    @app.get("/refuse")
    def refuse() -> None:
        raise ValidationFailed("query", "含有非法字符", "NUL character")

    client = TestClient(app, raise_server_exceptions=False)
    from_handler = client.get("/refuse")
    from_guard = client.get("/refuse?x=%00")
    assert from_handler.status_code == from_guard.status_code == 422
    assert (
        from_handler.json()
        == from_guard.json()
        == error_info(ValidationFailed("query", "含有非法字符", "NUL character")).to_json()
    )


async def _nothing(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the guard must answer before the application")


def test_the_guard_answers_413_through_the_renderer() -> None:
    client = TestClient(InputGuard(_nothing, max_body=10))
    r = client.post("/x", content=b"x" * 11)
    assert r.status_code == 413 and r.json()["code"] == "request_too_large" and "details" not in r.json()


def _builds_error_json(tree: ast.AST) -> bool:
    """Whether a module writes an error body itself: a dict literal with "code" and "message_en" values.

    (A JSON schema of the error names the same keys, with schemas as values: not a body.)
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            values = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
            if "code" in values and "message_en" in values and not isinstance(values["code"], ast.Dict):
                return True
    return False


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts))
def test_no_module_but_the_error_description_builds_an_error_body(path: Path) -> None:
    # Refusals of the engine (``{code, message, message_en}`` of a decision) are results, not errors.
    allowed = {PACKAGE / "core" / "errors.py", PACKAGE / "engine" / "explain.py"}
    if path not in allowed:
        assert not _builds_error_json(ast.parse(path.read_text(encoding="utf-8"))), path


def test_error_info_is_frozen() -> None:
    info = ErrorInfo(400, "x", "错", "wrong")
    with pytest.raises(AttributeError):
        info.code = "y"  # type: ignore[misc]
