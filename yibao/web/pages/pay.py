"""缴费: the year's standard amount and collection period; pay for oneself or 代他人缴费 through a chosen channel,
or a bound relative's premium from the personal account; receipts to view and print."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from yibao.core import clock
from yibao.core.clock import today
from yibao.core.errors import AppError, NotFound
from yibao.core.ids import mask_id
from yibao.people.models import Scheme
from yibao.people.regions import REGIONS
from yibao.policy.loader import get_pack
from yibao.premiums.schemas import Receipt
from yibao.web.domain import contributions, payments, person_and_records, premiums, sharing
from yibao.web.forms import blank, read_form
from yibao.web.pages.family import relative_by_mask
from yibao.web.render import page, redirect
from yibao.web.routing import act, me, need_login, page_router
from yibao.web.session import lang_of

router = page_router()
PAY_FIELDS = ("who", "insured_id_number", "insured_name", "region", "channel", "collector")
ACCOUNT_FIELDS = ("relative",)
CODES = {
    "premium.no_registration": "insured_id_number",
    "premium.name_mismatch": "insured_name",
    "premium.wrong_agency": "region",
    "premium.already_paid": "insured_id_number",
    "premium.not_insured": "insured_id_number",
}
ACCOUNT_CODES = {
    "accounts.no_binding": "relative",
    "accounts.not_normal": "relative",
    "accounts.cross_region": "relative",
    "accounts.insufficient_balance": "relative",
    "premium.already_paid": "relative",
    "premium.outside_period": "relative",
}


def offered_year(day: Any = None) -> contributions.ContributionYear | None:
    """The contribution year whose collection period is open today, else the next one, else the latest known."""
    pack = get_pack()
    day = day or today()
    years: list[contributions.ContributionYear] = []
    for dv in pack.parameter("resident.premium.individual").history:
        try:
            years.append(contributions.contribution_year(dv.start.year, pack))
        except NotFound:
            continue
    if not years:
        return None
    for y in years:
        if y.opens <= day <= y.closes:
            return y
    upcoming = [y for y in years if y.opens > day]
    return upcoming[0] if upcoming else years[-1]


def _situation(session: Session) -> dict[str, Any]:
    """Who is paying, their resident record's region, the relatives they may pay for from the account, receipts."""
    who = me(session)
    person, records = person_and_records(session, who.login)
    resident = next((r for r in records if r.scheme == Scheme.RESIDENT.value), None)
    employee = next((r for r in records if r.scheme == Scheme.EMPLOYEE.value), None)
    bound = []
    if employee is not None:
        mine_masked = mask_id(who.login)
        bound = [
            b
            for b in sharing.bindings_of(session, who.login)
            if b.status == "active" and b.holder.id_number == mine_masked
        ]
    mine = premiums.payments_for_insured(session, who.login)
    proxy = premiums.payments_by_payer(session, who.login)
    return {
        "name": person.name,
        "region": resident.region_code if resident else None,
        "employee": employee is not None,
        "bound": bound,
        # Masked numbers only in the page; the server finds the relative again (relative_by_mask).
        "relative_options": [
            (f"{b.user.id_number}|{b.user.name}", f"{b.user.name}（{b.user.id_number}）") for b in bound
        ],
        "receipts": mine,
        "proxy_receipts": proxy,
    }


def _channels(lang: str) -> list[tuple[str, str]]:
    items = get_pack().at(today()).items("resident.premium.channels")
    return [(i.code, i.name) for i in items]


def _render(request: Request, status: int = 200, **values: Any) -> Response:
    lang = lang_of(request)
    return page(
        request,
        "pay.html",
        status,
        year=offered_year(),
        channels=_channels(lang),
        regions=sorted((c, n) for c, n in REGIONS.items() if c != "530000"),
        **values,
    )


@router.get("/pay")
async def pay_page(request: Request) -> Response:
    """The year's standard, the two ways to pay, and the person's receipts."""
    if (go := need_login(request)) is not None:
        return go
    s = await act(request, _situation)
    form = blank(*PAY_FIELDS, who="self", region=s["region"] or "", channel="banshitong_app")
    return _render(request, form=form, account_form=blank(*ACCOUNT_FIELDS), situation=s)


@router.post("/pay")
async def pay(request: Request) -> Response:
    """Pay a resident premium for oneself or someone else (代他人缴费), once per form (its idempotency key)."""
    form = await read_form(request, *PAY_FIELDS)
    lang = lang_of(request)
    year = offered_year()
    other = form.get("who") == "other"
    if other:
        form.need("insured_id_number", "insured_name", lang=lang)
    form.need("region", "channel", lang=lang)

    def work(session: Session) -> Receipt:
        who = me(session)
        assert year is not None
        insured = form.get("insured_id_number") if other else who.login
        req = premiums.PaymentRequest(
            insured_id_number=insured,
            insured_name=form.get("insured_name") if other else who.name,
            year=year.year,
            amount=year.amount,
            channel=form.get("channel"),
            region=form.get("region"),
            idempotency_key=form.get("key"),
            payer_id_number=who.login,
            payer_name=who.name,
            collector=form.get("collector") or None,
        )
        return premiums.pay_premium(session, req, now=clock.now())

    if form.ok and year is not None:
        try:
            receipt = await act(request, work)
            return redirect(f"/receipts/{receipt.receipt_no}")
        except AppError as exc:
            if exc.code.startswith("auth."):
                raise
            form.refuse(exc, lang, codes=CODES)
    s = await act(request, _situation)
    return _render(request, 422, form=form, account_form=blank(*ACCOUNT_FIELDS), situation=s)


@router.post("/pay/account")
async def pay_from_account(request: Request) -> Response:
    """A bound relative's resident premium from the personal account (医保账户支付)."""
    form = await read_form(request, *ACCOUNT_FIELDS)
    lang = lang_of(request)
    year = offered_year()
    form.need("relative", lang=lang)

    def work(session: Session) -> str:
        who = me(session)
        assert year is not None
        masked, _, name = form.get("relative").partition("|")
        relative = relative_by_mask(session, who.login, masked, name)
        return payments.pay_relative_premium(
            session,
            holder_id_number=who.login,
            relative_id_number=relative,
            relative_name=name,
            year=year.year,
            key=form.get("key"),
            now=clock.now(),
        ).receipt_no

    if form.ok and year is not None:
        try:
            receipt_no = await act(request, work)
            return redirect(f"/receipts/{receipt_no}")
        except AppError as exc:
            if exc.code.startswith("auth."):
                raise
            form.refuse(exc, lang, codes=ACCOUNT_CODES)
    s = await act(request, _situation)
    pay_form = blank(*PAY_FIELDS, who="self", region=s["region"] or "", channel="banshitong_app")
    return _render(request, 422, form=pay_form, account_form=form, situation=s)


@router.get("/receipts/{receipt_no}")
async def receipt(request: Request, receipt_no: str) -> Response:
    """电子缴费凭证: to view and print (the payer's, or the insured's or a bound relative's own)."""
    if (go := need_login(request)) is not None:
        return go
    r = await act(request, lambda s: premiums.get_receipt(s, receipt_no[:64]))
    return page(request, "receipt.html", receipt=r)
