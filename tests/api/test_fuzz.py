"""Schemathesis against the OpenAPI spec: generated requests, valid and invalid, never a server error,
and every documented answer matches its schema. A bounded run (examples per operation below), as a
province clerk, a province finance officer, an institution and a person, on SQLite and PostgreSQL.

Generated dates include the extremes (0001-01-01, 9999-12-31) and digits that are not ASCII; on top of
the generated cases, every operation of the spec gets targeted hostile input -- deep nesting,
full-width and Arabic-Indic digits, extreme dates and periods, huge amounts and numbers, names with
invisible characters -- and must answer 4xx, never 5xx, without writing anything.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine, text

from tests.factories import new_id
from yibao.accounts import balances
from yibao.api.app import create_app
from yibao.core.auth import system_principal
from yibao.core.ids import make_id_number
from yibao.core.ratelimit import AuthLimits
from yibao.core.unit import unit_of_work
from yibao.identity import logins
from yibao.people import enrolment

# Per operation: bounded, so that the run takes under a minute (YIBAO_FUZZ_EXAMPLES for a longer hunt).
EXAMPLES = int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "10"))
PASSWORD = "Fuzz2023pw"


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EXTREME_DATES = ["0001-01-01", "9999-12-31", "1800-01-01", "2099-12-31", "２０２２-０９-１０", "٢٠٢٢-09-10"]

# Generated dates: any day, often an extreme one or one with digits that are not ASCII.
schemathesis.openapi.format("date", st.sampled_from(EXTREME_DATES) | st.dates().map(date.isoformat))

APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


_CALLERS: dict[str, dict[str, str]] = {}  # per test database: made once, reused by every operation
_EMPLOYEE: dict[str, str] = {}  # per test database: the callers' insured person, an employee with an account


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    """Callers with wide access, so that generated requests reach the services."""
    APP.state.engine = engine  # the generated requests go to this test's database
    APP.state.auth_limits = AuthLimits()  # generated failed logins of one operation do not limit the next
    key = str(engine.url)
    if key not in _CALLERS:
        _CALLERS[key] = _make_callers(engine)
    return _CALLERS[key]


def _make_callers(engine: Engine) -> dict[str, str]:
    run = uuid.uuid4().hex[:6]
    idn = new_id(born=date(1980, 1, 1))
    _EMPLOYEE[str(engine.url)] = idn
    with unit_of_work(engine, principal=system_principal()) as s:
        enrolment.enrol_employee(
            s, id_number=idn, name="模糊测试", region="530100", on=date(2022, 1, 1), employer="某公司"
        )
        balances.open_account(s, id_number=idn)
        logins.set_person_password(s, id_number=idn, new_password=PASSWORD)
        for role in ("clerk", "finance"):
            logins.create_staff(
                s, username=f"yn.{role}.{run}", name=role, role=role, region="530000", password=PASSWORD
            )
        institution_key = logins.create_client(
            s, kind="institution", code=f"FZ-{run}", name="模糊医院", region="530100"
        ).api_key
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


# ---- targeted hostile input, for every operation of the spec -----------------------------------

_ID = make_id_number("530102", date(1985, 5, 5), 7, "F")
HOSTILE: dict[str, list[Any]] = {
    "id": [
        _ID.translate(FULL_WIDTH),
        _ID.translate(ARABIC_INDIC),
        _ID[:6] + _ID[6:].translate(FULL_WIDTH),
        make_id_number("530102", date(2099, 1, 1), 7, "F"),
        make_id_number("530102", date(1800, 1, 1), 7, "F"),
    ],
    "amount": ["１.００", "٣٥٠.٠٠", "99999999999999.99", "100000000.00"],
    "period": ["0000-01", "9999-12", "２０２３-０５"],
    "date": EXTREME_DATES,
    "name": ["张\u202e三", "张\u200b三", "张\n三", "\ufeff张三"],
    "integer": [10**20, -(10**20)],
}
# Rows that hostile input must never create (the audit log grows: reads and refusals are audited).
TABLES = (
    "persons",
    "insurance_records",
    "insurance_record_changes",
    "person_relations",
    "journal_entries",
    "premium_payments",
    "sharing_bindings",
    "account_withdrawals",
    "account_insurance_policies",
    "auth_identities",
    "auth_tokens",
)
_SPEC = APP.openapi()


def _resolve(s: dict[str, Any]) -> dict[str, Any]:
    """A property's schema without references and optional-null wrappers."""
    if "$ref" in s:
        return _resolve(_SPEC["components"]["schemas"][s["$ref"].rsplit("/", 1)[1]])
    options = [o for o in s.get("anyOf", []) if o.get("type") != "null"]
    return _resolve(options[0]) if options else s


