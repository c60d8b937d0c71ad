"""2501/2502 off-site referral filing and its cancellation; 2503/2504 special-disease filing and its cancellation."""

from __future__ import annotations

from typing import Any

from yibao.claims import filings
from yibao.claims.filings import FilingIn
from yibao.claims.messages.common import FILINGS, details, insured, refusals
from yibao.claims.models import FilingKind
from yibao.nhsa.registry import Context, Input, transaction

_REFERRAL_INFO = (
    "tel", "addr", "insu_optins", "dise_cond_dscr", "reflin_medins_no", "reflin_medins_name", "mdtrtarea_admdvs",
    "hosp_agre_refl_flag", "refl_type", "refl_rea", "refl_opnn",
)  # fmt: skip
_DISEASE_INFO = ("tel", "addr", "insu_optins", "ide_fixmedins_no", "ide_fixmedins_name", "diag_dr_codg", "diag_dr_name")


@transaction("2501", action=FILINGS, writes=True)
def file_referral(ctx: Context, inp: Input) -> dict[str, Any]:
    """转院备案: refmedin → result {trt_dcla_detl_sn}."""
    node = inp.node("refmedin")
    insutype = node.text("insutype", max_len=3)
    person = insured(ctx, node, insutype=insutype)
    info = details(node, *_REFERRAL_INFO) | {"refl_date": node.date("refl_date").isoformat()}
    filing = FilingIn(
        person=person,
        insutype=insutype,
        diag_code=node.text("diag_code", max_len=30),
        diag_name=node.text("diag_name", max_len=200),
        begndate=node.date("begndate"),
        enddate=node.date("enddate", required=False),
        details=info,
    )
    with refusals():
        row = filings.file(
            ctx.session,
            institution=ctx.institution,
            kind=FilingKind.REFERRAL,
            filing=filing,
            msgid=ctx.msgid,
            node="refmedin",
        )
    return {"result": {"trt_dcla_detl_sn": row.trt_dcla_detl_sn}}


@transaction("2503", action=FILINGS, writes=True)
def file_special_disease(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊慢特病备案 (the disease's card): data → result {trt_dcla_detl_sn}."""
    data = inp.node("data")
    insutype = data.text("insutype", max_len=3)
    person = insured(ctx, data, insutype=insutype)
    info = details(data, *_DISEASE_INFO) | {"hosp_ide_date": data.date("hosp_ide_date").isoformat()}
    filing = FilingIn(
        person=person,
        insutype=insutype,
        diag_code=data.text("opsp_dise_code", max_len=48),
        diag_name=data.text("opsp_dise_name", max_len=200),
        begndate=data.date("begndate"),
        enddate=data.date("enddate", required=False),
        details=info,
    )
    with refusals():
        row = filings.file(
            ctx.session,
            institution=ctx.institution,
            kind=FilingKind.SPECIAL_DISEASE,
            filing=filing,
            msgid=ctx.msgid,
            node="data",
        )
    return {"result": {"trt_dcla_detl_sn": row.trt_dcla_detl_sn}}


def _cancel(ctx: Context, inp: Input, kind: FilingKind, *, memo_required: bool) -> dict[str, Any]:
    data = inp.node("data")
    person = insured(ctx, data)
    memo = data.text("memo", max_len=200) if memo_required else data.text("memo", max_len=200, required=False) or ""
    with refusals():
        filings.cancel(
            ctx.session,
            institution=ctx.institution,
            trt_dcla_detl_sn=data.text("trt_dcla_detl_sn", max_len=30),
            person=person,
            kind=kind,
            memo=memo,
        )
    return {}


@transaction("2502", action=FILINGS, writes=True)
def cancel_referral(ctx: Context, inp: Input) -> dict[str, Any]:
    """转院备案撤销."""
    return _cancel(ctx, inp, FilingKind.REFERRAL, memo_required=False)


@transaction("2504", action=FILINGS, writes=True)
def cancel_special_disease(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊慢特病备案撤销."""
    return _cancel(ctx, inp, FilingKind.SPECIAL_DISEASE, memo_required=True)
