"""2204/2205 outpatient fee lines and their withdrawal; 2301/2302 inpatient fee lines (refunds included)."""

from __future__ import annotations

from typing import Any

from yibao.claims import fees
from yibao.claims.fees import LineIn
from yibao.claims.messages.common import FEES, insured, refusals, wire
from yibao.claims.valuation import CNT_SCALE
from yibao.nhsa.registry import Context, FieldError, Input, transaction
from yibao.people.models import Person


def _lines(ctx: Context, rows: list[Input], *, inpatient: bool) -> tuple[str, Person, list[LineIn]]:
    """The lines of one visit (every line names the same mdtrt_id and psn_no)."""
    first = rows[0]
    mdtrt_id = first.text("mdtrt_id", max_len=30)
    psn_no = first.text("psn_no", max_len=30)
    person = insured(ctx, first)
    out = []
    for row in rows:
        for name, want in (("mdtrt_id", mdtrt_id), ("psn_no", psn_no)):
            if row.text(name, max_len=30) != want:
                raise FieldError(row.at(name), "同一报文的费用明细须属于同一就诊")
        if inpatient:
            row.text("med_type", max_len=4)
        cnt = row.quantity("cnt", negative=inpatient)
        out.append(
            LineIn(
                feedetl_sn=row.text("feedetl_sn", max_len=30),
                med_list_codg=row.text("med_list_codg", max_len=50),
                fee_ocur_time=row.datetime("fee_ocur_time"),
                amount=row.money("det_item_fee_sumamt", negative=inpatient),
                cnt=int(cnt * CNT_SCALE),
                pric=row.money("pric"),
                init_feedetl_sn=row.text("init_feedetl_sn", max_len=30, required=False) if inpatient else None,
                chrg_bchno=None if inpatient else row.text("chrg_bchno", max_len=30),
                medins_list_codg=row.text("medins_list_codg", max_len=50, required=False),
            )
        )
    return mdtrt_id, person, out


def _upload(ctx: Context, inp: Input, *, inpatient: bool) -> dict[str, Any]:
    mdtrt_id, person, lines = _lines(ctx, inp.list("feedetail", max_items=5000), inpatient=inpatient)
    with refusals():
        result = fees.upload(
            ctx.session, institution=ctx.institution, mdtrt_id=mdtrt_id, person=person, lines=lines, node="feedetail"
        )
    return {"result": wire(result)}


@transaction("2204", action=FEES, writes=True)
def outpatient_lines(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊费用明细上传: feedetail[] → result[]."""
    return _upload(ctx, inp, inpatient=False)


@transaction("2301", action=FEES, writes=True)
def inpatient_lines(ctx: Context, inp: Input) -> dict[str, Any]:
    """住院费用明细上传 (a refund line has a negative cnt and names init_feedetl_sn): feedetail[] → result[]."""
    return _upload(ctx, inp, inpatient=True)


@transaction("2205", action=FEES, writes=True)
def withdraw_outpatient_lines(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊费用明细撤销: data {mdtrt_id, chrg_bchno (0000: all unsettled), psn_no}."""
    data = inp.node("data")
    person = insured(ctx, data)
    with refusals():
        fees.withdraw(
            ctx.session,
            institution=ctx.institution,
            mdtrt_id=data.text("mdtrt_id", max_len=30),
            person=person,
            chrg_bchno=data.text("chrg_bchno", max_len=30),
        )
    return {}


@transaction("2302", action=FEES, writes=True)
def withdraw_inpatient_lines(ctx: Context, inp: Input) -> dict[str, Any]:
    """住院费用明细撤销: data [{feedetl_sn (0000: all unsettled), mdtrt_id, psn_no}]."""
    rows = inp.list("data")
    mdtrt_id = rows[0].text("mdtrt_id", max_len=30)
    person = insured(ctx, rows[0])
    sns = []
    for row in rows:
        if row.text("mdtrt_id", max_len=30) != mdtrt_id:
            raise FieldError(row.at("mdtrt_id"), "同一报文的撤销明细须属于同一就诊")
        sns.append(row.text("feedetl_sn", max_len=30))
    with refusals():
        fees.withdraw(ctx.session, institution=ctx.institution, mdtrt_id=mdtrt_id, person=person, feedetl_sns=sns)
    return {}
