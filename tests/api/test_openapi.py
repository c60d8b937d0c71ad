"""The OpenAPI document shows real shapes: every operation documents one success with a schema of its answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from yibao.api.app import create_app


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return dict(TestClient(create_app()).get("/openapi.json").json())


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_real(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A named object with declared fields, or a list of them (not ``{}``, not a bare ``object``)."""
    schema = _resolve(spec, schema)
    if schema.get("type") == "array":
        return _is_real(spec, schema.get("items", {}))
    return schema.get("type") == "object" and bool(schema.get("properties"))


def _problems(spec: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> list[str]:
    where = f"{method.upper()} {path}"
    successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
    if len(successes) != 1:
        return [f"{where}: documents {sorted(successes)} as success, not exactly one status"]
    [(code, response)] = successes.items()
    content = response.get("content", {})
    if code == "204":
        return [f"{where}: 204 with a body"] if content else []
    if "text/html" in content:
        return []  # a printable page
    schema = content.get("application/json", {}).get("schema")
    if schema is None or not _is_real(spec, schema):
        return [f"{where}: {code} answers {schema}: give the route a response_model"]
    return []


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_operation_documents_the_shape_of_its_answer(spec: dict[str, Any]) -> None:
    problems = [p for method, path, op in _operations(spec) for p in _problems(spec, method, path, op)]
    assert problems == []


def test_the_check_tells_a_real_schema_from_a_loose_one(spec: dict[str, Any]) -> None:
    person = {"$ref": "#/components/schemas/PersonOut"}
    assert _is_real(spec, person) and _is_real(spec, {"type": "array", "items": person})
    assert not _is_real(spec, {})
    assert not _is_real(spec, {"type": "object", "additionalProperties": True})
    assert not _is_real(spec, {"type": "array", "items": {"type": "object"}})
    untyped = {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}}
    assert _problems(spec, "get", "/x", untyped) == ["GET /x: 200 answers {}: give the route a response_model"]


def test_creating_endpoints_answer_201_and_the_rest_200_or_204(spec: dict[str, Any]) -> None:
    status = {(m, p): next(c for c in op["responses"] if c.startswith("2")) for m, p, op in _operations(spec)}
    created = {k for k, v in status.items() if v == "201"}
    assert created == {
        ("post", "/api/auth/staff"),
        ("post", "/api/auth/clients"),
        ("post", "/api/people/residents"),
        ("post", "/api/people/students"),
        ("post", "/api/people/newborns"),
        ("post", "/api/people/employees"),
        ("post", "/api/people/{id_number}/relations"),
        ("post", "/api/premiums/payments"),
        ("post", "/api/accounts/{id_number}/credits"),
        ("post", "/api/accounts/{id_number}/payments"),
        ("post", "/api/accounts/{id_number}/bindings"),
        ("post", "/api/accounts/{id_number}/relative-premiums"),
        ("post", "/api/accounts/{id_number}/insurance"),
        ("post", "/api/accounts/{id_number}/withdrawals"),
        ("post", "/api/institutions"),
    }
    assert {k for k, v in status.items() if v == "204"} == {
        ("post", "/api/auth/logout"),
        ("post", "/api/auth/persons/{id_number}/password"),
    }
