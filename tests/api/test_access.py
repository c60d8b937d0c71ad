"""Who may do what over HTTP: every endpoint x every role x own / relative / stranger (or in / out of region).

The world: P, an employee in Kunming with a funded account, has bound his father R (a Kunming resident
whose 2023 premium is paid) to the account; S is an unrelated Kunming resident; C (employee) and D
(resident) live in Dali. Persons log in as P, R or S; staff are Kunming's; an institution and a
service are Kunming's too. For a person, "own" is their own data, "relative" the data of whoever is
bound to them, "stranger" someone else's; for everyone else the subject is in Kunming or in Dali.

Each request carries a fresh token, and every answer is compared with the one status (and error code) it
must have: denied is 401 for the anonymous and 403 for everyone else; allowed is the endpoint's own answer
for that caller (its success, or the refusal its rules give, e.g. a person backdating someone's
enrolment gets 422 where a clerk gets 201). The clock stands still on a day outside every collection
period, so that the answers do not depend on when the tests run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.claims.helpers import Place, settled_stay
from tests.factories import (
    PASSWORD,
    create_client_login,
    create_employee,
    create_payment,
    create_person_login,
    create_resident,
    create_staff_login,
    new_id,
    session_token,
)
from tests.nhsa.helpers import new_code
from yibao.accounts import balances, payments, sharing, withdrawals
from yibao.core import clock
from yibao.core.auth import RULES, Role, Scope, system_principal
from yibao.core.clock import today
from yibao.core.unit import unit_of_work
from yibao.demo import seed_catalogue
from yibao.engine.api import _EXAMPLE_INPATIENT
from yibao.institutions import service as institutions
from yibao.people import persons
from yibao.people.models import Relation
from yibao.people.relations import declare_relation

KM, DALI = "530100", "532900"
# A Monday morning in Kunming, between two collection periods (they run September to December).
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


@dataclass
class World:
    ids: dict[str, str]  # P R S C D -> ID number
    names: dict[str, str]
    receipts: dict[str, str]  # R D -> receipt number
    withdrawals: dict[str, int]  # P C -> pending request id
    identities: dict[str, int]  # caller name -> identity id
    institutions: dict[str, str] = field(default_factory=dict)  # region -> a designated institution's code
    settlements: dict[str, str] = field(default_factory=dict)  # P R C D -> setl_id of a settled stay


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
            names[key] = name
            if kind == "employee":
                ids[key] = create_employee(s, name=name, region=region)
                balances.open_account(s, id_number=ids[key])
                payments.credit_contribution(
                    s, id_number=ids[key], amount=500_000, period="2022-09", source="tax", key=f"seed-{ids[key]}"
                )
            else:
                born = date(1950 if key == "R" else 1985, 3, 3)
                ids[key] = create_resident(s, name=name, region=region, born=born, on=date(2022, 9, 1))
        declare_relation(s, id_number=ids["P"], relative_id_number=ids["R"], relation=Relation.PARENT)
        sharing.bind(
            s,
            holder_id_number=ids["P"],
            relative_id_number=ids["R"],
            relation=Relation.PARENT,
            commitment_signed=True,
            channel="yunnan_yibao_miniapp",
        )
        for key, region in (("R", KM), ("D", DALI)):
            receipts[key] = create_payment(s, ids[key], name=names[key], region=region).receipt_no
        for key in ("P", "C"):
            req = withdrawals.apply_withdrawal(
                s, holder_id_number=ids[key], case="settle_abroad", documents=["身份证", "出国定居证明"]
            )
            pending[key] = req.request_id
        idents = {key: create_person_login(s, ids[key]).identity_id for key in ("P", "R", "S")}
        for role in ("clerk", "appraiser", "finance", "auditor", "admin"):
            idents[role] = create_staff_login(s, role=role, region=KM).identity_id
        # The institution's login is its code: it reads the settlements made under that code.
        codes = {"institution": new_code(), "service": None}
        for kind in ("institution", "service"):
            idents[f"昆明{kind}"] = create_client_login(
                s, kind=kind, region=KM, name=f"昆明{kind}", code=codes[kind]
            ).identity_id
        seed_catalogue(s)  # the demo catalogue, for the catalogue rows below
        places = {}
        for region in (KM, DALI):
            row, _ = institutions.add(s, code=new_code(), name="矩阵医院", kind="hospital", level=2, region=region)
            places[region] = row.code
        # A stay of each of P and R at the Kunming caller, of C and D at a hospital in Dali.
        settled = {}
        for key in ("P", "R", "C", "D"):
            at = (
                Place(codes["institution"], "昆明institution", "hospital", 2, KM)
                if key in ("P", "R")
                else Place(places[DALI], "矩阵医院", "hospital", 2, DALI)
            )
            settled[key] = settled_stay(s, persons.get_person(s, ids[key]), at=at)
    return World(ids, names, receipts, pending, idents, places, settled)


def _token(engine: Engine, identity_id: int) -> str:
    with unit_of_work(engine, principal=system_principal()) as s:
        return session_token(s, identity_id)


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


Outcome = tuple[int, str | None]  # the status, and a refusal's error code
CREATED: Outcome = (201, None)
NO_CONTENT: Outcome = (204, None)
INVALID: Outcome = (422, "validation_failed")


@dataclass(frozen=True)
class Spec:
    family: str  # employee | resident | none
    subject: str  # person: the path/body names the subject | settlement: one of the subject's | region: a region in the body | none | caller_region
    build: Callable[[Ctx], tuple[str, dict[str, Any] | None, dict[str, str]]]  # path, json, headers
    allowed: Outcome | Callable[[Ctx], Outcome] = (200, None)  # the answer to a caller the rules let through

    def answer(self, c: Ctx) -> Outcome:
        """What a caller the rules let through gets."""
        return self.allowed(c) if callable(self.allowed) else self.allowed


def _caller_as_person(c: Ctx) -> str:
    """Who the person-facing requests act for: the calling person, else the subject."""
    return c.caller_id if c.case.role is Role.PERSON and c.caller_id else c.subject


def _by_person(person: Outcome, staff: Outcome) -> Callable[[Ctx], Outcome]:
    """One answer for persons, another for staff and clients."""
    return lambda c: person if c.case.role is Role.PERSON else staff


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
    ("post", "/api/auth/logout"): Spec("none", "none", lambda c: ("/api/auth/logout", None, {}), NO_CONTENT),
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
        CREATED,
    ),
    ("post", "/api/auth/clients"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/auth/clients",
            {"kind": "institution", "code": f"H{uuid.uuid4().hex[:10]}", "name": "新医院", "region": c.region},
            {},
        ),
        CREATED,
    ),
    ("post", "/api/auth/persons/{id_number}/password"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/auth/persons/{c.subject}/password",
            {"new_password": PASSWORD, "current_password": PASSWORD},
            {},
        ),
        NO_CONTENT,
    ),
    ("get", "/api/audit"): Spec("none", "caller_region", lambda c: ("/api/audit?per_page=5", None, {})),
    ("post", "/api/people/residents"): Spec(
        "none",
        "region",
        # Dated yesterday: staff may backdate an enrolment, a person (registering someone else) may not.
        lambda c: (
            "/api/people/residents",
            {"id_number": new_id(), "name": "新居民", "region": c.region, "on": str(today() - timedelta(days=1))},
            {},
        ),
        _by_person(INVALID, CREATED),
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
        CREATED,
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
        CREATED,
    ),
    ("post", "/api/people/employees"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/people/employees",
            {"id_number": new_id(), "name": "新职工", "region": c.region, "employer": "某公司"},
            {},
        ),
        CREATED,
    ),
    ("get", "/api/people/{id_number}"): Spec("employee", "person", lambda c: (f"/api/people/{c.subject}", None, {})),
    ("post", "/api/people/{id_number}/status"): Spec(
        "employee",
        "person",
        # normal -> normal is refused after the access check (409): nothing changes whoever asks.
        lambda c: (f"/api/people/{c.subject}/status", {"scheme": "employee", "to": "normal", "reason": "核查"}, {}),
        (409, "people.status_not_allowed"),
    ),
    ("post", "/api/people/{id_number}/move"): Spec(
        "employee",
        "person",
        # To the region the record is in: refused after the access check, nothing moves.
        lambda c: (f"/api/people/{c.subject}/move", {"scheme": "employee", "region": c.region, "reason": "核查"}, {}),
        INVALID,
    ),
    ("post", "/api/people/{id_number}/relations"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/people/{c.subject}/relations",
            {"relative_id_number": c.w.ids["S"], "relation": "sibling"},
            {},
        ),
        # P declares S first; the clerk then finds it declared.
        _by_person(CREATED, (409, "people.relation_exists")),
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
        (422, "premium.outside_period"),
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
        CREATED,
    ),
    ("post", "/api/accounts/{id_number}/payments"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/payments",
            {"amount": "1.00", "category": "own_designated_hospital", "institution": "昆明institution"},
            {"Idempotency-Key": uuid.uuid4().hex, "X-Source-System": "his"},
        ),
        CREATED,
    ),
    ("post", "/api/accounts/{id_number}/bindings"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/bindings",
            {"relative_id_number": c.w.ids["R"], "relation": "parent", "commitment_signed": True},
            {},
        ),
        (409, "accounts.already_bound"),
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
        (422, "premium.outside_period"),
    ),
    ("post", "/api/accounts/{id_number}/insurance"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/insurance",
            {"insured_id_number": c.subject, "product": "jirui_ankang", "shares": 1},
            {"Idempotency-Key": uuid.uuid4().hex},
        ),
        CREATED,
    ),
    ("post", "/api/accounts/{id_number}/withdrawals"): Spec(
        "employee",
        "person",
        lambda c: (
            f"/api/accounts/{c.subject}/withdrawals",
            {"case": "settle_abroad", "documents": ["身份证", "出国定居证明"]},
            {},
        ),
        (409, "accounts.withdrawal_pending"),
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
    ("post", "/api/institutions"): Spec(
        "none",
        "region",
        lambda c: (
            "/api/institutions",
            {"code": new_code(), "name": "新医院", "kind": "hospital", "level": 2, "region": c.region},
            {},
        ),
        (201, None),
    ),
    ("get", "/api/institutions"): Spec("none", "caller_region", lambda c: ("/api/institutions", None, {})),
    ("get", "/api/institutions/{code}"): Spec(
        "none", "region", lambda c: (f"/api/institutions/{c.w.institutions[c.region]}", None, {})
    ),
    ("post", "/api/institutions/{code}/secret"): Spec(
        "none", "region", lambda c: (f"/api/institutions/{c.w.institutions[c.region]}/secret", None, {})
    ),
    ("post", "/api/institutions/{code}/end-designation"): Spec(
        "none",
        "region",
        lambda c: (f"/api/institutions/{c.w.institutions[c.region]}/end-designation", {"on": "2099-01-01"}, {}),
    ),
    ("post", "/api/institutions/{code}/suspend"): Spec(
        "none", "region", lambda c: (f"/api/institutions/{c.w.institutions[c.region]}/suspend", {"reason": "核查"}, {})
    ),
    ("post", "/api/institutions/{code}/reinstate"): Spec(
        "none", "region", lambda c: (f"/api/institutions/{c.w.institutions[c.region]}/reinstate", None, {})
    ),
    ("get", "/api/catalogue"): Spec("none", "none", lambda c: ("/api/catalogue?date=2024-01-01&size=5", None, {})),
    ("get", "/api/catalogue/{code}"): Spec(
        "none", "none", lambda c: ("/api/catalogue/XJ01CAA001A002010100008?date=2024-01-01", None, {})
    ),
    ("get", "/api/settlements/{setl_id}"): Spec(
        "employee", "settlement", lambda c: (f"/api/settlements/{c.w.settlements[c.subject_key]}", None, {})
    ),
    ("get", "/api/people/{id_number}/settlements"): Spec(
        "employee", "person", lambda c: (f"/api/people/{c.subject}/settlements", None, {})
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
        # P ends the binding; the clerk then finds none.
        _by_person((200, None), (404, "accounts.no_binding")),
    ),
}


def expected(spec: Spec, action: str, case: Case) -> bool:
    """The rule table read for one case: does this caller get through?"""
    scope = RULES[action].allow.get(case.role)
    if scope is None:
        return False
    if scope in (Scope.PUBLIC, Scope.ANY):
        return True
    if case.role is Role.INSTITUTION:
        # Its own: what it recorded itself, i.e. the Kunming subjects' settlements made at the caller.
        return scope is Scope.OWN and spec.subject == "settlement" and case.relation == "in_region"
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


def _documented_success(app: Any) -> dict[tuple[str, str], int]:
    """Each operation's documented success status."""
    return {
        (method, path): int(next(code for code in op["responses"] if code.startswith("2")))
        for path, ops in app.openapi()["paths"].items()
        for method, op in ops.items()
    }


