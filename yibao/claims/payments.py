"""The personal-account part of a settlement, as ``acct_used_flag`` asks (national-interface.md, "setlinfo").

``1``: the patient's own employee account first, then the account of an employee bound to the patient by
family sharing (共济); ``2``: the bound employee's account only. Each pays up to its balance and never more
than the person's part; what a relative's account pays is ``acct_mulaid_pay``, counted inside
``acct_pay``. Payments go through the ledger's ``pay_once``; a reversal posts the ledger's reversal entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from yibao.accounts import ledger
from yibao.accounts.models import LedgerAccount, Purpose, SharingBinding
from yibao.claims.errors import ClaimRefused
from yibao.core.errors import ValidationFailed
from yibao.institutions.models import InstitutionView as Institution
from yibao.people.models import InsuranceRecord, Person, Scheme, Status

SOURCE = "claims.settlement"  # the namespace of settlement payments in the idempotency store


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """What the accounts pay: the patient's own part, a bound relative's part, and the own balance after."""

    own: int = 0
    own_balance_after: int = 0
    mulaid: int = 0
    holder_id: int | None = None

    @property
    def total(self) -> int:
        """``acct_pay`` (the relative's part included)."""
        return self.own + self.mulaid


# Built once: a settlement paying from an account reads (and locks) the balance on every message.
_BALANCE = select(LedgerAccount.balance).where(
    LedgerAccount.purpose == Purpose.MEMBER.value,
    LedgerAccount.owner_id == bindparam("person_id"),
    LedgerAccount.status == "open",
)
_BALANCE_LOCKED = _BALANCE.with_for_update()


def _balance(session: Session, person_id: int, *, lock: bool) -> int | None:
    balance: int | None = (
        session.connection().execute(_BALANCE_LOCKED if lock else _BALANCE, {"person_id": person_id}).scalar()
    )
    return balance


_BOUND_HOLDER = (
    select(SharingBinding.holder_id)
    .join(InsuranceRecord, InsuranceRecord.person_id == SharingBinding.holder_id)
    .where(
        SharingBinding.relative_id == bindparam("patient_id"),
        SharingBinding.status == "active",
        InsuranceRecord.scheme == Scheme.EMPLOYEE.value,
        InsuranceRecord.status == Status.NORMAL.value,
        # 「不支持跨统筹区的医保个人账户家庭共济」: the holder's account serves relatives of its own region.
        InsuranceRecord.region_code == bindparam("region"),
    )
    .order_by(SharingBinding.id)
    .limit(1)
)


def _bound_holder(session: Session, patient: Person, region: str) -> int | None:
    """The first employee bound to the patient by an active sharing binding, insured in the patient's region."""
    holder: int | None = session.execute(_BOUND_HOLDER, {"patient_id": patient.id, "region": region}).scalar()
    return holder


def plan(
    session: Session, *, patient: Person, region: str, flag: str, person_part: int, lock: bool, node: str
) -> AccountPlan:
    """Decide what each account pays (balances locked when settling); refuse a flag no account can serve."""
    if flag not in ("0", "1", "2"):
        raise ValidationFailed(
            f"{node}.acct_used_flag", "个人账户使用标志应为 0、1 或 2", "acct_used_flag must be 0, 1 or 2"
        )
    if flag == "0":
        return AccountPlan()
    own_balance = _balance(session, patient.id, lock=lock) if flag == "1" else None
    left = max(0, person_part)
    own = min(own_balance, left) if own_balance is not None else 0
    left -= own
    if own_balance is not None and left == 0:
        return AccountPlan(own, own_balance - own)  # the own account pays it all: no relative is asked
    holder = _bound_holder(session, patient, region)
    if own_balance is None and holder is None:
        zh = (
            "参保人没有可用的个人账户，也没有绑定共济的职工个人账户"
            if flag == "1"
            else "参保人没有绑定共济的职工个人账户"
        )
        raise ClaimRefused(
            f"{zh}，不能使用个人账户支付（请将 acct_used_flag 设为 0）",
            "no personal account to pay from (set acct_used_flag 0)",
            code="claims.no_account",
        )
    mulaid = 0
    if holder is not None and left > 0:
        holder_balance = _balance(session, holder, lock=lock) or 0
        mulaid = min(holder_balance, left)
    return AccountPlan(own, (own_balance or 0) - own, mulaid, holder if mulaid else None)


def pay(
    session: Session, *, p: AccountPlan, patient: Person, institution: Institution, setl_id: str
) -> tuple[int | None, int | None]:
    """Make the planned payments through the ledger; returns their journal entry ids."""
    category = "designated_pharmacy" if institution.kind == "pharmacy" else "own_designated_hospital"
    entries: list[int | None] = []
    for member, amount, part in ((patient.id, p.own, "acct"), (p.holder_id, p.mulaid, "mulaid")):
        if member is None or amount <= 0:
            entries.append(None)
            continue
        payment = ledger.MemberPayment(
            member_id=member,
            target=ledger.system_account(session, Purpose.SETTLEMENTS, member),
            amount=amount,
            category=category,
            beneficiary_id=patient.id,
            reference=f"{institution.code} {setl_id}",
        )
        body = {"setl_id": setl_id, "member": member, "amount": amount}
        answer = ledger.pay_once(session, payment, source=SOURCE, key=f"{setl_id}/{part}", body=body)
        entries.append(answer.entry_id)
    return entries[0], entries[1]


def refund(session: Session, *, entry_ids: tuple[int | None, ...], setl_id: str) -> None:
    """Reverse the settlement's account payments (the ledger refuses a second reversal of an entry)."""
    for entry_id in entry_ids:
        if entry_id is not None:
            ledger.reverse(session, entry_id, reason=f"冲销结算 {setl_id}")


def balance_of(session: Session, person_id: int) -> int:
    """The person's own account balance (0 without an account)."""
    return _balance(session, person_id, lock=False) or 0
