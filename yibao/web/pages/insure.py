"""商业保险 (from the balance above the pack's minimum) and 提取 (the special cases, with each case's documents)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from yibao.accounts.access import codes
from yibao.core import clock
from yibao.core.clock import today
from yibao.core.errors import AppError
from yibao.core.ids import mask_id
from yibao.core.money import parse_yuan
from yibao.policy.loader import get_pack
from yibao.web.domain import balances, insurance, relatives, withdrawals
from yibao.web.forms import Form, blank, read_form
from yibao.web.pages.family import relative_by_mask
from yibao.web.render import page
from yibao.web.routing import act, me, need_login, page_router
from yibao.web.session import lang_of

router = page_router()
INSURE = ("insured", "product", "shares")
WITHDRAW = ("case", "documents", "heir_id_number")
INSURE_CODES = {
    "accounts.insufficient_balance": "shares",
    "accounts.wrong_product": "product",
    "accounts.not_direct_relative": "insured",
}
WITHDRAW_CODES = {"accounts.no_withdrawal_case": "case", "accounts.withdrawal_pending": "case"}


def _offer() -> dict[str, Any]:
    """The products with their prices, and the balance that must stay (all from the pack)."""
    view = get_pack().at(today())
    prices = view.get("employee.account.insurance.price_per_share")
    keep = view.get("employee.account.commercial_insurance_min_balance")
    products = view.get("employee.account.insurance_products")
    return {
        "products": [(i.code, i.name, prices.money(i.code)) for i in products.items()],
        "prices": prices,
        "keep": keep,
        "product_options": [(i.code, i.name) for i in products.items()],
    }


def _insurance_state(session: Session) -> dict[str, Any]:
    who = me(session)
    balance = balances.balance(session, who.login)
    direct = {i.code for i in get_pack().at(today()).items("employee.account.direct_relatives")}
    options = [
        (f"{mask_id(p.id_number)}|{p.name}", f"{p.name}（{mask_id(p.id_number)}）")
        for p, rel in relatives(session, who.login)
        if rel.value in direct
    ]
    return {"balance": balance, "insured_options": [("self", f"{who.name}（{mask_id(who.login)}）"), *options]}


def _render_insurance(request: Request, form: Form, state: dict[str, Any], status: int = 200, **extra: Any) -> Response:
    offer = _offer()
    spendable = max(0, parse_yuan(state["balance"].balance) - offer["keep"].value)
    values = {"bought": None, **extra}
    return page(request, "insurance.html", status, form=form, spendable=spendable, **offer, **state, **values)


@router.get("/insurance")
async def insurance_page(request: Request) -> Response:
    """What may be bought, with what, for whom."""
    if (go := need_login(request)) is not None:
        return go
    state = await act(request, _insurance_state)
    return _render_insurance(request, blank(*INSURE, insured="self", shares="1"), state)


@router.post("/insurance")
async def insure(request: Request) -> Response:
    """Buy shares from the balance above the minimum (once per form: its idempotency key)."""
    form = await read_form(request, *INSURE)
    lang = lang_of(request)
    form.need("insured", "product", "shares", lang=lang)
    shares = form.get("shares")
    if shares and not (shares.isascii() and shares.isdigit()):
        form.errors["shares"] = "A whole number" if lang == "en" else "份数应为整数"

    def work(session: Session) -> Any:
        who = me(session)
        choice = form.get("insured")
        masked, _, name = choice.partition("|")
        insured = who.login if choice == "self" else relative_by_mask(session, who.login, masked, name)
        return insurance.purchase_insurance(
            session,
            holder_id_number=who.login,
            insured_id_number=insured,
            product=form.get("product"),
            shares=int(shares),
            key=form.get("key"),
            now=clock.now(),
        )

    bought = None
    if form.ok:
        try:
            bought = await act(request, work)
            form = blank(*INSURE, insured="self", shares="1")
        except AppError as exc:
            if exc.code.startswith("auth."):
                raise
            form.refuse(exc, lang, codes=INSURE_CODES)
    state = await act(request, _insurance_state)
    return _render_insurance(request, form, state, 201 if bought else 422, bought=bought)


def _cases() -> list[tuple[str, str, tuple[str, ...]]]:
    """Each special case (pack) with the documents it needs (the accounts service's checklist)."""
    view = get_pack().at(today())
    cases = view.items("employee.account.withdrawal_cases")
    return [
        (c.code, c.name, tuple(codes(view, f"employee.account.withdrawal_documents.{c.code}").values())) for c in cases
    ]


def _render_withdraw(request: Request, form: Form, status: int = 200, **extra: Any) -> Response:
    param = get_pack().at(today()).get("employee.account.withdrawal_cases")
    values = {"applied": None, **extra}
    return page(request, "withdraw.html", status, form=form, cases=_cases(), citation=param.citation, **values)


@router.get("/withdraw")
def withdraw_page(request: Request) -> Response:
    """The special cases and their documents checklist."""
    return need_login(request) or _render_withdraw(request, blank(*WITHDRAW))


@router.post("/withdraw")
async def withdraw(request: Request) -> Response:
    """Apply to withdraw the balance in one of the special cases; the agency decides."""
    form = await read_form(request, *WITHDRAW)
    lang = lang_of(request)
    form.need("case", lang=lang)

    def work(session: Session) -> dict[str, Any]:
        who = me(session)
        req = withdrawals.apply_withdrawal(
            session,
            holder_id_number=who.login,
            case=form.get("case"),
            documents=form.many("documents"),
            heir_id_number=form.get("heir_id_number") or None,
        )
        return {"request_id": req.request_id, "status": req.status}

    if form.ok:
        try:
            applied = await act(request, work)
            return _render_withdraw(request, blank(*WITHDRAW), 201, applied=applied)
        except AppError as exc:
            if exc.code.startswith("auth."):
                raise
            form.refuse(exc, lang, codes=WITHDRAW_CODES)
    return _render_withdraw(request, form, 422)
