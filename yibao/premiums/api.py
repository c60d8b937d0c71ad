"""``/api/premiums``: contribution years, payments (idempotent), receipts and payment records."""

from __future__ import annotations

import html

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.core import clock
from yibao.core.auth import needs
from yibao.core.money import parse_yuan
from yibao.premiums import contributions, payments
from yibao.premiums.schemas import ContributionYearOut, PaymentIn, Receipt

router = APIRouter(prefix="/api/premiums", tags=["premiums"], route_class=UnitOfWorkRoute)


@router.get(
    "/years/{year}",
    response_model=ContributionYearOut,
    # A source shows the keys it has, as everywhere a citation is given (``assumed`` only when assumed).
    response_model_exclude_unset=True,
    summary="年度缴费标准与缴费期 / contribution year",
    openapi_extra=needs(contributions.YEARS),
)
def contribution_year(year: int = Path(ge=1900, le=2100)) -> ContributionYearOut:
    """Standard amount and collection period of a contribution year, with sources."""
    return contributions.describe_year(year)


@router.post(
    "/payments",
    response_model=Receipt,
    status_code=201,
    summary="缴费 / pay a premium",
    responses={
        409: {"description": "幂等键冲突 / key reused"},
        422: {"description": "拒绝缴费及补救办法 / refused with remedy"},
    },
    openapi_extra=needs(payments.PAY),
)
def pay(
    body: PaymentIn,
    idempotency_key: str = Header(alias="Idempotency-Key", description="同一请求重试时保持不变 / unchanged on retries"),
    session: Session = Depends(get_session),
) -> Receipt:
    """Pay one year's resident premium; a retry with the same key returns the same receipt."""
    data = body.model_dump()
    amount = parse_yuan(data.pop("amount"), field="amount")
    req = payments.PaymentRequest(**data, amount=amount, idempotency_key=idempotency_key)
    return payments.pay_premium(session, req, now=clock.now())


@router.get(
    "/receipts/{receipt_no}",
    response_model=Receipt,
    summary="电子回执 / receipt",
    openapi_extra=needs(payments.READ),
)
def receipt(receipt_no: str, session: Session = Depends(get_session)) -> Receipt:
    """The electronic receipt as JSON."""
    return payments.get_receipt(session, receipt_no)


@router.get(
    "/receipts/{receipt_no}/print",
    response_class=HTMLResponse,
    summary="打印回执 / printable receipt",
    openapi_extra=needs(payments.READ),
)
def receipt_page(receipt_no: str, session: Session = Depends(get_session)) -> str:
    """The electronic receipt as a printable page."""
    r = payments.get_receipt(session, receipt_no)
    rows = [
        ("回执编号", r.receipt_no),
        ("缴费年度", str(r.year)),
        ("险种", "城乡居民基本医疗保险"),
        ("参保人", f"{r.insured_name}（{r.insured_id_number}）"),
        ("缴费人", f"{r.payer_name}（{r.payer_id_number}）" + ("（代缴）" if r.proxy else "")),
        ("金额", f"{r.amount} 元"),
        ("经办机构", r.agency),
        ("缴费渠道", r.channel_name),
        ("缴费时间", r.paid_at),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>电子缴费凭证</title>'
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #999;padding:.4em;text-align:left}th{width:8em;background:#f3f3f3}"
        "@media print{button{display:none}}</style></head><body>"
        f"<h1>城乡居民医保电子缴费凭证</h1><table>{body}</table>"
        '<p><button onclick="window.print()">打印 / Print</button></p></body></html>'
    )


@router.get(
    "/insured/{id_number}/payments",
    response_model=list[Receipt],
    summary="缴费记录 / payments for a person",
    openapi_extra=needs(payments.READ),
)
def payments_for(id_number: str, session: Session = Depends(get_session)) -> list[Receipt]:
    """Every payment made for the insured person."""
    return payments.payments_for_insured(session, id_number)


@router.get(
    "/payers/{id_number}/payments",
    response_model=list[Receipt],
    summary="代缴记录 / payments made for others",
    openapi_extra=needs(payments.READ),
)
def payments_by(id_number: str, session: Session = Depends(get_session)) -> list[Receipt]:
    """Payments this person made for other people."""
    return payments.payments_by_payer(session, id_number)
