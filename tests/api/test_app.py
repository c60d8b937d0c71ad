from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from yibao.api.app import create_app
from yibao.core.errors import NotFound


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_docs_and_openapi(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/calc" in spec["paths"] and "/api/policy/parameters/{path}" in spec["paths"]


def test_app_error_rendering(client: TestClient) -> None:
    r = client.get("/api/policy/parameters/no.such.thing")
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "policy.unknown" and body["message_zh"] and body["message_en"]


def test_validation_error_shape(client: TestClient) -> None:
    r = client.get("/api/policy/parameters", params={"date": "2016-13-01"})
    assert r.status_code == 422
    assert r.json()["details"]["field"] == "date"


def test_internal_errors_hide_details(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals 530102199001011234")

    with caplog.at_level(logging.ERROR):
        r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500
    assert "secret" not in r.text and r.json()["code"] == "internal_error"


def test_not_found_error_class() -> None:
    assert NotFound("无", "none").http_status == 404
