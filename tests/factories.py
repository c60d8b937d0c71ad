"""Small helpers that make valid test data (``create_*``), instead of big fixture files.

Each takes a session acting for someone who may do the work (the operator in the domain tests) and
returns what the test needs next: an ID number, a login with a working token, a receipt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.core.ids import make_id_number
from yibao.identity import logins, tokens
from yibao.identity.models import Identity, LoginKind, TokenPurpose
from yibao.people import enrolment
from yibao.premiums import payments
from yibao.premiums.contributions import contribution_year
from yibao.premiums.schemas import Receipt

_seq = count(1)

PASSWORD = "Factory2023pw"
# Within the 2023 contribution year's collection period (2022-09-01..2022-12-31, China's days).
IN_PERIOD = datetime(2022, 10, 8, 2, 0, tzinfo=UTC)


# Kunming's districts: 500 sequence numbers per birth date and sex in each, so that a long test run
# never hands out one number twice.
_DISTRICTS = ("530102", "530103", "530111", "530112", "530113", "530114", "530115", "530124")


def new_id(region: str | None = None, born: date = date(1990, 1, 1), sex: str = "M") -> str:
    """A fresh, valid ID number (never the same twice in a test run)."""
    n = next(_seq)
    return make_id_number(region or _DISTRICTS[(n // 500) % len(_DISTRICTS)], born, n % 500, sex)


def create_resident(
    session: Session,
    *,
    name: str = "张三",
    region: str = "530100",
    born: date = date(1990, 1, 1),
    sex: str = "M",
    on: date = date(2022, 9, 5),
) -> str:
    """A person with a resident record; returns the ID number."""
    idn = new_id(born=born, sex=sex)
    enrolment.register_resident(session, id_number=idn, name=name, region=region, on=on)
    return idn


def create_employee(
    session: Session,
    *,
    name: str = "李职工",
    region: str = "530100",
    born: date = date(1985, 3, 3),
    on: date = date(2022, 1, 1),
    employer: str | None = "某公司",
) -> str:
    """A person with an employee record (a flexible worker without ``employer``); returns the ID number."""
    idn = new_id(born=born)
    enrolment.enrol_employee(
        session, id_number=idn, name=name, region=region, on=on, employer=employer, flexible=employer is None
    )
    return idn


@dataclass(frozen=True)
class Login:
    """A login and a bearer token that works now."""

    identity_id: int
    login: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The request header that authenticates as this login."""
        return {"Authorization": f"Bearer {self.token}"}


def session_token(session: Session, identity_id: int) -> str:
    """A fresh session token for a login, as a successful password check would issue it."""
    ident = session.get(Identity, identity_id)
    assert ident is not None
    token, _ = tokens.issue_token(session, ident, TokenPurpose.SESSION, timedelta(hours=logins.SESSION_HOURS))
    return token


def _identity_id(session: Session, kind: LoginKind, login: str) -> int:
    found = session.scalar(select(Identity.id).where(Identity.kind == kind, Identity.login == login))
    assert found is not None
    return found


def create_staff_login(
    session: Session, *, role: str = "clerk", region: str = "530100", password: str = PASSWORD
) -> Login:
    """A staff login (a user name unique to the run) with a session token."""
    username = f"{role}.{uuid.uuid4().hex[:10]}"
    logins.create_staff(session, username=username, name=role, role=role, region=region, password=password)
    ident = _identity_id(session, LoginKind.STAFF, username)
    return Login(ident, username, session_token(session, ident))


def create_person_login(session: Session, id_number: str, *, password: str = PASSWORD) -> Login:
    """A password for a person on file, with a session token."""
    logins.set_person_password(session, id_number=id_number, new_password=password)
    ident = _identity_id(session, LoginKind.PERSON, id_number)
    return Login(ident, id_number, session_token(session, ident))


def create_client_login(
    session: Session,
    *,
    kind: str = "institution",
    region: str = "530100",
    name: str | None = None,
    code: str | None = None,
) -> Login:
    """An institution or service (by default a code unique to the run); its token is the API key."""
    code = code or f"{kind[:1].upper()}{uuid.uuid4().hex[:10]}"
    client = logins.create_client(session, kind=kind, code=code, name=name or f"测试{kind}", region=region)
    return Login(_identity_id(session, LoginKind(kind), code), code, client.api_key)


def create_payment(
    session: Session,
    insured_id_number: str,
    *,
    name: str = "张三",
    region: str = "530100",
    year: int = 2023,
    payer: tuple[str, str] | None = None,
    channel: str = "banshitong_app",
    now: datetime = IN_PERIOD,
) -> Receipt:
    """The year's premium paid for a resident on file (``payer``: ID number and name of someone else paying)."""
    amount = contribution_year(year).amount
    req = payments.PaymentRequest(
        insured_id_number=insured_id_number,
        insured_name=name,
        year=year,
        amount=amount,
        channel=channel,
        region=region,
        idempotency_key=f"factory-{uuid.uuid4().hex}",
        payer_id_number=payer[0] if payer else None,
        payer_name=payer[1] if payer else None,
    )
    return payments.pay_premium(session, req, now=now)


def premium_body(insured_id_number: str, **over: object) -> dict[str, object]:
    """A valid ``POST /api/premiums/payments`` body: the 2023 resident premium, paid in Kunming."""
    body: dict[str, object] = {
        "insured_id_number": insured_id_number,
        "insured_name": "张三",
        "year": 2023,
        "amount": "350.00",
        "channel": "banshitong_app",
        "region": "530100",
    }
    return body | over