def _kind(name: str, s: dict[str, Any]) -> str | None:
    if name.endswith("id_number"):
        return "id"
    if name in ("amount", "period"):
        return name
    if s.get("format") == "date":
        return "date"
    if name.endswith("name") or name in ("employer", "institution"):
        return "name"
    if s.get("type") == "integer":
        return "integer"
    return None


def _plain(name: str, s: dict[str, Any], subject: str) -> Any:
    """A harmless value for a field, so that the request gets as far as the hostile one."""
    if name.endswith("id_number"):
        return subject
    if "enum" in s:
        return s["enum"][0]
    if s.get("examples"):
        return s["examples"][0]
    return {"string": "2022-09-10" if s.get("format") == "date" else "x", "integer": 1, "boolean": True}.get(
        s.get("type", ""), []
    )


def _hostile_requests(subject: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, request arguments) with exactly one hostile value, for every field of every operation."""
    for path, ops in _SPEC["paths"].items():
        for method, op in ops.items():
            params = {p["name"]: (p["in"], _resolve(p["schema"])) for p in op.get("parameters", [])}
            body_ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            body_schema = _resolve(body_ref) if body_ref else {}
            props = {k: _resolve(v) for k, v in body_schema.get("properties", {}).items()}
            fields = [(n, where, s) for n, (where, s) in params.items()] + [(n, "body", s) for n, s in props.items()]
            for name, where, s in fields:
                kind = _kind(name, s)
                for bad in HOSTILE.get(kind or "", []):
                    values = {n: (bad if n == name and w == where else _plain(n, s2, subject)) for n, w, s2 in fields}
                    url = path.format(**{n: values[n] for n, (w, _) in params.items() if w == "path"})
                    yield (
                        method,
                        url,
                        {
                            "params": {n: values[n] for n, (w, _) in params.items() if w == "query"},
                            "headers": {n: f"fuzz-{uuid.uuid4().hex}" for n, (w, _) in params.items() if w == "header"},
                            "json": {n: values[n] for n in props} if body_ref else None,
                        },
                    )


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}


def test_hostile_values_in_every_field_are_refused_and_write_nothing(tokens: dict[str, str], engine: Engine) -> None:
    subject = _EMPLOYEE[str(engine.url)]
    before = _rows(engine)
    seen = 0
    with TestClient(APP) as c:
        for method, url, args in _hostile_requests(subject):
            for who in ("clerk", "finance", "institution"):
                headers = {**args["headers"], "Authorization": tokens[who]}
                r = c.request(method, url, params=args["params"], json=args["json"], headers=headers)
                assert r.status_code < 500, (who, method, url, args, r.text[:300])
                seen += 1
    assert seen > 300  # every operation's fields were reached
    assert _rows(engine) == before


def test_deep_nesting_in_every_body(tokens: dict[str, str], engine: Engine) -> None:
    before = _rows(engine)
    deep = "[" * 1000 + "]" * 1000
    with TestClient(APP) as c:
        for path, ops in _SPEC["paths"].items():
            for method, op in ops.items():
                if "requestBody" not in op:
                    continue
                url = path.replace("{id_number}", _ID).replace("{request_id}", "1")
                for headers in ({}, {"Authorization": tokens["clerk"]}):
                    r = c.request(method, url, content=deep, headers={**headers, "Content-Type": "application/json"})
                    assert r.status_code == 422 and r.json()["details"]["field"] == "body", (method, url, r.text)
    assert _rows(engine) == before
