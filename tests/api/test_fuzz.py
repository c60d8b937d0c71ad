"""Schemathesis against the OpenAPI spec: generated requests, valid and invalid, never a server error,
and every documented answer matches its schema. A bounded run (examples per operation below), as a
province clerk, a province finance officer, an institution and a person, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine

from tests.factories import new_id
from yibao.accounts import service as accounts
from yibao.api.app import create_app
from yibao.core.db import unit_of_work
from yibao.identity import service as identity
from yibao.people import service as people

# Per operation: bounded, so that the run takes under a minute (YIBAO_FUZZ_EXAMPLES for a longer hunt).
EXAMPLES = int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "10"))
PASSWORD = "Fuzz2023pw"


APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


_CALLERS: dict[str, dict[str, str]] = {}  # per test database: made once, reused by every operation


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    """Callers with wide access, so that generated requests reach the services."""
    APP.state.engine = engine  # the generated requests go to this test's database
    key = str(engine.url)
    if key not in _CALLERS:
        _CALLERS[key] = _make_callers(engine)
    return _CALLERS[key]


def _make_callers(engine: Engine) -> dict[str, str]:
    run = uuid.uuid4().hex[:6]
    idn = new_id(born=date(1980, 1, 1))
    with unit_of_work(engine) as s:
        people.enrol_employee(
            s, id_number=idn, name="模糊测试", region="530100", on=date(2022, 1, 1), employer="某公司"
        )
        accounts.open_account(s, id_number=idn)
        identity.set_person_password(s, id_number=idn, new_password=PASSWORD)
        for role in ("clerk", "finance"):
            identity.create_staff(
                s, username=f"yn.{role}.{run}", name=role, role=role, region="530000", password=PASSWORD
            )
        _, institution_key = identity.create_client(
            s, kind="institution", code=f"FZ-{run}", name="模糊医院", region="530100"
        )
    out = {"institution": f"Bearer {institution_key}"}
    with TestClient(APP) as c:
        for name, body in (
            ("clerk", {"kind": "staff", "login": f"yn.clerk.{run}", "password": PASSWORD}),
            ("finance", {"kind": "staff", "login": f"yn.finance.{run}", "password": PASSWORD}),
            ("person", {"kind": "person", "login": idn, "password": PASSWORD}),
        ):
            r = c.post("/api/auth/login", json=body)
            assert r.status_code == 200, r.text
            out[name] = f"Bearer {r.json()['token']}"
    return out


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize="YIBAO_FUZZ_EXAMPLES" not in os.environ,
)
def test_no_server_errors_and_answers_match_the_spec(case: Any, tokens: dict[str, str]) -> None:
    for who in ("clerk", "finance", "institution", "person"):
        headers = {"Authorization": tokens[who]}
        if case.operation.path == "/api/auth/logout":
            continue  # would end the caller's session for the rest of the run
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
