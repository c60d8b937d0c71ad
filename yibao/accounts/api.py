"""``/api/accounts``: balances, records, credits, payments, bindings, relatives' premiums, insurance, withdrawals."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Header, Path, Query
from sqlalchemy.orm import Session

from yibao.accounts import balances, payments, sharing, withdrawals
from yibao.accounts.access import CREDIT, DECIDE, MANAGE, PAY, READ, VERIFY
from yibao.accounts.insurance import purchase_insurance
from yibao.accounts.schemas import (
    BalanceOut,
    BindIn,
    BindingOut,
    CreditIn,
    DecisionIn,
    EntryOut,
    InsuranceIn,
    InsurancePolicyOut,
    PaymentIn,
    RecordKind,
    RecordsPage,
    RelativePremiumIn,
    UnbindIn,
    Verification,
    WithdrawalDecisionOut,
    WithdrawalIn,
    WithdrawalOut,
)
from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.core import clock
from yibao.core.auth import needs
from yibao.core.money import parse_yuan
from yibao.premiums.schemas import Receipt

router = APIRouter(prefix="/api/accounts", tags=["accounts"], route_class=UnitOfWorkRoute)

Key = Header(alias="Idempotency-Key", description="同一请求重试时保持不变 / unchanged on retries")
Source = Header(alias="X-Source-System", description="发起系统 / calling system (keys are unique per source)")
OptionalSource = Header(
    default=None,
    alias="X-Source-System",
    description="发起系统（可选）/ calling system (optional; keys are per caller)",
)


@router.get(
    "/{id_number}", response_model=BalanceOut, status_code=200, summary="账户余额 / balance", openapi_extra=needs(READ)
)
def balance(id_number: str, session: Session = Depends(get_session)) -> BalanceOut:
    """The balance."""
    return balances.balance(session, id_number)


@router.get(
    "/{id_number}/records",
    response_model=RecordsPage,
    status_code=200,
    summary="消费、划入、代缴记录 / records",
    openapi_extra=needs(READ),
)
def records(
    id_number: str,
    kind: RecordKind = RecordKind.ALL,
    start: date | None = None,
    end: date | None = None,
    page: int = Query(1, ge=1, le=100_000),  # assumed: as the audit log; a larger offset overflows SQLite
    per_page: int = Query(20, ge=1, le=balances.MAX_PER_PAGE),
    session: Session = Depends(get_session),
) -> RecordsPage:
    """Spending, transfers in or proxy premium payments, with date filters and pages."""
    return balances.records(session, id_number, kind=kind, start=start, end=end, page=page, per_page=per_page)


@router.post(
    "/{id_number}/credits",
    response_model=EntryOut,
    status_code=201,
    summary="资金划入 / credit a contribution",
    openapi_extra=needs(CREDIT),
)
def credit(
    id_number: str, body: CreditIn, key: str = Key, source: str = Source, session: Session = Depends(get_session)
) -> EntryOut:
    """A contribution transferred in."""
    amount = parse_yuan(body.amount, field="amount")
    return payments.credit_contribution(
        session, id_number=id_number, amount=amount, period=body.period, source=source, key=key
    )


@router.post(
    "/{id_number}/payments",
    response_model=EntryOut,
    status_code=201,
    summary="个人账户支付 / pay from the account",
    openapi_extra=needs(PAY),
)
def pay(
    id_number: str, body: PaymentIn, key: str = Key, source: str = Source, session: Session = Depends(get_session)
) -> EntryOut:
    """Pay within the usage scope, for the holder or a bound relative."""
    payment = payments.Payment(
        id_number, parse_yuan(body.amount, field="amount"), body.category, body.institution, body.beneficiary_id_number
    )
    return payments.pay(session, payment, source=source, key=key)


@router.post(
    "/{id_number}/bindings",
    response_model=list[BindingOut],
    status_code=201,
    summary="共济绑定 / bind a relative",
    openapi_extra=needs(MANAGE),
)
def bind(id_number: str, body: BindIn, session: Session = Depends(get_session)) -> list[BindingOut]:
    """Let a close relative use the account; answers the holder's binding records."""
    return sharing.bind(
        session,
        holder_id_number=id_number,
        relative_id_number=body.relative_id_number,
        relation=body.relation,
        commitment_signed=body.commitment_signed,
        channel=body.channel,
    )


