"""Schemathesis against a real ``yibao serve`` process on PostgreSQL: generated requests, valid and
invalid, cross a real socket into a real worker and pool; never a server error, and every answer matches
the spec. The in-process run (test_fuzz.py) covers more examples on both databases; this one shows the
served process behaves the same (a bounded run: YIBAO_FUZZ_EXAMPLES for a longer hunt).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine

from tests.factories import new_id
from tests.live import LiveServer, person_token
from yibao.accounts import balances
from yibao.api.app import create_app
from yibao.core.auth import system_principal
from yibao.core.db import make_engine
from yibao.core.unit import unit_of_work
from yibao.identity import logins
from yibao.people import enrolment

pytestmark = pytest.mark.pg

EXAMPLES = int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "3"))
PASSWORD = "Fuzz2023pw"

schema = schemathesis.openapi.from_dict(create_app().openapi())


@pytest.fixture(scope="module")
def live(pg_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A served process and callers with wide access, so that generated requests reach the services."""
    engine = make_engine(pg_url)
    try:
        with LiveServer(pg_url, workers=1, access_log=True) as server:
            yield server.url, _callers(engine, server.url)
    finally:
        engine.dispose()


def _callers(engine: Engine, url: str) -> dict[str, str]:
    run = uuid.uuid4().hex[:6]
    idn = new_id(born=date(1981, 2, 3))
    with unit_of_work(engine, principal=system_principal()) as s:
        enrolment.enrol_employee(
            s, id_number=idn, name="模糊测试", region="530100", on=date(2022, 1, 1), employer="某公司"
        )
        balances.open_account(s, id_number=idn)
        logins.set_person_password(s, id_number=idn, new_password=PASSWORD)
        logins.create_staff(
            s, username=f"yn.clerk.{run}", name="clerk", role="clerk", region="530000", password=PASSWORD
        )
        key = logins.create_client(s, kind="institution", code=f"FL-{run}", name="模糊医院", region="530100").api_key
    r = httpx.post(f"{url}/api/auth/login", json={"kind": "staff", "login": f"yn.clerk.{run}", "password": PASSWORD})
    r.raise_for_status()
    return {
        "clerk": f"Bearer {r.json()['token']}",
        "institution": f"Bearer {key}",
        "person": f"Bearer {person_token(url, idn, PASSWORD)}",
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize="YIBAO_FUZZ_EXAMPLES" not in os.environ,
)
def test_served_process_never_errs_and_answers_match_the_spec(case: Any, live: tuple[str, dict[str, str]]) -> None:
    url, callers = live
    if case.operation.path == "/api/auth/logout":
        return  # would end the caller's session for the rest of the run
    for who in ("clerk", "institution", "person"):
        case.call_and_validate(
            base_url=url,
            headers={"Authorization": callers[who]},
            checks=[not_a_server_error, response_schema_conformance],
        )
