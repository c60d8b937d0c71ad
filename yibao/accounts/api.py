"""``/api/accounts``: balances, records, credits, payments, bindings, relatives' premiums, insurance, withdrawals."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from yibao.accounts import service
from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.core import clock
from yibao.core.auth import needs
from yibao.core.money import format_yuan, parse_yuan
from yibao.people.models import Relation

router = APIRouter(prefix="/api/accounts", tags=["accounts"], route_class=UnitOfWorkRoute)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreditIn(_In):
    """资金划入."""

    amount: str = Field(examples=["300.00"])
    period: str = Field(examples=["2023-05"])


class PaymentIn(_In):
    """个人账户支付."""

    amount: str = Field(examples=["58.50"])
    category: str = Field(examples=["designated_pharmacy"])
    institution: str = Field(examples=["昆明某定点药店"])
    beneficiary_id_number: str | None = None


class BindIn(_In):
    """共济绑定申请."""

    relative_id_number: str
    relation: Relation
    commitment_signed: bool
    channel: Literal["yunnan_yibao_miniapp", "banshitong_app", "agency_counter"] = "yunnan_yibao_miniapp"


class UnbindIn(_In):
    """解除绑定."""

    relative_id_number: str
    channel: Literal["yunnan_yibao_miniapp", "banshitong_app", "agency_counter"]
    clerk: str | None = None
    proof: str | None = None


class RelativePremiumIn(_In):
    """用个人账户为近亲属缴纳居民医保费."""

    relative_id_number: str
    relative_name: str
    year: int = Field(ge=2000, le=2100)


class InsuranceIn(_In):
    """购买重大疾病商业补充保险."""

    insured_id_number: str
    product: Literal["baobao_ankang", "jirui_ankang"]
    shares: int = Field(ge=1, le=100)


class WithdrawalIn(_In):
    """提取申请."""

    case: str
    documents: list[str]
    heir_id_number: str | None = None


class DecisionIn(_In):
    """经办机构审核."""

    approve: bool
    clerk: str
    note: str = ""


Key = Header(alias="Idempotency-Key", description="同一请求重试时保持不变 / unchanged on retries")
Source = Header(alias="X-Source-System", description="发起系统 / calling system (keys are unique per source)")
OptionalSource = Header(
    default=None,
    alias="X-Source-System",
    description="发起系统（可选）/ calling system (optional; keys are per caller)",
)


@router.get("/{id_number}", summary="账户余额 / balance", openapi_extra=needs(service.READ))
def balance(id_number: str, session: Session = Depends(get_session)) -> dict[str, Any]:
    """The balance."""
    return service.balance(session, id_number)


@router.get("/{id_number}/records", summary="消费、划入、代缴记录 / records", openapi_extra=needs(service.READ))
def records(
    id_number: str,
    kind: Literal["all", "spending", "transfers_in", "proxy"] = "all",
    start: date | None = None,
    end: date | None = None,
    page: int = Query(1, ge=1, le=100_000),  # assumed: as the audit log; a larger offset overflows SQLite
    per_page: int = Query(20, ge=1, le=200),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Spending, transfers in or proxy premium payments, with date filters and pages."""
    return service.statement(session, id_number, kind=kind, start=start, end=end, page=page, per_page=per_page)


@router.post(
    "/{id_number}/credits",
    status_code=201,
    summary="资金划入 / credit a contribution",
    openapi_extra=needs(service.CREDIT),
)
def credit(
    id_number: str, body: CreditIn, key: str = Key, source: str = Source, session: Session = Depends(get_session)
) -> dict[str, Any]:
    """A contribution transferred in."""
    amount = parse_yuan(body.amount, field="amount")
    return service.credit_contribution(
        session, id_number=id_number, amount=amount, period=body.period, source=source, key=key
    )


