from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from yibao.api.app import create_app
from yibao.core.errors import NotFound


@pytest.fixture(scope="module")
def client_plain() -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


def test_healthz(client_plain: TestClient) -> None:
    r = client_plain.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_docs_and_openapi(client_plain: TestClient) -> None:
    assert client_plain.get("/docs").status_code == 200
    spec = client_plain.get("/openapi.json").json()
    assert "/api/calc" in spec["paths"] and "/api/policy/parameters/{path}" in spec["paths"]


def test_app_error_rendering(client_plain: TestClient) -> None:
    r = client_plain.get("/api/policy/parameters/no.such.thing")
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "policy.unknown" and body["message_zh"] and body["message_en"]


def test_validation_error_shape(client_plain: TestClient) -> None:
    r = client_plain.get("/api/policy/parameters", params={"date": "2016-13-01"})
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


def test_calc_body_is_documented_as_one_of_the_claim_models(client_plain: TestClient) -> None:
    spec = client_plain.get("/openapi.json").json()
    body = spec["paths"]["/api/calc"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    refs = {r["$ref"].rsplit("/", 1)[1] for r in body["oneOf"]}
    assert refs == {
        "ResidentInpatient",
        "ResidentGeneralOutpatient",
        "ResidentSpecialOutpatient",
        "ResidentMaternity",
        "ResidentDisabilityAid",
        "NcmsOutpatient",
        "NcmsInpatient",
    }
    assert all(r in spec["components"]["schemas"] for r in refs)
    # Money is a string on the way in.
    assert spec["components"]["schemas"]["ResidentInpatient"]["properties"]["in_scope"]["type"] == "string"
