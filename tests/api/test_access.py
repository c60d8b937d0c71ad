"""Who may do what over HTTP: every endpoint x every role x own / relative / stranger (or in / out of region).

The world: P, an employee in Kunming with a funded account, has bound his father R (a Kunming resident
whose 2023 premium is paid) to the account; S is an unrelated Kunming resident; C (employee) and D
(resident) live in Dali. Persons log in as P, R or S; staff are Kunming's; an institution and a
service are Kunming's too. For a person, "own" is their own data, "relative" the data of whoever is
bound to them, "stranger" someone else's; for everyone else the subject is in Kunming or in Dali.

Each request carries a fresh token. Allowed means the service did not refuse on access grounds (any
answer but 401/403, never 5xx); denied means 401 for the anonymous and 403 for everyone else.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.factories import new_id
from yibao.accounts import balances, payments, sharing, withdrawals
from yibao.core.auth import RULES, Role, Scope, system_principal
from yibao.core.clock import today
from yibao.core.unit import unit_of_work
from yibao.engine.api import _EXAMPLE_INPATIENT
from yibao.identity import service as identity
from yibao.identity.models import AuthToken, Identity
from yibao.people import service as people
from yibao.people.models import Relation
from yibao.premiums import service as premiums

KM, DALI = "530100", "532900"
PASSWORD = "Matrix2023pw"


@dataclass
class World:
    ids: dict[str, str]  # P R S C D -> ID number
    names: dict[str, str]
    receipts: dict[str, str]  # R D -> receipt number
    withdrawals: dict[str, int]  # P C -> pending request id
    identities: dict[str, int]  # caller name -> identity id


def _build(engine: Engine) -> World:
    ids, names, receipts, pending = {}, {}, {}, {}
    with unit_of_work(engine, principal=system_principal()) as s:
        for key, name, region, kind in (
            ("P", "彭员工", KM, "employee"),
            ("R", "彭父", KM, "resident"),
            ("S", "宋路人", KM, "resident"),
            ("C", "陈员工", DALI, "employee"),
            ("D", "段居民", DALI, "resident"),
        ):
            idn = new_id(born=date(1950 if key == "R" else 1985, 3, 3))
            ids[key], names[key] = idn, name
            if kind == "employee":
                people.enrol_employee(
                    s, id_number=idn, name=name, region=region, on=date(2022, 1, 1), employer="某公司"
                )
                balances.open_account(s, id_number=idn)
                payments.credit_contribution(
                    s, id_number=idn, amount=500_000, period="2022-09", source="tax", key=f"seed-{idn}"
                )
            else:
                people.register_resident(s, id_number=idn, name=name, region=region, on=date(2022, 9, 1))
        people.declare_relation(s, id_number=ids["P"], relative_id_number=ids["R"], relation=Relation.PARENT)
        sharing.bind(
            s,
            holder_id_number=ids["P"],
            relative_id_number=ids["R"],
            relation=Relation.PARENT,
            commitment_signed=True,
            channel="yunnan_yibao_miniapp",
        )
        for key, region in (("R", KM), ("D", DALI)):
            r = premiums.pay_premium(
                s,
                premiums.PaymentRequest(
                    insured_id_number=ids[key],
                    insured_name=names[key],
                    year=2023,
                    amount=35_000,
                    channel="banshitong_app",
                    region=region,
                    idempotency_key=f"seed-{key}",
                ),
                now=datetime(2022, 10, 15, 2, 0, tzinfo=UTC),
            )
            receipts[key] = r["receipt_no"]
        for key in ("P", "C"):
            req = withdrawals.apply_withdrawal(
                s, holder_id_number=ids[key], case="settle_abroad", documents=["身份证", "出国定居证明"]
            )
            pending[key] = req.request_id
        idents: dict[str, int] = {}
        run = uuid.uuid4().hex[:6]  # the test database is shared: logins unique to this build
        for key in ("P", "R", "S"):
            identity.set_person_password(s, id_number=ids[key], new_password=PASSWORD)
        for role in ("clerk", "appraiser", "finance", "auditor", "admin"):
            idents[role] = identity.create_staff(
                s, username=f"km.{role}.{run}", name=role, role=role, region=KM, password=PASSWORD
            ).id
        for kind in ("institution", "service"):
            ident, _ = identity.create_client(s, kind=kind, code=f"KM-{kind}-{run}", name=f"昆明{kind}", region=KM)
            idents[f"昆明{kind}"] = ident.id
        from sqlalchemy import select

        for key in ("P", "R", "S"):
            idents[key] = s.scalar(select(Identity.id).where(Identity.kind == "person", Identity.login == ids[key]))
    return World(ids, names, receipts, pending, idents)


def _token(engine: Engine, identity_id: int) -> str:
    token = secrets.token_urlsafe(24)
    with unit_of_work(engine, principal=system_principal()) as s:
        s.add(
            AuthToken(
                token_hash=identity.token_hash(token),
                identity_id=identity_id,
                purpose="session",
                issued_at=datetime.now(UTC),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
    return token


# ---- the callers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    role: Role
    caller: str | None  # P R S, a staff role name, "昆明institution" ..., None for anonymous
    relation: str  # own | relative | stranger | in_region | out_of_region


CASES = [
    Case(Role.PERSON, "P", "own"),
    Case(Role.PERSON, "R", "relative"),
    Case(Role.PERSON, "S", "stranger"),
    *[
        Case(role, name, rel)
        for role, name in (
            (Role.CLERK, "clerk"),
            (Role.APPRAISER, "appraiser"),
            (Role.FINANCE, "finance"),
            (Role.AUDITOR, "auditor"),
            (Role.ADMIN, "admin"),
            (Role.INSTITUTION, "昆明institution"),
            (Role.SERVICE, "昆明service"),
            (Role.ANONYMOUS, None),
        )
        for rel in ("in_region", "out_of_region")
    ],
]


# ---- the endpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """What a request needs: the subject (by family), the caller, and the world."""

    w: World
    case: Case
    family: str  # "employee": P's data (relative R); "resident": R's data (relative P)

    @property
    def subject(self) -> str:
        """The ID number the request is about."""
        own, dali = ("P", "C") if self.family == "employee" else ("R", "D")
        return self.w.ids[dali] if self.case.relation == "out_of_region" else self.w.ids[own]

    @property
    def subject_key(self) -> str:
        own, dali = ("P", "C") if self.family == "employee" else ("R", "D")
        return dali if self.case.relation == "out_of_region" else own

    @property
    def region(self) -> str:
        return DALI if self.case.relation == "out_of_region" else KM

    @property
    def caller_id(self) -> str | None:
        return self.w.ids.get(self.case.caller or "")


@dataclass(frozen=True)
class Spec:
    family: str  # employee | resident | none
    subject: str  # person: the path/body names the subject | region: a region in the body | none | caller_region
    build: Callable[[Ctx], tuple[str, dict[str, Any] | None, dict[str, str]]]  # path, json, headers


def _caller_as_person(c: Ctx) -> str:
    """Who the person-facing requests act for: the calling person, else the subject."""
    return c.caller_id if c.case.role is Role.PERSON and c.caller_id else c.subject


SPECS: dict[tuple[str, str], Spec] = {
    ("get", "/healthz"): Spec("none", "none", lambda c: ("/healthz", None, {})),
    ("get", "/api/policy/parameters"): Spec("none", "none", lambda c: ("/api/policy/parameters", None, {})),
    ("get", "/api/policy/parameters/{path}"): Spec(
        "none", "none", lambda c: ("/api/policy/parameters/resident.premium.individual", None, {})
    ),
    ("post", "/api/calc"): Spec("none", "none", lambda c: ("/api/calc", _EXAMPLE_INPATIENT, {})),
    ("post", "/api/auth/login"): Spec(
        "none",
        "none",
        lambda c: ("/api/auth/login", {"kind": "person", "login": c.w.ids["S"], "password": PASSWORD}, {}),
    ),
    ("post", "/api/auth/logout"): Spec("none", "none", lambda c: ("/api/auth/logout", None, {})),
    ("get", "/api/auth/me"): Spec("none", "none", lambda c: ("/api/auth/me", None, {})),
    ("post", "/api/auth/staff"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/auth/staff",
            {
                "username": f"u{uuid.uuid4().hex[:10]}",
                "name": "新员工",
                "role": "clerk",
                "region": c.region,
                "password": PASSWORD,
            },
            {},
        ),
    ),
    ("post", "/api/auth/clients"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/auth/clients",
            {"kind": "institution", "code": f"H{uuid.uuid4().hex[:10]}", "name": "新医院", "region": c.region},
            {},
        ),
    ),
    ("post", "/api/auth/persons/{id_number}/password"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/auth/persons/{c.subject}/password",
            {"new_password": PASSWORD, "current_password": PASSWORD},
            {},
        ),
    ),
    ("get", "/api/audit"): Spec("none", "caller_region", lambda c: ("/api/audit?per_page=5", None, {})),
    ("post", "/api/people/residents"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/people/residents",
            {"id_number": new_id(), "name": "新居民", "region": c.region},
            {},
        ),
    ),
    ("post", "/api/people/students"): Spec(
        "none",
        "kunming",
        lambda c: (
            "/api/people/students",
            {
                "id_number": new_id(born=date(2003, 5, 5)),
                "name": "新同学",
                "school": "云南大学",
                "commitment_accepted": True,
            },
            {},
        ),
    ),
    ("post", "/api/people/newborns"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/people/newborns",
            {
                "id_number": new_id(born=date(2022, 8, 1)),
                "name": "新生儿",
                "guardian_id_number": _caller_as_person(c) if c.case.role is Role.PERSON else c.w.ids["S"],
                "region": c.region,
            },
            {},
        ),
    ),
    ("post", "/api/people/employees"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/people/employees",
            {"id_number": new_id(), "name": "新职工", "region": c.region, "employer": "某公司"},
            {},
        ),
    ),
    ("get", "/api/people/{id_number}"): Spec("employee", "person", lambda c: (f"/api/people/{c.subject}", None, {})),
    ("post", "/api/people/{id_number}/status"): Spec(
        "employee",
        "person",
        # normal -> normal is refused after the access check (409): nothing changes whoever asks.
        lambda c: (f"/api/people/{c.subject}/status", {"scheme": "employee", "to": "normal", "reason": "核查"}, {}),
    ),
    ("post", "/api/people/{id_number}/move"): Spec(
        "employee",
        "person",
        lambda c: (f"/api/people/{c.subject}/move", {"scheme": "employee", "region": c.region, "reason": "核查"}, {}),
    ),
    ("post", "/api/people/{id_number}/relations"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/people/{c.subject}/relations",
            {"relative_id_number": c.w.ids["S"], "relation": "sibling"},
            {},
        ),
    ),
    ("get", "/api/people/{id_number}/relations"): Spec(
        "employee", "person", lambda c: (f"/api/people/{c.subject}/relations", None, {})
    ),
    ("get", "/api/premiums/years/{year}"): Spec("none", "none", lambda c: ("/api/premiums/years/2023", None, {})),
    ("post", "/api/premiums/payments"): Spec(
        "resident",
        "anyone",
        lambda c: (
            "/api/premiums/payments",
            {
                "insured_id_number": c.subject,
                "insured_name": c.w.names[c.subject_key],
                "year": 2023,
                "amount": "350.00",
                "channel": "banshitong_app",
                "region": c.region,
                **(
                    {"payer_id_number": c.caller_id, "payer_name": c.w.names[c.case.caller or ""]}
                    if c.case.role is Role.PERSON
                    else {}
                ),
            },
            {"Idempotency-Key": uuid.uuid4().hex},
        ),
    ),
    ("get", "/api/premiums/receipts/{receipt_no}"): Spec(
        "resident", "person", lambda c: (f"/api/premiums/receipts/{c.w.receipts[c.subject_key]}", None, {})
    ),
    ("get", "/api/premiums/receipts/{receipt_no}/print"): Spec(
        "resident", "person", lambda c: (f"/api/premiums/receipts/{c.w.receipts[c.subject_key]}/print", None, {})
    ),
    ("get", "/api/premiums/insured/{id_number}/payments"): Spec(
        "resident", "person", lambda c: (f"/api/premiums/insured/{c.subject}/payments", None, {})
    ),
    ("get", "/api/premiums/payers/{id_number}/payments"): Spec(
        "resident", "person", lambda c: (f"/api/premiums/payers/{c.subject}/payments", None, {})
    ),
    ("get", "/api/accounts/{id_number}"): Spec(
        "employee", "person", lambda c: (f"/api/accounts/{c.subject}", None, {})
    ),
    ("get", "/api/accounts/{id_number}/records"): Spec(
        "employee", "person", lambda c: (f"/api/accounts/{c.subject}/records", None, {})
    ),
    ("post", "/api/accounts/{id_number}/credits"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/credits",
            {"amount": "1.00", "period": f"{today():%Y-%m}"},  # staff credit recent months
            {"Idempotency-Key": uuid.uuid4().hex, "X-Source-System": "tax"},
        ),
    ),
    ("post", "/api/accounts/{id_number}/payments"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/payments",
            {"amount": "1.00", "category": "designated_hospital", "institution": "昆明institution"},
            {"Idempotency-Key": uuid.uuid4().hex, "X-Source-System": "his"},
        ),
    ),
    ("post", "/api/accounts/{id_number}/bindings"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/bindings",
            {"relative_id_number": c.w.ids["R"], "relation": "parent", "commitment_signed": True},
            {},
        ),
    ),
    ("get", "/api/accounts/{id_number}/bindings"): Spec(
        "employee", "person", lambda c: (f"/api/accounts/{c.subject}/bindings", None, {})
    ),
    ("post", "/api/accounts/{id_number}/relative-premiums"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/relative-premiums",
            {"relative_id_number": c.w.ids["R"], "relative_name": c.w.names["R"], "year": 2023},
            {"Idempotency-Key": uuid.uuid4().hex},
        ),
    ),
    ("post", "/api/accounts/{id_number}/insurance"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/insurance",
            {"insured_id_number": c.subject, "product": "jirui_ankang", "shares": 1},
            {"Idempotency-Key": uuid.uuid4().hex},
        ),
    ),
    ("post", "/api/accounts/{id_number}/withdrawals"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/withdrawals",
            {"case": "settle_abroad", "documents": ["身份证", "出国定居证明"]},
            {},
        ),
    ),
    ("post", "/api/accounts/withdrawals/{request_id}/decision"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/withdrawals/{c.w.withdrawals[c.subject_key]}/decision",
            {"approve": False, "clerk": "x", "note": "材料不全"},
            {},
        ),
    ),
    ("get", "/api/accounts/ledger/verify"): Spec("none", "none", lambda c: ("/api/accounts/ledger/verify", None, {})),
    ("get", "/api/catalogue"): Spec("none", "none", lambda c: ("/api/catalogue?date=2024-01-01&size=5", None, {})),
    ("get", "/api/catalogue/{code}"): Spec(
        "none", "none", lambda c: ("/api/catalogue/XJ01CAA040A001010100001?date=2024-01-01", None, {})
    ),
    # Last: it ends P's binding with R, which the "relative" cases above rely on.
    ("post", "/api/accounts/{id_number}/unbind"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/unbind",
            {"relative_id_number": c.w.ids["R"], "channel": "yunnan_yibao_miniapp"},
            {},
        ),
    ),
}


def expected(spec: Spec, action: str, case: Case) -> bool:
    """The rule table read for one case: does this caller get through?"""
    scope = RULES[action].allow.get(case.role)
    if scope is None:
        return False
    if scope in (Scope.PUBLIC, Scope.ANY):
        return True
    if case.role is Role.PERSON:
        if spec.subject in ("region", "kunming", "none", "caller_region"):
            return False  # OWN/BOUND need a person as subject
        return case.relation == "own" or (scope is Scope.BOUND and case.relation == "relative")
    if scope is not Scope.REGION:
        return False
    if spec.subject == "none":
        return False  # spans every region: province staff only, and these are Kunming's
    if spec.subject in ("kunming", "caller_region"):
        return True
    return case.relation == "in_region"


def _operations(app: Any) -> list[tuple[str, str, str]]:
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            out.append((method, path, op.get("x-action", "")))
    return out


def test_every_endpoint_has_a_rule(api_client: Any) -> None:
    ops = _operations(api_client.app)
    assert len(ops) >= 38
    for method, path, action in ops:
        assert action in RULES, f"{method.upper()} {path} declares no action with a rule"
        assert (method, path) in SPECS, f"{method.upper()} {path} is missing from the access matrix"
    assert set(SPECS) == {(m, p) for m, p, _ in ops}


def test_access_matrix(api_client: Any, engine: Engine) -> None:
    w = _build(engine)
    actions = {(m, p): a for m, p, a in _operations(api_client.app)}
    failures: list[str] = []
    checked = 0
    for (method, path), spec in SPECS.items():
        action = actions[method, path]
        for case in CASES:
            ctx = Ctx(w, case, spec.family if spec.family != "none" else "employee")
            url, body, headers = spec.build(ctx)
            if case.caller is not None:
                headers = {**headers, "Authorization": f"Bearer {_token(engine, w.identities[case.caller])}"}
            r = api_client.request(method.upper(), url, json=body, headers=headers)
            allow = expected(spec, action, case)
            checked += 1
            if r.status_code >= 500:
                failures.append(f"{method.upper()} {path} {case}: {r.status_code} {r.text[:200]}")
            elif allow and r.status_code in (401, 403):
                failures.append(f"{method.upper()} {path} {case}: expected allowed, got {r.status_code} {r.text[:200]}")
            elif not allow and r.status_code != (401 if case.role is Role.ANONYMOUS else 403):
                failures.append(f"{method.upper()} {path} {case}: expected denied, got {r.status_code} {r.text[:200]}")
    assert not failures, f"{len(failures)} of {checked}:\n" + "\n".join(failures)
    assert checked == len(SPECS) * len(CASES)


@pytest.mark.parametrize(
    ("action", "role", "scope"),
    [
        # Read against the seeds and the issue, not the code: a few rows spelled out.
        ("accounts.read", Role.PERSON, Scope.BOUND),  # a bound relative sees the account they may use
        ("accounts.pay", Role.INSTITUTION, Scope.ANY),  # the patient presents their card anywhere designated
        ("accounts.withdrawals.decide", Role.APPRAISER, Scope.REGION),
        ("premiums.pay", Role.PERSON, Scope.ANY),  # 代他人缴费
        ("accounts.credit", Role.FINANCE, Scope.REGION),
        ("audit.read", Role.AUDITOR, Scope.REGION),
        ("catalogue.read", Role.INSTITUTION, Scope.ANY),  # hospitals sync the catalogue (1312)
        ("catalogue.import", Role.ADMIN, Scope.REGION),  # with no subject: the province's staff only
    ],
)
def test_key_rules(action: str, role: Role, scope: Scope) -> None:
    assert RULES[action].allow.get(role) is scope


@pytest.mark.parametrize(
    ("action", "role"),
    [
        ("accounts.read", Role.INSTITUTION),  # a hospital does not browse balances
        ("accounts.pay", Role.PERSON),  # nobody pays themselves out of the account
        ("accounts.withdrawals.decide", Role.CLERK),  # the clerk takes the application, the appraiser decides
        ("people.read", Role.ADMIN),  # administrators manage logins, not insured data
        ("audit.read", Role.ADMIN),
        ("accounts.manage", Role.FINANCE),
        ("catalogue.import", Role.CLERK),  # the catalogue decides what the funds pay: not a counter task
        ("catalogue.import", Role.INSTITUTION),
        ("catalogue.read", Role.ANONYMOUS),
    ],
)
def test_key_denials(action: str, role: Role) -> None:
    assert role not in RULES[action].allow