def test_access_matrix(api_client: Any, engine: Engine) -> None:
    with clock.use(clock.FixedClock(NOW)):
        w = _build(engine)
        actions = {(m, p): a for m, p, a in _operations(api_client.app)}
        documented = _documented_success(api_client.app)
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
                if expected(spec, action, case):
                    want = spec.answer(ctx)
                else:
                    want = (401, "auth.unauthenticated") if case.role is Role.ANONYMOUS else (403, "auth.forbidden")
                got = (r.status_code, r.json().get("code") if r.status_code >= 400 else None)
                checked += 1
                if got != want:
                    failures.append(f"{method.upper()} {path} {case}: expected {want}, got {got} {r.text[:200]}")
                elif r.status_code < 300 and r.status_code != documented[method, path]:
                    failures.append(
                        f"{method.upper()} {path}: answered {r.status_code}, documents {documented[method, path]}"
                    )
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
        ("claims.settlements.read", Role.INSTITUTION, Scope.OWN),  # a hospital reads the settlements it made
        ("claims.settlements.read", Role.PERSON, Scope.OWN),
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
        ("claims.settlements.list", Role.INSTITUTION),  # a hospital does not browse a person's other stays
        ("claims.settlements.read", Role.ADMIN),
    ],
)
def test_key_denials(action: str, role: Role) -> None:
    assert role not in RULES[action].allow
