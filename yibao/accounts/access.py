"""Who may do what with personal accounts, and what every account use case starts from: the employee
an action is about, the pack's lists, the refusal of a use the rules do not allow.

The accounts domain also says how ``bound`` resolves for persons: an active sharing binding (共济绑定)
lets the relative use the holder's account, so each of the two may act on the other's data that the
rules allow with ``bound`` (registered with core when the application assembles, :mod:`yibao.assembly`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, literal, or_, select
from sqlalchemy.orm import Session

from yibao.accounts.models import BindingStatus, LedgerAccount, Purpose, SharingBinding
from yibao.core import auth
from yibao.core.auth import Principal, Scope, Subject, rule
from yibao.core.db import DriverStatement
from yibao.core.errors import AppError, NotFound
from yibao.core.ids import parse_id_number
from yibao.people import persons
from yibao.people.models import InsuranceRecord, Person, Scheme, Status
from yibao.policy.model import PolicyView


class UseRefused(AppError):
    """A debit outside the account's usage scope or for a beneficiary the rules do not allow."""

    http_status = 422
    exit_code = 5


# Who may do what with personal accounts (see yibao.core.auth).
READ = rule(
    "accounts.read",
    "查询个人账户余额、明细和共济记录 / read an account, its records and bindings",
    writes=False,
    roles=auth.REGION_READERS,
    person=Scope.BOUND,  # the holder, and a relative the holder has bound
)
CREDIT = rule(
    "accounts.credit", "资金划入 / credit a contribution", writes=True, finance=Scope.REGION, service=Scope.ANY
)
PAY = rule(
    "accounts.pay",
    "个人账户支付 / pay from the account",
    writes=True,
    institution=Scope.ANY,  # the patient presents their card at a designated hospital or pharmacy
)
MANAGE = rule(
    "accounts.manage",
    "共济绑定、为亲属缴费、购买保险、申请提取 / bind, pay relatives' premiums, insure, apply to withdraw",
    writes=True,
    person=Scope.OWN,
    clerk=Scope.REGION,
)
DECIDE = rule("accounts.withdrawals.decide", "审核提取申请 / decide a withdrawal", writes=True, appraiser=Scope.REGION)
RENEW = rule(
    "accounts.insurance.renew",
    "商业保险年缴与满期返还 / yearly insurance premiums and maturity",
    writes=True,
    finance=Scope.REGION,
    service=Scope.ANY,
)
CROSS_REGION = rule(
    "accounts.bindings.cross_region",
    "列出跨统筹区的共济绑定 / list sharing bindings across pooling regions",
    writes=False,
    clerk=Scope.REGION,
    auditor=Scope.REGION,
)
VERIFY = rule(
    "accounts.verify", "核对账簿 / verify the ledger", writes=False, finance=Scope.REGION, auditor=Scope.REGION
)


def allow(session: Session, action: str, person_id: int, **detail: Any) -> auth.Principal:
    """Authorise an action on a person known by row id (a policy's holder, an application's applicant)."""
    person = session.get(Person, person_id)
    assert person is not None
    return auth.authorize(session, action, persons.subject_of(session, person), **detail)


def counter_clerk(session: Session, given: str | None) -> str | None:
    """Who did it at the counter: the logged-in staff member, else what the operator typed."""
    p = auth.principal_of(session)
    return p.login if p is not None and p.is_staff else given


def codes(view: PolicyView, path: str) -> dict[str, str]:
    """A list parameter of the pack as code -> Chinese name."""
    return {i.code: i.name for i in view.items(path)}


def employee(session: Session, id_number: str, action: str, **detail: Any) -> tuple[Person, InsuranceRecord]:
    """The employee an action is about, once the caller may act on them; NotFound without employee insurance."""
    person, records, _ = persons.require_with_records(session, id_number, action, **detail)
    record = next((r for r in records if r.scheme == Scheme.EMPLOYEE), None)
    if record is None:
        raise not_an_employee()
    return person, record


def not_an_employee() -> NotFound:
    """The refusal for a person without employee insurance, who has no personal account."""
    return NotFound(
        "该参保人未参加职工医保，没有个人账户",
        "not enrolled in employee insurance: no personal account",
        code="accounts.no_account",
    )


class InsuredAs(Protocol):
    """What the account rules read of an employee's insurance record (a row, or an :class:`EmployeeRow`)."""

    @property
    def status(self) -> str: ...

    @property
    def region_code(self) -> str: ...

    @property
    def flexible(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class EmployeeRow:
    """An employee as the busiest account requests read them, in one statement and without ORM objects:
    the person (``id``, ``id_number``, ``name``), their employee insurance record and their account."""

    id: int
    id_number: str
    name: str
    status: str  # of the employee insurance record
    region_code: str
    flexible: bool
    balance: int | None  # fen; None while no account is open
    account_status: str | None


# Reading a balance and paying from an account are what the accounts are used for, many times a second:
# one statement reads the person, every insurance record (for the caller's access by region) and the
# account, where the ORM's way took two statements and about three times the CPU.
_EMPLOYEE = DriverStatement(
    select(
        Person.id,
        Person.id_number,
        Person.name,
        InsuranceRecord.scheme,
        InsuranceRecord.status,
        InsuranceRecord.region_code,
        InsuranceRecord.flexible,
        LedgerAccount.balance,
        LedgerAccount.status.label("account_status"),
    )
    .select_from(Person)
    .outerjoin(InsuranceRecord, InsuranceRecord.person_id == Person.id)
    .outerjoin(
        LedgerAccount,
        and_(LedgerAccount.owner_id == Person.id, LedgerAccount.purpose == literal(Purpose.MEMBER.value)),
    )
    .where(Person.id_number == bindparam("id_number"))
    .order_by(InsuranceRecord.id)  # the first employee record, as employee() takes it
)


def employee_row(session: Session, id_number: str, action: str, **detail: Any) -> EmployeeRow:
    """:func:`employee`, read in one statement with the account: the same checks, in the same order, and the
    same refusals."""
    idn = parse_id_number(id_number).value
    rows = _EMPLOYEE.rows(session, {"id_number": idn})
    first = rows[0] if rows else None
    regions = frozenset(r.region_code for r in rows if r.region_code is not None)
    persons.authorize_found(session, idn, (first.id, first.id_number, regions) if first else None, action, **detail)
    assert first is not None
    own = next((r for r in rows if r.scheme == Scheme.EMPLOYEE), None)
    if own is None:
        raise not_an_employee()
    return EmployeeRow(
        id=own.id,
        id_number=own.id_number,
        name=own.name,
        status=own.status,
        region_code=own.region_code,
        flexible=bool(own.flexible),
        balance=own.balance,
        account_status=own.account_status,
    )


def is_normal(record: InsuredAs | None) -> bool:
    """True for an insurance record in normal status (the account may be used)."""
    return record is not None and record.status == Status.NORMAL


def bound_by_sharing(session: Session, caller: Principal, subject: Subject) -> bool:
    """An active sharing binding joins the caller and the subject (either as holder)."""
    a, b = caller.person_id, subject.person_id
    if a is None or b is None:
        return False
    found = session.scalar(
        select(SharingBinding.id)
        .where(
            SharingBinding.status == BindingStatus.ACTIVE,
            or_(
                and_(SharingBinding.holder_id == a, SharingBinding.relative_id == b),
                and_(SharingBinding.holder_id == b, SharingBinding.relative_id == a),
            ),
        )
        .limit(1)
    )
    return found is not None


auth.register_scope_resolver("person", Scope.BOUND, bound_by_sharing)
