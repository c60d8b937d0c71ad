"""个人账户: the balance and the 消费 / 划入 / 代缴 records, filtered by date and paged (htmx swaps the table)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from yibao.accounts.schemas import RecordKind
from yibao.core.dates import parse_date
from yibao.core.errors import AppError, ValidationFailed
from yibao.web.domain import balances
from yibao.web.forms import Form
from yibao.web.render import page
from yibao.web.routing import act, me, need_login, page_router
from yibao.web.session import lang_of

router = page_router()

KINDS = (("spending", "消费记录"), ("transfers_in", "划入记录"), ("proxy", "代缴记录"))
PER_PAGE = 10  # rows per page on a phone screen (a presentation choice)


def _filters(kind: str, start: str, end: str, page_no: str, lang: str) -> tuple[Form, dict[str, Any]]:
    """The filter form as typed, and the arguments for the statement (errors beside their fields)."""
    form = Form(values={"kind": kind, "start": start, "end": end})
    form.known = frozenset({"start", "end"})
    args: dict[str, Any] = {"kind": RecordKind(kind if kind in dict(KINDS) else "spending"), "page": 1}
    for name in ("start", "end"):
        raw = form.get(name)
        if raw:
            try:
                args[name] = parse_date(raw, field=name)
            except ValidationFailed as exc:
                form.refuse(exc, lang)
    start_d: date | None = args.get("start")
    end_d: date | None = args.get("end")
    if start_d and end_d and start_d > end_d:
        form.errors["end"] = "End date before start date" if lang == "en" else "结束日期不能早于开始日期"
    if page_no.isascii() and page_no.isdigit() and 1 <= int(page_no) <= 100_000:
        args["page"] = int(page_no)
    return form, args


@router.get("/account")
async def account(
    request: Request, kind: str = "spending", start: str = "", end: str = "", page_no: str = Query("1", alias="page")
) -> Response:
    """The balance and one list of records; with ``HX-Request`` only the records panel."""
    if (go := need_login(request)) is not None:
        return go
    lang = lang_of(request)
    form, args = _filters(kind, start[:20], end[:20], page_no[:8], lang)

    def read(session: Session) -> dict[str, Any]:
        who = me(session)
        balance = balances.balance(session, who.login)
        records = None
        if form.ok:
            records = balances.records(session, who.login, per_page=PER_PAGE, **args)
        return {"balance": balance, "records": records}

    try:
        data = await act(request, read)
    except AppError as exc:
        if exc.code != "accounts.no_account":
            raise
        return page(request, "account.html", 404, balance=None, records=None, form=form, kinds=KINDS, args=args)
    template = "_records.html" if request.headers.get("hx-request") == "true" else "account.html"
    return page(request, template, 200 if form.ok else 422, form=form, kinds=KINDS, args=args, **data)