@router.post(
    "/{id_number}/payments",
    status_code=201,
    summary="个人账户支付 / pay from the account",
    openapi_extra=needs(service.PAY),
)
def pay(
    id_number: str, body: PaymentIn, key: str = Key, source: str = Source, session: Session = Depends(get_session)
) -> dict[str, Any]:
    """Pay within the usage scope, for the holder or a bound relative."""
    payment = service.Payment(
        id_number, parse_yuan(body.amount, field="amount"), body.category, body.institution, body.beneficiary_id_number
    )
    return service.pay(session, payment, source=source, key=key)


@router.post(
    "/{id_number}/bindings", status_code=201, summary="共济绑定 / bind a relative", openapi_extra=needs(service.MANAGE)
)
def bind(id_number: str, body: BindIn, session: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """Let a close relative use the account."""
    service.bind(
        session,
        holder_id_number=id_number,
        relative_id_number=body.relative_id_number,
        relation=body.relation,
        commitment_signed=body.commitment_signed,
        channel=body.channel,
    )
    return service.bindings_of(session, id_number)


@router.post("/{id_number}/unbind", summary="解除绑定 / unbind", openapi_extra=needs(service.MANAGE))
def unbind(id_number: str, body: UnbindIn, session: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """End a binding (online, or at the agency with proof)."""
    service.unbind(
        session,
        holder_id_number=id_number,
        relative_id_number=body.relative_id_number,
        channel=body.channel,
        clerk=body.clerk,
        proof=body.proof,
    )
    return service.bindings_of(session, id_number)


@router.get("/{id_number}/bindings", summary="共济授权记录 / binding records", openapi_extra=needs(service.READ))
def bindings(id_number: str, session: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """Binding and unbinding records (holder or user)."""
    return service.bindings_of(session, id_number)


@router.post(
    "/{id_number}/relative-premiums",
    status_code=201,
    summary="为近亲属缴纳居民医保费 / relative's premium",
    openapi_extra=needs(service.MANAGE),
)
def relative_premium(
    id_number: str, body: RelativePremiumIn, key: str = Key, session: Session = Depends(get_session)
) -> dict[str, Any]:
    """Pay a bound relative's resident premium from the account."""
    return service.pay_relative_premium(
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
    status_code=201,
    summary="购买重大疾病商业补充保险 / buy insurance",
    openapi_extra=needs(service.MANAGE),
)
def insurance(
    id_number: str,
    body: InsuranceIn,
    key: str = Key,
    source: str | None = OptionalSource,
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Buy shares from the balance above 1,000 (once per ``Idempotency-Key``)."""
    return service.purchase_insurance(
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
    status_code=201,
    summary="提取申请 / apply to withdraw",
    openapi_extra=needs(service.MANAGE),
)
def withdraw(id_number: str, body: WithdrawalIn, session: Session = Depends(get_session)) -> dict[str, Any]:
    """Apply to withdraw in a special case."""
    r = service.apply_withdrawal(
        session,
        holder_id_number=id_number,
        case=body.case,
        documents=body.documents,
        heir_id_number=body.heir_id_number,
    )
    return {"request_id": r.id, "status": r.status}


@router.post(
    "/withdrawals/{request_id}/decision",
    summary="审核提取申请 / decide a withdrawal",
    openapi_extra=needs(service.DECIDE),
)
def decide(
    body: DecisionIn, request_id: int = Path(ge=1, le=2_147_483_647), session: Session = Depends(get_session)
) -> dict[str, Any]:
    """The agency's decision; approved withdrawals pay out and close the account."""
    r = service.decide_withdrawal(
        session, request_id=request_id, approve=body.approve, clerk=body.clerk, note=body.note
    )
    return {"request_id": r.id, "status": r.status, "amount": format_yuan(r.amount or 0)}


@router.get("/ledger/verify", summary="核对账簿 / verify the ledger", tags=["ops"], openapi_extra=needs(service.VERIFY))
def verify(session: Session = Depends(get_session)) -> dict[str, Any]:
    """Balances equal their journal, entries balance, all balances sum to zero."""
    v = service.verify_ledger(session)
    return {"ok": v.ok, "accounts": v.accounts, "entries": v.entries, "problems": v.problems}