@router.post(
    "/{id_number}/unbind",
    response_model=list[BindingOut],
    status_code=200,
    summary="解除绑定 / unbind",
    openapi_extra=needs(MANAGE),
)
def unbind(id_number: str, body: UnbindIn, session: Session = Depends(get_session)) -> list[BindingOut]:
    """End a binding (online, or at the agency with proof); answers the holder's binding records."""
    return sharing.unbind(
        session,
        holder_id_number=id_number,
        relative_id_number=body.relative_id_number,
        channel=body.channel,
        clerk=body.clerk,
        proof=body.proof,
    )


@router.get(
    "/{id_number}/bindings",
    response_model=list[BindingOut],
    status_code=200,
    summary="共济授权记录 / binding records",
    openapi_extra=needs(READ),
)
def bindings(id_number: str, session: Session = Depends(get_session)) -> list[BindingOut]:
    """Binding and unbinding records (holder or user)."""
    return sharing.bindings_of(session, id_number)


@router.post(
    "/{id_number}/relative-premiums",
    response_model=Receipt,
    status_code=201,
    summary="为近亲属缴纳居民医保费 / relative's premium",
    openapi_extra=needs(MANAGE),
)
def relative_premium(
    id_number: str, body: RelativePremiumIn, key: str = Key, session: Session = Depends(get_session)
) -> Receipt:
    """Pay a bound relative's resident premium from the account; answers the premium's receipt."""
    return payments.pay_relative_premium(
        session,
        holder_id_number=id_number,
        relative_id_number=body.relative_id_number,
        relative_name=body.relative_name,
        year=body.year,
        key=key,
        now=clock.now(),
    )


@router.post(
    "/{id_number}/insurance",
    response_model=InsurancePolicyOut,
    status_code=201,
    summary="购买重大疾病商业补充保险 / buy insurance",
    openapi_extra=needs(MANAGE),
)
def insurance(
    id_number: str,
    body: InsuranceIn,
    key: str = Key,
    source: str | None = OptionalSource,
    session: Session = Depends(get_session),
) -> InsurancePolicyOut:
    """Buy shares from the balance above 1,000 (once per ``Idempotency-Key``)."""
    return purchase_insurance(
        session,
        holder_id_number=id_number,
        insured_id_number=body.insured_id_number,
        product=body.product,
        shares=body.shares,
        key=key,
        source=source,
        now=clock.now(),
    )


@router.post(
    "/{id_number}/withdrawals",
    response_model=WithdrawalOut,
    status_code=201,
    summary="提取申请 / apply to withdraw",
    openapi_extra=needs(MANAGE),
)
def withdraw(id_number: str, body: WithdrawalIn, session: Session = Depends(get_session)) -> WithdrawalOut:
    """Apply to withdraw in a special case."""
    return withdrawals.apply_withdrawal(
        session,
        holder_id_number=id_number,
        case=body.case,
        documents=body.documents,
        heir_id_number=body.heir_id_number,
    )


@router.post(
    "/withdrawals/{request_id}/decision",
    response_model=WithdrawalDecisionOut,
    status_code=200,
    summary="审核提取申请 / decide a withdrawal",
    openapi_extra=needs(DECIDE),
)
def decide(
    body: DecisionIn, request_id: int = Path(ge=1, le=2_147_483_647), session: Session = Depends(get_session)
) -> WithdrawalDecisionOut:
    """The agency's decision; approved withdrawals pay out and close the account."""
    return withdrawals.decide_withdrawal(
        session, request_id=request_id, approve=body.approve, clerk=body.clerk, note=body.note
    )


@router.get(
    "/ledger/verify",
    response_model=Verification,
    status_code=200,
    summary="核对账簿 / verify the ledger",
    tags=["ops"],
    openapi_extra=needs(VERIFY),
)
def verify(session: Session = Depends(get_session)) -> Verification:
    """Balances equal their journal, entries balance, all balances sum to zero."""
    return balances.verify_ledger(session)
